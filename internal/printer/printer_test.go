package printer

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/history"
)

func updates(us ...agent.Update) <-chan agent.Update {
	ch := make(chan agent.Update, len(us))
	for _, u := range us {
		ch <- u
	}
	close(ch)
	return ch
}

func attemptUpdate(status int, outcome history.Outcome, n int, replay bool) agent.Update {
	ev := &history.Event{Seq: 9, EventID: "evt_1", WebhookID: "wh_1", Type: "batch.completed"}
	a := &history.Attempt{N: n, Status: status, Outcome: outcome, Replay: replay,
		Latency: 1500 * time.Microsecond, Target: "http://localhost:5000/hook"}
	if status == 0 {
		a.Error = "connection refused"
	}
	return agent.Update{Kind: agent.KindAttempt, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Event: ev, Attempt: a}
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	err := JSON(context.Background(), &b, updates(
		agent.Update{Kind: agent.KindConn, Conn: &agent.ConnState{State: agent.PhaseConnected}},
		attemptUpdate(200, history.OutcomeDelivered, 2, true),
	))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("JSON wrote %d lines, want 1 per delivery:\n%s", len(lines), b.String())
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"seq": 9.0, "id": "evt_1", "type": "batch.completed", "status": 200.0,
		"latency_ms": 1.0, "attempt": 2.0, "replay": true}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("JSON %s = %v, want %v", k, got[k], v)
		}
	}
}

func TestPlain(t *testing.T) {
	paused := true
	var b bytes.Buffer
	err := Plain(context.Background(), &b, updates(
		agent.Update{Kind: agent.KindConn, Conn: &agent.ConnState{State: agent.PhaseConnected,
			Relay: "https://user:hunter2@relay.example.com/base", Channel: "default"}},
		agent.Update{Kind: agent.KindConn, Conn: &agent.ConnState{State: agent.PhaseReconnecting,
			Attempt: 3, Retry: 800 * time.Millisecond, Err: "dial: refused"}},
		attemptUpdate(0, history.OutcomeRefused, 1, false),
		attemptUpdate(503, history.OutcomeServerErr, 2, false),
		agent.Update{Kind: agent.KindPaused, Paused: &paused},
		agent.Update{Kind: agent.KindNotice, Notice: &agent.Notice{Message: "config reloaded"}},
	))
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"connected to relay.example.com, channel default",
		"reconnecting, attempt 3 in 800ms",
		"batch.completed", "evt_1", "-> refused", "connection refused",
		"-> 503 1.5ms", "attempt 2",
		"forwarding paused", "config reloaded",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Plain output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 6 {
		t.Errorf("Plain wrote %d lines, want 6:\n%s", n, out)
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("Plain printed credentials from the relay URL:\n%s", out)
	}
}
