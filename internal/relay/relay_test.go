package relay

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/wire"
)

func TestNewValidates(t *testing.T) {
	good := Channel{Name: "default", Secret: testSecret, Token: testToken}
	tests := []struct {
		name     string
		channels []Channel
		mod      func(*Config)
		wantErr  string // a part of the error; "" for none
	}{
		{name: "ok", channels: []Channel{good}},
		{name: "two_channels", channels: []Channel{good,
			{Name: "batch", Secret: batchSecret, Token: batchToken}}},
		{name: "no_channel", wantErr: "at least one channel"},
		{name: "empty_name", channels: []Channel{{Secret: testSecret, Token: testToken}},
			wantErr: "channel name"},
		{name: "name_with_slash", channels: []Channel{{Name: "a/b", Secret: testSecret,
			Token: testToken}}, wantErr: "channel name"},
		{name: "duplicate_name", channels: []Channel{good,
			{Name: "default", Secret: batchSecret, Token: batchToken}}, wantErr: "twice"},
		{name: "empty_token", channels: []Channel{{Name: "default", Secret: testSecret}},
			wantErr: "empty token"},
		{name: "shared_token", channels: []Channel{good,
			{Name: "batch", Secret: batchSecret, Token: testToken}}, wantErr: "same token"},
		{name: "empty_secret", channels: []Channel{{Name: "default", Token: testToken}},
			wantErr: "secret"},
		{name: "short_secret", channels: []Channel{{Name: "default", Token: testToken,
			Secret: "whsec_c2hvcnQ="}}, wantErr: "secret"},
		{name: "negative_window", channels: []Channel{good},
			mod: func(c *Config) { c.Window = -1 }, wantErr: "window"},
		{name: "negative_retention", channels: []Channel{good},
			mod: func(c *Config) { c.Retention = -time.Hour }, wantErr: "retention"},
		{name: "negative_max_body", channels: []Channel{good},
			mod: func(c *Config) { c.MaxBody = -1 }, wantErr: "max body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Channels: tt.channels}
			if tt.mod != nil {
				tt.mod(&cfg)
			}
			_, err := New(cfg, &faultStore{})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("New succeeded, want an error about %q", tt.wantErr)
			case err != nil && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("New error %q does not mention %q", err, tt.wantErr)
			}
			if err != nil {
				checkNoSecrets(t, "error", err.Error())
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	s, err := New(Config{Channels: []Channel{{Name: "d", Secret: testSecret, Token: testToken}}},
		&faultStore{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if s.retention != DefaultRetention || s.maxBody != DefaultMaxBody ||
		s.window != wire.DefaultWindow {
		t.Errorf("retention, max body, window = %v, %d, %d; want %v, %d, %d",
			s.retention, s.maxBody, s.window, DefaultRetention, DefaultMaxBody, wire.DefaultWindow)
	}
}

func TestNewRejectsRegistryUsedTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := Config{
		Channels: []Channel{{Name: "d", Secret: testSecret, Token: testToken}},
		Registry: reg,
	}
	if _, err := New(cfg, &faultStore{}); err != nil {
		t.Fatalf("first New: %v", err)
	}
	if _, err := New(cfg, &faultStore{}); err == nil {
		t.Errorf("second New on the same registry succeeded")
	}
}

func TestPrune(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.Retention = time.Hour })
	h.appendEvent("response.completed")
	h.clock.Add(2 * time.Hour)
	h.appendEvent("response.completed")
	h.srv.prune(t.Context())
	h.checkEvents("default", 1)
	if !strings.Contains(h.logs.String(), `"count":1`) {
		t.Errorf("no log line counting the pruned event")
	}
}

// serve runs the harness's server with Serve on a loopback listener and
// returns its base URL and a func that stops it and returns Serve's result.
func serve(t *testing.T, h *harness) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- h.srv.Serve(ctx, ln) }()
	stop := sync.OnceValue(func() error {
		cancel()
		return waitFor(t, done, "Serve to return")
	})
	t.Cleanup(func() { stop() })
	return "http://" + ln.Addr().String(), stop
}

// TestServeShutdown checks that an agent's WebSocket outlives the server's
// read timeout, and that shutdown closes it with StatusGoingAway.
func TestServeShutdown(t *testing.T) {
	const timeout = 30 * time.Millisecond
	h := newHarness(t, func(s *setup) {
		s.hooks = func(srv *Server) { srv.serveTimeout = timeout }
	})
	base, stop := serve(t, h)
	h.ts.URL = base // the harness's helpers now talk to Serve's server
	c, _ := h.connect(testToken, wire.Hello{})

	// The point is the time passing: the deadlines of the hijacked
	// connection would fire by now if they had not been cleared.
	time.Sleep(4 * timeout)
	id, _ := h.post(eventBody("response.completed"))
	if e := recvEvent(t, c); e.WebhookID != id {
		t.Fatalf("got event %s, want %s", e.WebhookID, id)
	}

	closed := make(chan websocket.StatusCode, 1)
	go func() { closed <- recvClose(t, c) }()
	if err := stop(); err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
	if got := waitFor(t, closed, "the agent's close"); got != websocket.StatusGoingAway {
		t.Errorf("close status = %v, want %v", got, websocket.StatusGoingAway)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Errorf("the server still answers after shutdown")
	}
}

func TestServePrunesAtStart(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.Retention = time.Hour })
	h.appendEvent("response.completed")
	h.clock.Add(2 * time.Hour)
	pruned := make(chan struct{})
	ps := &pruneSpy{Store: h.db, pruned: pruned}
	h.srv.st = ps
	serve(t, h)
	waitFor(t, pruned, "a prune")
	if !ps.before.Equal(t0.Add(time.Hour)) {
		t.Errorf("pruned before %v, want %v", ps.before, t0.Add(time.Hour))
	}
	h.checkEvents("default", 0)
}

// pruneSpy records the first Prune.
type pruneSpy struct {
	store.Store
	before time.Time
	pruned chan struct{}
}

func (p *pruneSpy) Prune(ctx context.Context, before time.Time) (int64, error) {
	n, err := p.Store.Prune(ctx, before)
	if p.pruned != nil {
		p.before = before
		close(p.pruned)
		p.pruned = nil
	}
	return n, err
}
