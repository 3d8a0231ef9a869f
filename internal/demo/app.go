package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/hookrelay/hookrelay/internal/logkey"
)

// App is a sample receiving app, written the way OpenAI's docs show: it
// verifies each webhook with openai-go's Webhooks.Unwrap and answers 200
// with what it verified, or 400 when verification fails.
type App struct {
	client openai.Client
	log    *slog.Logger
}

// NewApp returns an App that verifies with secret.
func NewApp(secret string, log *slog.Logger) (*App, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := openai.NewClient(option.WithWebhookSecret(secret), option.WithAPIKey("unused"))
	return &App{client: c, log: log.With(logkey.Component, "sample-app")}, nil
}

// ServeHTTP implements http.Handler.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST webhooks here", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	evt, err := a.client.Webhooks.Unwrap(body, r.Header)
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		a.log.Warn("webhook rejected", logkey.Err, err)
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{
			"error": fmt.Sprintf("verification failed: %v", err),
		})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{
		"verified":   true,
		"type":       evt.Type,
		"event_id":   evt.ID,
		"webhook_id": r.Header.Get("webhook-id"),
		"replay":     r.Header.Get("X-Hookrelay-Replay") == "1",
	})
}
