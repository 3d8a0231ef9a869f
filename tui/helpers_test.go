package tui

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/history"
)

// base is the receive time of the test events; the test clock reads an hour
// later, the same day.
var base = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func testNow() time.Time { return base.Add(time.Hour) }

// fakeController records the commands the screen gives.
type fakeController struct {
	hist    *history.History
	snap    agent.Snapshot
	updates chan agent.Update

	// curl returns the command of Curl; if nil, a fixed one.
	curl func(ctx context.Context, id int64) (string, error)
	// resendErr is what Resend returns.
	resendErr error

	mu        sync.Mutex // guards the fields below
	resends   []resendCall
	paused    []bool
	steps     int
	pins      []int64
	cancelled bool
}

type resendCall struct {
	id   int64
	body []byte
}

var _ Controller = (*fakeController)(nil)

// newFake returns a controller whose update channel is closed, so that the
// model's wait for updates ends at once when a test runs it.
func newFake(h *history.History) *fakeController {
	f := &fakeController{hist: h, updates: make(chan agent.Update)}
	close(f.updates)
	f.snap = agent.Snapshot{
		Relay:     "https://relay.example.com",
		Channel:   "default",
		ForwardTo: "http://localhost:5000/webhooks/openai",
		SignMode:  "resign",
		Conn: agent.ConnState{
			State: agent.PhaseConnected, Relay: "https://relay.example.com", Channel: "default",
		},
	}
	return f
}

func (f *fakeController) Subscribe() (<-chan agent.Update, func()) {
	return f.updates, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.cancelled = true
	}
}

func (f *fakeController) Snapshot() agent.Snapshot { return f.snap }

func (f *fakeController) History() *history.History { return f.hist }

func (f *fakeController) Resend(_ context.Context, id int64, body []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resends = append(f.resends, resendCall{id: id, body: body})
	return f.resendErr
}

func (f *fakeController) SetPaused(p bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paused = append(f.paused, p)
}

func (f *fakeController) Step() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.steps++
}

func (f *fakeController) Curl(ctx context.Context, id int64) (string, error) {
	if f.curl != nil {
		return f.curl(ctx, id)
	}
	const url = "http://localhost:5000/webhooks/openai"
	return fmt.Sprintf("curl -X POST %s --data-binary @event-%d", url, id), nil
}

func (f *fakeController) Pin(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pins = append(f.pins, id)
}

// openHistory opens a history in a temporary folder.
func openHistory(t *testing.T) *history.History {
	t.Helper()
	h, err := history.Open(filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// sampleBody returns the body of an event of type typ.
func sampleBody(evtID, typ string) []byte {
	return []byte(fmt.Sprintf(
		`{"id":%q,"object":"event","created_at":1773480413,"type":%q,"data":{"id":"resp_%s"}}`,
		evtID, typ, strings.TrimPrefix(evtID, "evt_")))
}

// sampleHeader returns headers like the relay records.
func sampleHeader(webhookID string) http.Header {
	return http.Header{
		"Content-Type":      {"application/json"},
		"Webhook-Id":        {webhookID},
		"Webhook-Timestamp": {"1773480413"},
		"Webhook-Signature": {"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="},
	}
}

// record stores an event in h as the agent would, with attempts whose
// outcomes are given and the state the last one settles, and returns it.
func record(
	t *testing.T, h *history.History, seq int64, typ string, outcomes ...history.Outcome,
) history.Event {
	t.Helper()
	evtID := fmt.Sprintf("evt_%032d", seq)
	ev, _, err := h.Record(t.Context(), &history.Event{
		Source:     "relay.example.com/default",
		Seq:        seq,
		WebhookID:  fmt.Sprintf("msg_%d", seq),
		Type:       typ,
		Header:     sampleHeader(fmt.Sprintf("msg_%d", seq)),
		Body:       sampleBody(evtID, typ),
		ReceivedAt: base.Add(time.Duration(seq) * time.Second),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range outcomes {
		a := attempt(ev.ID, i+1, o)
		if _, err := h.AddAttempt(t.Context(), &a); err != nil {
			t.Fatal(err)
		}
	}
	if len(outcomes) > 0 {
		ev.State = history.StateFailed // an earlier run gave up
		if outcomes[len(outcomes)-1] == history.OutcomeDelivered {
			ev.State = history.StateDelivered
		}
		if err := h.SetState(t.Context(), ev.ID, ev.State); err != nil {
			t.Fatal(err)
		}
	}
	return ev
}

// attempt returns a finished attempt of event id with outcome o.
func attempt(id int64, n int, o history.Outcome) history.Attempt {
	a := history.Attempt{
		EventID:   id,
		N:         n,
		Target:    "http://localhost:5000/webhooks/openai",
		StartedAt: base.Add(time.Duration(id)*time.Second + 10*time.Millisecond),
		Latency:   time.Duration(10+id) * time.Millisecond,
		Outcome:   o,
		RequestHeader: http.Header{
			"Content-Type":      {"application/json"},
			"Webhook-Id":        {fmt.Sprintf("msg_%d", id)},
			"Webhook-Signature": {"v1,Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg="},
			"X-Hookrelay-Seq":   {fmt.Sprint(id)},
		},
	}
	switch o {
	case history.OutcomeDelivered:
		a.Status = 200
	case history.OutcomeServerErr:
		a.Status = 500
	case history.OutcomeRejected:
		a.Status = 400
	case history.OutcomeRefused:
		a.Error = "connection refused"
	case history.OutcomeTimeout:
		a.Error = "no answer within the timeout"
	}
	if a.Status != 0 {
		a.ResponseHeader = http.Header{"Content-Type": {"application/json"}}
		a.ResponseBody = []byte(`{"ok":true}`)
	}
	return a
}

// liveEvent returns an event as the agent publishes it, never recorded.
func liveEvent(id int64, typ string) history.Event {
	evtID := fmt.Sprintf("evt_%032d", id)
	return history.Event{
		ID:         id,
		Source:     "relay.example.com/default",
		Seq:        id,
		WebhookID:  fmt.Sprintf("msg_%d", id),
		EventID:    evtID,
		Type:       typ,
		Header:     sampleHeader(fmt.Sprintf("msg_%d", id)),
		Body:       sampleBody(evtID, typ),
		ReceivedAt: base.Add(time.Duration(id) * time.Second),
		RecordedAt: base.Add(time.Duration(id)*time.Second + time.Millisecond),
		State:      history.StatePending,
	}
}

// newTestModel returns a model of c at 80x24, without colour, its history
// loaded.
func newTestModel(t *testing.T, c *fakeController) Model {
	t.Helper()
	m := New(c, Options{LogPath: "/home/dev/.local/state/hookrelay/agent.log", NoColor: true,
		Editor: "true", Now: testNow})
	t.Cleanup(m.Close)
	m, _ = drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	if h := c.History(); h != nil {
		m, _ = runCmds(t, m, loadHistoryCmd(t.Context(), h))
	}
	return m
}

// drive feeds msg to m, runs the commands that result, feeding their
// messages back, and returns the model and every message the commands gave.
func drive(t *testing.T, m Model, msg tea.Msg) (Model, []tea.Msg) {
	t.Helper()
	next, cmd := m.Update(msg)
	m = next.(Model)
	return runCmds(t, m, cmd)
}

// runCmds runs cmd and what follows from it, as drive does.
func runCmds(t *testing.T, m Model, cmd tea.Cmd) (Model, []tea.Msg) {
	t.Helper()
	var out []tea.Msg
	queue := []tea.Cmd{cmd}
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 1000 {
			t.Fatal("commands do not settle")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		msg := c()
		if batch, ok := msg.(tea.BatchMsg); ok {
			queue = append(queue, batch...)
			continue
		}
		if msg == nil || skipped(msg) {
			out = append(out, msg)
			continue
		}
		out = append(out, msg)
		next, cmd := m.Update(msg)
		m = next.(Model)
		queue = append(queue, cmd)
	}
	return m, out
}

// skipped reports whether msg is for the program rather than the model:
// those are collected, not fed back.
func skipped(msg tea.Msg) bool {
	switch msg.(type) {
	case tea.QuitMsg:
		return true
	}
	name := reflect.TypeOf(msg).Name()
	return name == "setClipboardMsg" || name == "execMsg"
}

// clipboard returns what the messages copied to the clipboard, if any.
func clipboard(msgs []tea.Msg) (string, bool) {
	for _, msg := range msgs {
		if msg != nil && reflect.TypeOf(msg).Name() == "setClipboardMsg" {
			return fmt.Sprint(msg), true
		}
	}
	return "", false
}

func quits(msgs []tea.Msg) bool {
	for _, msg := range msgs {
		if _, ok := msg.(tea.QuitMsg); ok {
			return true
		}
	}
	return false
}

// press returns the key press that a terminal reports for name.
func press(name string) tea.KeyPressMsg {
	special := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "up": tea.KeyUp, "down": tea.KeyDown,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
		"backspace": tea.KeyBackspace,
	}
	if c, ok := special[name]; ok {
		return tea.KeyPressMsg{Code: c}
	}
	if name == "ctrl+c" {
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(name)[0]
	return tea.KeyPressMsg{Code: r, Text: name}
}

// keys presses each key in turn.
func keys(t *testing.T, m Model, names ...string) (Model, []tea.Msg) {
	t.Helper()
	var all []tea.Msg
	for _, n := range names {
		var msgs []tea.Msg
		m, msgs = drive(t, m, press(n))
		all = append(all, msgs...)
	}
	return m, all
}

// typeText types s into the filter, one key per rune.
func typeText(t *testing.T, m Model, s string) Model {
	t.Helper()
	for _, r := range s {
		m, _ = drive(t, m, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return m
}

// publish feeds updates to m as the agent's feed would.
func publish(t *testing.T, m Model, us ...agent.Update) Model {
	t.Helper()
	for i := range us {
		if us[i].Time.IsZero() {
			us[i].Time = testNow()
		}
	}
	m, _ = drive(t, m, updatesMsg(us))
	return m
}

func eventUpdate(ev history.Event) agent.Update {
	return agent.Update{Kind: agent.KindEvent, Event: &ev}
}

func attemptUpdate(a history.Attempt) agent.Update {
	return agent.Update{Kind: agent.KindAttempt, Attempt: &a}
}

var ansiSeq = regexp.MustCompile(`\x1b\[[0-9;:?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)`)

// screen returns the model's view as plain text.
func screen(m Model) string {
	return ansiSeq.ReplaceAllString(m.View().Content, "")
}

// selectedID returns the history ID of the selected event, or 0.
func selectedID(m Model) int64 {
	return m.list.selectedID()
}
