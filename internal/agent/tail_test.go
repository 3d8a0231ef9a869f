package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/relay/relaytest"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/wire"
)

const tailToken = "tail-test-token-0123456789"

// tailRelay is an in-process relay on a real socket whose Serve can be
// stopped and started again on the same address and store.
type tailRelay struct {
	t      *testing.T
	addr   string
	store  store.Store
	window int
	stop   func()
}

func startTailRelay(t *testing.T, window int) *tailRelay {
	t.Helper()
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	r := &tailRelay{t: t, addr: "127.0.0.1:0", store: st, window: window}
	r.serve()
	t.Cleanup(func() {
		r.stop()
		st.Close()
	})
	return r
}

// serve starts a relay on r's address and store.
func (r *tailRelay) serve() {
	r.t.Helper()
	url, stop := relaytest.Serve(r.t, relay.Config{
		Channels: []relay.Channel{{Name: "default", Secret: testSecret, Token: tailToken}},
		Window:   r.window,
		Logger:   slog.New(slog.NewTextHandler(tailLog{r.t}, nil)),
	}, r.store, r.addr)
	r.addr = strings.TrimPrefix(url, "http://")
	r.stop = stop
}

func (r *tailRelay) URL() string { return "http://" + r.addr }

// post sends a webhook of typ for the object id, signed as OpenAI signs it.
func (r *tailRelay) post(t *testing.T, typ, id string) {
	t.Helper()
	body := fmt.Appendf(nil,
		`{"object":"event","id":"evt_%s","type":%q,"created_at":1750287018,"data":{"id":%q}}`,
		id, typ, id)
	wh, err := standardwebhooks.NewWebhook(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sig, err := wh.Sign("wh_"+id, now, body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost,
		r.URL()+"/webhooks/openai", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Webhook-Id", "wh_"+id)
	req.Header.Set("Webhook-Timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("Webhook-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post %s: %s", typ, resp.Status)
	}
}

type tailLog struct{ t *testing.T }

func (w tailLog) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSuffix(p, []byte("\n"))))
	return len(p), nil
}

func openTail(t *testing.T, r *tailRelay, events ...string) *Tail {
	t.Helper()
	tl, err := OpenTail(t.Context(), TailConfig{
		Relay:  r.URL(),
		Token:  tailToken,
		Events: events,
		Logger: slog.New(slog.NewTextHandler(tailLog{t}, nil)),
	})
	if err != nil {
		t.Fatalf("OpenTail: %v", err)
	}
	t.Cleanup(tl.Close)
	return tl
}

// collect runs Each until n events have arrived and returns their webhook
// ids.
func collect(t *testing.T, tl *Tail, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var got []string
	err := tl.Each(ctx, func(e *wire.Event) bool {
		got = append(got, e.WebhookID)
		return len(got) == n
	})
	if err != nil {
		t.Fatalf("Each: %v", err)
	}
	if len(got) != n {
		t.Fatalf("Each returned after %d events %q, want %d", len(got), got, n)
	}
	return got
}

func equal(a, b []string) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func TestTailStartsLive(t *testing.T) {
	r := startTailRelay(t, 0)
	r.post(t, "response.completed", "before")
	tl := openTail(t, r)
	if got := tl.Channel(); got != "default" {
		t.Errorf("Channel() = %q, want default", got)
	}
	r.post(t, "response.completed", "after1")
	r.post(t, "batch.completed", "after2")
	got := collect(t, tl, 2)
	if want := []string{"wh_after1", "wh_after2"}; !equal(got, want) {
		t.Errorf("events = %q, want %q (live only, in order)", got, want)
	}
}

func TestTailFilter(t *testing.T) {
	r := startTailRelay(t, 0)
	tl := openTail(t, r, "batch.*")
	r.post(t, "response.completed", "r1")
	r.post(t, "batch.completed", "b1")
	r.post(t, "response.failed", "r2")
	r.post(t, "batch.expired", "b2")
	got := collect(t, tl, 2)
	if want := []string{"wh_b1", "wh_b2"}; !equal(got, want) {
		t.Errorf("events = %q, want %q", got, want)
	}
}

// TestTailAcknowledges fills a window of two many times over: without acks
// the relay would stop after two events.
func TestTailAcknowledges(t *testing.T) {
	r := startTailRelay(t, 2)
	tl := openTail(t, r)
	const n = 9
	for i := range n {
		r.post(t, "batch.completed", fmt.Sprintf("b%d", i))
	}
	if got := collect(t, tl, n); len(got) != n {
		t.Errorf("got %d events, want %d", len(got), n)
	}
}

// TestTailResumesAfterRestart stores an event while the relay is down: the
// tail reconnects after the last event it saw and still receives it.
func TestTailResumesAfterRestart(t *testing.T) {
	r := startTailRelay(t, 0)
	tl := openTail(t, r)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	first := make(chan struct{})
	done := make(chan error, 1)
	var got []string
	go func() {
		done <- tl.Each(ctx, func(e *wire.Event) bool {
			got = append(got, e.WebhookID)
			if len(got) == 1 {
				close(first)
			}
			return len(got) == 2
		})
	}()
	r.post(t, "response.completed", "first")
	select {
	case <-first:
	case err := <-done:
		t.Fatalf("Each returned before the first event: %v", err)
	}
	r.stop()
	_, _, err := r.store.Append(ctx, &store.Event{
		Channel:   "default",
		WebhookID: "wh_while_down",
		Type:      "response.completed",
		Header:    http.Header{},
		Body:      []byte(`{"type":"response.completed","data":{"id":"resp_down"}}`),
	})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	r.serve()
	if err := <-done; err != nil {
		t.Fatalf("Each: %v", err)
	}
	if want := []string{"wh_first", "wh_while_down"}; !equal(got, want) {
		t.Errorf("events = %q, want %q", got, want)
	}
}

func TestTailEnds(t *testing.T) {
	tests := []struct {
		name string
		end  func(tl *Tail, cancel context.CancelFunc)
	}{
		{"context_done", func(_ *Tail, cancel context.CancelFunc) { cancel() }},
		{"close", func(tl *Tail, _ context.CancelFunc) { tl.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startTailRelay(t, 0)
			tl := openTail(t, r)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				done <- tl.Each(ctx, func(*wire.Event) bool {
					t.Error("no event was posted")
					return false
				})
			}()
			tt.end(tl, cancel)
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Each = %v, want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Each did not return within 10s")
			}
		})
	}
}

func TestOpenTailErrors(t *testing.T) {
	r := startTailRelay(t, 0)
	tests := []struct {
		name string
		cfg  TailConfig
		is   error
	}{
		{"wrong_token", TailConfig{Relay: r.URL(), Token: "not-the-token"}, ErrUnauthorized},
		{"no_relay", TailConfig{Token: tailToken}, nil},
		{"no_token", TailConfig{Relay: r.URL()}, nil},
		{"bad_pattern", TailConfig{Relay: r.URL(), Token: tailToken, Events: []string{"["}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl, err := OpenTail(t.Context(), tt.cfg)
			if err == nil {
				tl.Close()
				t.Fatal("OpenTail succeeded, want an error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("OpenTail = %v, want %v", err, tt.is)
			}
		})
	}
}
