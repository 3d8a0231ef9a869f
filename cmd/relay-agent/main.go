// Command relay-agent receives OpenAI webhooks from a hookrelay relay and
// delivers them, re-signed, to an app on this machine. See README.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/hookrelay/hookrelay/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "relay-agent:", err)
	}
	os.Exit(cli.Code(err))
}

// env carries what every command reads from outside.
type env struct {
	lookup cli.Env
	stdout io.Writer
	stderr io.Writer
}

func run(ctx context.Context, args []string, lookup cli.Env, stdout, stderr io.Writer) error {
	e := &env{lookup: lookup, stdout: stdout, stderr: stderr}
	root := newListenCmd(e)
	root.Use = "relay-agent"
	root.Short = "Receive OpenAI webhooks from a hookrelay relay and deliver them to your app"
	root.Long = root.Short + ".\n\nWith no command, relay-agent listens (relay-agent listen)."
	root.AddCommand(
		newListenCmd(e),
		newTriggerCmd(e),
		newEventsCmd(e),
		newReplayCmd(e),
		newDemoCmd(e),
	)
	cli.Quiet(root)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.ExecuteContext(ctx)
}

// noArgs and oneArg are cobra argument checks that fail as usage errors.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return cli.Usagef("%s takes no arguments, got %q (see %s --help)",
			cmd.CommandPath(), args[0], cmd.CommandPath())
	}
	return nil
}

func oneArg(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return cli.Usagef("%s needs one %s (see %s --help)", cmd.CommandPath(), what,
				cmd.CommandPath())
		}
		return nil
	}
}

// stateDir is where the agent keeps its history and log: $XDG_STATE_HOME,
// else ~/.local/state on Unix and the user config folder elsewhere.
func (e *env) stateDir() (string, error) {
	if d, ok := e.lookup("XDG_STATE_HOME"); ok && d != "" {
		return filepath.Join(d, "hookrelay"), nil
	}
	if runtime.GOOS == "linux" || runtime.GOOS == "freebsd" || runtime.GOOS == "openbsd" {
		if home, ok := e.lookup("HOME"); ok && home != "" {
			return filepath.Join(home, ".local", "state", "hookrelay"), nil
		}
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find a folder for the history: %w (set --history)", err)
	}
	return filepath.Join(d, "hookrelay"), nil
}

// historyPath returns the --history value, else RELAY_HISTORY, else the
// default file in the state folder.
func (e *env) historyPath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if p, ok := e.lookup("RELAY_HISTORY"); ok && p != "" {
		return p, nil
	}
	d, err := e.stateDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "history.db"), nil
}
