package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/demo"
	"github.com/hookrelay/hookrelay/internal/history"
	"github.com/hookrelay/hookrelay/internal/sign"
)

func newDemoCmd(e *env) *cobra.Command {
	var noTUI, asJSON bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a relay, a sample app and the agent in one process, firing sample events",
		Long: "Run an embedded relay on 127.0.0.1, a sample app that verifies every delivery\n" +
			"with openai-go, and the agent between them; a signed sample event fires every\n" +
			"two seconds.\n" +
			"Needs no set-up; everything lives in a temporary folder removed on exit.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.demo(cmd.Context(), noTUI, asJSON)
		},
	}
	cmd.Flags().BoolVar(&noTUI, "no-tui", false,
		"print one plain line per delivery instead of the terminal UI")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per line per delivery")
	return cmd
}

// levelHandler drops records below min.
type levelHandler struct {
	min slog.Level
	slog.Handler
}

func (h *levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h *levelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &levelHandler{min: h.min, Handler: h.Handler.WithAttrs(attrs)}
}

func (h *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{min: h.min, Handler: h.Handler.WithGroup(name)}
}

func (e *env) demo(ctx context.Context, noTUI, asJSON bool) error {
	out := e.output(noTUI, asJSON)
	logger, logPath, closeLog, err := e.logger(out)
	if err != nil {
		return err
	}
	defer closeLog()
	// The relay logs each webhook at Info; in the demo that repeats what the
	// agent shows, so the relay and the sample app log only trouble.
	quiet := slog.New(&levelHandler{min: slog.LevelWarn, Handler: logger.Handler()})
	d, err := demo.Start(ctx, demo.Config{Logger: quiet})
	if err != nil {
		return err
	}
	defer d.Close()
	hist, err := history.Open(filepath.Join(d.Dir(), "history.db"))
	if err != nil {
		return err
	}
	defer hist.Close()
	signer, err := sign.NewSigner(sign.ModeResign, d.Secret)
	if err != nil {
		return err
	}
	a, err := agent.New(agent.Config{
		Relay:     d.Relay,
		Token:     d.Token,
		ForwardTo: d.AppURL,
		Signer:    signer,
		Since:     "all", // the relay is new: take the events fired before the agent connected
		Proxy:     http.ProxyFromEnvironment,
		Name:      "hookrelay-demo",
		Logger:    logger,
	}, hist)
	if err != nil {
		return err
	}
	if out != outputTUI {
		fmt.Fprintf(e.stdout, "demo relay on %s, sample app on %s; ctrl+c stops\n",
			d.Relay, d.AppURL)
	}
	return e.runAgent(ctx, a, out, logPath)
}
