package tui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hookrelay/hookrelay/internal/enrich"
	"github.com/hookrelay/hookrelay/internal/history"
)

// enrichingController is a fakeController that also fetches responses.
type enrichingController struct {
	*fakeController
	// enrich answers Enrich; if nil, sampleEnrichment.
	enrich func(id int64) (*enrich.Enrichment, error)

	mu    sync.Mutex // guards calls
	calls []int64
}

var _ Enricher = (*enrichingController)(nil)

func (c *enrichingController) Enrich(_ context.Context, id int64) (*enrich.Enrichment, error) {
	c.mu.Lock()
	c.calls = append(c.calls, id)
	c.mu.Unlock()
	if c.enrich != nil {
		return c.enrich(id)
	}
	return sampleEnrichment(id), nil
}

func (c *enrichingController) enrichCalls() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

func sampleEnrichment(id int64) *enrich.Enrichment {
	return &enrich.Enrichment{
		ResponseID: "resp_00000000000000000000000000000001", Status: "completed",
		Model: "gpt-5-nano-2025-08-07", OutputText: "pong\nand a second line",
		InputTokens: 19, OutputTokens: 71, ReasoningTokens: 64, TotalTokens: 90,
		FetchedAt: base.Add(time.Duration(id)*time.Second + 2*time.Second),
	}
}

// enrichingModel returns a live model of an enriching controller whose
// events 1 to n are of the types liveModel gives them: 1 is a
// response.completed.
func enrichingModel(t *testing.T, h *history.History, n int) (Model, *enrichingController) {
	t.Helper()
	c := &enrichingController{fakeController: newFake(h)}
	m := New(c, Options{NoColor: true, Editor: "true", Now: testNow})
	t.Cleanup(m.Close)
	m, _ = drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	types := []string{"response.completed", "batch.completed"}
	for i := 1; i <= n; i++ {
		m = publish(t, m, eventUpdate(liveEvent(int64(i), types[(i-1)%len(types)])))
	}
	return m, c
}

func detailText(m Model) string {
	return ansiSeq.ReplaceAllString(m.detail.vp.GetContent(), "")
}

func TestDetailsFetchTheResponse(t *testing.T) {
	m, c := enrichingModel(t, nil, 1)
	next, cmd := m.Update(press("enter"))
	m = next.(Model)
	if got := detailText(m); !strings.Contains(got, "fetching the response…") {
		t.Errorf("while fetching, details lack the notice:\n%s", got)
	}
	if calls := c.enrichCalls(); len(calls) != 0 {
		t.Fatalf("Update fetched the response itself (%v); it must return a command", calls)
	}
	m, _ = runCmds(t, m, cmd)
	if calls := c.enrichCalls(); !slices.Equal(calls, []int64{1}) {
		t.Errorf("Enrich calls = %v, want [1]", calls)
	}
	got := detailText(m)
	wants := []string{
		"Response  completed  gpt-5-nano-2025-08-07",
		"  Id        resp_00000000000000000000000000000001",
		"  Usage     19 input · 71 output (64 reasoning) · 90 total",
		"  Output    22 bytes of text",
		"    pong\n    and a second line",
	}
	for _, want := range wants {
		if !strings.Contains(got, want) {
			t.Errorf("details lack %q:\n%s", want, got)
		}
	}
	if i, j := strings.Index(got, "Response"), strings.Index(got, "Request headers"); i > j {
		t.Errorf("the Response section comes after the headers:\n%s", got)
	}
}

func TestDetailsFetchOnlyResponses(t *testing.T) {
	m, c := enrichingModel(t, nil, 2)
	m, _ = keys(t, m, "enter") // event 2, a batch.completed
	if calls := c.enrichCalls(); len(calls) != 0 {
		t.Errorf("details of a batch event fetched %v", calls)
	}
	if got := detailText(m); strings.Contains(got, "Response") {
		t.Errorf("details of a batch event have a Response section:\n%s", got)
	}
}

func TestDetailsWithoutEnricher(t *testing.T) {
	m, _ := liveModel(t, 1) // a fakeController, which has no Enrich
	m, msgs := keys(t, m, "enter")
	for _, msg := range msgs {
		if _, ok := msg.(enrichMsg); ok {
			t.Errorf("a controller without Enrich gave %#v", msg)
		}
	}
	if got := detailText(m); strings.Contains(got, "Response") {
		t.Errorf("details have a Response section without an Enricher:\n%s", got)
	}
}

func TestDetailsEnrichmentDisabled(t *testing.T) {
	m, c := enrichingModel(t, nil, 1)
	c.enrich = func(int64) (*enrich.Enrichment, error) { return nil, enrich.ErrDisabled }
	m, _ = keys(t, m, "enter")
	if got := detailText(m); strings.Contains(got, "Response") {
		t.Errorf("details show a Response section while enrichment is off:\n%s", got)
	}
	keys(t, m, "esc", "enter")
	if calls := c.enrichCalls(); len(calls) != 1 {
		t.Errorf("Enrich calls = %v, want one: once off, enrichment is not asked again", calls)
	}
}

func TestDetailsResponseFailures(t *testing.T) {
	tests := []struct {
		name string
		e    *enrich.Enrichment
		err  error
		want string
	}{
		{"not_found",
			&enrich.Enrichment{ResponseID: "resp_x", Error: "OpenAI has no response (404)"},
			nil, "could not fetch: OpenAI has no response (404)"},
		{"error", nil, errors.New("read event 1: disk on fire"),
			"fetch the response: read event 1: disk on fire"},
		{"failed", &enrich.Enrichment{ResponseID: "resp_x", Status: "failed",
			Reason: "server_error: The model failed"}, nil,
			"  Reason    server_error: The model failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, c := enrichingModel(t, nil, 1)
			c.enrich = func(int64) (*enrich.Enrichment, error) { return tt.e, tt.err }
			m, _ = keys(t, m, "enter")
			if got := detailText(m); !strings.Contains(got, tt.want) {
				t.Errorf("details lack %q:\n%s", tt.want, got)
			}
		})
	}
}

func TestDetailsResponseKeptOnReload(t *testing.T) {
	h := openHistory(t)
	ev := record(t, h, 1, "response.completed", history.OutcomeServerErr)
	m, c := enrichingModel(t, h, 0)
	m, _ = runCmds(t, m, loadHistoryCmd(t.Context(), h))
	m, _ = keys(t, m, "enter")
	a := attempt(ev.ID, 2, history.OutcomeDelivered)
	if _, err := h.AddAttempt(t.Context(), &a); err != nil {
		t.Fatal(err)
	}
	m = publish(t, m, attemptUpdate(a))
	got := detailText(m)
	if !strings.Contains(got, "#2 ") || !strings.Contains(got, "    pong") {
		t.Errorf("after a reload, details lack the new attempt or the response:\n%s", got)
	}
	if calls := c.enrichCalls(); len(calls) != 1 {
		t.Errorf("Enrich calls = %v, want one: a reload does not fetch again", calls)
	}
}

func TestDetailsIgnoreAnotherEventsResponse(t *testing.T) {
	m, _ := enrichingModel(t, nil, 2)
	m, _ = keys(t, m, "enter") // event 2
	m, _ = drive(t, m, enrichMsg{eventID: 1, lines: []string{"Response of event 1"}})
	if got := detailText(m); strings.Contains(got, "Response") {
		t.Errorf("details of event 2 show event 1's response:\n%s", got)
	}
}

func TestGoldenResponseDetails(t *testing.T) {
	m, _ := enrichingModel(t, nil, 1)
	m, _ = keys(t, m, "enter")
	got := screen(m)
	checkSize(t, got, 80, 24)
	golden(t, "details_response_80x24", got)
}
