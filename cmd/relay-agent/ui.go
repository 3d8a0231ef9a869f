package main

import (
	"context"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/cli"
	"github.com/hookrelay/hookrelay/tui"
)

// runTUI shows the terminal screen for a until the user quits or ctx ends.
func runTUI(ctx context.Context, a *agent.Agent, logPath string, lookup cli.Env) error {
	nc, _ := lookup("NO_COLOR")
	noColor := nc != ""
	editor, _ := lookup("VISUAL")
	if editor == "" {
		editor, _ = lookup("EDITOR")
	}
	return tui.Run(ctx, a, tui.Options{LogPath: logPath, NoColor: noColor, Editor: editor})
}
