package relay

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
)

const testMaxBody = 4096

func TestWebhookStatusCodes(t *testing.T) {
	okBody := eventBody("response.completed")
	big := append([]byte(`{"pad":"`), bytes.Repeat([]byte("x"), testMaxBody)...)
	big = append(big, `"}`...)
	exact := append([]byte(`{"pad":"`), bytes.Repeat([]byte("x"), testMaxBody-10)...)
	exact = append(exact, `"}`...)
	tests := []struct {
		name    string
		method  string
		path    string
		body    []byte
		secret  string
		age     time.Duration // how old the signature's timestamp is
		header  func(http.Header)
		want    int
		wantMsg string // a part of the error message
	}{
		{name: "stored", body: okBody, want: 200},
		{name: "named_default", path: "/webhooks/openai/default", body: okBody, want: 200},
		{name: "named_channel", path: "/webhooks/openai/batch", secret: batchSecret,
			body: eventBody("batch.completed"), want: 200},
		{name: "unknown_event_type", body: eventBody("made.up.event"), want: 200},
		{name: "object_without_type", body: []byte(`{"data":1}`), want: 200},
		{name: "body_of_max_size", body: exact, want: 200},
		{name: "missing_signature", body: okBody, want: 400, wantMsg: "webhook-signature",
			header: func(h http.Header) { h.Del("webhook-signature") }},
		{name: "missing_id", body: okBody, want: 400, wantMsg: "webhook-id",
			header: func(h http.Header) { h.Del("webhook-id") }},
		{name: "malformed_timestamp", body: okBody, want: 400, wantMsg: "webhook-timestamp",
			header: func(h http.Header) { h.Set("webhook-timestamp", "yesterday") }},
		{name: "array_body", body: []byte(`[{"type":"x"}]`), want: 400, wantMsg: "JSON object"},
		{name: "null_body", body: []byte(`null`), want: 400, wantMsg: "JSON object"},
		{name: "not_json", body: []byte(`{"type":`), want: 400, wantMsg: "JSON object"},
		{name: "bad_signature", body: okBody, secret: batchSecret, want: 401,
			wantMsg: "OPENAI_WEBHOOK_SECRET"},
		{name: "wrong_channel_secret", path: "/webhooks/openai/batch", body: okBody, want: 401},
		{name: "tampered_id", body: okBody, want: 401,
			header: func(h http.Header) { h.Set("webhook-id", "wh_other") }},
		{name: "stale_timestamp", body: okBody, age: 6 * time.Minute, want: 401},
		{name: "future_timestamp", body: okBody, age: -6 * time.Minute, want: 401},
		{name: "unknown_channel", path: "/webhooks/openai/nope", body: okBody, want: 404,
			wantMsg: "unknown channel"},
		{name: "get", method: http.MethodGet, want: 405, wantMsg: "POST"},
		{name: "put_on_channel", method: http.MethodPut, path: "/webhooks/openai/batch",
			body: okBody, want: 405},
		{name: "too_large", body: big, want: 413, wantMsg: "4096 bytes"},
		{name: "headers_too_large", body: okBody, want: 431, wantMsg: "headers",
			header: func(h http.Header) { h.Set("X-Pad", strings.Repeat("<", 20000)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(s *setup) { s.cfg.MaxBody = testMaxBody })
			method, path, secret := tt.method, tt.path, tt.secret
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = "/webhooks/openai"
			}
			if secret == "" {
				secret = testSecret
			}
			hdr := signed(t, secret, "wh_case", h.clock.Now().Add(-tt.age), tt.body)
			if tt.header != nil {
				tt.header(hdr)
			}
			a := h.do(method, path, hdr, tt.body)
			if a.status != tt.want {
				t.Fatalf("%s %s = %d %s, want %d", method, path, a.status, a.body, tt.want)
			}
			if ct := a.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if tt.want == 200 {
				checkReceived(t, a, "wh_case")
				return
			}
			if msg := a.errorText(t); !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("error %q does not mention %q", msg, tt.wantMsg)
			}
			h.checkEvents("default", 0)
			h.checkEvents("batch", 0)
		})
	}
}

func checkReceived(t *testing.T, a answer, id string) {
	t.Helper()
	want := `{"status":"received","id":"` + id + `"}` + "\n"
	if string(a.body) != want {
		t.Errorf("answer = %s, want %s", a.body, want)
	}
}

// checkEvents checks how many events channel retains.
func (h *harness) checkEvents(channel string, want int64) {
	h.t.Helper()
	st, err := h.db.Stats(h.t.Context(), channel)
	if err != nil {
		h.t.Fatalf("Stats: %v", err)
	}
	if st.Events != want {
		h.t.Errorf("channel %s retains %d events, want %d", channel, st.Events, want)
	}
}

func TestWebhookStoresExactRequest(t *testing.T) {
	h := newHarness(t)
	body := []byte(" {\"type\": \"made.up.event\",  \"id\":\"evt_1\"}\n")
	hdr := signed(t, testSecret, "wh_exact", h.clock.Now(), body)
	hdr.Set("User-Agent", "OpenAI/1.0 (+https://platform.openai.com/docs/webhooks)")
	if a := h.do(http.MethodPost, "/webhooks/openai", hdr, body); a.status != 200 {
		t.Fatalf("post = %d %s", a.status, a.body)
	}
	evs, err := h.db.Read(t.Context(), "default", 0, 10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("Read = %d events, %v; want 1", len(evs), err)
	}
	e := evs[0]
	if !bytes.Equal(e.Body, body) {
		t.Errorf("stored body = %q, want %q", e.Body, body)
	}
	if e.WebhookID != "wh_exact" || e.Type != "made.up.event" {
		t.Errorf("stored id, type = %q, %q; want wh_exact, made.up.event", e.WebhookID, e.Type)
	}
	for _, k := range []string{"Webhook-Signature", "Webhook-Timestamp", "User-Agent"} {
		if got, want := e.Header.Get(k), hdr.Get(k); got != want {
			t.Errorf("stored header %s = %q, want %q", k, got, want)
		}
	}
	if !e.ReceivedAt.Equal(h.clock.Now()) {
		t.Errorf("ReceivedAt = %v, want the relay's clock %v", e.ReceivedAt, h.clock.Now())
	}
}

func TestWebhookDuplicateStoredOnce(t *testing.T) {
	h := newHarness(t)
	body := eventBody("batch.completed")
	first := h.postID("wh_dup", body)
	h.clock.Add(time.Minute) // OpenAI's retry carries a new timestamp and signature
	again := h.postID("wh_dup", body)
	for _, a := range []answer{first, again} {
		if a.status != 200 {
			t.Fatalf("post = %d %s, want 200", a.status, a.body)
		}
		checkReceived(t, a, "wh_dup")
	}
	h.checkEvents("default", 1)
	if !strings.Contains(h.logs.String(), `"outcome":"duplicate"`) {
		t.Errorf("no log line with outcome duplicate")
	}
}

func TestWebhookStoreFailure(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.st = &faultStore{Store: s.st, appendErr: errors.New("disk on fire")}
	})
	body := eventBody("response.completed")
	a := h.postID("wh_1", body)
	if a.status != http.StatusServiceUnavailable {
		t.Fatalf("post = %d %s, want 503", a.status, a.body)
	}
	if msg := a.errorText(t); strings.Contains(msg, "fire") {
		t.Errorf("error %q echoes the store's error", msg)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "disk on fire") {
		t.Errorf("logs lack the store's error:\n%s", logs)
	}
}

func TestWebhookInvalidEvent(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.st = &faultStore{Store: s.st, appendErr: store.ErrInvalidEvent}
	})
	body := eventBody("response.completed")
	a := h.postID("wh_1", body)
	if a.status != http.StatusBadRequest {
		t.Errorf("post = %d %s, want 400", a.status, a.body)
	}
}

func TestEventType(t *testing.T) {
	tests := []struct {
		body     string
		wantType string
		wantOK   bool
	}{
		{`{"type":"response.completed"}`, "response.completed", true},
		{"\n\t {\"type\":\"a.b\"}", "a.b", true},
		{`{"type":7}`, "", true},
		{`{}`, "", true},
		{`"type"`, "", false},
		{`[]`, "", false},
		{``, "", false},
		{`{"type":"a"} {}`, "", false},
	}
	for _, tt := range tests {
		typ, ok := eventType([]byte(tt.body))
		if typ != tt.wantType || ok != tt.wantOK {
			t.Errorf("eventType(%q) = %q, %v; want %q, %v",
				tt.body, typ, ok, tt.wantType, tt.wantOK)
		}
	}
}
