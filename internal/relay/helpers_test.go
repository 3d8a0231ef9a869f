package relay

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/wire"
)

// Test credentials. testSecret is the test vector of REFERENCE.md 1.2.
const (
	testSecret = "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c="
	testToken  = "tok-default-5c1d8e2a9f"
	batchToken = "tok-batch-7e02b4c613"
)

// batchSecret is the secret of the second channel, "batch".
var batchSecret = "whsec_" + base64.StdEncoding.EncodeToString(
	[]byte("hookrelay second test secret 32b"))

// secrets are the strings that must never appear in logs, metrics or answers.
var secrets = []string{
	testSecret, strings.TrimPrefix(testSecret, "whsec_"),
	batchSecret, strings.TrimPrefix(batchSecret, "whsec_"),
	testToken, batchToken,
}

// t0 is the start of every test clock.
var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer keeps every log line and copies it to the test log.
type logBuffer struct {
	t  *testing.T
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// faultStore wraps a Store and fails the methods whose error is set.
type faultStore struct {
	store.Store
	appendErr error
	readErr   error
	pingErr   error
	statsErr  error
}

var _ store.Store = (*faultStore)(nil)

func (f *faultStore) Append(ctx context.Context, e *store.Event) (int64, bool, error) {
	if f.appendErr != nil {
		return 0, false, f.appendErr
	}
	return f.Store.Append(ctx, e)
}

func (f *faultStore) Read(
	ctx context.Context, channel string, after int64, limit int,
) ([]store.Event, error) {
	if f.readErr != nil {
		return nil, f.readErr
	}
	return f.Store.Read(ctx, channel, after, limit)
}

func (f *faultStore) Ping(ctx context.Context) error {
	if f.pingErr != nil {
		return f.pingErr
	}
	return f.Store.Ping(ctx)
}

func (f *faultStore) Stats(ctx context.Context, channel string) (store.Stats, error) {
	if f.statsErr != nil {
		return store.Stats{}, f.statsErr
	}
	return f.Store.Stats(ctx, channel)
}

// setup is what a test may change before its harness starts.
type setup struct {
	cfg   Config
	st    store.Store // the harness's SQLite store; a test may wrap it
	hooks func(s *Server)
}

// harness is a relay served by httptest over a real SQLite store, with a
// test clock and captured logs.
type harness struct {
	t     *testing.T
	srv   *Server
	ts    *httptest.Server
	db    *store.SQLite
	clock *clock
	logs  *logBuffer
	reg   *prometheus.Registry
	ids   int // webhook ids handed out by nextID
}

// newHarness starts a relay with channels "default" and "batch". After the
// test it ends the agent sessions and checks that the logs hold no secret.
func newHarness(t *testing.T, mods ...func(*setup)) *harness {
	t.Helper()
	h := &harness{t: t, clock: &clock{t: t0}, logs: &logBuffer{t: t}, reg: prometheus.NewRegistry()}
	db, err := store.OpenSQLite(filepath.Join(t.TempDir(), "relay.db"))
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	h.db = db
	su := &setup{st: db, cfg: Config{
		Channels: []Channel{
			{Name: "default", Secret: testSecret, Token: testToken},
			{Name: "batch", Secret: batchSecret, Token: batchToken},
		},
		Logger: slog.New(slog.NewJSONHandler(h.logs,
			&slog.HandlerOptions{Level: slog.LevelDebug})),
		Registry: h.reg,
		Now:      h.clock.Now,
	}}
	for _, m := range mods {
		m(su)
	}
	h.srv, err = New(su.cfg, su.st)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if su.hooks != nil {
		su.hooks(h.srv)
	}
	h.ts = httptest.NewServer(h.srv.Handler())
	t.Cleanup(h.ts.Close)
	t.Cleanup(func() {
		h.srv.closeSessions()
		checkNoSecrets(t, "logs", h.logs.String())
	})
	return h
}

func checkNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for i, sec := range secrets {
		if strings.Contains(s, sec) {
			t.Errorf("%s contain secret number %d", what, i)
		}
	}
}

// nextID returns a fresh webhook id.
func (h *harness) nextID() string {
	h.ids++
	return fmt.Sprintf("wh_test%04d", h.ids)
}

// signed returns the Standard Webhooks headers for body, computed with the
// Standard Webhooks library rather than the code under test.
func signed(t *testing.T, secret, id string, ts time.Time, body []byte) http.Header {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("NewWebhook: %v", err)
	}
	sig, err := wh.Sign(id, ts, body)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	h := make(http.Header)
	h.Set("Content-Type", "application/json")
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("webhook-signature", sig)
	return h
}

// answer is a response with its body read.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// errorText returns the error field of a JSON error answer.
func (a answer) errorText(t *testing.T) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(a.body, &e); err != nil || e.Error == "" {
		t.Errorf("answer %d %q is not a JSON error", a.status, a.body)
	}
	return e.Error
}

// do sends a request to the harness and reads the answer.
func (h *harness) do(method, path string, header http.Header, body []byte) answer {
	h.t.Helper()
	req, err := http.NewRequestWithContext(h.t.Context(), method, h.ts.URL+path,
		bytes.NewReader(body))
	if err != nil {
		h.t.Fatalf("NewRequest: %v", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("read answer of %s %s: %v", method, path, err)
	}
	checkNoSecrets(h.t, "answer of "+path, string(b))
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// postID sends body to the default channel as webhook id, signed now.
func (h *harness) postID(id string, body []byte) answer {
	h.t.Helper()
	return h.do(http.MethodPost, "/webhooks/openai",
		signed(h.t, testSecret, id, h.clock.Now(), body), body)
}

// post sends body to the default channel, signed now, checks that it is
// stored and returns its id.
func (h *harness) post(body []byte) (string, answer) {
	h.t.Helper()
	id := h.nextID()
	a := h.postID(id, body)
	if a.status != http.StatusOK {
		h.t.Fatalf("post %s = %d %s, want 200", id, a.status, a.body)
	}
	return id, a
}

// bearer returns an Authorization header for token.
func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// eventBody returns a webhook body of type typ.
func eventBody(typ string) []byte {
	return fmt.Appendf(nil, `{"object":"event","id":"evt_%s","type":%q,"data":{"id":"x"}}`,
		strings.ReplaceAll(typ, ".", "_"), typ)
}

// appendEvent stores an event of typ on channel "default" directly, received
// at the clock's time, and returns its sequence number.
func (h *harness) appendEvent(typ string) int64 {
	h.t.Helper()
	seq, _, err := h.db.Append(h.t.Context(), &store.Event{
		Channel:    "default",
		WebhookID:  h.nextID(),
		Type:       typ,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       eventBody(typ),
		ReceivedAt: h.clock.Now(),
	})
	if err != nil {
		h.t.Fatalf("Append: %v", err)
	}
	return seq
}

// dial connects an agent with token and returns the connection, which the
// test closes at cleanup.
func (h *harness) dial(token string) *websocket.Conn {
	h.t.Helper()
	c, resp, err := websocket.Dial(h.t.Context(), h.ts.URL+"/agent", &websocket.DialOptions{
		HTTPHeader:   bearer(token),
		Subprotocols: []string{wire.Subprotocol},
	})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		h.t.Fatalf("dial /agent: %d %v", status, err)
	}
	h.t.Cleanup(func() { c.CloseNow() })
	return c
}

// connect dials an agent, sends hello and returns the welcome.
func (h *harness) connect(token string, hello wire.Hello) (*websocket.Conn, *wire.Welcome) {
	h.t.Helper()
	c := h.dial(token)
	send(h.t, c, &wire.Message{Type: wire.TypeHello, Hello: &hello})
	m := recv(h.t, c)
	if m.Type != wire.TypeWelcome {
		h.t.Fatalf("first message is %s, want welcome", m.Type)
	}
	return c, m.Welcome
}

func send(t *testing.T, c *websocket.Conn, m *wire.Message) {
	t.Helper()
	if err := wire.Write(t.Context(), c, m); err != nil {
		t.Fatalf("write %s: %v", m.Type, err)
	}
}

func recv(t *testing.T, c *websocket.Conn) *wire.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	m, err := wire.Read(ctx, c)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return m
}

// recvEvent reads the next message, which must be an event.
func recvEvent(t *testing.T, c *websocket.Conn) *wire.Event {
	t.Helper()
	m := recv(t, c)
	if m.Type != wire.TypeEvent {
		t.Fatalf("got %s message, want event", m.Type)
	}
	return m.Event
}

// recvClose reads until the connection closes and returns its close status.
// It may run in a goroutine of the test.
func recvClose(t *testing.T, c *websocket.Conn) websocket.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		m, err := wire.Read(ctx, c)
		if err != nil {
			return websocket.CloseStatus(err)
		}
		if m.Type != wire.TypeError {
			t.Errorf("got %s message, want the connection to close", m.Type)
			return -1
		}
	}
}

func ack(t *testing.T, c *websocket.Conn, seq int64) {
	t.Helper()
	send(t, c, &wire.Message{Type: wire.TypeAck, Ack: &wire.Ack{Seq: seq}})
}
