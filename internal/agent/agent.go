// Package agent is the laptop side of hookrelay: it keeps one WebSocket to a
// relay, records every event in the local history, acknowledges it, and
// delivers it, re-signed, to the developer's app, retrying while the app is
// down or restarting.
//
// New returns an Agent; Run connects and delivers until its context ends.
// Listeners (the terminal UI, the plain and NDJSON printers) follow what the
// agent does through Subscribe; the UI drives it through Resend, SetPaused,
// Step, Pin and the rest. The agent knows nothing of any screen.
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
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hookrelay/hookrelay/internal/enrich"
	"github.com/hookrelay/hookrelay/internal/history"
	"github.com/hookrelay/hookrelay/internal/logkey"
	"github.com/hookrelay/hookrelay/internal/sign"
	"github.com/hookrelay/hookrelay/internal/wire"
)

// DefaultForwardTo is where events go unless told otherwise.
const DefaultForwardTo = "http://localhost:5000/webhooks/openai"

// Config configures an Agent.
type Config struct {
	// Relay is the relay's base URL, http(s):// or ws(s)://.
	Relay string
	// Token is the bearer token the relay expects.
	Token string
	// ForwardTo is the default delivery target. If empty,
	// DefaultForwardTo is used.
	ForwardTo string
	// Routes send some event types elsewhere; the first match wins.
	Routes []Route
	// Events are the event type patterns to receive; empty means all. The
	// relay applies them, so other events never cross the network.
	Events []string
	// Signer signs deliveries. If nil, the original headers are delivered
	// (passthrough).
	Signer *sign.Signer
	// Since is "" (resume, or live on a first run), "all", or a duration
	// such as "1h": how far back a session starts, as wire.Hello says.
	Since string
	// Timeout bounds each delivery. If zero, DefaultTimeout is used.
	Timeout time.Duration
	// Concurrency is how many first deliveries may be under way at once.
	// If zero, 1: events reach the app in order. More trades order for
	// throughput with an app that answers slowly.
	Concurrency int
	// Proxy picks the proxy for the relay connection (HTTPS_PROXY); nil
	// means none. Deliveries to the app never use a proxy.
	Proxy func(*http.Request) (*url.URL, error)
	// Name identifies the agent to the relay. If empty, "hookrelay-agent".
	Name string
	// Enricher fetches the OpenAI responses that response.* events name,
	// for Enrich. If nil, Enrich returns enrich.ErrDisabled.
	Enricher *enrich.Enricher
	// Logger receives the agent's logs. If nil, logs are discarded.
	Logger *slog.Logger
}

// Agent relays events from one relay channel to the local app.
//
// All methods are safe for concurrent use. Run may be called once; the
// control methods work before, during and after it (deliveries they queue
// wait for Run).
type Agent struct {
	cfg    Config
	hist   *history.History
	log    *slog.Logger
	fwd    *Forwarder
	source string
	feed   feed
	queue  *queue
	replay *queue
	redial chan struct{} // a send asks the session to reconnect

	mu        sync.Mutex    // guards the fields below and the queues' jobs
	changed   chan struct{} // closed and replaced when a queue or the pause state changes
	conn      ConnState
	events    []string
	paused    bool
	steps     int // deliveries Step let through while paused
	pinned    int64
	last      int64 // newest event received or replayed, for replay on save
	received  int
	delivered int
	failed    int
}

// New returns an Agent that records into hist. The caller closes hist
// after Run returns.
func New(cfg Config, hist *history.History) (*Agent, error) {
	if cfg.Relay == "" {
		return nil, errors.New("no relay URL: set --relay or RELAY_URL")
	}
	if _, err := agentURL(cfg.Relay); err != nil {
		return nil, err
	}
	if cfg.Token == "" {
		return nil, errors.New("no relay token: set --token or RELAY_TOKEN")
	}
	if err := wire.ValidatePatterns(cfg.Events); err != nil {
		return nil, err
	}
	if cfg.ForwardTo == "" {
		cfg.ForwardTo = DefaultForwardTo
	}
	if err := checkTarget(cfg.ForwardTo); err != nil {
		return nil, err
	}
	for _, r := range cfg.Routes {
		if err := checkTarget(r.ForwardTo); err != nil {
			return nil, err
		}
	}
	if cfg.Name == "" {
		cfg.Name = "hookrelay-agent"
	}
	if cfg.Concurrency < 0 {
		return nil, fmt.Errorf("delivery concurrency must be at least 1, got %d", cfg.Concurrency)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a := &Agent{
		cfg:  cfg,
		hist: hist,
		log:  log.With(logkey.Component, "agent"),
		fwd: NewForwarder(Targets{Default: cfg.ForwardTo, Routes: cfg.Routes},
			cfg.Signer, cfg.Timeout),
		source:  sourceKey(cfg.Relay, cfg.Token),
		queue:   newQueue(),
		replay:  newQueue(),
		redial:  make(chan struct{}),
		changed: make(chan struct{}),
		events:  cfg.Events,
		conn:    ConnState{State: PhaseConnecting},
	}
	return a, nil
}

func checkTarget(target string) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("forward target %q is not an http(s) URL", target)
	}
	return nil
}

// Run connects to the relay and delivers events until ctx ends, when it
// returns nil, or until the relay refuses the token, when it returns
// ErrUnauthorized. Deliveries left pending by an earlier run are resumed
// first, in order.
func (a *Agent) Run(ctx context.Context) error {
	defer a.setConn(ConnState{State: PhaseStopped})
	pending, err := a.hist.Pending(ctx, a.source)
	if err != nil {
		return fmt.Errorf("read pending deliveries: %w", err)
	}
	for _, ev := range pending {
		a.push(a.queue, job{event: ev})
	}
	if len(pending) > 0 {
		a.log.Info("resuming pending deliveries", logkey.Count, len(pending))
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.connect(gctx) })
	for range max(a.cfg.Concurrency, 1) {
		g.Go(func() error { return a.deliverLoop(gctx, a.queue, true) })
	}
	g.Go(func() error { return a.deliverLoop(gctx, a.replay, false) })
	return g.Wait()
}

// Subscribe returns every Update from now on, and a function that ends the
// subscription. Updates queue without bound for a slow reader, so no reader
// ever slows delivery; each must read until it cancels.
func (a *Agent) Subscribe() (<-chan Update, func()) {
	return a.feed.subscribe()
}

// Snapshot returns the agent's state now.
func (a *Agent) Snapshot() Snapshot {
	a.mu.Lock()
	defer a.mu.Unlock()
	return Snapshot{
		Relay:     a.cfg.Relay,
		Channel:   a.conn.Channel,
		ForwardTo: a.fwd.Target(""),
		SignMode:  string(a.fwd.SignMode()),
		Conn:      a.conn,
		Paused:    a.paused,
		Queued:    a.queue.len() + a.replay.len(),
		Received:  a.received,
		Delivered: a.delivered,
		Failed:    a.failed,
	}
}

// History returns the local history the agent records into.
func (a *Agent) History() *history.History { return a.hist }

// Forwarder returns the agent's forwarder, whose targets and signer may be
// changed while the agent runs.
func (a *Agent) Forwarder() *Forwarder { return a.fwd }

// Events returns the event type patterns the agent asks the relay for.
func (a *Agent) Events() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.events
}

// SetEvents changes the event type patterns and reconnects so that the
// relay applies them.
func (a *Agent) SetEvents(patterns []string) error {
	if err := wire.ValidatePatterns(patterns); err != nil {
		return err
	}
	a.mu.Lock()
	a.events = patterns
	a.mu.Unlock()
	select {
	case a.redial <- struct{}{}:
	default: // not connected: the next session sends them
	}
	return nil
}

func (a *Agent) setConn(c ConnState) {
	c.Relay = a.cfg.Relay
	a.mu.Lock()
	if c.Channel == "" {
		c.Channel = a.conn.Channel
	}
	a.conn = c
	a.mu.Unlock()
	a.feed.publish(Update{Kind: KindConn, Conn: &c})
}

// Notify publishes a notice to every listener, such as a config reload, and
// logs it. level is "info", "warn" or "error".
func (a *Agent) Notify(level, message string) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	a.log.Log(context.Background(), l, "notice", logkey.Notice, message)
	a.feed.publish(Update{Kind: KindNotice, Notice: &Notice{Level: level, Message: message}})
}
