package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/history"
	"github.com/hookrelay/hookrelay/internal/sample"
	"github.com/hookrelay/hookrelay/internal/sign"
)

// TestDemoEndToEnd runs the demo with an agent, as relay-agent demo does,
// and checks that the sample app verified the events that flowed.
func TestDemoEndToEnd(t *testing.T) {
	d, err := Start(t.Context(), Config{Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		dir := d.Dir()
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("demo folder %s still there after Close", dir)
		}
	}()
	hist, err := history.Open(filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer hist.Close()
	signer, _ := sign.NewSigner(sign.ModeResign, d.Secret)
	a, err := agent.New(agent.Config{Relay: d.Relay, Token: d.Token, ForwardTo: d.AppURL,
		Signer: signer, Since: "all"}, hist)
	if err != nil {
		t.Fatal(err)
	}
	updates, cancelSub := a.Subscribe()
	defer cancelSub()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent Run: %v", err)
		}
	}()

	types := map[string]bool{}
	timeout := time.After(20 * time.Second)
	for len(types) < 3 {
		select {
		case u := <-updates:
			if u.Kind != agent.KindAttempt {
				continue
			}
			if u.Attempt.Status != http.StatusOK {
				t.Fatalf("sample app answered %d: %s", u.Attempt.Status, u.Attempt.ResponseBody)
			}
			var answer struct {
				Verified bool
				Type     string
			}
			json.Unmarshal(u.Attempt.ResponseBody, &answer)
			if !answer.Verified || answer.Type != u.Event.Type {
				t.Fatalf("sample app answer %s for %s, want verified",
					u.Attempt.ResponseBody, u.Event.Type)
			}
			types[u.Event.Type] = true
		case <-timeout:
			t.Fatalf("only %d event types delivered within 20s", len(types))
		}
	}
	if !types["response.completed"] {
		t.Errorf("demo fired %v first, want response.completed among the first", types)
	}
}

func TestAppRejectsBadSignature(t *testing.T) {
	app, err := NewApp("whsec_"+"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := sign.NewSigner(sign.ModeResign,
		"whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c=")
	req, err := sample.Request(t.Context(), "http://app/webhooks/openai", other, "batch.completed",
		time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("app answered %d to a delivery signed with another secret, want 400", rec.Code)
	}
}
