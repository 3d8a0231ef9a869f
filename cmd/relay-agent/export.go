package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/cli"
	"github.com/hookrelay/hookrelay/internal/fixture"
	"github.com/hookrelay/hookrelay/internal/history"
	"github.com/hookrelay/hookrelay/internal/sample"
	"github.com/hookrelay/hookrelay/internal/sign"
)

// exportFlags are the flags of events export.
type exportFlags struct {
	recordedFlags
	format string
	output string
}

func newExportCmd(e *env) *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "export ID",
		Short: "Write a recorded event as a fixture file (json) or a signed curl command (curl)",
		Long: "Write a recorded event (ID: history number, evt_ id or webhook-id) as a fixture\n" +
			"that relay-agent trigger --file sends again, or as a curl command signed now for\n" +
			"--forward-to with --sign-secret and --sign-mode, as replay would sign it.",
		Args: oneArg("event ID (see relay-agent events)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := e.recordedFromEnv(cmd); err != nil {
				return err
			}
			return e.export(cmd.Context(), &f, args[0])
		},
	}
	f.add(cmd, "with --format curl, where the command posts")
	cmd.Flags().StringVar(&f.format, "format", "json", "json (a fixture file) or curl")
	cmd.Flags().StringVarP(&f.output, "output", "o", "",
		"write to this file instead of standard output")
	return cmd
}

func (e *env) export(ctx context.Context, f *exportFlags, key string) error {
	if f.format != "json" && f.format != "curl" {
		return cli.Usagef("--format %q: want json or curl", f.format)
	}
	hist, ev, err := e.findRecorded(ctx, f.history, key)
	if err != nil {
		return err
	}
	defer hist.Close()
	var out bytes.Buffer
	if f.format == "curl" {
		err = curlCommand(ctx, &out, f, &ev)
	} else {
		err = fixture.Write(&out, fixture.FromEvent(&ev))
	}
	if err != nil {
		return err
	}
	return e.writeOutput(f.output, out.Bytes(), &ev)
}

// curlCommand writes a curl command that delivers ev as replay would now.
func curlCommand(ctx context.Context, out *bytes.Buffer, f *exportFlags, ev *history.Event) error {
	signer, err := f.sign.signer()
	if err != nil {
		return err
	}
	now := time.Now()
	fwd := agent.NewForwarder(agent.Targets{Default: f.forwardTo}, signer, 0)
	req, err := fwd.Request(ctx, &agent.Delivery{Event: *ev, Replay: true}, now)
	if err != nil {
		return err
	}
	if signer != nil && signer.Mode() == sign.ModeResign {
		fmt.Fprintf(out, "# signed at %s: apps accept it for %.0f minutes\n",
			now.UTC().Format(time.RFC3339), sign.Tolerance.Minutes())
	}
	out.WriteString(fixture.Curl(req, ev.Body))
	return nil
}

// writeOutput writes data to path, or to standard output when path is "".
func (e *env) writeOutput(path string, data []byte, ev *history.Event) error {
	if path == "" {
		_, err := e.stdout.Write(data)
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Fprintf(e.stdout, "exported %s (webhook-id %s) to %s\n", ev.Type, ev.WebhookID, path)
	return nil
}

// typeOrFile checks that trigger got an event type or --file, not both.
func typeOrFile(f *triggerFlags) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case f.file != "" && len(args) > 0:
			return cli.Usagef("%s takes an event type or --file, not both (see %s --help)",
				cmd.CommandPath(), cmd.CommandPath())
		case f.file == "" && f.keepID:
			return cli.Usagef("--keep-id needs --file")
		case f.file == "":
			return oneArg("event type or --file FIXTURE")(cmd, args)
		}
		return nil
	}
}

// triggerFile sends the fixture named by --file, signed afresh, under a new
// webhook-id unless --keep-id.
func (e *env) triggerFile(ctx context.Context, f *triggerFlags) error {
	fx, err := readFixture(f.file)
	if err != nil {
		return err
	}
	target, signer, err := f.destination()
	if err != nil {
		return err
	}
	id := fx.WebhookID
	if !f.keepID || id == "" {
		id = sample.NewWebhookID()
	}
	fwd := agent.NewForwarder(agent.Targets{Default: target}, signer, f.timeout)
	ev := fx.Event(id)
	req, err := fwd.Request(ctx, &agent.Delivery{Event: ev}, time.Now())
	if err != nil {
		return err
	}
	req.Header.Del(agent.HeaderSeq) // a fixture has no relay sequence number
	name := fx.Type
	if name == "" {
		name = "fixture " + f.file
	}
	return e.send(req, name, f.timeout)
}

func readFixture(path string) (*fixture.Fixture, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open fixture: %w", err)
	}
	defer file.Close()
	fx, err := fixture.Read(file)
	if err != nil {
		return nil, fmt.Errorf("fixture %s: %w", path, err)
	}
	return fx, nil
}
