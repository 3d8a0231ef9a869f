package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/agentconfig"
	"github.com/hookrelay/hookrelay/internal/cli"
	"github.com/hookrelay/hookrelay/internal/logkey"
	"github.com/hookrelay/hookrelay/internal/watch"
)

// reloader applies each valid change of the config file to a running agent
// and keeps the previous config when a change is invalid.
type reloader struct {
	agent     *agent.Agent
	path      string
	overrides agentconfig.File // flags, which win over the file
	first     *agentconfig.File
	lookup    cli.Env
}

func (r *reloader) run(ctx context.Context) error {
	err := agentconfig.Watch(ctx, r.path, r.lookup, r.apply, func(err error) {
		r.agent.Notify("error", fmt.Sprintf("%v; keeping the previous config", err))
	})
	if err != nil {
		return fmt.Errorf("watch %s: %w", r.path, err)
	}
	return nil
}

func (r *reloader) apply(file *agentconfig.File) {
	cfg := file.Override(r.overrides)
	signer, err := newSigner(cfg.SignMode, cfg.SignSecret)
	if err != nil {
		r.agent.Notify("error", fmt.Sprintf("%s: %v; keeping the previous config", r.path, err))
		return
	}
	fwd := r.agent.Forwarder()
	fwd.SetTargets(targetsOf(cfg))
	fwd.SetSigner(signer)
	if !slices.Equal(cfg.Events, r.agent.Events()) {
		if err := r.agent.SetEvents(cfg.Events); err != nil {
			r.agent.Notify("error", fmt.Sprintf("%s: %v", r.path, err))
		}
	}
	msg := fmt.Sprintf("%s reloaded: forwarding to %s, %d routes, sign mode %s", r.path,
		cmp.Or(cfg.ForwardTo, agent.DefaultForwardTo), len(cfg.Routes), fwd.SignMode())
	if cfg.Relay != r.first.Relay || cfg.Token != r.first.Token {
		msg += "; a new relay or token takes effect when the agent restarts"
	}
	r.agent.Notify("info", msg)
}

// replayWatch re-delivers the pinned event, or the newest, whenever files
// under its paths change, once the app's reloader has restarted it.
type replayWatch struct {
	agent  *agent.Agent
	paths  []string
	ignore []string
	settle time.Duration
	logger *slog.Logger
}

func (w *replayWatch) run(ctx context.Context) error {
	cfg := watch.Config{Paths: w.paths, Ignore: w.ignore, Logger: w.logger}
	err := watch.Run(ctx, cfg, func(changed []string) { w.replay(ctx, changed) })
	if err != nil {
		return cli.Usagef("--watch: %v", err)
	}
	return nil
}

// replay waits for the app's restart and queues the replay.
//
// Limitation: a reloader that keeps its socket open while it restarts
// (Werkzeug's) shows no restart on the port, so the agent waits the whole
// --watch-settle; one that takes longer than that to stop the old process
// gets the replay in the old process. Asking the app which code it runs
// would lift this, but needs the app's help.
func (w *replayWatch) replay(ctx context.Context, changed []string) {
	target := w.agent.Forwarder().Target("")
	waited, err := watch.WaitRestart(ctx, target, w.settle)
	if err != nil {
		if ctx.Err() == nil {
			w.agent.Notify("warn", fmt.Sprintf("replay on save: %s did not come back: %v", target, err))
		}
		return
	}
	id, err := w.agent.ReplayPinned(ctx)
	if err != nil {
		w.agent.Notify("warn", fmt.Sprintf("replay on save: %v", err))
		return
	}
	w.logger.Info("replay on save", logkey.Path, strings.Join(changed, ","), logkey.HistoryID, id,
		logkey.Duration, waited)
	w.agent.Notify("info", fmt.Sprintf("%s changed: replaying event %d after %s",
		describeChange(changed), id, waited.Round(time.Millisecond)))
}

func describeChange(changed []string) string {
	switch len(changed) {
	case 0:
		return "files"
	case 1:
		return changed[0]
	}
	return fmt.Sprintf("%s and %d more", changed[0], len(changed)-1)
}
