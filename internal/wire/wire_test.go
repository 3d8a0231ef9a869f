package wire

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		typ      string
		want     bool
	}{
		{"empty_matches_all", nil, "batch.completed", true},
		{"star_alone", []string{"*"}, "fine_tuning.job.failed", true},
		{"family", []string{"response.*"}, "response.completed", true},
		{"other_family", []string{"response.*"}, "batch.completed", false},
		{"crosses_dots", []string{"fine_tuning.*"}, "fine_tuning.job.succeeded", true},
		{"suffix", []string{"*.failed"}, "fine_tuning.job.failed", true},
		{"exact", []string{"batch.completed"}, "batch.completed", true},
		{"exact_other", []string{"batch.completed"}, "batch.failed", false},
		{"any_of_list", []string{"eval.run.*", "batch.completed"}, "batch.completed", true},
		{"prefix_is_not_family", []string{"response"}, "response.completed", false},
		{"unknown_type", []string{"video.*"}, "video.completed", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Match(tt.patterns, tt.typ); got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.patterns, tt.typ, got, tt.want)
			}
		})
	}
}

func TestValidatePatterns(t *testing.T) {
	if err := ValidatePatterns([]string{"response.*", "batch.completed"}); err != nil {
		t.Errorf("ValidatePatterns(valid) = %v", err)
	}
	for _, bad := range [][]string{{""}, {"response.["}} {
		if err := ValidatePatterns(bad); err == nil {
			t.Errorf("ValidatePatterns(%q) = nil, want an error", bad)
		}
	}
}

func TestReadLimit(t *testing.T) {
	// A body of exactly maxBody bytes must fit, base64 and all.
	for _, n := range []int64{0, 1, 2, 3, 1 << 20, 5<<20 + 1} {
		if got, min := ReadLimit(n), (n+2)/3*4; got <= min {
			t.Errorf("ReadLimit(%d) = %d, want more than %d", n, got, min)
		}
	}
}

// pair returns the two ends of a real WebSocket connection.
func pair(t *testing.T) (client, server *websocket.Conn) {
	t.Helper()
	accepted := make(chan *websocket.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			t.Errorf("Accept: %v", err)
			return
		}
		accepted <- c
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	c, _, err := websocket.Dial(t.Context(), srv.URL, nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	s := <-accepted
	t.Cleanup(func() {
		c.CloseNow()
		s.CloseNow()
	})
	return c, s
}

func TestWriteReadRoundTrip(t *testing.T) {
	c, s := pair(t)
	body := []byte("{\"id\":\"evt_1\"}\x00\xff not even utf-8")
	h := http.Header{}
	h.Add("X-Multi", "a")
	h.Add("X-Multi", "b")
	want := &Event{Seq: 7, WebhookID: "wh_1", Type: "batch.completed", Header: h, Body: body,
		ReceivedAt: time.Unix(1750000000, 0).UTC()}
	if err := Write(t.Context(), c, &Message{Type: TypeEvent, Event: want}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	m, err := Read(t.Context(), s)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	got := m.Event
	if got.Seq != 7 || got.WebhookID != "wh_1" || string(got.Body) != string(body) ||
		!got.ReceivedAt.Equal(want.ReceivedAt) {
		t.Errorf("Read = %+v, want %+v", got, want)
	}
	if v := got.Header.Values("X-Multi"); strings.Join(v, ",") != "a,b" {
		t.Errorf("multi-valued header = %q, want [a b]", v)
	}
}

func TestReadRejectsMalformed(t *testing.T) {
	tests := []struct {
		name string
		msg  string
	}{
		{"not_json", "hello"},
		{"unknown_type", `{"type":"gossip"}`},
		{"missing_field", `{"type":"event"}`},
		{"wrong_field", `{"type":"ack","hello":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s := pair(t)
			if err := c.Write(t.Context(), websocket.MessageText, []byte(tt.msg)); err != nil {
				t.Fatalf("Write: %v", err)
			}
			if m, err := Read(t.Context(), s); err == nil {
				t.Errorf("Read(%s) = %+v, want an error", tt.msg, m)
			}
		})
	}
}

func TestHeartbeat(t *testing.T) {
	c, s := pair(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	go c.Read(ctx) // c must read for its pongs to be seen

	// While the peer reads, pings are answered and the heartbeat goes on.
	go s.Read(ctx)
	alive, stop := context.WithTimeout(ctx, 300*time.Millisecond)
	defer stop()
	if err := HeartbeatEvery(alive, c, 20*time.Millisecond, 100*time.Millisecond); err != nil {
		t.Fatalf("HeartbeatEvery with a live peer = %v, want nil", err)
	}
}

func TestHeartbeatDetectsSilentPeer(t *testing.T) {
	c, _ := pair(t) // the server end never reads, so it never answers a ping
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	go c.Read(ctx)
	err := HeartbeatEvery(ctx, c, 20*time.Millisecond, 100*time.Millisecond)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("HeartbeatEvery(silent peer) = %v at the test deadline, want an early error", err)
	}
}
