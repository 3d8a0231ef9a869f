package agent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/wire"
)

// connPhases runs a until it has published n connection updates, or until
// the test's deadline, and returns their phases.
func connPhases(t *testing.T, a *Agent, n int) []ConnPhase {
	t.Helper()
	updates, cancelSub := a.Subscribe()
	defer cancelSub()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	var phases []ConnPhase
	timeout := time.After(10 * time.Second)
	for len(phases) < n {
		select {
		case u := <-updates:
			if u.Kind == KindConn {
				phases = append(phases, u.Conn.State)
			}
		case <-timeout:
			t.Fatalf("got connection phases %v, want %d of them", phases, n)
		}
	}
	return phases
}

// TestNotConnectedBeforeWelcome: a relay that upgrades but never welcomes
// must not make the agent say it is connected.
func TestNotConnectedBeforeWelcome(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			Subprotocols: []string{wire.Subprotocol},
		})
		if err != nil {
			return
		}
		wire.Read(r.Context(), c) // the hello
		c.Close(websocket.StatusInternalError, "no welcome today")
	}))
	defer srv.Close()
	a, err := New(Config{Relay: srv.URL, Token: "t"}, openHistory(t))
	if err != nil {
		t.Fatal(err)
	}
	phases := connPhases(t, a, 4)
	for _, p := range phases {
		if p == PhaseConnected {
			t.Fatalf("phases %v: connected without a welcome", phases)
		}
	}
	if phases[0] != PhaseConnecting || phases[1] != PhaseReconnecting {
		t.Errorf("phases %v, want connecting then reconnecting", phases)
	}
}

func TestRefusedTokenEndsRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"bad token"}`, http.StatusUnauthorized)
	}))
	defer srv.Close()
	a, err := New(Config{Relay: srv.URL, Token: "wrong"}, openHistory(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(t.Context()); err != ErrUnauthorized {
		t.Errorf("Run with a refused token = %v, want ErrUnauthorized", err)
	}
	if got := a.Snapshot().Conn.State; got != PhaseStopped {
		t.Errorf("state after Run = %s, want stopped", got)
	}
}

// TestConnectsThroughProxy: with Proxy set (HTTPS_PROXY in the command),
// the relay connection goes through the proxy.
func TestConnectsThroughProxy(t *testing.T) {
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rs, err := relay.New(relay.Config{Channels: []relay.Channel{
		{Name: "default", Secret: testSecret, Token: "tok"},
	}}, st)
	if err != nil {
		t.Fatal(err)
	}
	relaySrv := httptest.NewServer(rs.Handler())
	defer relaySrv.Close()

	var proxied atomic.Int32
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		proxied.Add(1)
		r.Out.URL = r.In.URL // a forward proxy: the request names its target
		r.Out.Host = r.In.URL.Host
	}})
	defer proxy.Close()
	proxyURL, _ := url.Parse(proxy.URL)

	a, err := New(Config{
		Relay: relaySrv.URL,
		Token: "tok",
		Proxy: func(*http.Request) (*url.URL, error) { return proxyURL, nil },
	}, openHistory(t))
	if err != nil {
		t.Fatal(err)
	}
	phases := connPhases(t, a, 2)
	if phases[1] != PhaseConnected {
		t.Fatalf("phases %v, want connected through the proxy", phases)
	}
	if proxied.Load() == 0 {
		t.Error("the proxy saw no request")
	}
}
