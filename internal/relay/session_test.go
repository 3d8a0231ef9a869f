package relay

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hookrelay/hookrelay/internal/wire"
)

func TestAgentUnauthorized(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
	}{
		{name: "no_token", header: nil},
		{name: "wrong_token", header: bearer("tok-wrong")},
		{name: "empty_token", header: http.Header{"Authorization": {"Bearer "}}},
		{name: "basic_scheme", header: http.Header{"Authorization": {"Basic " + testToken}}},
		{name: "secret_as_token", header: bearer(testSecret)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, resp, err := websocket.Dial(t.Context(), h.ts.URL+"/agent", &websocket.DialOptions{
				HTTPHeader:   tt.header,
				Subprotocols: []string{wire.Subprotocol},
			})
			if err == nil {
				t.Fatal("Dial succeeded, want 401")
			}
			if resp == nil || resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("Dial answer = %v, want 401", resp)
			}
			if got := h.srv.agentCount("default"); got != 0 {
				t.Errorf("agentCount = %d after a refused dial", got)
			}
		})
	}
}

func TestAgentPlainGet(t *testing.T) {
	h := newHarness(t)
	a := h.do(http.MethodGet, "/agent", bearer(testToken), nil)
	if a.status != http.StatusUpgradeRequired {
		t.Errorf("GET /agent without upgrade = %d %s, want 426", a.status, a.body)
	}
	a.errorText(t)
}

func TestAgentNeedsSubprotocol(t *testing.T) {
	h := newHarness(t)
	c, _, err := websocket.Dial(t.Context(), h.ts.URL+"/agent", &websocket.DialOptions{
		HTTPHeader: bearer(testToken),
	})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.CloseNow()
	if got := recvClose(t, c); got != websocket.StatusPolicyViolation {
		t.Errorf("close status = %v, want %v", got, websocket.StatusPolicyViolation)
	}
}

func TestAgentBadHello(t *testing.T) {
	neg := int64(-1)
	tests := []struct {
		name string
		msg  wire.Message
	}{
		{"bad_since", wire.Message{Type: wire.TypeHello, Hello: &wire.Hello{Since: "yesterday"}}},
		{"negative_since", wire.Message{Type: wire.TypeHello, Hello: &wire.Hello{Since: "-1h"}}},
		{"bad_pattern", wire.Message{Type: wire.TypeHello,
			Hello: &wire.Hello{Events: []string{"["}}}},
		{"negative_cursor", wire.Message{Type: wire.TypeHello, Hello: &wire.Hello{Cursor: &neg}}},
		{"ack_first", wire.Message{Type: wire.TypeAck, Ack: &wire.Ack{Seq: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			c := h.dial(testToken)
			send(t, c, &tt.msg)
			if got := recvClose(t, c); got != websocket.StatusPolicyViolation {
				t.Errorf("close status = %v, want %v", got, websocket.StatusPolicyViolation)
			}
		})
	}
}

func TestStreamRetainedThenLive(t *testing.T) {
	h := newHarness(t)
	for range 5 {
		h.appendEvent("response.completed")
	}
	cursor := int64(2)
	c, w := h.connect(testToken, wire.Hello{Agent: "test/1", Cursor: &cursor})
	want := wire.Welcome{Channel: "default", Head: 5, After: 2, Window: wire.DefaultWindow,
		MaxBody: DefaultMaxBody}
	if *w != want {
		t.Errorf("welcome = %+v, want %+v", *w, want)
	}
	for seq := int64(3); seq <= 5; seq++ {
		if e := recvEvent(t, c); e.Seq != seq {
			t.Fatalf("event seq = %d, want %d", e.Seq, seq)
		}
	}
	body := eventBody("batch.completed")
	id, _ := h.post(body)
	e := recvEvent(t, c)
	if e.Seq != 6 || e.WebhookID != id || e.Type != "batch.completed" ||
		!bytes.Equal(e.Body, body) {
		t.Errorf("live event = seq %d id %q type %q body %q; want 6 %q batch.completed %q",
			e.Seq, e.WebhookID, e.Type, e.Body, id, body)
	}
	if e.Header.Get("Webhook-Id") != id || !e.ReceivedAt.Equal(t0) {
		t.Errorf("live event header id %q received %v; want %q %v",
			e.Header.Get("Webhook-Id"), e.ReceivedAt, id, t0)
	}
}

// TestStreamNoGapAtSwitch appends while the agent catches up, so that the
// stream passes from retained to live events during the appends.
func TestStreamNoGapAtSwitch(t *testing.T) {
	const before, during = 40, 60
	h := newHarness(t)
	for range before {
		h.appendEvent("response.completed")
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range during {
			h.appendEvent("batch.completed")
		}
	}()
	c, _ := h.connect(testToken, wire.Hello{Since: wire.SinceAll})
	var last int64
	for n := 1; n <= before+during; n++ {
		e := recvEvent(t, c)
		if e.Seq != last+1 {
			t.Fatalf("event %d has seq %d after %d: a gap or a duplicate", n, e.Seq, last)
		}
		last = e.Seq
		ack(t, c, e.Seq)
	}
	wg.Wait()
}

func TestStreamStart(t *testing.T) {
	ptr := func(v int64) *int64 { return &v }
	tests := []struct {
		name      string
		hello     wire.Hello
		wantAfter int64
	}{
		{name: "live", hello: wire.Hello{}, wantAfter: 3},
		{name: "since_all", hello: wire.Hello{Since: wire.SinceAll}, wantAfter: 0},
		{name: "since_duration", hello: wire.Hello{Since: "90m"}, wantAfter: 1},
		{name: "since_zero", hello: wire.Hello{Since: "0s"}, wantAfter: 3},
		{name: "cursor", hello: wire.Hello{Cursor: ptr(2)}, wantAfter: 2},
		{name: "cursor_at_head", hello: wire.Hello{Cursor: ptr(3)}, wantAfter: 3},
		{name: "cursor_and_earlier_since", hello: wire.Hello{Cursor: ptr(2), Since: wire.SinceAll},
			wantAfter: 0},
		{name: "cursor_and_later_since", hello: wire.Hello{Cursor: ptr(1), Since: "30m"},
			wantAfter: 1},
		{name: "cursor_beyond_head", hello: wire.Hello{Cursor: ptr(99)}, wantAfter: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			for range 3 { // received at t0, t0+1h, t0+2h
				h.appendEvent("response.completed")
				h.clock.Add(time.Hour)
			}
			h.clock.Add(-59 * time.Minute) // now is t0+2h01m
			c, w := h.connect(testToken, tt.hello)
			if w.After != tt.wantAfter || w.Head != 3 {
				t.Errorf("welcome after, head = %d, %d; want %d, 3", w.After, w.Head, tt.wantAfter)
			}
			for seq := tt.wantAfter + 1; seq <= 3; seq++ {
				if e := recvEvent(t, c); e.Seq != seq {
					t.Fatalf("event seq = %d, want %d", e.Seq, seq)
				}
			}
			id, _ := h.post(eventBody("batch.completed"))
			if e := recvEvent(t, c); e.WebhookID != id {
				t.Errorf("got event %d %s, want the live one %s", e.Seq, e.WebhookID, id)
			}
		})
	}
}

func TestStreamCursorBeyondHeadIsLogged(t *testing.T) {
	h := newHarness(t)
	cursor := int64(7)
	h.connect(testToken, wire.Hello{Cursor: &cursor})
	if !strings.Contains(h.logs.String(), `"level":"WARN","msg":"agent cursor beyond`) {
		t.Errorf("no warning for a cursor beyond the head")
	}
}

func TestStreamFilter(t *testing.T) {
	h := newHarness(t)
	h.appendEvent("response.completed")
	h.appendEvent("batch.completed")
	h.appendEvent("fine_tuning.job.failed")
	h.appendEvent("batch.failed")
	c, _ := h.connect(testToken, wire.Hello{
		Since:  wire.SinceAll,
		Events: []string{"batch.*", "*.job.failed"},
	})
	for _, want := range []string{"batch.completed", "fine_tuning.job.failed", "batch.failed"} {
		if e := recvEvent(t, c); e.Type != want {
			t.Fatalf("event %d type = %s, want %s", e.Seq, e.Type, want)
		}
	}
	h.post(eventBody("response.failed"))
	id, _ := h.post(eventBody("batch.cancelled"))
	if e := recvEvent(t, c); e.WebhookID != id {
		t.Errorf("got event %d %s %s, want batch.cancelled %s", e.Seq, e.Type, e.WebhookID, id)
	}
}

func TestStreamWindow(t *testing.T) {
	full := make(chan struct{}, 10)
	h := newHarness(t, func(s *setup) {
		s.cfg.Window = 3
		s.hooks = func(srv *Server) { srv.onWindowFull = func() { full <- struct{}{} } }
	})
	for range 7 {
		h.appendEvent("response.completed")
	}
	c, w := h.connect(testToken, wire.Hello{Since: wire.SinceAll})
	if w.Window != 3 {
		t.Errorf("welcome window = %d, want 3", w.Window)
	}
	steps := []struct {
		ack  int64   // acknowledged before the step; 0 for none
		want []int64 // events the step receives
		full bool    // whether the stream then waits for an ack
	}{
		{ack: 0, want: []int64{1, 2, 3}, full: true},
		{ack: 2, want: []int64{4, 5}, full: true},
		{ack: 3, want: []int64{6}, full: true},
		{ack: 6, want: []int64{7}, full: false},
	}
	for i, st := range steps {
		if st.ack > 0 {
			ack(t, c, st.ack)
		}
		for _, seq := range st.want {
			if e := recvEvent(t, c); e.Seq != seq {
				t.Fatalf("step %d: event seq = %d, want %d", i, e.Seq, seq)
			}
		}
		if st.full {
			waitFor(t, full, "the stream to wait for an ack")
		}
	}
	// The stream is blocked on a full window: an event may only follow an ack.
	select {
	case <-full:
		t.Errorf("window reported full with 1 event unacknowledged")
	default:
	}
}

func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func TestStreamStoreFailure(t *testing.T) {
	var fs *faultStore
	h := newHarness(t, func(s *setup) {
		fs = &faultStore{Store: s.st}
		s.st = fs
	})
	fs.readErr = errors.New("database is locked")
	c, _ := h.connect(testToken, wire.Hello{Since: wire.SinceAll})
	m := recv(t, c)
	if m.Type != wire.TypeError {
		t.Fatalf("got %s message, want error", m.Type)
	}
	if got := recvClose(t, c); got != websocket.StatusTryAgainLater {
		t.Errorf("close status = %v, want %v", got, websocket.StatusTryAgainLater)
	}
}

// fastHeartbeat is wire.Heartbeat with millisecond timing.
func fastHeartbeat(ctx context.Context, c *websocket.Conn) error {
	return wire.HeartbeatEvery(ctx, c, 5*time.Millisecond, 50*time.Millisecond)
}

func TestHeartbeatDropsSilentAgent(t *testing.T) {
	ended := make(chan error, 1)
	h := newHarness(t, func(s *setup) {
		s.hooks = func(srv *Server) {
			srv.heartbeat = fastHeartbeat
			srv.onSessionEnd = func(err error) { ended <- err }
		}
	})
	h.connect(testToken, wire.Hello{}) // and then never reads, so pongs never come
	if err := waitFor(t, ended, "the session to end"); err == nil {
		t.Errorf("session ended without an error")
	}
	if n := h.srv.agentCount("default"); n != 0 {
		t.Errorf("agentCount = %d after the drop, want 0", n)
	}
}

func TestAgentDisconnect(t *testing.T) {
	ended := make(chan error, 1)
	h := newHarness(t, func(s *setup) {
		s.hooks = func(srv *Server) { srv.onSessionEnd = func(err error) { ended <- err } }
	})
	c, _ := h.connect(testToken, wire.Hello{})
	if n := h.srv.agentCount("default"); n != 1 {
		t.Errorf("agentCount = %d while connected, want 1", n)
	}
	c.Close(websocket.StatusNormalClosure, "bye")
	if err := waitFor(t, ended, "the session to end"); !normalEnd(err) {
		t.Errorf("session ended with %v, want a normal closure", err)
	}
	if n := h.srv.agentCount("default"); n != 0 {
		t.Errorf("agentCount = %d after the disconnect, want 0", n)
	}
}
