// Package relay is the public half of hookrelay: an HTTP server that receives
// OpenAI webhooks, verifies their Standard Webhooks signatures, commits them
// to a store.Store and streams them to agents over WebSockets speaking the
// wire protocol. New builds a Server from a Config and a store; Handler
// serves its endpoints and Serve runs it on a listener with a retention loop
// and a graceful shutdown.
package relay

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/hookrelay/hookrelay/internal/logkey"
	"github.com/hookrelay/hookrelay/internal/sign"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/wire"
)

// Defaults applied by New to the zero fields of a Config.
const (
	DefaultRetention = 72 * time.Hour // OpenAI retries for up to 72 hours
	DefaultMaxBody   = 1 << 20        // 1 MiB
)

// Timing of Serve.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 20 * time.Second // above appendTimeout, so a slow commit can answer
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 10 * time.Second
	pruneInterval     = 5 * time.Minute
)

// channelName is what a channel may be called: one URL path segment.
var channelName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Channel is one stream of webhooks with its own secret and agents.
type Channel struct {
	// Name appears in the webhook URL /webhooks/openai/{Name}, in metrics and
	// in logs: letters, digits, '.', '_' and '-', at most 64.
	Name string
	// Secret is the whsec_ secret that OpenAI signs the channel's webhooks
	// with.
	Secret string
	// Token is the bearer token agents present to receive the channel.
	Token string
}

// Config configures a Server. Only Channels is required.
type Config struct {
	// Channels are the channels served. The first is the default channel,
	// served at POST /webhooks/openai; every channel is served at
	// POST /webhooks/openai/{name}.
	Channels []Channel
	// Retention is how long events are kept. If zero, DefaultRetention.
	Retention time.Duration
	// MaxBody is the largest webhook body accepted, in bytes. If zero,
	// DefaultMaxBody.
	MaxBody int64
	// Window is how many events an agent may have unacknowledged. If zero,
	// wire.DefaultWindow.
	Window int
	// Logger receives the server's logs. If nil, logs are discarded.
	Logger *slog.Logger
	// Registry receives the server's metrics, served at /metrics. If nil, a
	// new registry with the Go and process collectors is used.
	Registry *prometheus.Registry
	// Now tells the time for signature checks and receive times. If nil,
	// time.Now.
	Now func() time.Time
}

// channel is a Channel ready to serve.
type channel struct {
	name      string
	verifier  *sign.Verifier
	tokenHash [sha256.Size]byte
}

// Server is a relay: it receives webhooks and streams them to agents.
//
// A Server is safe for concurrent use. Handler may be mounted in any
// http.Server; Serve runs one with the relay's timeouts, prunes old events
// and shuts down when its context ends. Serve may be called once. The store
// belongs to the caller, who closes it after Serve returns.
type Server struct {
	st        store.Store
	logger    *slog.Logger
	now       func() time.Time
	retention time.Duration
	maxBody   int64
	window    int
	channels  []*channel          // in Config order; the first is the default
	byName    map[string]*channel // the same, by name
	metrics   *metrics
	registry  *prometheus.Registry
	mux       *http.ServeMux

	// mu guards the agent sessions, their count and closing.
	mu        sync.Mutex
	sessions  map[*session]struct{}
	agents    map[string]int // connected agents by channel name
	nextAgent int64          // the number of the last agent registered
	closing   bool           // set by closeSessions; no session starts after it
	wg        sync.WaitGroup // one per registered session

	// Test hooks; nil in production.
	heartbeat    func(context.Context, *websocket.Conn) error // if nil, wire.Heartbeat
	onWindowFull func()                                       // a stream waits for acks
	onSessionEnd func(err error)                              // a session ended
	serveTimeout time.Duration                                // replaces readTimeout if set
}

// New returns a Server for cfg that stores events in st. It checks that there
// is at least one channel, that names and tokens are unique and tokens not
// empty, and that every secret is a usable whsec_ secret. Errors never contain
// a secret or a token.
func New(cfg Config, st store.Store) (*Server, error) {
	if st == nil {
		return nil, errors.New("relay needs a store")
	}
	if err := checkLimits(&cfg); err != nil {
		return nil, err
	}
	chans, err := newChannels(cfg.Channels)
	if err != nil {
		return nil, err
	}
	s := &Server{
		st:        st,
		logger:    cfg.Logger,
		now:       cfg.Now,
		retention: cfg.Retention,
		maxBody:   cfg.MaxBody,
		window:    cfg.Window,
		channels:  chans,
		byName:    make(map[string]*channel, len(chans)),
		registry:  cfg.Registry,
		sessions:  make(map[*session]struct{}),
		agents:    make(map[string]int),
	}
	s.applyDefaults()
	for _, c := range chans {
		s.byName[c.name] = c
	}
	if s.metrics, err = newMetrics(s.registry, channelNames(chans)); err != nil {
		return nil, err
	}
	s.mux = s.routes()
	return s, nil
}

// checkLimits applies the numeric defaults of cfg and rejects negative ones.
func checkLimits(cfg *Config) error {
	switch {
	case cfg.Retention < 0:
		return fmt.Errorf("retention %s is negative", cfg.Retention)
	case cfg.MaxBody < 0:
		return fmt.Errorf("max body %d is negative", cfg.MaxBody)
	case cfg.Window < 0:
		return fmt.Errorf("window %d is negative", cfg.Window)
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Window == 0 {
		cfg.Window = wire.DefaultWindow
	}
	return nil
}

func (s *Server) applyDefaults() {
	if s.logger == nil {
		s.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.logger = s.logger.With(logkey.Component, "relay")
	if s.now == nil {
		s.now = time.Now
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
		s.registry.MustRegister(
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
	}
}

// newChannels checks cfgs and prepares their verifiers.
func newChannels(cfgs []Channel) ([]*channel, error) {
	if len(cfgs) == 0 {
		return nil, errors.New("relay needs at least one channel")
	}
	names := make(map[string]bool, len(cfgs))
	tokens := make(map[[sha256.Size]byte]string, len(cfgs))
	chans := make([]*channel, 0, len(cfgs))
	for _, cc := range cfgs {
		c, err := newChannel(cc)
		if err != nil {
			return nil, err
		}
		if names[c.name] {
			return nil, fmt.Errorf("channel %q is configured twice", c.name)
		}
		if other, ok := tokens[c.tokenHash]; ok {
			return nil, fmt.Errorf("channel %q has the same token as channel %q", c.name, other)
		}
		names[c.name] = true
		tokens[c.tokenHash] = c.name
		chans = append(chans, c)
	}
	return chans, nil
}

func newChannel(cc Channel) (*channel, error) {
	if !channelName.MatchString(cc.Name) {
		return nil, fmt.Errorf("channel name %q: use 1 to 64 letters, digits, '.', '_' or '-'",
			cc.Name)
	}
	if cc.Token == "" {
		return nil, fmt.Errorf("channel %q has an empty token", cc.Name)
	}
	v, err := sign.NewVerifier(cc.Secret)
	if err != nil {
		return nil, fmt.Errorf("channel %q: %w", cc.Name, err)
	}
	return &channel{name: cc.Name, verifier: v, tokenHash: sha256.Sum256([]byte(cc.Token))}, nil
}

func channelNames(chans []*channel) []string {
	names := make([]string, len(chans))
	for i, c := range chans {
		names[i] = c.name
	}
	return names
}

// Handler returns the handler of every endpoint of the relay.
//
// Limitation: agents' WebSockets outlive the http.Server that serves Handler,
// since it does not track hijacked connections; only Serve closes them on
// shutdown. An embedder that needs a clean stop should use Serve.
func (s *Server) Handler() http.Handler {
	return s.mux
}

// Serve answers HTTP on ln and prunes expired events until ctx ends, then
// shuts down: it stops accepting, lets requests in flight finish for up to
// 10 seconds, and closes every agent's WebSocket with StatusGoingAway. It
// returns nil after a clean shutdown. Serve closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := s.httpServer()
	s.logger.Info("listening", logkey.Addr, ln.Addr().String())
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		s.pruneLoop(gctx)
		return nil
	})
	g.Go(func() error {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve http on %s: %w", ln.Addr(), err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		return s.shutdown(hs)
	})
	return g.Wait()
}

func (s *Server) httpServer() *http.Server {
	rt := readTimeout
	if s.serveTimeout > 0 {
		rt = s.serveTimeout
	}
	// Hijacking clears the connection's deadlines (net/http's hijackLocked),
	// so these timeouts never cut an agent's WebSocket.
	return &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: min(readHeaderTimeout, rt),
		ReadTimeout:       rt,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}
}

// shutdown stops hs, then closes the agents' WebSockets, which hs does not
// track once hijacked, and waits for their sessions to end.
func (s *Server) shutdown(hs *http.Server) error {
	s.logger.Info("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := hs.Shutdown(ctx)
	if err != nil {
		hs.Close()
		err = fmt.Errorf("shut down http server: %w", err)
	}
	s.closeSessions()
	return err
}

// closeSessions closes every agent session with StatusGoingAway, refuses new
// ones and waits until all have ended.
func (s *Server) closeSessions() {
	s.mu.Lock()
	s.closing = true
	for ss := range s.sessions {
		go ss.goAway()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// pruneLoop deletes expired events now and every pruneInterval until ctx ends.
func (s *Server) pruneLoop(ctx context.Context) {
	t := time.NewTicker(pruneInterval)
	defer t.Stop()
	for {
		s.prune(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// prune deletes the events older than the retention period.
func (s *Server) prune(ctx context.Context) {
	n, err := s.st.Prune(ctx, s.now().Add(-s.retention))
	switch {
	case err != nil && ctx.Err() == nil:
		s.logger.Warn("prune expired events", logkey.Err, err)
	case n > 0:
		s.logger.Info("pruned expired events", logkey.Count, n)
	}
}
