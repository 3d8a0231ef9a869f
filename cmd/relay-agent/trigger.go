package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/cli"
	"github.com/hookrelay/hookrelay/internal/sample"
	"github.com/hookrelay/hookrelay/internal/sign"
)

type triggerFlags struct {
	forwardTo string
	via       string
	sign      signFlags
	timeout   time.Duration
	file      string
	keepID    bool
	openai    openaiFlags
}

func newTriggerCmd(e *env) *cobra.Command {
	var f triggerFlags
	cmd := &cobra.Command{
		Use:   "trigger TYPE | --file FIXTURE | --openai response|batch",
		Short: "Send a realistic signed sample event to your app, or through a relay with --via",
		Long: "Send a realistic sample of any OpenAI webhook event type, signed as OpenAI signs it,\n" +
			"or with --file a fixture saved by relay-agent events export, signed afresh.\n\n" +
			openaiHelp + "\n\n" +
			"Types:\n  " + strings.Join(sample.Types(), "\n  "),
		Args: openaiOr(&f, typeOrFile(&f)),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := cli.FromEnv(cmd.Flags(), e.lookup, map[string]string{
				"forward-to":  "FORWARD_TO",
				"sign-secret": "OPENAI_WEBHOOK_SECRET",
			})
			if err != nil {
				return err
			}
			if f.openai.kind != "" {
				return e.triggerOpenAI(cmd, &f)
			}
			if f.file != "" {
				return e.triggerFile(cmd.Context(), &f)
			}
			return e.trigger(cmd.Context(), &f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.forwardTo, "forward-to", agent.DefaultForwardTo,
		"the app to send to (env FORWARD_TO)")
	fl.StringVar(&f.via, "via", "",
		"send to this relay's ingress instead (base URL, or the full /webhooks/openai/... URL)")
	f.sign.add(cmd)
	fl.DurationVar(&f.timeout, "timeout", agent.DefaultTimeout, "how long to wait for the app's "+
		"answer; with --openai, for the webhook: unless set, 10m for response and 24h for batch")
	fl.StringVar(&f.file, "file", "",
		"send this fixture (from relay-agent events export) instead of a sample")
	fl.BoolVar(&f.keepID, "keep-id", false,
		"with --file, keep the fixture's webhook-id (a relay and idempotent apps skip a repeat)")
	f.openai.add(cmd)
	return cmd
}

func (e *env) trigger(ctx context.Context, f *triggerFlags, typ string) error {
	target, signer, err := f.destination()
	if err != nil {
		return err
	}
	if signer == nil {
		if signer, err = sign.NewSigner(sign.ModePassthrough, ""); err != nil {
			return err
		}
	}
	req, err := sample.Request(ctx, target, signer, typ, time.Now())
	if err != nil {
		return cli.Usagef("%v", err)
	}
	return e.send(req, typ, f.timeout)
}

// destination returns where a trigger goes and its signer; nil means
// passthrough.
func (f *triggerFlags) destination() (string, *sign.Signer, error) {
	target := f.forwardTo
	signer, err := f.sign.signer()
	if err != nil {
		return "", nil, err
	}
	if f.via != "" {
		if target, err = ingressURL(f.via); err != nil {
			return "", nil, err
		}
		if signer == nil || signer.Mode() != sign.ModeResign {
			return "", nil, cli.Usagef("--via needs the relay channel's whsec_ secret to sign " +
				"as OpenAI does: set --sign-secret or OPENAI_WEBHOOK_SECRET")
		}
	}
	return target, signer, nil
}

// send posts req and prints the answer; a non-2xx answer is an error.
func (e *env) send(req *http.Request, typ string, timeout time.Duration) error {
	client := &http.Client{
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("send %s to %s: %w", typ, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(e.stdout, "sent %s (webhook-id %s) to %s: %s in %s\n", typ,
		req.Header.Get(sign.HeaderID), req.URL.Redacted(), resp.Status,
		time.Since(start).Round(time.Millisecond))
	if len(body) > 0 {
		fmt.Fprintf(e.stdout, "%s\n", strings.TrimSpace(string(body)))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s answered %s", req.URL.Host, resp.Status)
	}
	return nil
}

// ingressURL turns a relay base URL into its default ingress URL, and keeps
// a URL that already names an ingress path.
func ingressURL(via string) (string, error) {
	u, err := url.Parse(via)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", cli.Usagef("--via %q: want the relay's http(s):// URL", via)
	}
	if !strings.HasPrefix(u.Path, "/webhooks/") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/webhooks/openai"
	}
	return u.String(), nil
}
