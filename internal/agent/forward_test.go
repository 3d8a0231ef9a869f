package agent

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/hookrelay/hookrelay/internal/history"
	"github.com/hookrelay/hookrelay/internal/sign"
)

const testSecret = "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c="

func testEvent() history.Event {
	h := http.Header{}
	h.Set("Webhook-Id", "wh_685c059ae39c8190af8c71ed1022a24d")
	h.Set("Webhook-Timestamp", "1750861210")
	h.Set("Webhook-Signature", "v1,gUAg4R2hWouRZqRQG4uJypNS8YK885G838+EHb4nKBY=")
	h.Set("Content-Type", "application/json")
	h.Add("X-Multi", "one")
	h.Add("X-Multi", "two")
	h.Set("Connection", "keep-alive, X-Conn-Only")
	h.Set("X-Conn-Only", "hop")
	h.Set("Keep-Alive", "timeout=5")
	h.Set("Transfer-Encoding", "chunked")
	h.Set("Host", "relay.example.com")
	return history.Event{
		ID:        1,
		Seq:       42,
		WebhookID: "wh_685c059ae39c8190af8c71ed1022a24d",
		Type:      "response.completed",
		Header:    h,
		Body: []byte(`{"id": "evt_685c059ae3a481909bdc86819b066fb6", "object": "event", ` +
			`"created_at": 1750861210, "type": "response.completed", "data": {"id": "resp_123"}}`),
	}
}

// capture is a local app that records the requests it gets.
type capture struct {
	status int
	reqs   chan *http.Request
	bodies chan []byte
}

func newCapture(t *testing.T, status int) (*capture, *httptest.Server) {
	c := &capture{status: status, reqs: make(chan *http.Request, 10), bodies: make(chan []byte, 10)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.reqs <- r
		c.bodies <- b
		w.Header().Set("X-App", "yes")
		w.WriteHeader(c.status)
		io.WriteString(w, "app says hi")
	}))
	t.Cleanup(srv.Close)
	return c, srv
}

func TestDeliverResignedVerifiesWithOpenAI(t *testing.T) {
	app, srv := newCapture(t, http.StatusOK)
	signer, err := sign.NewSigner(sign.ModeResign, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	f := NewForwarder(Targets{Default: srv.URL + "/hook"}, signer, time.Second)
	ev := testEvent()
	att := f.Deliver(t.Context(), &Delivery{Event: ev, N: 1})
	if att.Outcome != history.OutcomeDelivered || att.Status != 200 {
		t.Fatalf("Deliver = %s %d (%s), want delivered 200", att.Outcome, att.Status, att.Error)
	}
	req, body := <-app.reqs, <-app.bodies
	if string(body) != string(ev.Body) {
		t.Errorf("app got body %q, want %q", body, ev.Body)
	}
	// The original signature is a year old: only a fresh one passes.
	client := openai.NewClient(option.WithWebhookSecret(testSecret), option.WithAPIKey("x"))
	if _, err := client.Webhooks.Unwrap(body, req.Header); err != nil {
		t.Errorf("openai-go Unwrap of the delivery: %v", err)
	}
	if got := req.Header.Get("Webhook-Id"); got != ev.WebhookID {
		t.Errorf("webhook-id = %q, want %q", got, ev.WebhookID)
	}
	if got := req.Header.Values("X-Multi"); strings.Join(got, ",") != "one,two" {
		t.Errorf("X-Multi = %q, want both values", got)
	}
	for _, h := range []string{"X-Conn-Only", "Keep-Alive"} {
		if v := req.Header.Get(h); v != "" {
			t.Errorf("hop-by-hop header %s forwarded: %q", h, v)
		}
	}
	if req.Host == "relay.example.com" {
		t.Error("Host header forwarded from the relay")
	}
	if got := req.Header.Get(HeaderSeq); got != "42" {
		t.Errorf("%s = %q, want 42", HeaderSeq, got)
	}
	if got := req.Header.Get(HeaderReplay); got != "" {
		t.Errorf("%s = %q on a first delivery, want none", HeaderReplay, got)
	}
	if string(att.ResponseBody) != "app says hi" || att.ResponseHeader.Get("X-App") != "yes" {
		t.Errorf("attempt kept answer %q %v", att.ResponseBody, att.ResponseHeader)
	}
}

func TestDeliverPassthroughKeepsHeaders(t *testing.T) {
	app, srv := newCapture(t, http.StatusOK)
	f := NewForwarder(Targets{Default: srv.URL}, nil, time.Second)
	ev := testEvent()
	f.Deliver(t.Context(), &Delivery{Event: ev, Replay: true, N: 1})
	req := <-app.reqs
	for _, h := range []string{"Webhook-Timestamp", "Webhook-Signature"} {
		if got, want := req.Header.Get(h), ev.Header.Get(h); got != want {
			t.Errorf("%s = %q, want the original %q", h, got, want)
		}
	}
	if got := req.Header.Get(HeaderReplay); got != "1" {
		t.Errorf("%s = %q on a replay, want 1", HeaderReplay, got)
	}
}

func TestDeliverHexAndEditedBody(t *testing.T) {
	app, srv := newCapture(t, http.StatusOK)
	signer, err := sign.NewSigner(sign.ModeHex, "plain-secret")
	if err != nil {
		t.Fatal(err)
	}
	f := NewForwarder(Targets{Default: srv.URL}, signer, time.Second)
	edited := []byte(`{"type":"response.completed","edited":true}`)
	att := f.Deliver(t.Context(), &Delivery{Event: testEvent(), Body: edited, Replay: true, N: 1})
	req, body := <-app.reqs, <-app.bodies
	if string(body) != string(edited) || !att.Edited || string(att.Body) != string(edited) {
		t.Errorf("edited delivery sent %q (attempt edited=%v)", body, att.Edited)
	}
	want := sign.Hex("plain-secret", edited)
	if got := req.Header.Get("X-OpenAI-Signature"); got != want {
		t.Errorf("X-OpenAI-Signature = %q, want %q", got, want)
	}
}

func TestDeliverOutcomes(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		want      history.Outcome
		retryable bool
	}{
		{"ok", 204, history.OutcomeDelivered, false},
		{"redirect_not_followed", 302, history.OutcomeRedirect, false},
		{"client_error", 422, history.OutcomeRejected, false},
		{"server_error", 503, history.OutcomeServerErr, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits int
			srv := httptest.NewServer(http.HandlerFunc(
				func(w http.ResponseWriter, r *http.Request) {
					hits++
					if r.Method != http.MethodPost {
						t.Errorf("app got %s, want POST", r.Method)
					}
					w.Header().Set("Location", "/elsewhere")
					w.WriteHeader(tt.status)
				}))
			defer srv.Close()
			f := NewForwarder(Targets{Default: srv.URL}, nil, time.Second)
			att := f.Deliver(t.Context(), &Delivery{Event: testEvent(), N: 1})
			if att.Outcome != tt.want || att.Status != tt.status || hits != 1 {
				t.Errorf("Deliver = %s %d after %d requests, want %s %d after 1",
					att.Outcome, att.Status, hits, tt.want, tt.status)
			}
			if Retryable(att.Outcome) != tt.retryable {
				t.Errorf("Retryable(%s) = %v, want %v", att.Outcome, !tt.retryable, tt.retryable)
			}
		})
	}
}

func TestDeliverRefusedAndTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	f := NewForwarder(Targets{Default: closed}, nil, time.Second)
	att := f.Deliver(t.Context(), &Delivery{Event: testEvent(), N: 1})
	if att.Outcome != history.OutcomeRefused {
		t.Errorf("Deliver to a closed port = %s (%s), want refused", att.Outcome, att.Error)
	}

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer slow.Close()
	defer close(release)
	f = NewForwarder(Targets{Default: slow.URL}, nil, 50*time.Millisecond)
	att = f.Deliver(t.Context(), &Delivery{Event: testEvent(), N: 1})
	if att.Outcome != history.OutcomeTimeout {
		t.Errorf("Deliver to a silent app = %s (%s), want timeout", att.Outcome, att.Error)
	}
}

func TestTargetsRoutes(t *testing.T) {
	tg := Targets{Default: "http://d", Routes: []Route{
		{Events: []string{"batch.*"}, ForwardTo: "http://batch"},
		{Events: []string{"batch.completed", "eval.*"}, ForwardTo: "http://second"},
	}}
	for typ, want := range map[string]string{
		"batch.completed":    "http://batch", // first match wins
		"eval.run.failed":    "http://second",
		"response.completed": "http://d",
	} {
		if got := tg.For(typ); got != want {
			t.Errorf("For(%q) = %q, want %q", typ, got, want)
		}
	}
}

func TestBackoff(t *testing.T) {
	for n := 1; n < 40; n++ {
		d := backoff(n)
		ceil := min(backoffMin<<min(n-1, 20), backoffMax)
		if d < ceil/2 || d > ceil {
			t.Errorf("backoff(%d) = %s, want within [%s, %s]", n, d, ceil/2, ceil)
		}
	}
}

func TestAgentURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://r.example.com":      "wss://r.example.com/agent",
		"http://127.0.0.1:8080/":     "ws://127.0.0.1:8080/agent",
		"wss://r.example.com/base":   "wss://r.example.com/base/agent",
		"ws://localhost:1/?x=1#frag": "ws://localhost:1/agent",
	} {
		if got, err := agentURL(in); err != nil || got != want {
			t.Errorf("agentURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"ftp://x", "relay.example.com", "https://"} {
		if _, err := agentURL(bad); err == nil {
			t.Errorf("agentURL(%q) = nil error", bad)
		}
	}
}

func TestCurlReproducesDelivery(t *testing.T) {
	hist := openHistory(t)
	ev := testEvent()
	rec, _, err := hist.Record(t.Context(), &ev)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := sign.NewSigner(sign.ModeResign, testSecret)
	a, err := New(Config{
		Relay:     "http://r",
		Token:     "t",
		ForwardTo: "http://app/x",
		Signer:    signer,
	}, hist)
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := a.Curl(context.Background(), rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"curl -sS -X POST 'http://app/x'", "'Webhook-Signature: v1,",
		"'X-Hookrelay-Replay: 1'", `"resp_123"`} {
		if !strings.Contains(cmd, want) {
			t.Errorf("Curl output lacks %q:\n%s", want, cmd)
		}
	}
	if strings.Contains(cmd, testSecret) {
		t.Error("Curl output contains the secret")
	}
}

func openHistory(t *testing.T) *history.History {
	t.Helper()
	h, err := history.Open(t.TempDir() + "/history.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}
