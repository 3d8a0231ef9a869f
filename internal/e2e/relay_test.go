package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/sample"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func TestIngressStatusCodes(t *testing.T) {
	r := startRelay(t)
	body := sampleBody(t, "response.completed")
	signed := func(path, id string, b []byte, ts time.Time) *http.Request {
		return signedRequest(t, r.URL+path, openaiSecret, id, b, ts)
	}
	tests := []struct {
		name string
		req  func() *http.Request
		want int
	}{
		{"stored", func() *http.Request {
			return signed("/webhooks/openai", "wh_a", body, time.Now())
		}, 200},
		{"duplicate", func() *http.Request {
			return signed("/webhooks/openai", "wh_a", body, time.Now())
		}, 200},
		{"named_channel", func() *http.Request {
			return signed("/webhooks/openai/team", "wh_b", body, time.Now())
		}, 200},
		{"missing_headers", func() *http.Request {
			req := signed("/webhooks/openai", "wh_c", body, time.Now())
			req.Header.Del("webhook-signature")
			return req
		}, 400},
		{"not_an_object", func() *http.Request {
			return signed("/webhooks/openai", "wh_d", []byte(`["a"]`), time.Now())
		}, 400},
		{"bad_signature", func() *http.Request {
			return signedRequest(t, r.URL+"/webhooks/openai", appSecret, "wh_e", body, time.Now())
		}, 401},
		{"stale_timestamp", func() *http.Request {
			return signed("/webhooks/openai", "wh_f", body, time.Now().Add(-6*time.Minute))
		}, 401},
		{"unknown_channel", func() *http.Request {
			return signed("/webhooks/openai/nope", "wh_g", body, time.Now())
		}, 404},
		{"too_large", func() *http.Request {
			big := []byte(`{"pad":"` + strings.Repeat("x", 65<<10) + `"}`)
			return signed("/webhooks/openai", "wh_h", big, time.Now())
		}, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(tt.req())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d (%s), want %d", resp.StatusCode, b, tt.want)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("Content-Type = %q, want JSON", resp.Header.Get("Content-Type"))
			}
		})
	}
	if st, _ := r.store.Stats(t.Context(), "default"); st.Events != 1 {
		t.Errorf("default channel holds %d events, want 1 (the duplicate stored once)", st.Events)
	}
}

// TestDeliveredInOrderAndVerified sends events of every type through relay
// and agent; the app verifies each with openai-go and sees them in order.
func TestDeliveredInOrderAndVerified(t *testing.T) {
	r := startRelay(t)
	a := startApp(t, appSecret)
	runAgent(t, agent.Config{Relay: r.URL, ForwardTo: a.URL}, filepath.Join(t.TempDir(), "h.db"))

	var sent [][]byte
	for i, typ := range sample.Types() {
		body := sampleBody(t, typ)
		if got := r.post(t, "/webhooks/openai", fmt.Sprintf("wh_order_%03d", i), body); got != 200 {
			t.Fatalf("post %s: status %d", typ, got)
		}
		sent = append(sent, body)
	}
	got := a.waitFor(t, len(sent))
	for i, d := range got {
		if d.Verified != nil {
			t.Errorf("delivery %d (%s) failed openai-go verification: %v",
				i, d.WebhookID, d.Verified)
		}
		if !bytes.Equal(d.Body, sent[i]) {
			t.Errorf("delivery %d body = %s, want %s (order or bytes differ)", i, d.Body, sent[i])
		}
		if want := fmt.Sprintf("wh_order_%03d", i); d.WebhookID != want {
			t.Errorf("delivery %d webhook-id = %s, want %s", i, d.WebhookID, want)
		}
		if d.Header.Get("X-Hookrelay-Seq") == "" {
			t.Errorf("delivery %d has no X-Hookrelay-Seq", i)
		}
	}
}

func TestEventsWhileStoppedArriveAfterRestart(t *testing.T) {
	r := startRelay(t)
	a := startApp(t, appSecret)
	hist := filepath.Join(t.TempDir(), "h.db")
	cfg := agent.Config{Relay: r.URL, ForwardTo: a.URL}

	_, stop := runAgent(t, cfg, hist)
	r.post(t, "/webhooks/openai", "wh_before", sampleBody(t, "batch.completed"))
	a.waitFor(t, 1)
	stop()

	for _, id := range []string{"wh_asleep_1", "wh_asleep_2", "wh_asleep_3"} {
		if got := r.post(t, "/webhooks/openai", id, sampleBody(t, "batch.completed")); got != 200 {
			t.Fatalf("post: %d", got)
		}
	}
	runAgent(t, cfg, hist)
	got := a.waitFor(t, 4)
	want := []string{"wh_before", "wh_asleep_1", "wh_asleep_2", "wh_asleep_3"}
	for i, d := range got {
		if i >= len(want) || d.WebhookID != want[i] {
			t.Fatalf("app received %v, want %v", ids(got), want)
		}
	}
}

func TestRetriesUntilAppAnswers(t *testing.T) {
	r := startRelay(t)
	a := startApp(t, appSecret)
	a.setStatus(func(n int) int { // the first try of each event fails
		if n%2 == 1 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	runAgent(t, agent.Config{Relay: r.URL, ForwardTo: a.URL}, filepath.Join(t.TempDir(), "h.db"))
	r.post(t, "/webhooks/openai", "wh_r1", sampleBody(t, "eval.run.succeeded"))
	r.post(t, "/webhooks/openai", "wh_r2", sampleBody(t, "eval.run.failed"))
	got := a.waitFor(t, 4)
	want := []string{"wh_r1", "wh_r1", "wh_r2", "wh_r2"}
	if strings.Join(ids(got), ",") != strings.Join(want, ",") {
		t.Fatalf("app received %v, want %v (each event retried once, then accepted once)",
			ids(got), want)
	}
	// Deliveries are in order: once a later event arrives, a repeat of an
	// accepted one would have arrived before it.
	r.post(t, "/webhooks/openai", "wh_sentinel", sampleBody(t, "eval.run.canceled"))
	got = a.waitFor(t, 6)
	if strings.Join(ids(got), ",") !=
		strings.Join(append(want, "wh_sentinel", "wh_sentinel"), ",") {
		t.Errorf("app received %v: an accepted event was delivered again", ids(got))
	}
}

func TestDuplicateWebhookDeliveredOnce(t *testing.T) {
	r := startRelay(t)
	a := startApp(t, appSecret)
	runAgent(t, agent.Config{Relay: r.URL, ForwardTo: a.URL}, filepath.Join(t.TempDir(), "h.db"))
	body := sampleBody(t, "response.completed")
	for range 3 { // OpenAI retrying one webhook
		if got := r.post(t, "/webhooks/openai", "wh_dup", body); got != 200 {
			t.Fatalf("post: %d", got)
		}
	}
	r.post(t, "/webhooks/openai", "wh_after", sampleBody(t, "response.failed"))
	got := a.waitFor(t, 2)
	if strings.Join(ids(got), ",") != "wh_dup,wh_after" {
		t.Errorf("app received %v, want [wh_dup wh_after]", ids(got))
	}
}

func TestEventFilter(t *testing.T) {
	r := startRelay(t)
	a := startApp(t, appSecret)
	runAgent(t, agent.Config{Relay: r.URL, ForwardTo: a.URL, Events: []string{"batch.*"}},
		filepath.Join(t.TempDir(), "h.db"))
	r.post(t, "/webhooks/openai", "wh_resp", sampleBody(t, "response.completed"))
	r.post(t, "/webhooks/openai", "wh_batch", sampleBody(t, "batch.completed"))
	r.post(t, "/webhooks/openai", "wh_ft", sampleBody(t, "fine_tuning.job.failed"))
	r.post(t, "/webhooks/openai", "wh_batch2", sampleBody(t, "batch.failed"))
	// Deliveries are in order: a filtered event would arrive before this one.
	got := a.waitFor(t, 2)
	if strings.Join(ids(got), ",") != "wh_batch,wh_batch2" {
		t.Errorf("app received %v, want only the batch events", ids(got))
	}
}

func ids(ds []delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.WebhookID
	}
	return out
}

// TestRelayDatabaseReset: a relay whose database was replaced numbers events
// from 1 again; the agent must deliver them, not take them for the
// duplicates of the events it saw before under the same numbers.
func TestRelayDatabaseReset(t *testing.T) {
	addr := freeAddr(t)
	dir := t.TempDir()
	r := startRelayAt(t, addr, filepath.Join(dir, "first.db"))
	a := startApp(t, appSecret)
	hist := filepath.Join(dir, "h.db")
	cfg := agent.Config{Relay: r.URL, ForwardTo: a.URL}
	_, stop := runAgent(t, cfg, hist)
	for _, id := range []string{"wh_old_1", "wh_old_2", "wh_old_3"} {
		r.post(t, "/webhooks/openai", id, sampleBody(t, "batch.completed"))
	}
	a.waitFor(t, 3)
	stop()
	r.stop()

	r = startRelayAt(t, addr, filepath.Join(dir, "second.db"))
	r.post(t, "/webhooks/openai", "wh_new_1", sampleBody(t, "batch.completed"))
	r.post(t, "/webhooks/openai", "wh_new_2", sampleBody(t, "batch.failed"))
	runAgent(t, cfg, hist)
	got := a.waitFor(t, 5)
	if strings.Join(ids(got), ",") != "wh_old_1,wh_old_2,wh_old_3,wh_new_1,wh_new_2" {
		t.Errorf("app received %v, want the old events then both new ones", ids(got))
	}
}

// TestDeliveryConcurrency: with Concurrency 2, a slow answer to one event
// does not hold the next one back.
func TestDeliveryConcurrency(t *testing.T) {
	r := startRelay(t)
	second := make(chan struct{})
	overlapped := make(chan bool, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.Header.Get("Webhook-Id") {
		case "wh_slow":
			select {
			case <-second:
				overlapped <- true
			case <-time.After(5 * time.Second):
				overlapped <- false
			}
		case "wh_fast":
			close(second)
		}
	}))
	defer app.Close()
	runAgent(t, agent.Config{Relay: r.URL, ForwardTo: app.URL, Concurrency: 2},
		filepath.Join(t.TempDir(), "h.db"))
	r.post(t, "/webhooks/openai", "wh_slow", sampleBody(t, "batch.completed"))
	r.post(t, "/webhooks/openai", "wh_fast", sampleBody(t, "batch.completed"))
	if !<-overlapped {
		t.Error("the second event waited for the first one's answer with Concurrency 2")
	}
}
