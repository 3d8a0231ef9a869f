package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/fixture"
)

// TestExportThenTriggerFile records a webhook through relay and agent,
// exports it with relay-agent events export, and sends it again with
// relay-agent trigger --file, to the app and through the relay; the app
// verifies every copy and receives the original body byte for byte.
func TestExportThenTriggerFile(t *testing.T) {
	dir := t.TempDir()
	r := startRelay(t)
	app := startApp(t, appSecret)
	hist := filepath.Join(dir, "history.db")
	body := sampleBody(t, "response.completed")
	const id = "wh_fixture_original"
	_, stop := runAgent(t, agent.Config{Relay: r.URL, ForwardTo: app.URL}, hist)
	if got := r.post(t, "/webhooks/openai", id, body); got != 200 {
		t.Fatalf("relay answered %d, want 200", got)
	}
	app.waitFor(t, 1)
	stop()

	fx := filepath.Join(dir, "response.completed.json")
	runCLI(t, 0, "events", "export", id, "--history", hist, "-o", fx)
	checkFixtureFile(t, fx, id, body)

	sends := []struct {
		name   string
		args   []string
		sameID bool
	}{
		{"fresh_id", nil, false},
		{"keep_id", []string{"--keep-id"}, true},
	}
	for _, tt := range sends {
		t.Run(tt.name, func(t *testing.T) {
			n := len(app.deliveries()) + 1
			runCLI(t, 0, append([]string{"trigger", "--file", fx, "--forward-to", app.URL,
				"--sign-secret", appSecret}, tt.args...)...)
			d := checkDelivered(t, app, n, body)
			if (d.WebhookID == id) != tt.sameID {
				t.Errorf("webhook-id %q, original %q: want the same one %v", d.WebhookID, id,
					tt.sameID)
			}
		})
	}
	t.Run("via_relay", func(t *testing.T) {
		runAgent(t, agent.Config{Relay: r.URL, ForwardTo: app.URL},
			filepath.Join(t.TempDir(), "history.db"))
		n := len(app.deliveries()) + 1
		runCLI(t, 0, "trigger", "--file", fx, "--via", r.URL, "--sign-secret", openaiSecret)
		checkDelivered(t, app, n, body)
	})
	t.Run("curl", func(t *testing.T) {
		if _, err := exec.LookPath("curl"); err != nil {
			t.Skip("no curl to run the exported command")
		}
		script := filepath.Join(t.TempDir(), "send.sh")
		runCLI(t, 0, "events", "export", id, "--history", hist, "--format", "curl",
			"--forward-to", app.URL, "--sign-secret", appSecret, "-o", script)
		n := len(app.deliveries()) + 1
		if out, err := exec.Command("sh", script).CombinedOutput(); err != nil {
			t.Fatalf("sh %s: %v\n%s", script, err, out)
		}
		d := checkDelivered(t, app, n, body)
		if d.WebhookID != id || d.Header.Get(agent.HeaderReplay) != "1" {
			t.Errorf("curl delivery: webhook-id %q, %s %q; want %q, 1", d.WebhookID,
				agent.HeaderReplay, d.Header.Get(agent.HeaderReplay), id)
		}
	})
}

// checkFixtureFile checks that the exported file holds the event, body byte
// for byte, and no stale signature.
func checkFixtureFile(t *testing.T, path, id string, body []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fixture.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read exported fixture: %v\n%s", err, data)
	}
	if f.WebhookID != id || f.Type != "response.completed" || !bytes.Equal(f.Body, body) {
		t.Errorf("fixture = %s %s %q, want %s response.completed %q", f.WebhookID, f.Type,
			f.Body, id, body)
	}
	if bytes.Contains(bytes.ToLower(data), []byte("webhook-signature")) {
		t.Errorf("fixture keeps the stale signature:\n%s", data)
	}
}

// checkDelivered waits for the app's n-th request and checks that it
// verified and carried body.
func checkDelivered(t *testing.T, app *app, n int, body []byte) delivery {
	t.Helper()
	d := app.waitFor(t, n)[n-1]
	if d.Verified != nil {
		t.Errorf("delivery %s does not verify: %v", d.WebhookID, d.Verified)
	}
	if !bytes.Equal(d.Body, body) || d.Type != "response.completed" {
		t.Errorf("delivered %s body %q, want response.completed %q", d.Type, d.Body, body)
	}
	return d
}

func TestFixtureUsageErrors(t *testing.T) {
	dir := t.TempDir()
	notFixture := filepath.Join(dir, "other.json")
	if err := os.WriteFile(notFixture, []byte(`{"type": "batch.completed"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	hist := filepath.Join(dir, "history.db")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"type_and_file", []string{"trigger", "batch.completed", "--file", notFixture}, 2,
			"not both"},
		{"neither", []string{"trigger"}, 2, "--file"},
		{"keep_id_alone", []string{"trigger", "batch.completed", "--keep-id"}, 2, "--keep-id"},
		{"bad_format", []string{"events", "export", "1", "--format", "xml", "--history", hist}, 2,
			"json or curl"},
		{"unknown_event", []string{"events", "export", "wh_nope", "--history", hist}, 2,
			"relay-agent events"},
		{"not_a_fixture", []string{"trigger", "--file", notFixture}, 1,
			"not a hookrelay fixture"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if out := runCLI(t, tt.code, tt.args...); !strings.Contains(out, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, out)
			}
		})
	}
}

// runCLI runs relay-agent with args, free of the caller's environment
// settings, checks its exit code and returns its output.
func runCLI(t *testing.T, code int, args ...string) string {
	t.Helper()
	env := []string{"OPENAI_WEBHOOK_SECRET=", "FORWARD_TO=", "RELAY_HISTORY=", "RELAY_URL=",
		"RELAY_TOKEN="}
	p := start(t, env, "relay-agent", args...)
	if got := p.wait(t, 20*time.Second); got != code {
		t.Fatalf("relay-agent %s: exit code %d, want %d:\n%s", strings.Join(args, " "), got,
			code, p.out.String())
	}
	return p.out.String()
}
