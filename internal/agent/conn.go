package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/hookrelay/hookrelay/internal/history"
	"github.com/hookrelay/hookrelay/internal/logkey"
	"github.com/hookrelay/hookrelay/internal/wire"
)

// ErrUnauthorized means the relay refused the agent's token. Retrying cannot
// help, so Run returns it.
var ErrUnauthorized = errors.New("the relay refused the token (401): check --token or RELAY_TOKEN")

// Reconnection backoff.
const (
	backoffMin    = 100 * time.Millisecond
	backoffMax    = 10 * time.Second
	stableSession = time.Minute // a session this long resets the backoff
	dialTimeout   = 15 * time.Second
	helloTimeout  = 15 * time.Second
)

// backoff returns the delay before reconnection attempt n (from 1): full
// jitter over an exponential ceiling that starts at backoffMin and stops at
// backoffMax.
func backoff(n int) time.Duration {
	ceil := backoffMax
	if n < 30 {
		ceil = min(backoffMin<<(n-1), backoffMax)
	}
	return ceil/2 + rand.N(ceil/2+1)
}

// agentURL turns a relay base URL into its /agent WebSocket URL.
func agentURL(relay string) (string, error) {
	u, err := url.Parse(relay)
	if err != nil {
		return "", fmt.Errorf("relay URL %q: %w", relay, err)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("relay URL %q: scheme must be http, https, ws or wss", relay)
	}
	if u.Host == "" {
		return "", fmt.Errorf("relay URL %q has no host", relay)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/agent"
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

// sourceKey names the stream a relay URL and token select, for the local
// history's cursor. The token selects the channel, so a fingerprint of it
// (never the token) stands for the channel before the welcome names it.
//
// Limitation: a new token for the same channel is a new source, so the first
// run with it starts live (or at --since) instead of resuming; keying the
// cursor by the channel the welcome names, sent back in the next hello,
// would lift this.
func sourceKey(relay, token string) string {
	u, err := url.Parse(relay)
	host := relay
	if err == nil && u.Host != "" {
		host = u.Host + strings.TrimSuffix(u.Path, "/")
	}
	sum := sha256.Sum256([]byte(token))
	return host + "#" + hex.EncodeToString(sum[:4])
}

// connect keeps a session with the relay until ctx ends or the relay refuses
// the token, reconnecting with backoff after any other failure.
func (a *Agent) connect(ctx context.Context) error {
	err := reconnect(ctx, a.log, a.redial,
		func(ctx context.Context, attempt int) error {
			a.setConn(ConnState{State: PhaseConnecting, Attempt: attempt})
			if err := a.session(ctx); err != nil || ctx.Err() != nil {
				return err
			}
			return errors.New("relay session ended") // never a wanted end: reconnect
		},
		func(failures int, delay time.Duration, err error) {
			a.setConn(ConnState{
				State:   PhaseReconnecting,
				Attempt: failures,
				Retry:   delay,
				Err:     err.Error(),
			})
		})
	if errors.Is(err, ErrUnauthorized) {
		a.setConn(ConnState{State: PhaseRefused, Err: err.Error()})
	}
	return err
}

// reconnect runs session, attempt after attempt, until ctx ends or session
// returns nil (a wanted end) or ErrUnauthorized, which it returns. After any
// other error it logs, tells waiting, and waits a backoff that grows with
// the failures in a row (reset by a session that lasted stableSession), or
// until wake fires. attempt counts from 1 within each run of failures.
func reconnect(
	ctx context.Context,
	log *slog.Logger,
	wake <-chan struct{},
	session func(ctx context.Context, attempt int) error,
	waiting func(failures int, delay time.Duration, err error),
) error {
	failures := 0
	for {
		start := time.Now()
		err := session(ctx, failures+1)
		switch {
		case ctx.Err() != nil, err == nil:
			return nil
		case errors.Is(err, ErrUnauthorized):
			return err
		}
		if time.Since(start) >= stableSession {
			failures = 0
		}
		failures++
		delay := backoff(failures)
		log.Warn("relay connection lost, reconnecting", logkey.Err, err,
			logkey.Attempt, failures, logkey.Duration, delay)
		if waiting != nil {
			waiting(failures, delay, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		case <-wake:
		}
	}
}

// session runs one connection: dial, hello, welcome, then events until the
// connection fails or ctx ends.
func (a *Agent) session(ctx context.Context) error {
	c, err := a.dial(ctx)
	if err != nil {
		return err
	}
	defer c.CloseNow()

	welcome, cursor, err := a.handshake(ctx, c)
	if err != nil {
		return err
	}
	if cursor > welcome.Head {
		if err := a.rebase(ctx, cursor, welcome); err != nil {
			return err
		}
	}
	c.SetReadLimit(wire.ReadLimit(max(welcome.MaxBody, 1<<20)))
	a.setConn(ConnState{State: PhaseConnected, Channel: welcome.Channel})
	a.log.Info("connected to relay", logkey.Channel, welcome.Channel, logkey.Seq, welcome.After)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	acks := make(chan int64, 1)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.readEvents(gctx, c, acks) })
	g.Go(func() error { return writeAcks(gctx, c, acks) })
	g.Go(func() error { return wire.Heartbeat(gctx, c) })
	g.Go(func() error {
		select {
		case <-gctx.Done():
			return nil
		case <-a.redial:
			return errors.New("reconnecting with a new event filter")
		}
	})
	err = g.Wait()
	if ctx.Err() != nil && err == nil {
		c.Close(websocket.StatusNormalClosure, "agent stopping")
	}
	return err
}

func (a *Agent) dial(ctx context.Context) (*websocket.Conn, error) {
	return dialRelay(ctx, a.cfg.Relay, a.cfg.Token, a.cfg.Name, a.cfg.Proxy)
}

// dialRelay opens a WebSocket to relay's /agent endpoint with token,
// naming the client name and going through proxy when it is not nil. The
// agent and Tail both use it.
func dialRelay(ctx context.Context, relay, token, name string,
	proxy func(*http.Request) (*url.URL, error)) (*websocket.Conn, error) {
	u, err := agentURL(relay)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	header := http.Header{}
	header.Set("Authorization", "Bearer "+token)
	header.Set("User-Agent", name)
	c, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{
		HTTPClient:   &http.Client{Transport: &http.Transport{Proxy: proxy}},
		HTTPHeader:   header,
		Subprotocols: []string{wire.Subprotocol},
	})
	if resp != nil && resp.StatusCode == http.StatusUnauthorized {
		return nil, ErrUnauthorized
	}
	if err != nil {
		return nil, fmt.Errorf("dial relay %s: %w", hostOf(relay), err)
	}
	if c.Subprotocol() != wire.Subprotocol {
		c.Close(websocket.StatusPolicyViolation, "subprotocol "+wire.Subprotocol+" required")
		return nil, fmt.Errorf("relay %s does not speak %s: upgrade it", hostOf(relay),
			wire.Subprotocol)
	}
	return c, nil
}

// handshake sends the hello and reads the welcome. It returns the cursor
// the hello carried, or 0.
func (a *Agent) handshake(ctx context.Context, c *websocket.Conn) (*wire.Welcome, int64, error) {
	hello := &wire.Hello{Agent: a.cfg.Name, Since: a.cfg.Since, Events: a.Events()}
	seq, ok, err := a.hist.Cursor(ctx, a.source)
	if err != nil {
		return nil, 0, err
	}
	if ok {
		hello.Cursor = &seq
	}
	w, err := sayHello(ctx, c, hello)
	return w, seq, err
}

// sayHello sends hello on c and returns the relay's welcome.
func sayHello(ctx context.Context, c *websocket.Conn, hello *wire.Hello) (*wire.Welcome, error) {
	hctx, cancel := context.WithTimeout(ctx, helloTimeout)
	defer cancel()
	if err := wire.Write(hctx, c, &wire.Message{Type: wire.TypeHello, Hello: hello}); err != nil {
		return nil, fmt.Errorf("send hello: %w", err)
	}
	m, err := wire.Read(hctx, c)
	if err != nil {
		return nil, fmt.Errorf("read welcome: %w", err)
	}
	switch m.Type {
	case wire.TypeWelcome:
		return m.Welcome, nil
	case wire.TypeError:
		return nil, fmt.Errorf("relay refused the session: %s", m.Error.Message)
	}
	return nil, fmt.Errorf("relay sent %s before welcome", m.Type)
}

// rebase handles a relay whose log is behind the agent's cursor: its
// database was reset or replaced, and it numbers new events from 1 again.
// The events recorded before move aside in the history, so that the new
// ones, which reuse their sequence numbers, are not taken for duplicates.
func (a *Agent) rebase(ctx context.Context, cursor int64, w *wire.Welcome) error {
	archive := a.source + " before " + time.Now().UTC().Format(time.RFC3339)
	moved, err := a.hist.Rebase(ctx, a.source, archive, w.After)
	if err != nil {
		return err
	}
	a.Notify("warn", fmt.Sprintf("the relay's event log restarts at %d, behind the %d this agent "+
		"had seen (was its database reset?): taking its events from %d again; %d older events "+
		"kept in the history", w.Head, cursor, w.After+1, moved))
	return nil
}

// readEvents records each event the relay sends, acknowledges it, and
// queues its delivery.
func (a *Agent) readEvents(ctx context.Context, c *websocket.Conn, acks chan int64) error {
	for {
		m, err := wire.Read(ctx, c)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if websocket.CloseStatus(err) == websocket.StatusGoingAway {
				return errors.New("relay is restarting")
			}
			return fmt.Errorf("read from relay: %w", err)
		}
		switch m.Type {
		case wire.TypeEvent:
			if err := a.receive(ctx, m.Event); err != nil {
				return err
			}
			queueAck(acks, m.Event.Seq)
		case wire.TypeError:
			return fmt.Errorf("relay closed the session: %s", m.Error.Message)
		default:
			return fmt.Errorf("unexpected %s message from relay", m.Type)
		}
	}
}

// queueAck hands seq to writeAcks, replacing an ack not sent yet: acks are
// cumulative, so only the newest matters. Only one goroutine may call it.
func queueAck(acks chan int64, seq int64) {
	select {
	case <-acks:
	default:
	}
	acks <- seq
}

func writeAcks(ctx context.Context, c *websocket.Conn, acks <-chan int64) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case seq := <-acks:
			m := &wire.Message{Type: wire.TypeAck, Ack: &wire.Ack{Seq: seq}}
			if err := wire.Write(ctx, c, m); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("send ack: %w", err)
			}
		}
	}
}

// receive records e in the history and queues its delivery, unless the
// history already has it: a relay re-send is delivered once.
func (a *Agent) receive(ctx context.Context, e *wire.Event) error {
	ev, created, err := a.hist.Record(ctx, &history.Event{
		Source:     a.source,
		Seq:        e.Seq,
		WebhookID:  e.WebhookID,
		Type:       e.Type,
		Header:     e.Header,
		Body:       e.Body,
		ReceivedAt: e.ReceivedAt,
	})
	if err != nil {
		return fmt.Errorf("record event %d: %w", e.Seq, err)
	}
	if !created {
		a.log.Debug("duplicate event skipped", logkey.Seq, e.Seq, logkey.WebhookID, e.WebhookID)
		return nil
	}
	a.log.Debug("event received", logkey.Seq, e.Seq, logkey.EventType, ev.Type)
	a.mu.Lock()
	a.received++
	a.last = ev.ID
	a.mu.Unlock()
	a.feed.publish(Update{Kind: KindEvent, Event: &ev})
	a.push(a.queue, job{event: ev})
	return nil
}

func hostOf(relay string) string {
	if u, err := url.Parse(relay); err == nil && u.Host != "" {
		return u.Host
	}
	return relay
}
