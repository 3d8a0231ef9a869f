package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/spf13/cobra"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/cli"
	"github.com/hookrelay/hookrelay/internal/trigger"
)

// openaiHelp explains trigger --openai in trigger's help.
const openaiHelp = "With --openai response or --openai batch, start a real OpenAI job with\n" +
	"OPENAI_API_KEY (a background response, or a batch of one request, on a small model)\n" +
	"and wait until its webhook comes through the relay (--relay, --token), showing the\n" +
	"round trip. The project's webhook endpoint must be the relay's /webhooks/openai URL."

// openaiFlags are the flags of trigger --openai.
type openaiFlags struct {
	kind  string
	model string
	relay string
	token string
}

func (o *openaiFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&o.kind, "openai", "",
		"start a real OpenAI job, response or batch, and wait for its webhook "+
			"(needs OPENAI_API_KEY)")
	fl.StringVar(&o.model, "model", trigger.DefaultModel,
		"with --openai, the model that runs the job")
	fl.StringVar(&o.relay, "relay", "", "with --openai, the relay base URL (env RELAY_URL)")
	fl.StringVar(&o.token, "token", "",
		"with --openai, the relay channel's token (env RELAY_TOKEN)")
}

// openaiOr checks the arguments of trigger --openai and leaves those of
// other triggers to other.
func openaiOr(f *triggerFlags, other cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if f.openai.kind == "" {
			for _, name := range []string{"model", "relay", "token"} {
				if cmd.Flags().Changed(name) {
					return cli.Usagef("--%s needs --openai", name)
				}
			}
			return other(cmd, args)
		}
		switch {
		case len(args) > 0:
			return cli.Usagef("--openai takes no event type, got %q", args[0])
		case f.file != "":
			return cli.Usagef("--openai and --file exclude each other")
		case f.via != "":
			return cli.Usagef(
				"--openai waits for OpenAI's webhook through --relay; --via is for samples")
		}
		return nil
	}
}

// triggerOpenAI starts the OpenAI job --openai names and waits for its
// webhook through the relay.
func (e *env) triggerOpenAI(cmd *cobra.Command, f *triggerFlags) error {
	cfg, key, err := e.openaiConfig(cmd, f)
	if err != nil {
		return err
	}
	client := e.openaiClient(key)
	ctx := cmd.Context()
	res, err := trigger.Run(ctx, &client, *cfg)
	switch {
	case errors.Is(err, agent.ErrUnauthorized):
		return &cli.ExitError{Code: cli.ExitRefused, Err: err}
	case err != nil && ctx.Err() != nil:
		fmt.Fprintln(e.stdout, "stopped; a job already created goes on at OpenAI")
		return nil
	case err != nil:
		return redact(err, key)
	}
	fmt.Fprintf(e.stdout, "%s for %s came through the relay: round trip %s "+
		"(webhook-id %s, seq %d)\n", res.Event.Type, res.ID,
		res.RoundTrip.Round(time.Millisecond), res.Event.WebhookID, res.Event.Seq)
	return nil
}

// openaiClient returns an OpenAI client with key, at OPENAI_BASE_URL when
// that is set.
func (e *env) openaiClient(key string) openai.Client {
	opts := []option.RequestOption{option.WithAPIKey(key)}
	if base, ok := e.lookup("OPENAI_BASE_URL"); ok && base != "" {
		opts = append(opts, option.WithBaseURL(base))
	}
	return openai.NewClient(opts...)
}

// openaiConfig reads the settings of trigger --openai, and the API key.
func (e *env) openaiConfig(cmd *cobra.Command, f *triggerFlags) (*trigger.Config, string, error) {
	o := &f.openai
	err := cli.FromEnv(cmd.Flags(), e.lookup, map[string]string{
		"relay": "RELAY_URL",
		"token": "RELAY_TOKEN",
	})
	if err != nil {
		return nil, "", err
	}
	kind, err := trigger.ParseKind(o.kind)
	if err != nil {
		return nil, "", cli.Usagef("--openai: %v", err)
	}
	key, _ := e.lookup("OPENAI_API_KEY")
	switch {
	case key == "":
		return nil, "", cli.Usagef("--openai needs an OpenAI API key: set OPENAI_API_KEY")
	case o.relay == "":
		return nil, "", cli.Usagef(
			"no relay URL: set --relay or RELAY_URL (your relay's https:// address)")
	case o.token == "":
		return nil, "", cli.Usagef(
			"no relay token: set --token or RELAY_TOKEN (the relay's RELAY_TOKEN)")
	case o.model == "":
		return nil, "", cli.Usagef("--model must name a model")
	}
	timeout := kind.DefaultTimeout()
	if cmd.Flags().Changed("timeout") {
		timeout = f.timeout
	}
	if timeout <= 0 {
		return nil, "", cli.Usagef("--timeout must be positive")
	}
	return &trigger.Config{
		Kind:    kind,
		Model:   o.model,
		Timeout: timeout,
		Tail: agent.TailConfig{
			Relay: o.relay,
			Token: o.token,
			Name:  "relay-agent trigger",
			Proxy: http.ProxyFromEnvironment,
			Logger: slog.New(slog.NewTextHandler(e.stderr,
				&slog.HandlerOptions{Level: slog.LevelWarn})),
		},
		Started: func(id string, took time.Duration) {
			fmt.Fprintf(e.stdout, "created %s %s (%s) in %s; waiting up to %s for its webhook "+
				"through %s\n", kind, id, o.model, took.Round(time.Millisecond), timeout,
				relayHost(o.relay))
		},
	}, key, nil
}

func relayHost(relay string) string {
	if u, err := url.Parse(relay); err == nil && u.Host != "" {
		return u.Host
	}
	return relay
}

// redact keeps key out of err's text and keeps err's exit code. OpenAI's
// own messages mask keys; this guards against any that would not.
func redact(err error, key string) error {
	if !strings.Contains(err.Error(), key) {
		return err
	}
	return &cli.ExitError{
		Code: cli.Code(err),
		Err:  errors.New(strings.ReplaceAll(err.Error(), key, "[OPENAI_API_KEY]")),
	}
}
