package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/hookrelay/hookrelay/internal/logkey"
	"github.com/hookrelay/hookrelay/internal/wire"
)

// DefaultTailName is how a Tail names itself to the relay unless told
// otherwise.
const DefaultTailName = "hookrelay-tail"

// Reasons a tail session ends that Each does not report.
var (
	errStopped = errors.New("tail stopped") // the callback asked to stop
	errClosed  = errors.New("tail closed")  // Close was called
)

// TailConfig configures OpenTail.
type TailConfig struct {
	// Relay is the relay's base URL, http(s):// or ws(s)://.
	Relay string
	// Token is the bearer token of the channel to follow.
	Token string
	// Events are the event type patterns to receive; empty means all. The
	// relay applies them, so other events never cross the network.
	Events []string
	// Name identifies the session to the relay. If empty, DefaultTailName.
	Name string
	// Proxy picks the proxy for the relay connection (HTTPS_PROXY); nil
	// means none.
	Proxy func(*http.Request) (*url.URL, error)
	// Logger receives reconnection warnings. If nil, logs are discarded.
	Logger *slog.Logger
}

// Tail is a read-only session with a relay channel: it receives the events
// stored from the moment OpenTail returns, acknowledges them and hands them
// to a callback. It records nothing in any history and delivers nothing;
// the relay streams to each session separately, so an Agent on the same
// channel receives and delivers every event as usual.
//
// A Tail that loses its connection reconnects with backoff and resumes
// after the last event it received, so no event stored meanwhile is
// missed. Each may be called once. Close may be called at any time, more
// than once, and must be called when Each is not.
type Tail struct {
	cfg TailConfig
	log *slog.Logger

	// mu guards the fields below.
	mu      sync.Mutex
	conn    *websocket.Conn // the open connection, or nil between sessions
	after   int64           // the sequence number to resume after
	channel string          // as the last welcome named it
	closed  bool            // set by Close: no session starts after it
}

// OpenTail dials the relay and completes the handshake, so that every event
// the relay stores on the token's channel after it returns reaches Each. It
// returns ErrUnauthorized when the relay refuses the token.
func OpenTail(ctx context.Context, cfg TailConfig) (*Tail, error) {
	if cfg.Relay == "" {
		return nil, errors.New("no relay URL: set --relay or RELAY_URL")
	}
	if cfg.Token == "" {
		return nil, errors.New("no relay token: set --token or RELAY_TOKEN")
	}
	if err := wire.ValidatePatterns(cfg.Events); err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = DefaultTailName
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	t := &Tail{cfg: cfg, log: log.With(logkey.Component, "tail")}
	if err := t.connect(ctx, nil); err != nil {
		return nil, err
	}
	return t, nil
}

// Channel returns the name of the channel the relay streams to t.
func (t *Tail) Channel() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.channel
}

// connect dials and says hello: live when cursor is nil, else resuming
// after it.
func (t *Tail) connect(ctx context.Context, cursor *int64) error {
	c, err := dialRelay(ctx, t.cfg.Relay, t.cfg.Token, t.cfg.Name, t.cfg.Proxy)
	if err != nil {
		return err
	}
	welcome, err := sayHello(ctx, c, &wire.Hello{
		Agent:  t.cfg.Name,
		Cursor: cursor,
		Events: t.cfg.Events,
	})
	if err != nil {
		c.CloseNow()
		return err
	}
	c.SetReadLimit(wire.ReadLimit(max(welcome.MaxBody, 1<<20)))
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		c.CloseNow()
		return errClosed
	}
	t.conn, t.after, t.channel = c, welcome.After, welcome.Channel
	return nil
}

// Each calls each with every event the relay sends, in order, until each
// returns true, ctx ends, or the relay refuses the token (ErrUnauthorized).
// It returns nil in the first two cases. Each closes the session before it
// returns.
func (t *Tail) Each(ctx context.Context, each func(*wire.Event) (stop bool)) error {
	defer t.Close()
	return reconnect(ctx, t.log, nil, func(ctx context.Context, _ int) error {
		err := t.session(ctx, each)
		if errors.Is(err, errStopped) || errors.Is(err, errClosed) {
			return nil
		}
		return err
	}, nil)
}

// session streams events from the open connection, dialing a new one
// first when there is none, until each stops it or the connection fails.
func (t *Tail) session(ctx context.Context, each func(*wire.Event) bool) error {
	t.mu.Lock()
	c, after, closed := t.conn, t.after, t.closed
	t.mu.Unlock()
	if closed {
		return errClosed
	}
	if c == nil {
		if err := t.connect(ctx, &after); err != nil {
			return err
		}
		t.mu.Lock()
		c = t.conn
		t.mu.Unlock()
	}
	defer t.drop()

	acks := make(chan int64, 1)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return t.read(gctx, c, acks, each) })
	g.Go(func() error { return writeAcks(gctx, c, acks) })
	g.Go(func() error { return wire.Heartbeat(gctx, c) })
	err := g.Wait()
	if errors.Is(err, errStopped) {
		c.Close(websocket.StatusNormalClosure, "tail done")
	}
	return err
}

// read hands each event to each and queues its ack. It returns errStopped
// when each asks to stop.
func (t *Tail) read(ctx context.Context, c *websocket.Conn, acks chan int64,
	each func(*wire.Event) bool) error {
	for {
		m, err := wire.Read(ctx, c)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("read from relay: %w", err)
		}
		switch m.Type {
		case wire.TypeEvent:
			t.mu.Lock()
			t.after = m.Event.Seq
			t.mu.Unlock()
			queueAck(acks, m.Event.Seq)
			if each(m.Event) {
				return errStopped
			}
		case wire.TypeError:
			return fmt.Errorf("relay closed the session: %s", m.Error.Message)
		default:
			return fmt.Errorf("unexpected %s message from relay", m.Type)
		}
	}
}

// Close ends the session: it closes the connection and makes Each return.
func (t *Tail) Close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.drop()
}

// drop closes the open connection, if any.
func (t *Tail) drop() {
	t.mu.Lock()
	c := t.conn
	t.conn = nil
	t.mu.Unlock()
	if c != nil {
		c.CloseNow()
	}
}
