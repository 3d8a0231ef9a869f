package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/cli"
)

func TestRunUsageErrors(t *testing.T) {
	const secret = "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c="
	db := filepath.Join(t.TempDir(), "r.db")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no_secret", nil, map[string]string{"RELAY_TOKEN": "t"}, "OPENAI_WEBHOOK_SECRET"},
		{"no_token", nil, map[string]string{"OPENAI_WEBHOOK_SECRET": secret}, "RELAY_TOKEN"},
		{"bad_secret", []string{"--database", db},
			map[string]string{"OPENAI_WEBHOOK_SECRET": "whsec_short", "RELAY_TOKEN": "t"}, "secret"},
		{"bad_max_body", []string{"--max-body", "lots"},
			map[string]string{"OPENAI_WEBHOOK_SECRET": secret, "RELAY_TOKEN": "t"}, "--max-body"},
		{"bad_retention", nil, map[string]string{"OPENAI_WEBHOOK_SECRET": secret, "RELAY_TOKEN": "t",
			"RELAY_RETENTION": "forever"}, "RELAY_RETENTION"},
		{"channel_without_vars", nil, map[string]string{"OPENAI_WEBHOOK_SECRET": secret,
			"RELAY_TOKEN": "t", "RELAY_CHANNELS": "team"}, "RELAY_TOKEN_TEAM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			err := run(t.Context(), tt.args, lookup, &out, &out)
			if cli.Code(err) != cli.ExitUsage || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run = %v (code %d), want a usage error naming %q", err, cli.Code(err), tt.want)
			}
			if strings.Contains(out.String()+errText(err), "whsec_short") {
				t.Error("output names the secret")
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
