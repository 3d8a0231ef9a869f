package trigger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/relay/relaytest"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/trigger/fakeopenai"
	"github.com/hookrelay/hookrelay/internal/wire"
)

const (
	testSecret = "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c="
	testToken  = "trigger-test-token-0123456789"
	testKey    = "sk-test-0123456789abcdef"
)

// startRelay runs an in-process relay on a real socket and returns its URL.
func startRelay(t *testing.T) string {
	t.Helper()
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // runs after the relay's own cleanup
	url, _ := relaytest.Serve(t, relay.Config{
		Channels: []relay.Channel{{Name: "default", Secret: testSecret, Token: testToken}},
		Logger:   testLogger(t),
	}, st, "127.0.0.1:0")
	return url
}

// startFake runs a fake OpenAI API that posts its webhooks to relayURL
// (none when relayURL is empty) and returns it with a client for it.
func startFake(t *testing.T, relayURL string, cfg fakeopenai.Config) (
	*fakeopenai.Server, *openai.Client) {
	t.Helper()
	if relayURL != "" {
		cfg.WebhookURL = relayURL + "/webhooks/openai"
	}
	cfg.Secret = testSecret
	fake := fakeopenai.Start(cfg)
	t.Cleanup(fake.Close)
	client := openai.NewClient(
		option.WithBaseURL(fake.URL),
		option.WithAPIKey(testKey),
		option.WithMaxRetries(0),
	)
	return fake, &client
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(logWriter{t}, nil))
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSuffix(p, []byte("\n"))))
	return len(p), nil
}

// stepClock advances one second each time it is read.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func TestStartResponse(t *testing.T) {
	fake, client := startFake(t, "", fakeopenai.Config{})
	id, err := StartResponse(t.Context(), client, "gpt-4.1-mini")
	if err != nil {
		t.Fatalf("StartResponse: %v", err)
	}
	if !strings.HasPrefix(id, "resp_") {
		t.Errorf("id = %q, want resp_…", id)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("fake received %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/v1/responses" {
		t.Errorf("request = %s %s, want POST /v1/responses", r.Method, r.Path)
	}
	if r.Authorization != "Bearer "+testKey {
		t.Error("request lacks the API key as a bearer token")
	}
	var body struct {
		Model      string `json:"model"`
		Input      string `json:"input"`
		Background *bool  `json:"background"`
		Store      *bool  `json:"store"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("request body %s: %v", r.Body, err)
	}
	if body.Model != "gpt-4.1-mini" || body.Input != Prompt {
		t.Errorf("model, input = %q, %q; want gpt-4.1-mini, %q", body.Model, body.Input, Prompt)
	}
	if body.Background == nil || !*body.Background || body.Store == nil || !*body.Store {
		t.Errorf("request body %s: want background and store true", r.Body)
	}
}

func TestStartBatch(t *testing.T) {
	fake, client := startFake(t, "", fakeopenai.Config{})
	id, err := StartBatch(t.Context(), client, "gpt-5-nano")
	if err != nil {
		t.Fatalf("StartBatch: %v", err)
	}
	if !strings.HasPrefix(id, "batch_") {
		t.Errorf("id = %q, want batch_…", id)
	}
	reqs := fake.Requests()
	if len(reqs) != 2 {
		t.Fatalf("fake received %d requests, want an upload and a batch", len(reqs))
	}
	up, create := reqs[0], reqs[1]
	if up.Path != "/v1/files" || up.Purpose != "batch" ||
		!strings.HasSuffix(up.Filename, ".jsonl") {
		t.Errorf("upload = %s purpose %q file %q, want /v1/files, batch, *.jsonl",
			up.Path, up.Purpose, up.Filename)
	}
	checkBatchLine(t, up.Body)
	var body struct {
		InputFileID      string `json:"input_file_id"`
		Endpoint         string `json:"endpoint"`
		CompletionWindow string `json:"completion_window"`
	}
	if err := json.Unmarshal(create.Body, &body); err != nil {
		t.Fatalf("batch body %s: %v", create.Body, err)
	}
	if create.Path != "/v1/batches" || !strings.HasPrefix(body.InputFileID, "file-") ||
		body.Endpoint != "/v1/responses" || body.CompletionWindow != "24h" {
		t.Errorf("batch = %s %s, want /v1/batches over the uploaded file, /v1/responses, 24h",
			create.Path, create.Body)
	}
	if create.Authorization != "Bearer "+testKey || up.Authorization != "Bearer "+testKey {
		t.Error("requests lack the API key as a bearer token")
	}
}

// checkBatchLine checks that input is one JSON line asking the Responses
// API for Prompt.
func checkBatchLine(t *testing.T, input []byte) {
	t.Helper()
	if bytes.Count(input, []byte("\n")) != 1 || !bytes.HasSuffix(input, []byte("\n")) {
		t.Errorf("batch input %q is not one line", input)
	}
	var line struct {
		CustomID string `json:"custom_id"`
		Method   string `json:"method"`
		URL      string `json:"url"`
		Body     struct {
			Model string `json:"model"`
			Input string `json:"input"`
		} `json:"body"`
	}
	if err := json.Unmarshal(input, &line); err != nil {
		t.Fatalf("batch input %q: %v", input, err)
	}
	if line.CustomID == "" || line.Method != "POST" || line.URL != "/v1/responses" ||
		line.Body.Model != "gpt-5-nano" || line.Body.Input != Prompt {
		t.Errorf("batch input = %s", input)
	}
}

func TestMatches(t *testing.T) {
	body := func(typ, id string) []byte {
		return fmt.Appendf(nil, `{"object":"event","id":"evt_1","type":%q,"data":{"id":%q}}`,
			typ, id)
	}
	tests := []struct {
		name string
		body []byte
		kind Kind
		id   string
		want bool
	}{
		{"completed", body("response.completed", "resp_1"), KindResponse, "resp_1", true},
		{"failed", body("response.failed", "resp_1"), KindResponse, "resp_1", true},
		{"other_job", body("response.completed", "resp_2"), KindResponse, "resp_1", false},
		{"other_kind", body("batch.completed", "resp_1"), KindResponse, "resp_1", false},
		{"batch_expired", body("batch.expired", "batch_1"), KindBatch, "batch_1", true},
		{"prefix_only", body("responses.completed", "resp_1"), KindResponse, "resp_1", false},
		{"empty_id", body("response.completed", ""), KindResponse, "", false},
		{"not_json", []byte("resp_1"), KindResponse, "resp_1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Matches(&wire.Event{Body: tt.body}, tt.kind, tt.id); got != tt.want {
				t.Errorf("Matches(%s, %s, %s) = %v, want %v", tt.body, tt.kind, tt.id, got, tt.want)
			}
		})
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		kind    Kind
		outcome string
		want    string
	}{
		{"response", KindResponse, "", "response.completed"},
		{"response_failed", KindResponse, "failed", "response.failed"},
		{"batch", KindBatch, "", "batch.completed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			relayURL := startRelay(t)
			fake, client := startFake(t, relayURL,
				fakeopenai.Config{Outcome: tt.outcome, Decoy: true})
			var started string
			var took time.Duration
			res, err := Run(t.Context(), client, Config{
				Kind:    tt.kind,
				Tail:    agent.TailConfig{Relay: relayURL, Token: testToken},
				Timeout: 20 * time.Second,
				Started: func(id string, d time.Duration) { started, took = id, d },
				Now:     (&stepClock{}).Now,
			})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			hooks := fake.Webhooks()
			if len(hooks) != 2 {
				t.Fatalf("fake sent %d webhooks, want a decoy and the job's", len(hooks))
			}
			job := hooks[1]
			if job.Err != nil || job.Status != 200 {
				t.Fatalf("job webhook: %d %v", job.Status, job.Err)
			}
			if res.ID != job.JobID || started != res.ID {
				t.Errorf("Result.ID = %q, Started got %q, want the job %q",
					res.ID, started, job.JobID)
			}
			if res.Event.WebhookID != job.WebhookID || res.Event.Type != tt.want {
				t.Errorf("Result.Event = %s %s, want %s %s (not the decoy)",
					res.Event.WebhookID, res.Event.Type, job.WebhookID, tt.want)
			}
			if took != time.Second || res.RoundTrip != 2*time.Second {
				t.Errorf("took %s, round trip %s; want 1s and 2s from the clock",
					took, res.RoundTrip)
			}
		})
	}
}

func TestRunTimeout(t *testing.T) {
	relayURL := startRelay(t)
	fake, client := startFake(t, "", fakeopenai.Config{})
	_, err := Run(t.Context(), client, Config{
		Kind:    KindResponse,
		Tail:    agent.TailConfig{Relay: relayURL, Token: testToken},
		Timeout: 100 * time.Millisecond,
	})
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("Run = %v, want a *TimeoutError", err)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || !strings.Contains(err.Error(), te.ID) || te.ID == "" {
		t.Errorf("error %q should name the created response", err)
	}
}

func TestRunErrors(t *testing.T) {
	relayURL := startRelay(t)
	tests := []struct {
		name   string
		refuse int
		token  string
		kind   Kind
		want   []string
		is     error
	}{
		{"unknown_model", 404, testToken, KindResponse,
			[]string{"create background response", "404", "model does not exist"}, nil},
		{"bad_key", 401, testToken, KindBatch, []string{"create batch", "OPENAI_API_KEY"}, nil},
		{"relay_refuses", 0, "wrong-token", KindResponse, []string{"token"}, agent.ErrUnauthorized},
		{"unknown_kind", 0, testToken, "fine_tuning", []string{"response or batch"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, client := startFake(t, relayURL, fakeopenai.Config{Refuse: tt.refuse})
			_, err := Run(t.Context(), client, Config{
				Kind: tt.kind,
				Tail: agent.TailConfig{Relay: relayURL, Token: tt.token},
			})
			if err == nil {
				t.Fatal("Run succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Run = %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("Run = %q: the error shows the API key", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Run = %v, want %v", err, tt.is)
			}
			if tt.refuse == 0 && len(fake.Requests()) > 0 {
				t.Error("Run created a job although it could not listen for its webhook")
			}
		})
	}
}
