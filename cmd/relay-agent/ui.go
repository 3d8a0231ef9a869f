package main

import (
	"context"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/cli"
)

func runTUI(ctx context.Context, a *agent.Agent, logPath string, lookup cli.Env) error {
	return cli.Usagef("the terminal UI is not built yet: use --no-tui")
}
