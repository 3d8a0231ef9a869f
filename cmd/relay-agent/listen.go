package main

import (
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
	"github.com/hookrelay/hookrelay/internal/cli"
	"github.com/hookrelay/hookrelay/internal/history"
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
	mode := sign.ModePassthrough
	if s.secret != "" {
		mode = sign.ModeResign
	}
	if s.mode != "" {
		m, err := sign.ParseMode(s.mode)
		if err != nil {
			return nil, cli.Usagef("--sign-mode: %v", err)
		}
		mode = m
	}
	if mode == sign.ModePassthrough {
		return nil, nil
	}
	sg, err := sign.NewSigner(mode, s.secret)
	if err != nil {
		return nil, cli.Usagef("%v", err)
	}
	return sg, nil
}

// listenFlags are the flags of listen.
type listenFlags struct {
	relay     string
	token     string
	forwardTo string
	events    []string
	sign      signFlags
	history   string
	since     string
	noTUI     bool
	json      bool
	timeout   time.Duration
}

func newListenCmd(e *env) *cobra.Command {
	var f listenFlags
	cmd := &cobra.Command{
		Use:   "listen",
		Short: "Receive events from a relay and deliver them to your app (the default command)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			err := cli.FromEnv(cmd.Flags(), e.lookup, map[string]string{
				"relay":       "RELAY_URL",
				"token":       "RELAY_TOKEN",
				"forward-to":  "FORWARD_TO",
				"sign-secret": "OPENAI_WEBHOOK_SECRET",
				"history":     "RELAY_HISTORY",
			})
			if err != nil {
				return err
			}
			return e.listen(cmd.Context(), &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.relay, "relay", "", "relay base URL, http(s):// or ws(s):// (env RELAY_URL)")
	fl.StringVar(&f.token, "token", "", "bearer token of the relay channel (env RELAY_TOKEN)")
	fl.StringVar(&f.forwardTo, "forward-to", agent.DefaultForwardTo,
		"where events are delivered (env FORWARD_TO)")
	fl.StringSliceVar(&f.events, "events", nil,
		"event type patterns to receive, comma-separated: response.*,batch.completed (default all)")
	f.sign.add(cmd)
	fl.StringVar(&f.history, "history", "", "local history file (env RELAY_HISTORY; default in the state folder)")
	fl.StringVar(&f.since, "since", "",
		"also replay older retained events: a duration such as 1h, or all (default: resume, or live on a first run)")
	fl.BoolVar(&f.noTUI, "no-tui", false, "print one plain line per delivery instead of the terminal UI")
	fl.BoolVar(&f.json, "json", false, "print one JSON object per line per delivery")
	fl.DurationVar(&f.timeout, "timeout", agent.DefaultTimeout, "how long a delivery waits for the app")
	return cmd
}

func (f *listenFlags) check() error {
	if f.relay == "" {
		return cli.Usagef("no relay URL: set --relay or RELAY_URL (your relay's https:// address)")
	}
	if f.token == "" {
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
	return nil
}

func (e *env) listen(ctx context.Context, f *listenFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	signer, err := f.sign.signer()
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
	a, err := agent.New(agent.Config{
		Relay:     f.relay,
		Token:     f.token,
		ForwardTo: f.forwardTo,
		Events:    f.events,
		Signer:    signer,
		Since:     f.since,
		Timeout:   f.timeout,
		Proxy:     http.ProxyFromEnvironment,
		Logger:    logger,
	}, hist)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	return e.runAgent(ctx, a, out, logPath)
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
func (e *env) runAgent(ctx context.Context, a *agent.Agent, out output, logPath string) error {
	updates, unsubscribe := a.Subscribe()
	defer unsubscribe()
	g, gctx := errgroup.WithContext(ctx)
	agentCtx, stopAgent := context.WithCancel(gctx)
	defer stopAgent()
	g.Go(func() error { return a.Run(agentCtx) })
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
