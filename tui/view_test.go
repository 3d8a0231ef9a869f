package tui

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/history"
)

var update = flag.Bool("update", false, "rewrite the golden screens in testdata")

// showcase returns a model at width x height holding events of every kind
// of outcome, as a README capture would show them.
func showcase(t *testing.T, width, height int) Model {
	t.Helper()
	m, _ := liveModel(t, 0)
	m, _ = drive(t, m, tea.WindowSizeMsg{Width: width, Height: height})
	types := []string{"response.completed", "batch.completed", "fine_tuning.job.succeeded",
		"eval.run.failed", "realtime.call.incoming", "response.incomplete", "batch.expired",
		"response.failed"}
	outcomes := [][]history.Outcome{
		{history.OutcomeDelivered},
		{history.OutcomeRefused, history.OutcomeDelivered},
		{history.OutcomeServerErr},
		{history.OutcomeRejected},
		{history.OutcomeDelivered},
		{history.OutcomeTimeout},
		nil,
		nil,
	}
	for i, typ := range types {
		id := int64(i + 1)
		m = publish(t, m, eventUpdate(liveEvent(id, typ)))
		for n, o := range outcomes[i] {
			m = publish(t, m, attemptUpdate(attempt(id, n+1, o)))
		}
	}
	replay := attempt(1, 1, history.OutcomeDelivered)
	replay.Replay = true
	m = publish(t, m, attemptUpdate(replay),
		agent.Update{Kind: agent.KindDelivering, Pending: &agent.PendingDelivery{EventID: 7, N: 1}})
	m, _ = keys(t, m, "k", "k", "k", "k", "k", "k", "k", "w", "G")
	return m
}

func TestGoldenScreens(t *testing.T) {
	tests := []struct {
		name   string
		width  int
		height int
		keys   []string
		filter string
	}{
		{name: "list_80x24", width: 80, height: 24},
		{name: "list_120x30", width: 120, height: 30},
		{name: "list_50x12", width: 50, height: 12},
		{name: "details_80x24", width: 80, height: 24, keys: []string{"k", "k", "k", "k", "enter"}},
		{name: "help_80x24", width: 80, height: 24, keys: []string{"?"}},
		{name: "filter_80x24", width: 80, height: 24, keys: []string{"/"}, filter: "batch"},
		{name: "paused_failed_80x24", width: 80, height: 24, keys: []string{"p", "f"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := showcase(t, tt.width, tt.height)
			m, _ = keys(t, m, tt.keys...)
			m = typeText(t, m, tt.filter)
			got := screen(m)
			checkSize(t, got, tt.width, tt.height)
			golden(t, tt.name, got)
		})
	}
}

// checkSize fails unless s has exactly height lines of at most width
// columns.
func checkSize(t *testing.T, s string, width, height int) {
	t.Helper()
	lines := strings.Split(s, "\n")
	if len(lines) != height {
		t.Errorf("%d lines, want %d", len(lines), height)
	}
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n > width {
			t.Errorf("line %d is %d columns wide, more than %d: %q", i+1, n, width, l)
		}
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("screen differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

func TestResizeReflows(t *testing.T) {
	sizes := []struct{ w, h int }{{80, 24}, {132, 43}, {60, 16}, {40, 10}, {20, 5}, {1, 1}}
	for _, focus := range [][]string{nil, {"enter"}, {"?"}} {
		m := showcase(t, 80, 24)
		m, _ = keys(t, m, focus...)
		for _, sz := range sizes {
			m, _ = drive(t, m, tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
			s := screen(m)
			if sz.w >= 40 {
				checkSize(t, s, sz.w, sz.h)
			}
			if sz.w >= 80 && !strings.Contains(s, "hookrelay") {
				t.Errorf("%dx%d: no header:\n%s", sz.w, sz.h, s)
			}
		}
	}
}

func TestSelectedRowStaysVisibleOnResize(t *testing.T) {
	m, _ := liveModel(t, 100)
	m, _ = keys(t, m, "g", "pgdown", "pgdown")
	want := selectedID(m)
	m, _ = drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 10})
	if got := selectedID(m); got != want {
		t.Errorf("selected %d after resize, want %d", got, want)
	}
	if c, o, p := m.list.cursor, m.list.offset, m.list.pageSize(); c < o || c >= o+p {
		t.Errorf("cursor %d outside the visible rows %d..%d", c, o, o+p-1)
	}
}

// sgrColour matches an SGR sequence that sets a colour.
var sgrColour = regexp.MustCompile(
	`\x1b\[(?:[0-9;]*;)?(?:3[0-7]|9[0-7]|38|4[0-7]|10[0-7]|48)(?:;[0-9;]*)?m`)

func TestNoColor(t *testing.T) {
	for _, noColor := range []bool{true, false} {
		c := newFake(nil)
		m := New(c, Options{NoColor: noColor, Now: testNow})
		t.Cleanup(m.Close)
		m = publish(t, m, eventUpdate(liveEvent(1, "response.completed")),
			eventUpdate(liveEvent(2, "batch.failed")),
			attemptUpdate(attempt(1, 1, history.OutcomeRejected)))
		m, _ = keys(t, m, "k")
		for _, k := range []string{"", "enter", "?"} {
			if k != "" {
				m, _ = keys(t, m, "esc", k)
			}
			colour := sgrColour.FindString(m.View().Content)
			if noColor && colour != "" {
				t.Errorf("NoColor, view %q: colour sequence %q", k, colour)
			}
			if !noColor && colour == "" {
				t.Errorf("with colour, view %q has none", k)
			}
		}
	}
}

func TestViewDeclaresAltScreen(t *testing.T) {
	m, _ := liveModel(t, 1)
	if v := m.View(); !v.AltScreen {
		t.Error("the view does not use the alternate screen")
	}
}

func TestReconnectCountdownTicks(t *testing.T) {
	now := testNow()
	c := newFake(nil)
	c.snap.Conn = agent.ConnState{
		State: agent.PhaseReconnecting, Attempt: 2, Retry: 4 * time.Second,
	}
	m := New(c, Options{NoColor: true, Now: func() time.Time { return now }})
	t.Cleanup(m.Close)
	if !strings.Contains(screen(m), "next try in 4s") {
		t.Fatalf("header:\n%s", screen(m))
	}
	now = now.Add(3 * time.Second)
	next, cmd := m.Update(tickMsg(now))
	m = next.(Model)
	if !strings.Contains(screen(m), "next try in 1s") || cmd == nil {
		t.Errorf("after 3s: tick again %v, header:\n%s", cmd != nil, screen(m))
	}
	conn := agent.ConnState{State: agent.PhaseConnected}
	m = publish(t, m, agent.Update{Kind: agent.KindConn, Conn: &conn})
	if _, cmd := m.Update(tickMsg(now)); cmd != nil {
		t.Error("still ticking once connected")
	}
}
