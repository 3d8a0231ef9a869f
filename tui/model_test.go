package tui

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/history"
)

// liveModel returns a model without history that has received n events,
// of alternating families, the first delivered.
func liveModel(t *testing.T, n int) (Model, *fakeController) {
	t.Helper()
	c := newFake(nil)
	m := newTestModel(t, c)
	types := []string{"response.completed", "batch.completed", "fine_tuning.job.succeeded",
		"eval.run.failed", "realtime.call.incoming"}
	for i := 1; i <= n; i++ {
		m = publish(t, m, eventUpdate(liveEvent(int64(i), types[(i-1)%len(types)])))
	}
	return m, c
}

func TestHistoryLoadedAtStart(t *testing.T) {
	h := openHistory(t)
	record(t, h, 1, "response.completed", history.OutcomeDelivered)
	record(t, h, 2, "batch.completed", history.OutcomeRefused)
	c := newFake(h)
	m := New(c, Options{NoColor: true, Now: testNow})
	t.Cleanup(m.Close)
	if !strings.Contains(screen(m), "loading the history") {
		t.Errorf("before the history loads, the screen lacks the loading message:\n%s", screen(m))
	}
	m, _ = runCmds(t, m, m.Init())
	if m.state != stateReady {
		t.Errorf("state = %v after Init, want ready", m.state)
	}
	s := screen(m)
	wants := []string{"response.completed", "batch.completed", "200", "refused", "2/2 events"}
	for _, want := range wants {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
}

func TestLiveEventsMergeWithHistory(t *testing.T) {
	h := openHistory(t)
	old := record(t, h, 1, "response.completed", history.OutcomeDelivered)
	c := newFake(h)
	m := New(c, Options{NoColor: true, Now: testNow})
	t.Cleanup(m.Close)
	// An event recorded while the history loads arrives both ways, and an
	// attempt of the old event arrives before the list has it.
	ev := record(t, h, 2, "batch.completed")
	m = publish(t, m, eventUpdate(ev), attemptUpdate(attempt(old.ID, 1, history.OutcomeServerErr)))
	m, _ = runCmds(t, m, loadHistoryCmd(t.Context(), h))
	if got := len(m.list.rows); got != 2 {
		t.Fatalf("%d rows, want 2", got)
	}
	r, _ := m.list.row(old.ID)
	if out, _ := r.outcome(); out != "500" {
		t.Errorf("outcome of the old event = %q, want the early attempt's 500", out)
	}
}

func TestHistoryLoadError(t *testing.T) {
	m, _ := liveModel(t, 1)
	m, _ = drive(t, m, errMsg{err: errors.New("database is locked"), load: true})
	if m.state != stateError {
		t.Errorf("state = %v, want error", m.state)
	}
	if s := screen(m); !strings.Contains(s, "database is locked") {
		t.Errorf("screen does not show the error:\n%s", s)
	}
}

func TestMovementKeys(t *testing.T) {
	tests := []struct {
		name   string
		keys   []string
		want   int64
		follow bool
	}{
		{"starts_at_newest", nil, 50, true},
		{"k_moves_up", []string{"k"}, 49, false},
		{"up_arrow", []string{"up", "up"}, 48, false},
		{"j_moves_down", []string{"k", "k", "j"}, 49, false},
		{"down_arrow_back_to_newest", []string{"k", "down"}, 50, true},
		{"j_stops_at_newest", []string{"j", "j"}, 50, true},
		{"g_oldest", []string{"g"}, 1, false},
		{"home_oldest", []string{"home"}, 1, false},
		{"k_stops_at_oldest", []string{"g", "k"}, 1, false},
		{"G_newest", []string{"g", "G"}, 50, true},
		{"end_newest", []string{"g", "end"}, 50, true},
		{"pgup", []string{"pgup"}, 31, false}, // 19 rows on screen
		{"pgdown", []string{"g", "pgdown"}, 20, false},
		{"pgup_twice_clamps", []string{"pgup", "pgup", "pgup"}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := liveModel(t, 50)
			m, _ = keys(t, m, tt.keys...)
			if got := selectedID(m); got != tt.want {
				t.Errorf("selected %d, want %d", got, tt.want)
			}
			if m.list.follow != tt.follow {
				t.Errorf("follow = %v, want %v", m.list.follow, tt.follow)
			}
			shown := truncateMiddle(liveEvent(tt.want, "").EventID, m.list.idCol)
			if !strings.Contains(screen(m), shown) {
				t.Errorf("the selected event is not on screen:\n%s", screen(m))
			}
		})
	}
}

func TestFollowsLiveUnlessScrolledUp(t *testing.T) {
	m, _ := liveModel(t, 30)
	m = publish(t, m, eventUpdate(liveEvent(31, "response.completed")))
	if got := selectedID(m); got != 31 {
		t.Fatalf("following: selected %d, want the new 31", got)
	}
	m, _ = keys(t, m, "k")
	m = publish(t, m, eventUpdate(liveEvent(32, "response.completed")))
	if got := selectedID(m); got != 30 {
		t.Errorf("scrolled up: selected %d, want 30 kept", got)
	}
	if s := screen(m); !strings.Contains(s, "30/32 events") {
		t.Errorf("summary does not say 30/32:\n%s", s)
	}
	m, _ = keys(t, m, "G")
	m = publish(t, m, eventUpdate(liveEvent(33, "response.completed")))
	if got := selectedID(m); got != 33 {
		t.Errorf("after G: selected %d, want 33", got)
	}
}

func TestOutcomes(t *testing.T) {
	m, _ := liveModel(t, 1)
	ev := liveEvent(1, "response.completed")
	step := func(u agent.Update, want string) {
		t.Helper()
		m = publish(t, m, u)
		r, _ := m.list.row(ev.ID)
		if got, _ := r.outcome(); got != want {
			t.Errorf("outcome = %q, want %q", got, want)
		}
		if !strings.Contains(screen(m), want) {
			t.Errorf("screen lacks %q:\n%s", want, screen(m))
		}
	}
	deliver := func(n int, replay bool) agent.Update {
		return agent.Update{Kind: agent.KindDelivering,
			Pending: &agent.PendingDelivery{EventID: 1, N: n, Replay: replay}}
	}
	step(deliver(1, false), "pending")
	step(attemptUpdate(attempt(1, 1, history.OutcomeRefused)), "retrying 2")
	step(deliver(2, false), "retrying 2")
	step(attemptUpdate(attempt(1, 2, history.OutcomeTimeout)), "retrying 3")
	step(attemptUpdate(attempt(1, 3, history.OutcomeServerErr)), "retrying 4")
	step(attemptUpdate(attempt(1, 4, history.OutcomeDelivered)), "200")
	replay := attempt(1, 1, history.OutcomeRejected)
	replay.Replay = true
	step(attemptUpdate(replay), "400")
	if r, _ := m.list.row(1); r.replayMark() != "↻" || !r.failed() {
		t.Errorf("after a failed replay: mark %q, failed %v; want ↻ and failed",
			r.replayMark(), r.failed())
	}
	given := ev
	given.State = history.StateFailed
	m = publish(t, m, eventUpdate(given))
	if r, _ := m.list.row(1); r.ev.State != history.StateFailed {
		t.Errorf("a republished event did not update the state: %v", r.ev.State)
	}
}

func TestFailureStandsOut(t *testing.T) {
	m, _ := liveModel(t, 2)
	m = publish(t, m, attemptUpdate(attempt(1, 1, history.OutcomeRejected)),
		attemptUpdate(attempt(2, 1, history.OutcomeDelivered)))
	lines := strings.Split(screen(m), "\n")
	var failed, ok string
	for _, l := range lines {
		switch {
		case strings.Contains(l, " 400 "):
			failed = l
		case strings.Contains(l, " 200 "):
			ok = l
		}
	}
	if r := []rune(failed); len(r) < 2 || r[1] != '✗' {
		t.Errorf("failed row %q is not marked ✗", failed)
	}
	if strings.Contains(ok, "✗") {
		t.Errorf("delivered row %q is marked failed", ok)
	}
}

func TestFilterTyping(t *testing.T) {
	m, _ := liveModel(t, 10)
	m, _ = keys(t, m, "/")
	if !m.footer.typing {
		t.Fatal("/ did not start the filter")
	}
	m = typeText(t, m, "batch")
	if got := len(m.list.matches); got != 2 {
		t.Errorf("%d matches for batch, want 2", got)
	}
	s := screen(m)
	if strings.Contains(s, "response.completed") || !strings.Contains(s, "/ batch") {
		t.Errorf("screen while typing batch:\n%s", s)
	}
	// q is a letter while typing.
	m, msgs := keys(t, m, "q")
	if quits(msgs) || m.footer.input.Value() != "batchq" {
		t.Errorf("q while typing: quit %v, filter %q", quits(msgs), m.footer.input.Value())
	}
	m, _ = keys(t, m, "backspace", "enter")
	if m.footer.typing || len(m.list.matches) != 2 {
		t.Errorf("enter: typing %v, %d matches; want the filter kept",
			m.footer.typing, len(m.list.matches))
	}
	if s := screen(m); !strings.Contains(s, `filter "batch"`) {
		t.Errorf("kept filter not shown:\n%s", s)
	}
	m, _ = keys(t, m, "/", "esc")
	if m.footer.typing || len(m.list.matches) != 10 || m.footer.input.Value() != "" {
		t.Errorf("esc: typing %v, %d matches, filter %q; want cleared",
			m.footer.typing, len(m.list.matches), m.footer.input.Value())
	}
}

func TestFilterMatchesIDAndBody(t *testing.T) {
	tests := []struct {
		name, text string
		want       int
	}{
		{"event_id", "evt_00000000000000000000000000000007", 1},
		{"webhook_id", "msg_3", 1},
		{"body_text", `"object":"event"`, 10},
		{"body_id", "resp_00000000000000000000000000000004", 1},
		{"case_insensitive", "BATCH.COMPLETED", 2},
		{"none", "nothing like this", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := liveModel(t, 10)
			m, _ = keys(t, m, "/")
			m, _ = drive(t, m, tea.PasteMsg{Content: tt.text})
			if got := len(m.list.matches); got != tt.want {
				t.Errorf("%d matches, want %d", got, tt.want)
			}
		})
	}
}

func TestFilterKeepsSelection(t *testing.T) {
	m, _ := liveModel(t, 10)
	m, _ = keys(t, m, "g", "j", "j", "j", "j", "j") // event 6, batch
	m, _ = keys(t, m, "/")
	m = typeText(t, m, "batch")
	if got := selectedID(m); got != 7 {
		t.Errorf("selected %d, want 7: the nearest batch event after 6", got)
	}
	m, _ = keys(t, m, "esc")
	if got := selectedID(m); got != 7 {
		t.Errorf("after clearing, selected %d, want 7 kept", got)
	}
}

func TestFamilyCycle(t *testing.T) {
	m, _ := liveModel(t, 5)
	m = publish(t, m, eventUpdate(liveEvent(6, "safety.flagged")))
	want := []string{"response", "batch", "fine_tuning", "eval", "realtime", "safety", ""}
	for _, fam := range want {
		m, _ = keys(t, m, "t")
		if m.list.filter.family != fam {
			t.Fatalf("family = %q, want %q", m.list.filter.family, fam)
		}
		s := screen(m)
		if fam != "" && !strings.Contains(s, "family "+fam) {
			t.Errorf("screen does not name family %s:\n%s", fam, s)
		}
		wantRows := 1
		if fam == "" {
			wantRows = 6
		}
		if len(m.list.matches) != wantRows {
			t.Errorf("family %q: %d rows, want %d", fam, len(m.list.matches), wantRows)
		}
	}
}

func TestFailedOnly(t *testing.T) {
	m, _ := liveModel(t, 4)
	m = publish(t, m, attemptUpdate(attempt(1, 1, history.OutcomeDelivered)),
		attemptUpdate(attempt(2, 1, history.OutcomeRejected)))
	m, _ = keys(t, m, "f")
	if got := len(m.list.matches); got != 1 || selectedID(m) != 2 {
		t.Fatalf("failed only: %d rows, selected %d; want only 2", got, selectedID(m))
	}
	if !strings.Contains(screen(m), "failed only") {
		t.Errorf("screen does not say failed only:\n%s", screen(m))
	}
	// A delivery that fails later joins the list, one that recovers leaves.
	m = publish(t, m, attemptUpdate(attempt(3, 1, history.OutcomeTimeout)))
	r := attempt(2, 1, history.OutcomeDelivered)
	r.Replay = true
	m = publish(t, m, attemptUpdate(r))
	if got := m.list.matches; len(got) != 1 || m.list.rows[got[0]].ev.ID != 3 {
		t.Errorf("after changes: matches %v, want only event 3", got)
	}
	m, _ = keys(t, m, "f")
	if got := len(m.list.matches); got != 4 {
		t.Errorf("f again: %d rows, want 4", got)
	}
}

func TestEscClearsFilters(t *testing.T) {
	m, _ := liveModel(t, 5)
	m, _ = keys(t, m, "t", "f", "/")
	m = typeText(t, m, "x")
	m, _ = keys(t, m, "enter", "esc")
	if m.list.filter.active() || len(m.list.matches) != 5 {
		t.Errorf("esc left filter %+v with %d rows", m.list.filter, len(m.list.matches))
	}
}

func TestResend(t *testing.T) {
	m, c := liveModel(t, 3)
	m, _ = keys(t, m, "k", "r")
	if len(c.resends) != 1 || c.resends[0].id != 2 || c.resends[0].body != nil {
		t.Fatalf("resends = %+v, want event 2 with its original body", c.resends)
	}
	if s := screen(m); !strings.Contains(s, "re-sending "+liveEvent(2, "").EventID) {
		t.Errorf("no confirmation:\n%s", s)
	}
	c.resendErr = errors.New("agent stopped")
	m, _ = keys(t, m, "r")
	if s := screen(m); !strings.Contains(s, "agent stopped") {
		t.Errorf("resend error not shown:\n%s", s)
	}
}

func TestResendWithoutEvents(t *testing.T) {
	m, c := liveModel(t, 0)
	for _, k := range []string{"r", "e", "y", "x", "w", "enter"} {
		m, _ = keys(t, m, k)
	}
	if len(c.resends)+len(c.pins) != 0 {
		t.Errorf("commands without an event: %+v %+v", c.resends, c.pins)
	}
	if s := screen(m); !strings.Contains(s, "waiting for webhooks") {
		t.Errorf("empty screen:\n%s", s)
	}
}

func TestEditSendsEditedBody(t *testing.T) {
	m, c := liveModel(t, 2)
	next, cmd := m.Update(press("e"))
	m = next.(Model)
	ready, ok := cmd().(editorReadyMsg)
	if !ok {
		t.Fatalf("e gave %T, want editorReadyMsg", cmd())
	}
	t.Cleanup(func() { os.Remove(ready.path) })
	got, err := os.ReadFile(ready.path)
	if err != nil || !strings.Contains(string(got), `  "type": "batch.completed",`) {
		t.Fatalf("file for the editor holds %q (%v), want the body indented", got, err)
	}
	if _, cmd := m.Update(ready); cmd == nil {
		t.Fatal("no editor command")
	}
	edited := []byte(`{"edited":true}`)
	if err := os.WriteFile(ready.path, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	m, _ = drive(t, m, editorDoneMsg{editorReadyMsg: ready})
	if len(c.resends) != 1 || c.resends[0].id != 2 || !bytes.Equal(c.resends[0].body, edited) {
		t.Fatalf("resends = %+v, want event 2 with the edited body", c.resends)
	}
	if _, err := os.Stat(ready.path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the edited file was left behind: %v", err)
	}
	if s := screen(m); !strings.Contains(s, "edited body") {
		t.Errorf("no confirmation:\n%s", s)
	}
}

func TestEditWithoutChangeSendsNothing(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
		err     error
		want    string
	}{
		{"unchanged", nil, nil, "unchanged"},
		{"emptied", []byte("  \n"), nil, "empty body"},
		{"editor_failed", nil, errors.New("exit status 1"), "exit status 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, c := liveModel(t, 1)
			ready := editPrepareCmd(1, "evt_1", liveEvent(1, "x").Body)().(editorReadyMsg)
			if tt.content != nil {
				if err := os.WriteFile(ready.path, tt.content, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			m, _ = drive(t, m, editorDoneMsg{editorReadyMsg: ready, err: tt.err})
			if len(c.resends) != 0 {
				t.Errorf("resent %+v", c.resends)
			}
			if s := screen(m); !strings.Contains(s, tt.want) {
				t.Errorf("screen lacks %q:\n%s", tt.want, s)
			}
			if _, err := os.Stat(ready.path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("file left behind: %v", err)
			}
		})
	}
}

func TestEditContinuesFromLastEdit(t *testing.T) {
	m, _ := liveModel(t, 1)
	a := attempt(1, 1, history.OutcomeDelivered)
	a.Replay, a.Edited, a.Body = true, true, []byte(`{"v":2}`)
	m = publish(t, m, attemptUpdate(a))
	_, cmd := m.Update(press("e"))
	ready := cmd().(editorReadyMsg)
	t.Cleanup(func() { os.Remove(ready.path) })
	if want := "{\n  \"v\": 2\n}\n"; string(ready.orig) != want {
		t.Errorf("editing %q, want the last edited body %q", ready.orig, want)
	}
}

func TestPauseAndStep(t *testing.T) {
	m, c := liveModel(t, 1)
	m, _ = keys(t, m, "n")
	if c.steps != 0 || !strings.Contains(screen(m), "while paused") {
		t.Errorf("n while running: %d steps, screen:\n%s", c.steps, screen(m))
	}
	m, _ = keys(t, m, "p")
	if len(c.paused) != 1 || !c.paused[0] || !m.header.paused {
		t.Fatalf("p: SetPaused calls %v, paused %v", c.paused, m.header.paused)
	}
	if s := screen(m); !strings.Contains(s, "PAUSED") || !strings.Contains(s, "n step") {
		t.Errorf("paused screen lacks the marker or the step key:\n%s", s)
	}
	m, _ = keys(t, m, "n", "n")
	if c.steps != 2 {
		t.Errorf("%d steps, want 2", c.steps)
	}
	m, _ = keys(t, m, "p")
	if len(c.paused) != 2 || c.paused[1] || strings.Contains(screen(m), "PAUSED") {
		t.Errorf("p again: SetPaused calls %v; screen:\n%s", c.paused, screen(m))
	}
	paused := true
	m = publish(t, m, agent.Update{Kind: agent.KindPaused, Paused: &paused})
	if !m.header.paused {
		t.Error("a paused update did not show")
	}
}

func TestCopyID(t *testing.T) {
	m, _ := liveModel(t, 3)
	m, msgs := keys(t, m, "k", "y")
	want := liveEvent(2, "").EventID
	if got, ok := clipboard(msgs); !ok || got != want {
		t.Errorf("clipboard = %q (%v), want %q", got, ok, want)
	}
	if s := screen(m); !strings.Contains(s, "copied "+want) {
		t.Errorf("no confirmation:\n%s", s)
	}
}

func TestCopyCurl(t *testing.T) {
	m, _ := liveModel(t, 3)
	m, msgs := keys(t, m, "x")
	got, ok := clipboard(msgs)
	if !ok || !strings.HasPrefix(got, "curl ") || !strings.HasSuffix(got, "event-3") {
		t.Errorf("clipboard = %q (%v), want the curl command of event 3", got, ok)
	}
	if s := screen(m); !strings.Contains(s, "copied the curl command") {
		t.Errorf("no confirmation:\n%s", s)
	}
}

func TestCopyCurlError(t *testing.T) {
	m, c := liveModel(t, 1)
	c.curl = func(context.Context, int64) (string, error) { return "", errors.New("no signer") }
	m, msgs := keys(t, m, "x")
	if _, ok := clipboard(msgs); ok {
		t.Error("copied despite the error")
	}
	if s := screen(m); !strings.Contains(s, "no signer") {
		t.Errorf("error not shown:\n%s", s)
	}
}

func TestPin(t *testing.T) {
	m, c := liveModel(t, 3)
	m, _ = keys(t, m, "k", "w")
	if len(c.pins) != 1 || c.pins[0] != 2 {
		t.Fatalf("pins = %v, want [2]", c.pins)
	}
	s := screen(m)
	if strings.Count(s, "⚑") != 2 { // in the header and on the row
		t.Errorf("pin not shown in the header and the row:\n%s", s)
	}
	m, _ = keys(t, m, "w")
	if len(c.pins) != 2 || c.pins[1] != 0 || strings.Contains(screen(m), "⚑") {
		t.Errorf("w again: pins %v; screen:\n%s", c.pins, screen(m))
	}
}

func TestHelp(t *testing.T) {
	m, _ := liveModel(t, 3)
	m, _ = keys(t, m, "?")
	if m.focus != focusHelp {
		t.Fatal("? did not open the help")
	}
	s := screen(m)
	for _, want := range []string{"filter", "family", "failed only", "resend", "edit & send",
		"pause", "step", "copy id", "copy curl", "pin", "details", "quit",
		"/home/dev/.local/state/hookrelay/agent.log"} {
		if !strings.Contains(s, want) {
			t.Errorf("help lacks %q:\n%s", want, s)
		}
	}
	m, _ = keys(t, m, "j")
	if m.focus != focusHelp {
		t.Error("a movement key closed the help")
	}
	m, _ = keys(t, m, "?")
	if m.focus != focusList {
		t.Error("? did not close the help")
	}
	m, _ = keys(t, m, "enter", "?", "esc")
	if m.focus != focusDetail {
		t.Errorf("help opened from details returned to %v", m.focus)
	}
}

func TestQuit(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		t.Run(k, func(t *testing.T) {
			m, _ := liveModel(t, 1)
			if _, msgs := keys(t, m, k); !quits(msgs) {
				t.Errorf("%s did not quit", k)
			}
			m, _ = keys(t, m, "/")
			_, msgs := keys(t, m, "ctrl+c")
			if k == "ctrl+c" && !quits(msgs) {
				t.Error("ctrl+c while typing a filter did not quit")
			}
		})
	}
}

func TestConnectionStates(t *testing.T) {
	tests := []struct {
		name string
		conn agent.ConnState
		at   time.Duration // before the test clock
		want string
	}{
		{"connecting", agent.ConnState{State: agent.PhaseConnecting}, 0, "connecting…"},
		{"connected", agent.ConnState{State: agent.PhaseConnected, Channel: "team"}, 0,
			"● connected  relay.example.com channel team"},
		{"reconnecting", agent.ConnState{State: agent.PhaseReconnecting, Attempt: 3,
			Retry: 8 * time.Second}, 3 * time.Second, "reconnecting, attempt 3, next try in 5s"},
		{"refused", agent.ConnState{State: agent.PhaseRefused, Err: "401"}, 0,
			"refused: bad token"},
		{"stopped", agent.ConnState{State: agent.PhaseStopped}, 0, "stopped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := liveModel(t, 0)
			conn := tt.conn
			next, cmd := m.Update(updatesMsg{{Kind: agent.KindConn, Time: testNow().Add(-tt.at),
				Conn: &conn}})
			m = next.(Model)
			if first := strings.Split(screen(m), "\n")[0]; !strings.Contains(first, tt.want) {
				t.Errorf("header %q lacks %q", first, tt.want)
			}
			if m.ticking != (tt.conn.State == agent.PhaseReconnecting) || cmd == nil {
				t.Errorf("ticking = %v for %s", m.ticking, tt.name)
			}
		})
	}
}

func TestHeaderCountsFromSnapshot(t *testing.T) {
	m, c := liveModel(t, 0)
	c.snap.Received, c.snap.Delivered, c.snap.Failed, c.snap.Queued = 7, 5, 2, 3
	m = publish(t, m, eventUpdate(liveEvent(1, "response.completed")))
	second := strings.Split(screen(m), "\n")[1]
	if !strings.Contains(second, "received 7 · delivered 5 · failed 2") {
		t.Errorf("header line %q lacks the counts", second)
	}
	if !strings.Contains(second, "localhost:5000/webhooks/openai") {
		t.Errorf("header line %q lacks the forward target", second)
	}
}

func TestNotice(t *testing.T) {
	m, _ := liveModel(t, 0)
	m = publish(t, m, agent.Update{Kind: agent.KindNotice,
		Notice: &agent.Notice{Level: "warn", Message: "config reloaded: 2 routes"}})
	if !strings.Contains(screen(m), "config reloaded: 2 routes") {
		t.Errorf("notice not shown:\n%s", screen(m))
	}
}

func TestUnknownEventIsFetched(t *testing.T) {
	h := openHistory(t)
	c := newFake(h)
	m := newTestModel(t, c)
	ev := record(t, h, 1, "response.completed")
	m = publish(t, m, attemptUpdate(attempt(ev.ID, 1, history.OutcomeDelivered)))
	r, ok := m.list.row(ev.ID)
	if !ok {
		t.Fatal("the event named by an attempt was not fetched")
	}
	if r.ev.Type != "response.completed" {
		t.Errorf("fetched event type %q", r.ev.Type)
	}
}

func TestUpdateCarryingItsEvent(t *testing.T) {
	m, _ := liveModel(t, 0)
	ev := liveEvent(9, "batch.completed")
	a := attempt(9, 1, history.OutcomeDelivered)
	m = publish(t, m, agent.Update{Kind: agent.KindAttempt, Event: &ev, Attempt: &a})
	r, ok := m.list.row(9)
	if !ok {
		t.Fatal("the event an attempt carried was not listed")
	}
	if out, _ := r.outcome(); out != "200" {
		t.Errorf("outcome %q, want 200", out)
	}
	// A stale copy of the event must not undo the settled state.
	m = publish(t, m, agent.Update{Kind: agent.KindDelivering, Event: &ev,
		Pending: &agent.PendingDelivery{EventID: 9, N: 1, Replay: true}})
	if r, _ := m.list.row(9); r.ev.State != history.StateDelivered {
		t.Errorf("state %v after a replay started, want delivered", r.ev.State)
	}
}

func TestEarlyUpdatesSurviveHistoryError(t *testing.T) {
	h := openHistory(t)
	c := newFake(h)
	m := New(c, Options{NoColor: true, Now: testNow})
	t.Cleanup(m.Close)
	ev := record(t, h, 1, "response.completed")
	m = publish(t, m, attemptUpdate(attempt(ev.ID, 1, history.OutcomeDelivered)))
	if len(m.early) != 1 {
		t.Fatalf("%d updates kept while loading, want 1", len(m.early))
	}
	m, _ = drive(t, m, errMsg{err: errors.New("disk I/O error"), load: true})
	if _, ok := m.list.row(ev.ID); !ok {
		t.Error("the update kept while loading was dropped when loading failed")
	}
}
