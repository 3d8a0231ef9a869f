package enrich

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/hookrelay/hookrelay/internal/history"
	"github.com/hookrelay/hookrelay/internal/trigger/fakeopenai"
)

// testKey is the API key of the tests; it must never show in a result.
const testKey = "sk-test-0123456789abcdefSECRET"

// fixture is an Enricher against a fake API, with a clock the test moves.
type fixture struct {
	fake   *fakeopenai.Server
	client *openai.Client
	hist   *history.History
	path   string
	en     *Enricher
	now    time.Time
}

func newFixture(t *testing.T, cfg fakeopenai.Config) *fixture {
	t.Helper()
	f := &fixture{fake: fakeopenai.Start(cfg), now: time.Unix(1778500000, 0)}
	t.Cleanup(f.fake.Close)
	client := openai.NewClient(option.WithBaseURL(f.fake.URL), option.WithAPIKey(testKey),
		option.WithMaxRetries(0))
	f.client = &client
	f.path = filepath.Join(t.TempDir(), "history.db")
	f.open(t)
	return f
}

// open opens the fixture's history, as a restarted agent would, with a new
// Enricher.
func (f *fixture) open(t *testing.T) {
	t.Helper()
	h, err := history.Open(f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	f.hist = h
	f.en = New(f.client, h, nil)
	f.en.now = func() time.Time { return f.now }
}

// create creates a response at the fake API and returns its id.
func (f *fixture) create(t *testing.T) string {
	t.Helper()
	r, err := f.client.Responses.New(t.Context(), responses.ResponseNewParams{
		Model: openai.ChatModelGPT5Nano,
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("ping")},
	})
	if err != nil {
		t.Fatalf("create response: %v", err)
	}
	return r.ID
}

// record records an event of type typ naming respID, and returns its
// history ID.
func (f *fixture) record(t *testing.T, typ, respID string) int64 {
	t.Helper()
	seq := time.Now().UnixNano()
	body := fmt.Sprintf(`{"id":"evt_%d","object":"event","created_at":1778500000,"type":%q,`+
		`"data":{"id":%q}}`, seq, typ, respID)
	ev, _, err := f.hist.Record(t.Context(), &history.Event{Source: "relay/default", Seq: seq,
		WebhookID: fmt.Sprint("wh_", seq), Body: []byte(body)})
	if err != nil {
		t.Fatal(err)
	}
	return ev.ID
}

// gets counts the retrievals the fake API received.
func (f *fixture) gets() int {
	n := 0
	for _, r := range f.fake.Requests() {
		if r.Method == "GET" && strings.HasPrefix(r.Path, "/v1/responses/") {
			n++
		}
	}
	return n
}

func (f *fixture) enrich(t *testing.T, id int64) *Enrichment {
	t.Helper()
	e, err := f.en.Enrich(t.Context(), id)
	if err != nil {
		t.Fatalf("Enrich(%d): %v", id, err)
	}
	if strings.Contains(fmt.Sprintf("%+v", e), testKey) {
		t.Errorf("Enrich(%d) shows the API key: %+v", id, e)
	}
	return e
}

func TestEnrichCompleted(t *testing.T) {
	f := newFixture(t, fakeopenai.Config{OutputText: "pong"})
	respID := f.create(t)
	id := f.record(t, "response.completed", respID)

	got := f.enrich(t, id)
	want := Enrichment{ResponseID: respID, Status: "completed", Model: openai.ChatModelGPT5Nano,
		OutputText: "pong", InputTokens: fakeopenai.InputTokens,
		OutputTokens: fakeopenai.OutputTokens, ReasoningTokens: fakeopenai.ReasoningTokens,
		TotalTokens: fakeopenai.TotalTokens, FetchedAt: f.now}
	if *got != want {
		t.Errorf("Enrich =\n%+v\nwant\n%+v", *got, want)
	}

	again := f.enrich(t, id)
	f.open(t) // a restart
	restarted := f.enrich(t, id)
	if n := f.gets(); n != 1 {
		t.Errorf("the API was asked %d times, want once", n)
	}
	for _, c := range []*Enrichment{again, restarted} {
		if !c.Cached || c.OutputText != "pong" || !c.FetchedAt.Equal(f.now) {
			t.Errorf("cached Enrich = %+v, want the first answer, marked cached", *c)
		}
	}
}

func TestEnrichOutcomes(t *testing.T) {
	tests := []struct {
		outcome, reason, output string
		gets                    int // after two looks
	}{
		{"failed", "server_error: The model failed to generate a response.", "", 1},
		{"incomplete", "max_output_tokens", "pong", 1},
		{"cancelled", "", "", 1},
		{"in_progress", "", "pong", 2}, // not final: never cached
	}
	for _, tt := range tests {
		t.Run(tt.outcome, func(t *testing.T) {
			f := newFixture(t, fakeopenai.Config{Outcome: tt.outcome})
			id := f.record(t, "response."+tt.outcome, f.create(t))
			got := f.enrich(t, id)
			if got.Status != tt.outcome || got.Reason != tt.reason ||
				got.OutputText != tt.output || got.Error != "" {
				t.Errorf("Enrich = %+v, want status %s, reason %q, output %q", *got,
					tt.outcome, tt.reason, tt.output)
			}
			if f.enrich(t, id); f.gets() != tt.gets {
				t.Errorf("a %s response was fetched %d times, want %d", tt.outcome,
					f.gets(), tt.gets)
			}
		})
	}
}

func TestEnrichFailures(t *testing.T) {
	tests := []struct {
		name   string
		refuse int
		want   string // in Error
		cached bool   // until NotFoundTTL
	}{
		{"not_found", 0, "(404)", true},
		{"bad_key", 401, "refused the API key (401)", false},
		{"server_error", 500, "answered 500", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, fakeopenai.Config{Refuse: tt.refuse})
			id := f.record(t, "response.completed", "resp_unknown")
			got := f.enrich(t, id)
			if !strings.Contains(got.Error, tt.want) || got.ResponseID != "resp_unknown" ||
				got.Status != "" || got.Cached {
				t.Errorf("Enrich = %+v, want an error with %q", *got, tt.want)
			}
			wantGets := 2
			if tt.cached {
				wantGets = 1
			}
			if f.enrich(t, id); f.gets() != wantGets {
				t.Errorf("after two looks the API was asked %d times, want %d", f.gets(),
					wantGets)
			}
			f.now = f.now.Add(NotFoundTTL)
			if f.enrich(t, id); f.gets() != wantGets+1 {
				t.Errorf("after NotFoundTTL the API was not asked again")
			}
		})
	}
}

func TestEnrichTruncates(t *testing.T) {
	long := strings.Repeat("é", MaxOutputText) // two bytes each
	f := newFixture(t, fakeopenai.Config{OutputText: long})
	got := f.enrich(t, f.record(t, "response.completed", f.create(t)))
	if !got.Truncated || len(got.OutputText) > MaxOutputText ||
		len(got.OutputText) < MaxOutputText-1 || !utf8.ValidString(got.OutputText) {
		t.Errorf("Enrich of %d bytes of output kept %d bytes, truncated %v, valid %v", len(long),
			len(got.OutputText), got.Truncated, utf8.ValidString(got.OutputText))
	}
}

func TestEnrichNotAResponse(t *testing.T) {
	f := newFixture(t, fakeopenai.Config{})
	for _, id := range []int64{
		f.record(t, "batch.completed", "batch_1"),
		f.record(t, "response.completed", ""),
	} {
		if _, err := f.en.Enrich(t.Context(), id); !errors.Is(err, ErrNotResponse) {
			t.Errorf("Enrich(%d) = %v, want ErrNotResponse", id, err)
		}
	}
	if _, err := f.en.Enrich(t.Context(), 999); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("Enrich of an unknown event = %v, want ErrNotFound", err)
	}
	if f.gets() != 0 {
		t.Errorf("the API was asked %d times, want never", f.gets())
	}
}

func TestEnrichCancelled(t *testing.T) {
	f := newFixture(t, fakeopenai.Config{})
	id := f.record(t, "response.completed", f.create(t))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if e, err := f.en.Enrich(ctx, id); err == nil {
		t.Errorf("Enrich with an ended context = %+v, want an error", *e)
	}
	if _, err := f.hist.Enrichment(t.Context(), id); !errors.Is(err, history.ErrNoEnrichment) {
		t.Errorf("an ended fetch left a cached enrichment: %v", err)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"openai_key", "Incorrect API key provided: sk-proj-abc_DEF-123.", "Incorrect API key " +
			"provided: [redacted]."},
		{"masked_key", "key sk-abc***xyz is wrong", "key [redacted] is wrong"},
		{"bearer", "sent Bearer abc.def", "sent [redacted]"},
		{"plain", "The model does not exist.", "The model does not exist."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redact(tt.in); got != tt.want {
				t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestApplies(t *testing.T) {
	for typ, want := range map[string]bool{
		"response.completed": true, "response.failed": true, "batch.completed": false,
		"responses": false, "": false,
	} {
		if got := Applies(typ); got != want {
			t.Errorf("Applies(%q) = %v, want %v", typ, got, want)
		}
	}
}
