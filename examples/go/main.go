// Command example is a net/http app that receives OpenAI webhooks on
// POST /webhooks/openai and verifies them with openai-go's
// client.Webhooks.Unwrap, as OpenAI's docs show. It reads the secret from
// OPENAI_WEBHOOK_SECRET and the port from PORT (default 5000, on 127.0.0.1
// unless HOST says otherwise), answers 200 with the verified event's type
// and id or 400 with the reason, and logs one line per webhook. See
// README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/webhooks"
)

// maxBody bounds a webhook body; OpenAI's are far smaller.
const maxBody = 1 << 20

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger) error {
	secret := os.Getenv("OPENAI_WEBHOOK_SECRET")
	if secret == "" {
		return errors.New("set OPENAI_WEBHOOK_SECRET to the secret relay-agent signs with")
	}
	host, port := os.Getenv("HOST"), os.Getenv("PORT")
	if host == "" {
		host = "127.0.0.1" // this machine only
	}
	if port == "" {
		port = "5000"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return fmt.Errorf("listen on port %s: %w", port, err)
	}
	// The API key is never used: Unwrap only checks signatures.
	client := openai.NewClient(option.WithWebhookSecret(secret), option.WithAPIKey("unused"))
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/openai", &receiver{client: client, log: log})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "url", "http://"+ln.Addr().String()+"/webhooks/openai")
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	<-served // http.ErrServerClosed
	return err
}

// receiver verifies and handles webhooks.
type receiver struct {
	client openai.Client
	log    *slog.Logger
}

// ServeHTTP implements http.Handler.
func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeJSON(w, http.StatusBadRequest,
			map[string]any{"error": "body unreadable or over 1 MiB"})
		return
	}
	evt, err := rc.client.Webhooks.Unwrap(body, r.Header)
	webhookID := r.Header.Get("webhook-id")
	if err != nil {
		// openai-go's messages name the failed check and never the secret.
		rc.log.Warn("webhook rejected", "webhook_id", webhookID, "err", err)
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	rc.handle(evt, webhookID)
	writeJSON(w, http.StatusOK, map[string]any{"verified": true, "type": evt.Type, "id": evt.ID})
}

// handle does the app's work for a verified event: here, one log line whose
// detail depends on the event's type.
func (rc *receiver) handle(evt *webhooks.UnwrapWebhookEventUnion, webhookID string) {
	log := rc.log.With("type", evt.Type, "event_id", evt.ID, "webhook_id", webhookID)
	switch e := evt.AsAny().(type) {
	case webhooks.ResponseCompletedWebhookEvent:
		log.Info("response completed: fetch its output", "response_id", e.Data.ID)
	case webhooks.ResponseFailedWebhookEvent:
		log.Info("response failed", "response_id", e.Data.ID)
	case webhooks.BatchCompletedWebhookEvent:
		log.Info("batch completed: download its results", "batch_id", e.Data.ID)
	case webhooks.FineTuningJobSucceededWebhookEvent:
		log.Info("fine-tuning job succeeded", "job_id", e.Data.ID)
	case nil:
		log.Info("event of a type this openai-go does not know yet")
	default:
		log.Info("event received")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
