// Package relaytest runs a real relay on a loopback socket for the tests of
// other packages, as net/http/httptest does for handlers. Serve is its entry
// point.
package relaytest

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

// Serve runs a relay with cfg over st, listening on addr ("127.0.0.1:0"
// picks a free port), until stop is called or the test ends, and returns its
// base URL. stop shuts the relay down and waits for it; it may be called
// more than once. Serve never closes st, so a test may serve the same store
// again after stop, as a restarted relay would.
func Serve(t testing.TB, cfg relay.Config, st store.Store, addr string) (url string, stop func()) {
	t.Helper()
	srv, err := relay.New(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ctx, ln); err != nil {
			t.Errorf("relay Serve: %v", err)
		}
	}()
	stop = sync.OnceFunc(func() {
		cancel()
		<-done
	})
	t.Cleanup(stop)
	return "http://" + ln.Addr().String(), stop
}
