package watch

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// reservePort returns a loopback address on which nothing listens.
func reservePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// dialer returns a probe that dials addr and, after each failed dial, sends
// on missed if that does not block.
func dialer(addr string, missed chan<- struct{}) func(context.Context) error {
	var d net.Dialer
	return func(ctx context.Context) error {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			select {
			case missed <- struct{}{}:
			default:
			}
			return err
		}
		return conn.Close()
	}
}

func TestWaitReadyWhenListenerAppears(t *testing.T) {
	addr := reservePort(t)
	missed := make(chan struct{}, 1)
	go func() {
		<-missed
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen on reserved %s: %v", addr, err)
			return
		}
		t.Cleanup(func() { ln.Close() })
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	waited, err := waitReady(ctx, addr, 0, dialer(addr, missed))
	if err != nil {
		t.Fatalf("waitReady: %v", err)
	}
	if waited <= 0 {
		t.Errorf("waited %v, want more than 0", waited)
	}
}

func TestWaitReadySettlesFirst(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const settle = 30 * time.Millisecond
	waited, err := WaitReady(t.Context(), "http://"+ln.Addr().String()+"/hook", settle)
	if err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if waited < settle {
		t.Errorf("waited %v, want at least the settle time %v", waited, settle)
	}
}

func TestWaitReadyCancel(t *testing.T) {
	tests := []struct {
		name   string
		settle time.Duration
	}{
		{name: "while_dialing"},
		{name: "while_settling", settle: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := reservePort(t)
			missed := make(chan struct{}, 1)
			ctx, cancel := context.WithCancel(t.Context())
			if tt.settle > 0 {
				cancel()
			}
			go func() {
				<-missed
				cancel()
			}()
			t.Cleanup(cancel)
			_, err := waitReady(ctx, addr, tt.settle, dialer(addr, missed))
			if !errors.Is(err, context.Canceled) {
				t.Errorf("waitReady after cancel = %v, want context.Canceled", err)
			}
		})
	}
}

func TestDialAddr(t *testing.T) {
	tests := []struct {
		target  string
		want    string
		wantErr bool
	}{
		{target: "http://localhost:5000/webhooks/openai", want: "localhost:5000"},
		{target: "http://localhost/hook", want: "localhost:80"},
		{target: "https://app.test/hook", want: "app.test:443"},
		{target: "http://[::1]:8080/", want: "[::1]:8080"},
		{target: "localhost:5000", wantErr: true},
		{target: "ws://localhost:5000", wantErr: true},
		{target: "http:///path", wantErr: true},
	}
	for _, tt := range tests {
		got, err := dialAddr(tt.target)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("dialAddr(%q) = %q, %v; want %q, error %v",
				tt.target, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestWaitReadyBadTarget(t *testing.T) {
	if _, err := WaitReady(t.Context(), "localhost:5000", 0); err == nil {
		t.Error("WaitReady with a URL lacking a scheme succeeded")
	}
}

// TestWaitRestartSeesTheRestart: an app whose port closes and opens again
// within the window is back when waitRestart returns, well before the
// window's end.
func TestWaitRestartSeesTheRestart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	missed := make(chan struct{}, 1)
	lns := make(chan net.Listener, 1)
	go func() {
		time.Sleep(150 * time.Millisecond) // the reloader rebuilds meanwhile
		ln.Close()
		<-missed // the probe saw the port closed
		ln2, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen again on %s: %v", addr, err)
		}
		lns <- ln2
	}()
	const window = 10 * time.Second
	waited, err := waitRestart(t.Context(), addr, window, dialer(addr, missed))
	if err != nil {
		t.Fatalf("waitRestart: %v", err)
	}
	select {
	case ln2 := <-lns: // the probe saw the port closed, and it opened again
		if ln2 != nil {
			defer ln2.Close()
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waitRestart returned without seeing the port close")
	}
	if waited >= window {
		t.Errorf("waited %v, want less than the %v window once the restart was seen", waited, window)
	}
}

// TestWaitRestartWindowEnds: a port that stays open (a reloader that keeps
// its socket) ends the wait at the window's end.
func TestWaitRestartWindowEnds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	missed := make(chan struct{}, 1)
	waited, err := waitRestart(t.Context(), addr, 300*time.Millisecond, dialer(addr, missed))
	if err != nil || waited < 300*time.Millisecond {
		t.Errorf("waitRestart = %v, %v; want the whole 300ms window", waited, err)
	}
	select {
	case <-missed:
		t.Error("a probe failed against an open port")
	default:
	}
}
