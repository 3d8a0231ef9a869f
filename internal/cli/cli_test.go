package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"plain", errors.New("boom"), ExitFailure},
		{"usage", Usagef("bad flag"), ExitUsage},
		{"wrapped_usage", fmt.Errorf("listen: %w", Usagef("bad")), ExitUsage},
		{"exit_error", &ExitError{Code: ExitRefused, Err: errors.New("refused")}, ExitRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Code(tt.err); got != tt.want {
				t.Errorf("Code(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	relay := fs.String("relay", "", "")
	token := fs.String("token", "", "")
	port := fs.Int("port", 1, "")
	if err := fs.Parse([]string{"--relay", "http://flag"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"RELAY_URL": "http://env", "RELAY_TOKEN": "secret-token", "P": "7"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	set, err := FromEnvSet(fs, lookup, map[string]string{
		"relay": "RELAY_URL", "token": "RELAY_TOKEN", "port": "P",
	})
	if err != nil {
		t.Fatal(err)
	}
	if *relay != "http://flag" || *token != "secret-token" || *port != 7 {
		t.Errorf("after FromEnv: relay=%q token=%q port=%d; the flag must win, env fill the rest",
			*relay, *token, *port)
	}
	if set["relay"] || !set["token"] || !set["port"] {
		t.Errorf("FromEnvSet reported %v, want token and port set from env", set)
	}

	env["P"] = "seven"
	fs2 := pflag.NewFlagSet("y", pflag.ContinueOnError)
	fs2.Int("port", 1, "")
	err = FromEnv(fs2, lookup, map[string]string{"port": "P"})
	if Code(err) != ExitUsage || !strings.Contains(err.Error(), "P=") {
		t.Errorf("FromEnv with a malformed value = %v, want a usage error naming P", err)
	}
}

func TestFromEnvNeverEchoesSecrets(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.Int("token", 0, "") // a value that cannot parse makes FromEnv quote it
	lookup := func(string) (string, bool) { return "hunter2-secret", true }
	err := FromEnv(fs, lookup, map[string]string{"token": "RELAY_TOKEN"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("FromEnv error = %v, want one that hides the token", err)
	}
}
