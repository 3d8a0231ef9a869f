package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/history"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/relay/relaytest"
	"github.com/hookrelay/hookrelay/internal/sample"
	"github.com/hookrelay/hookrelay/internal/sign"
	"github.com/hookrelay/hookrelay/internal/store"
)

// The secret OpenAI signs with (its published test vector's) and the app's.
const (
	openaiSecret = "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c="
	appSecret    = "whsec_YXBwIHNlY3JldCB0aGF0IGlzIGxvbmcgZW5vdWdoIQ=="
	token        = "test-token-for-the-default-channel"
)

// testRelay is a relay on a real socket with a SQLite store.
type testRelay struct {
	URL   string
	store store.Store
	stop  func() // shuts the relay down; also run at the end of the test
}

func startRelay(t testing.TB) *testRelay {
	t.Helper()
	return startRelayAt(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "relay.db"))
}

// startRelayAt starts a relay listening on addr with its store in db.
func startRelayAt(t testing.TB, addr, db string) *testRelay {
	t.Helper()
	st, err := store.OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	cfg := relay.Config{
		Channels: []relay.Channel{
			{Name: "default", Secret: openaiSecret, Token: token},
			{Name: "team", Secret: openaiSecret, Token: "team-token"},
		},
		MaxBody: 64 << 10,
		Logger:  testLogger(t),
	}
	t.Cleanup(func() { st.Close() }) // runs after the relay's own cleanup
	url, stopRelay := relaytest.Serve(t, cfg, st, addr)
	stop := sync.OnceFunc(func() {
		stopRelay()
		st.Close()
	})
	return &testRelay{URL: url, store: st, stop: stop}
}

// post sends a webhook signed as OpenAI signs it and returns the status.
func (r *testRelay) post(t testing.TB, path, webhookID string, body []byte) int {
	t.Helper()
	req := signedRequest(t, r.URL+path, openaiSecret, webhookID, body, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post webhook: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// signedRequest signs with the Standard Webhooks library, independently of
// the code under test.
func signedRequest(t testing.TB, url, secret, id string, body []byte, ts time.Time) *http.Request {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := wh.Sign(id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytesReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	return req
}

// sampleBody returns a fresh sample of typ.
func sampleBody(t testing.TB, typ string) []byte {
	t.Helper()
	b, err := sample.Body(typ, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// delivery is what the app received.
type delivery struct {
	WebhookID string
	Type      string
	Body      []byte
	Header    http.Header
	Verified  error
}

// app is a local app that verifies each delivery with openai-go, as the
// developer's own app would, and answers with what status says.
type app struct {
	URL    string
	client openai.Client

	mu     sync.Mutex
	got    []delivery
	status func(n int) int // answer for the n-th request, from 1
	notify chan struct{}
}

func startApp(t testing.TB, secret string) *app {
	t.Helper()
	a := &app{
		client: openai.NewClient(option.WithWebhookSecret(secret), option.WithAPIKey("x")),
		status: func(int) int { return http.StatusOK },
		notify: make(chan struct{}, 1000),
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	a.URL = srv.URL + "/webhooks/openai"
	return a
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	evt, err := a.client.Webhooks.Unwrap(body, r.Header)
	d := delivery{
		WebhookID: r.Header.Get("webhook-id"),
		Body:      body,
		Header:    r.Header.Clone(),
		Verified:  err,
	}
	if err == nil {
		d.Type = evt.Type
	}
	a.mu.Lock()
	a.got = append(a.got, d)
	status := a.status(len(a.got))
	a.mu.Unlock()
	w.WriteHeader(status)
	a.notify <- struct{}{}
}

func (a *app) setStatus(f func(n int) int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.status = f
}

func (a *app) deliveries() []delivery {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]delivery(nil), a.got...)
}

// waitFor waits until the app has received n requests.
func (a *app) waitFor(t testing.TB, n int) []delivery {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		if got := a.deliveries(); len(got) >= n {
			return got
		}
		select {
		case <-a.notify:
		case <-timeout:
			t.Fatalf("app received %d requests, want %d", len(a.deliveries()), n)
		}
	}
}

// runAgent runs an agent until the test ends or stop is called.
func runAgent(t testing.TB, cfg agent.Config, histPath string) (a *agent.Agent, stop func()) {
	t.Helper()
	hist, err := history.Open(histPath)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Signer == nil {
		cfg.Signer, err = sign.NewSigner(sign.ModeResign, appSecret)
		if err != nil {
			t.Fatal(err)
		}
	}
	if cfg.Token == "" {
		cfg.Token = token
	}
	cfg.Logger = testLogger(t)
	a, err = agent.New(cfg, hist)
	if err != nil {
		t.Fatal(err)
	}
	updates, unsubscribe := a.Subscribe()
	connected := make(chan struct{})
	go func() {
		for u := range updates {
			if u.Kind == agent.KindConn && u.Conn.State == agent.PhaseConnected {
				close(connected)
				break
			}
		}
		unsubscribe()
	}()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent Run: %v", err)
			}
			hist.Close()
		})
	}
	t.Cleanup(stop)
	select {
	case <-connected:
	case err := <-done:
		t.Fatalf("agent stopped before connecting: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("agent did not connect within 10s")
	}
	return a, stop
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func eventID(t testing.TB, body []byte) string {
	t.Helper()
	var v struct{ ID string }
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	return v.ID
}
