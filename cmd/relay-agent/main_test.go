package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/hookrelay/hookrelay/internal/cli"
)

const testSecret = "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c="

func lookup(env map[string]string) cli.Env {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestRunUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no_relay", []string{"--no-tui"}, "--relay"},
		{"no_token", []string{"--relay", "http://r", "--no-tui"}, "--token"},
		{"bad_since", []string{"--relay", "http://r", "--token", "t", "--since", "yesterday"}, "--since"},
		{"bad_mode", []string{"--relay", "http://r", "--token", "t", "--sign-mode", "rot13"}, "rot13"},
		{"resign_without_secret", []string{"--relay", "http://r", "--token", "t",
			"--sign-mode", "resign"}, "OPENAI_WEBHOOK_SECRET"},
		{"unknown_flag", []string{"--bogus"}, "bogus"},
		{"replay_without_id", []string{"replay"}, "event ID"},
		{"unknown_type", []string{"trigger", "response.nope"}, "known types"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(t.Context(), tt.args, lookup(nil), &out, &out)
			if cli.Code(err) != cli.ExitUsage || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v (code %d), want a usage error naming %q",
					tt.args, err, cli.Code(err), tt.want)
			}
		})
	}
}

// TestRunTrigger sends a sample through the command to an app that verifies
// it with openai-go.
func TestRunTrigger(t *testing.T) {
	client := openai.NewClient(option.WithWebhookSecret(testSecret), option.WithAPIKey("x"))
	var got string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		evt, err := client.Webhooks.Unwrap(body, r.Header)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got = evt.Type
	}))
	defer app.Close()
	var out bytes.Buffer
	env := lookup(map[string]string{"OPENAI_WEBHOOK_SECRET": testSecret, "FORWARD_TO": app.URL})
	if err := run(t.Context(), []string{"trigger", "eval.run.failed"}, env, &out, &out); err != nil {
		t.Fatalf("trigger: %v\n%s", err, out.String())
	}
	if got != "eval.run.failed" {
		t.Errorf("app verified %q, want eval.run.failed", got)
	}
	if !strings.Contains(out.String(), "200 OK") || strings.Contains(out.String(), testSecret) {
		t.Errorf("trigger output = %q, want the answer and no secret", out.String())
	}
}
