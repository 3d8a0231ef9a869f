package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/agentconfig"
	"github.com/hookrelay/hookrelay/internal/cli"
	"github.com/hookrelay/hookrelay/internal/enrich"
	"github.com/hookrelay/hookrelay/internal/history"
	"github.com/hookrelay/hookrelay/internal/logkey"
	"github.com/hookrelay/hookrelay/internal/printer"
	"github.com/hookrelay/hookrelay/internal/sign"
)

// signFlags are the signing flags of listen, replay and trigger.
type signFlags struct {
	secret string
	mode   string
}

func (s *signFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&s.secret, "sign-secret", "",
		"secret to re-sign deliveries with (env OPENAI_WEBHOOK_SECRET)")
	cmd.Flags().StringVar(&s.mode, "sign-mode", "",
		"resign, passthrough or hex (default resign with a secret, else passthrough)")
}

// signer returns the Signer the flags ask for; nil means passthrough.
func (s *signFlags) signer() (*sign.Signer, error) {
	return newSigner(s.mode, s.secret)
}

// newSigner returns the Signer for a sign mode and secret as the user gave
// them: no mode means resign with a secret and passthrough without; nil
// means passthrough.
func newSigner(modeName, secret string) (*sign.Signer, error) {
	mode := sign.ModePassthrough
	if secret != "" {
		mode = sign.ModeResign
	}
	if modeName != "" {
		m, err := sign.ParseMode(modeName)
		if err != nil {
			return nil, cli.Usagef("sign mode: %v", err)
		}
		mode = m
	}
	if mode == sign.ModePassthrough {
		return nil, nil
	}
	sg, err := sign.NewSigner(mode, secret)
	if err != nil {
		return nil, cli.Usagef("%v", err)
	}
	return sg, nil
}

// listenFlags are the flags of listen.
type listenFlags struct {
	config      string
	relay       string
	token       string
	forwardTo   string
	events      []string
	sign        signFlags
	history     string
	since       string
	noTUI       bool
	json        bool
	timeout     time.Duration
	concurrency int
	historyKeep time.Duration
	watch       []string
	watchIgnore []string
	watchSettle time.Duration
}

func newListenCmd(e *env) *cobra.Command {
	var f listenFlags
	cmd := &cobra.Command{
		Use:   "listen",
		Short: "Receive events from a relay and deliver them to your app (the default command)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fromEnv, err := cli.FromEnvSet(cmd.Flags(), e.lookup, map[string]string{
				"relay":       "RELAY_URL",
				"token":       "RELAY_TOKEN",
				"forward-to":  "FORWARD_TO",
				"sign-secret": "OPENAI_WEBHOOK_SECRET",
				"history":     "RELAY_HISTORY",
			})
			if err != nil {
				return err
			}
			given := func(name string) bool { return cmd.Flags().Changed(name) || fromEnv[name] }
			return e.listen(cmd.Context(), &f, given)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "",
		"config file (default ./"+agentconfig.DefaultName+" when it exists); flags override it")
	fl.StringVar(&f.relay, "relay", "", "relay base URL, http(s):// or ws(s):// (env RELAY_URL)")
	fl.StringVar(&f.token, "token", "", "bearer token of the relay channel (env RELAY_TOKEN)")
	fl.StringVar(&f.forwardTo, "forward-to", agent.DefaultForwardTo,
		"where events are delivered (env FORWARD_TO)")
	fl.StringSliceVar(&f.events, "events", nil,
		"event type patterns to receive, comma-separated: response.*,batch.completed (default all)")
	f.sign.add(cmd)
	fl.StringVar(&f.history, "history", "",
		"local history file (env RELAY_HISTORY; default in the state folder)")
	fl.StringVar(&f.since, "since", "",
		"also replay older retained events: a duration such as 1h, or all "+
			"(default: resume, or live on a first run)")
	fl.BoolVar(&f.noTUI, "no-tui", false,
		"print one plain line per delivery instead of the terminal UI")
	fl.BoolVar(&f.json, "json", false, "print one JSON object per line per delivery")
	fl.DurationVar(&f.timeout, "timeout", agent.DefaultTimeout,
		"how long a delivery waits for the app")
	fl.DurationVar(&f.historyKeep, "history-keep", defaultHistoryKeep,
		"delete delivered events older than this from the history (keep it above the relay's "+
			"retention, or --since may deliver them again); 0 keeps everything")
	fl.IntVar(&f.concurrency, "concurrency", 1,
		"deliveries under way at once; above 1, events may reach the app out of order")
	fl.StringArrayVar(&f.watch, "watch", nil,
		"replay the pinned (or last) event when files under this path change; repeatable")
	fl.StringSliceVar(&f.watchIgnore, "watch-ignore", nil,
		"more glob patterns for --watch to ignore "+
			"(.git, __pycache__, node_modules and swap files always are)")
	fl.DurationVar(&f.watchSettle, "watch-settle", defaultWatchSettle,
		"after a change, how long to watch for the app's reloader to restart it; a restart "+
			"the port shows (air) ends the wait once the app is back")
	return cmd
}

// defaultHistoryKeep is how long the history keeps settled events: a month
// of looking back, without a file that grows for ever.
const defaultHistoryKeep = 30 * 24 * time.Hour

// defaultWatchSettle covers Flask's reloader, which polls files every second
// and keeps its socket open while it restarts, so the port cannot say when
// the new process is up. Reloaders that close the port (air) end the wait
// sooner; a slow rebuild needs a longer setting.
const defaultWatchSettle = 1200 * time.Millisecond

// overrides returns the settings the user gave as flags or environment
// variables, which win over the config file.
func (f *listenFlags) overrides(given func(string) bool) agentconfig.File {
	var o agentconfig.File
	pick := func(name, v string) string {
		if given(name) {
			return v
		}
		return ""
	}
	o.Relay = pick("relay", f.relay)
	o.Token = pick("token", f.token)
	o.ForwardTo = pick("forward-to", f.forwardTo)
	o.SignMode = pick("sign-mode", f.sign.mode)
	o.SignSecret = pick("sign-secret", f.sign.secret)
	if given("events") {
		o.Events = f.events
	}
	return o
}

func (f *listenFlags) check(cfg *agentconfig.File) error {
	if cfg.Relay == "" {
		return cli.Usagef("no relay URL: set --relay or RELAY_URL (your relay's https:// address)")
	}
	if cfg.Token == "" {
		return cli.Usagef("no relay token: set --token or RELAY_TOKEN (the relay's RELAY_TOKEN)")
	}
	if f.since != "" && f.since != "all" {
		if d, err := time.ParseDuration(f.since); err != nil || d <= 0 {
			return cli.Usagef("--since %q: want a duration such as 30m or 2h, or all", f.since)
		}
	}
	if f.timeout <= 0 {
		return cli.Usagef("--timeout must be positive")
	}
	if f.historyKeep < 0 {
		return cli.Usagef("--history-keep must not be negative")
	}
	if f.concurrency < 1 {
		return cli.Usagef("--concurrency must be at least 1")
	}
	return nil
}

// loadConfig reads --config, or ./relay-agent.toml when it exists. It
// returns a nil File and an empty path when there is no config file.
func (e *env) loadConfig(flag string) (*agentconfig.File, string, error) {
	path := flag
	if path == "" {
		if _, err := os.Stat(agentconfig.DefaultName); err != nil {
			return nil, "", nil
		}
		path = agentconfig.DefaultName
	}
	file, err := agentconfig.Load(path, e.lookup)
	if err != nil {
		return nil, "", cli.Usagef("%v", err)
	}
	return file, path, nil
}

func routesOf(cfg *agentconfig.File) []agent.Route {
	var routes []agent.Route
	for _, r := range cfg.Routes {
		routes = append(routes, agent.Route{Events: r.Events, ForwardTo: r.ForwardTo})
	}
	return routes
}

func targetsOf(cfg *agentconfig.File) agent.Targets {
	return agent.Targets{
		Default: cmp.Or(cfg.ForwardTo, agent.DefaultForwardTo),
		Routes:  routesOf(cfg),
	}
}

func (e *env) listen(ctx context.Context, f *listenFlags, given func(string) bool) error {
	file, cfgPath, err := e.loadConfig(f.config)
	if err != nil {
		return err
	}
	overrides := f.overrides(given)
	cfg := file.Override(overrides)
	if err := f.check(cfg); err != nil {
		return err
	}
	signer, err := newSigner(cfg.SignMode, cfg.SignSecret)
	if err != nil {
		return err
	}
	path, err := e.historyPath(f.history)
	if err != nil {
		return err
	}
	hist, err := history.Open(path)
	if err != nil {
		return err
	}
	defer hist.Close()

	out := e.output(f.noTUI, f.json)
	logger, logPath, closeLog, err := e.logger(out)
	if err != nil {
		return err
	}
	defer closeLog()
	tg := targetsOf(cfg)
	a, err := agent.New(agent.Config{
		Relay:       cfg.Relay,
		Token:       cfg.Token,
		ForwardTo:   tg.Default,
		Routes:      tg.Routes,
		Events:      cfg.Events,
		Signer:      signer,
		Since:       f.since,
		Timeout:     f.timeout,
		Concurrency: f.concurrency,
		Proxy:       http.ProxyFromEnvironment,
		Enricher:    e.enricher(hist, logger),
		Logger:      logger,
	}, hist)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	var tasks []func(context.Context) error
	if f.historyKeep > 0 {
		tasks = append(tasks, func(ctx context.Context) error {
			pruneHistory(ctx, hist, f.historyKeep, logger)
			return nil
		})
	}
	if cfgPath != "" {
		r := &reloader{agent: a, path: cfgPath, overrides: overrides, first: cfg, lookup: e.lookup}
		tasks = append(tasks, r.run)
	}
	if len(f.watch) > 0 {
		rw := &replayWatch{agent: a, paths: f.watch, ignore: f.watchIgnore, settle: f.watchSettle,
			logger: logger}
		tasks = append(tasks, rw.run)
	}
	return e.runAgent(ctx, a, out, logPath, tasks...)
}

// enricher returns what fetches, for the details view, the responses that
// response.* events name, or nil when OPENAI_API_KEY is not set.
func (e *env) enricher(hist *history.History, logger *slog.Logger) *enrich.Enricher {
	key, _ := e.lookup("OPENAI_API_KEY")
	if key == "" {
		return nil
	}
	client := e.openaiClient(key)
	return enrich.New(&client, hist, logger)
}

// pruneHistory deletes the settled events older than keep now and then
// every few hours, until ctx ends. A failure is logged and tried again later:
// the history only grows meanwhile.
func pruneHistory(ctx context.Context, hist *history.History, keep time.Duration,
	logger *slog.Logger) {
	t := time.NewTicker(6 * time.Hour)
	defer t.Stop()
	for {
		n, err := hist.Prune(ctx, time.Now().Add(-keep))
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("prune history", logkey.Err, err)
		case n > 0:
			logger.Info("history pruned", logkey.Count, n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// output says how the agent shows what it does.
type output int

const (
	outputTUI output = iota
	outputPlain
	outputJSON
)

func (e *env) output(noTUI, asJSON bool) output {
	switch {
	case asJSON:
		return outputJSON
	case noTUI || !isTerminal(e.stdout):
		return outputPlain
	}
	return outputTUI
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// logger returns the agent's logger: to stderr as text, or under the TUI to
// a file in the state folder, since logs must never write over the screen.
func (e *env) logger(out output) (*slog.Logger, string, func(), error) {
	if out != outputTUI {
		// The printer already shows connections and deliveries on stdout.
		opts := &slog.HandlerOptions{Level: slog.LevelWarn}
		return slog.New(slog.NewTextHandler(e.stderr, opts)), "", func() {}, nil
	}
	dir, err := e.stateDir()
	if err != nil {
		return nil, "", nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", nil, fmt.Errorf("make state folder: %w", err)
	}
	path := filepath.Join(dir, "agent.log")
	file, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, "", nil, fmt.Errorf("open log file: %w", err)
	}
	return slog.New(slog.NewTextHandler(file, nil)), path, func() { file.Close() }, nil
}

// runAgent runs a with the chosen output until the user stops it, the
// output ends (q in the TUI), or the relay refuses the token.
func (e *env) runAgent(ctx context.Context, a *agent.Agent, out output, logPath string,
	tasks ...func(context.Context) error) error {
	updates, unsubscribe := a.Subscribe()
	defer unsubscribe()
	g, gctx := errgroup.WithContext(ctx)
	agentCtx, stopAgent := context.WithCancel(gctx)
	defer stopAgent()
	g.Go(func() error { return a.Run(agentCtx) })
	for _, task := range tasks {
		g.Go(func() error { return task(agentCtx) })
	}
	g.Go(func() error {
		defer stopAgent()
		switch out {
		case outputJSON:
			return printer.JSON(gctx, e.stdout, updates)
		case outputPlain:
			fmt.Fprintf(e.stdout, "forwarding to %s\n", a.Snapshot().ForwardTo)
			return printer.Plain(gctx, e.stdout, updates)
		}
		return runTUI(gctx, a, logPath, e.lookup)
	})
	err := g.Wait()
	if errors.Is(err, agent.ErrUnauthorized) {
		return &cli.ExitError{Code: cli.ExitRefused, Err: err}
	}
	return err
}
