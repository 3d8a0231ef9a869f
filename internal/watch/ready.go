package watch

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"
)

// Probe timing of WaitReady and WaitRestart.
const (
	watchInterval = 100 * time.Millisecond // between dials while the app is up
	probeTimeout  = time.Second            // one dial's limit
	minBackoff    = 10 * time.Millisecond  // pause after the first failed dial
	maxBackoff    = 200 * time.Millisecond // longest pause between dials
)

// WaitReady blocks until target, an http(s) URL, accepts TCP connections on
// its host and port (80 or 443 when it names none), or ctx ends. It returns
// how long it waited in all, settle included.
//
// It first waits settle without dialing. After a save, an app run by a
// reloader keeps serving its old code until the reloader notices the change
// and restarts it; a dial in that window would succeed too early. So settle
// should cover the reloader's delay: Werkzeug's stat reloader, which Flask
// uses unless watchdog is installed, looks once a second; air waits its
// configured delay, then stops the app and builds, so its port stays closed
// until the new build listens. Werkzeug keeps the listening socket across
// restarts, so its port accepts at once after settle, and the delivery waits
// in the socket's backlog until the new process serves it.
//
// Polling is right here: nothing announces that a port opened. Dials back off
// from 10ms to 200ms. When ctx ends first, the error wraps ctx.Err() and
// says why the last dial failed.
func WaitReady(ctx context.Context, target string, settle time.Duration) (time.Duration, error) {
	addr, err := dialAddr(target)
	if err != nil {
		return 0, err
	}
	return waitReady(ctx, addr, settle, dialProbe(addr))
}

// WaitRestart watches target, an http(s) URL, for up to window after a save
// for the app's reloader to restart the app, and returns how long it waited.
// When the port closes in that time (air, or any reloader that stops the old
// process and starts a new one), it waits until the port accepts again,
// however long the rebuild takes, and returns at once then. When the port
// stays open for the whole window (Werkzeug's reloader, which keeps its
// socket, or no reloader at all), it returns at the window's end. So window
// must cover the time the reloader takes to stop the old process, and costs
// nothing more for reloaders whose restart the port shows.
func WaitRestart(ctx context.Context, target string, window time.Duration) (time.Duration, error) {
	addr, err := dialAddr(target)
	if err != nil {
		return 0, err
	}
	return waitRestart(ctx, addr, window, dialProbe(addr))
}

// waitRestart is WaitRestart with probe for its dial.
func waitRestart(
	ctx context.Context,
	addr string,
	window time.Duration,
	probe func(context.Context) error,
) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(window)
	for {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		err := probe(pctx)
		cancel()
		if err != nil && ctx.Err() == nil { // the old process is gone
			_, err := waitReady(ctx, addr, 0, probe)
			return time.Since(start), err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return time.Since(start), nil
		}
		if err := pause(ctx, min(watchInterval, left)); err != nil {
			return time.Since(start), fmt.Errorf("wait for %s: %w", addr, err)
		}
	}
}

// dialProbe returns a probe that reports whether addr accepts a TCP
// connection.
func dialProbe(addr string) func(context.Context) error {
	var d net.Dialer
	return func(ctx context.Context) error {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return conn.Close()
	}
}

// waitReady is WaitReady with probe for its dial.
func waitReady(
	ctx context.Context,
	addr string,
	settle time.Duration,
	probe func(context.Context) error,
) (time.Duration, error) {
	start := time.Now()
	if err := pause(ctx, settle); err != nil {
		return time.Since(start), fmt.Errorf("wait for %s: %w", addr, err)
	}
	backoff := minBackoff
	for {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		err := probe(pctx)
		cancel()
		if err == nil {
			return time.Since(start), nil
		}
		if perr := pause(ctx, backoff); perr != nil {
			return time.Since(start), fmt.Errorf("wait for %s: %w (last dial: %v)", addr, perr, err)
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// pause waits d, or returns ctx's error if ctx ends first.
func pause(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// dialAddr returns the host:port that target, an http(s) URL, names.
func dialAddr(target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return "", fmt.Errorf("target %q is not an http(s) URL", target)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}
