package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/trigger/fakeopenai"
)

// apiKey is the fake OpenAI API key; no output may show it.
const apiKey = "sk-test-e2e-4f1c9a7b2d6e8035"

// startFakeOpenAI runs a fake OpenAI API that posts its webhooks, signed
// with the relay's secret, to r's default channel (none when r is nil).
func startFakeOpenAI(t *testing.T, r *testRelay, cfg fakeopenai.Config) *fakeopenai.Server {
	t.Helper()
	if r != nil {
		cfg.WebhookURL = r.URL + "/webhooks/openai"
	}
	cfg.Secret = openaiSecret
	fake := fakeopenai.Start(cfg)
	t.Cleanup(fake.Close)
	return fake
}

// openaiEnv is the environment of relay-agent trigger --openai against fake.
func openaiEnv(fake *fakeopenai.Server, key string) []string {
	return []string{"OPENAI_BASE_URL=" + fake.URL, "OPENAI_API_KEY=" + key,
		"OPENAI_ORG_ID=", "OPENAI_PROJECT_ID=", "RELAY_URL=", "RELAY_TOKEN=", "HTTPS_PROXY=",
		"HTTP_PROXY="}
}

// TestTriggerOpenAI starts a job on the fake API, which sends a decoy
// webhook and then the job's through the relay: the trigger reports the
// job's webhook and its round trip, and relay-agent listen delivers both
// to the app.
func TestTriggerOpenAI(t *testing.T) {
	tests := []struct {
		kind, want string
	}{
		{"response", "response.completed"},
		{"batch", "batch.completed"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			r := startRelay(t)
			app := startApp(t, appSecret)
			listen := start(t, []string{"RELAY_TOKEN=" + token}, "relay-agent", "listen",
				"--relay", r.URL, "--forward-to", app.URL, "--sign-secret", appSecret, "--no-tui",
				"--history", filepath.Join(t.TempDir(), "history.db"))
			listen.waitOutput(t, "connected to")
			fake := startFakeOpenAI(t, r, fakeopenai.Config{Decoy: true})

			p := start(t, openaiEnv(fake, apiKey), "relay-agent", "trigger", "--openai", tt.kind,
				"--relay", r.URL, "--token", token, "--model", "gpt-4.1-mini", "--timeout", "20s")
			if code := p.wait(t, 30*time.Second); code != 0 {
				t.Fatalf("trigger --openai %s: exit code %d:\n%s", tt.kind, code, p.out.String())
			}
			hooks := fake.Webhooks()
			if len(hooks) != 2 || hooks[1].Status != 200 {
				t.Fatalf("fake webhooks = %+v, want a decoy and the job's, both accepted", hooks)
			}
			job := hooks[1]
			out := p.out.String()
			for _, want := range []string{
				"created " + tt.kind + " " + job.JobID + " (gpt-4.1-mini)",
				tt.want + " for " + job.JobID + " came through the relay: round trip",
				job.WebhookID,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("trigger output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, hooks[0].WebhookID) {
				t.Errorf("trigger took the decoy for its job:\n%s", out)
			}
			checkNoKey(t, out)
			checkAuthorized(t, fake, tt.kind)

			got := app.waitFor(t, 2)
			if got[1].WebhookID != job.WebhookID || got[1].Verified != nil {
				t.Errorf("app got %s (verified: %v), want the job's webhook %s, re-signed",
					got[1].WebhookID, got[1].Verified, job.WebhookID)
			}
		})
	}
}

// checkAuthorized checks that every call to the fake carried the key.
func checkAuthorized(t *testing.T, fake *fakeopenai.Server, kind string) {
	t.Helper()
	reqs := fake.Requests()
	want := map[string]int{"response": 1, "batch": 2}[kind]
	if len(reqs) != want {
		t.Errorf("fake received %d requests, want %d", len(reqs), want)
	}
	for _, r := range reqs {
		if r.Authorization != "Bearer "+apiKey {
			t.Errorf("%s %s was not authorized with OPENAI_API_KEY", r.Method, r.Path)
		}
	}
}

func checkNoKey(t *testing.T, out string) {
	t.Helper()
	if strings.Contains(out, apiKey) {
		t.Errorf("output shows the API key:\n%s", out)
	}
}

// TestTriggerOpenAIFails checks the ways trigger --openai fails: no webhook
// within --timeout, an API that refuses the key, no key, no relay.
func TestTriggerOpenAIFails(t *testing.T) {
	r := startRelay(t)
	tests := []struct {
		name  string
		relay *testRelay // where the fake posts webhooks; nil for nowhere
		cfg   fakeopenai.Config
		key   string
		args  []string
		code  int
		want  []string
	}{
		{"no_webhook", nil, fakeopenai.Config{}, apiKey,
			[]string{"--relay", r.URL, "--token", token, "--timeout", "300ms"}, 1,
			[]string{"created response resp_", "no response.* webhook for resp_", "300ms"}},
		{"key_refused", r, fakeopenai.Config{Refuse: 401}, apiKey,
			[]string{"--relay", r.URL, "--token", token}, 1,
			[]string{"401", "OPENAI_API_KEY"}},
		{"relay_refuses", r, fakeopenai.Config{}, apiKey,
			[]string{"--relay", r.URL, "--token", "not-the-token"}, 3, []string{"token"}},
		{"no_key", r, fakeopenai.Config{}, "",
			[]string{"--relay", r.URL, "--token", token}, 2, []string{"set OPENAI_API_KEY"}},
		{"no_relay", r, fakeopenai.Config{}, apiKey, []string{"--token", token}, 2,
			[]string{"--relay", "RELAY_URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := startFakeOpenAI(t, tt.relay, tt.cfg)
			args := append([]string{"trigger", "--openai", "response"}, tt.args...)
			p := start(t, openaiEnv(fake, tt.key), "relay-agent", args...)
			if code := p.wait(t, 30*time.Second); code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
			out := p.out.String()
			for _, want := range tt.want {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			checkNoKey(t, out)
			if tt.code == 2 || tt.name == "relay_refuses" {
				if n := len(fake.Requests()); n > 0 {
					t.Errorf("the fake API received %d calls, want none", n)
				}
			}
		})
	}
}
