package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/internal/logkey"
	"github.com/hookrelay/hookrelay/internal/sign"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/wire"
)

// appendTimeout bounds one commit, so that OpenAI gets a 503 and retries
// rather than timing out.
const appendTimeout = 10 * time.Second

// webhook is the state of one webhook request, for its answer and log line.
type webhook struct {
	start     time.Time
	channel   string
	id        string
	eventType string
	bytes     int
	seq       int64
	outcome   outcome
	status    int
	err       error // internal detail, logged only
}

// receivedBody is the answer to an accepted webhook.
type receivedBody struct {
	Status string `json:"status"`
	ID     string `json:"id"`
}

// handleWebhook serves POST /webhooks/openai and /webhooks/openai/{channel}.
func (s *Server) handleWebhook(w http.ResponseWriter, r *http.Request) {
	wh := &webhook{start: time.Now()}
	msg := s.receive(w, r, wh)
	if msg == "" {
		writeJSON(w, wh.status, receivedBody{Status: "received", ID: wh.id})
	} else {
		writeError(w, wh.status, msg)
	}
	s.logWebhook(r.Context(), wh)
}

// receive checks and stores the webhook of r, filling wh. It returns "" when
// the webhook is stored, or the message of the error answer.
func (s *Server) receive(w http.ResponseWriter, r *http.Request, wh *webhook) string {
	c, msg := s.webhookChannel(w, r, wh)
	if c == nil {
		return msg
	}
	body, msg := s.readBody(w, r, wh)
	if msg != "" {
		return msg
	}
	if msg := s.verify(c, r.Header, body, wh); msg != "" {
		return msg
	}
	typ, ok := eventType(body)
	if !ok {
		wh.reject(http.StatusBadRequest, outcomeNotObject)
		return "request body is not a JSON object"
	}
	wh.eventType = typ
	e := &store.Event{
		Channel:    c.name,
		WebhookID:  wh.id,
		Type:       typ,
		Header:     r.Header.Clone(),
		Body:       body,
		ReceivedAt: s.now(),
	}
	if !s.fitsWire(e) {
		wh.reject(http.StatusRequestHeaderFieldsTooLarge, outcomeHeadersTooLarge)
		return "request headers are too large to relay"
	}
	return s.store(r.Context(), c, e, wh)
}

// fitsWire reports whether e fits in one event message that an agent's read
// limit, wire.ReadLimit(MaxBody), accepts. The body always fits; huge headers
// may not, and an event that cannot be delivered must not be stored, or it
// would stop its channel's stream at every reconnection.
func (s *Server) fitsWire(e *store.Event) bool {
	const margin = 64 // for the sequence number and time the store assigns
	b, err := json.Marshal(&wire.Message{Type: wire.TypeEvent, Event: &wire.Event{
		Seq:        math.MaxInt64,
		WebhookID:  e.WebhookID,
		Type:       e.Type,
		Header:     e.Header,
		Body:       e.Body,
		ReceivedAt: e.ReceivedAt,
	}})
	return err == nil && int64(len(b))+margin <= wire.ReadLimit(s.maxBody)
}

// webhookChannel returns the channel r is posted to, or nil and the message
// of the error answer.
func (s *Server) webhookChannel(
	w http.ResponseWriter, r *http.Request, wh *webhook,
) (*channel, string) {
	name := r.PathValue("channel")
	if name == "" {
		name = s.channels[0].name
	}
	c := s.byName[name]
	if c != nil {
		wh.channel = c.name
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		wh.reject(http.StatusMethodNotAllowed, outcomeBadMethod)
		return nil, "method not allowed: webhooks are delivered with POST"
	}
	if c == nil {
		wh.reject(http.StatusNotFound, outcomeUnknownChannel)
		return nil, "unknown channel: post to /webhooks/openai or to " +
			"/webhooks/openai/{channel} with a channel this relay serves"
	}
	return c, ""
}

// readBody reads r's body up to the size limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, wh *webhook) ([]byte, string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	wh.bytes = len(body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		wh.reject(http.StatusRequestEntityTooLarge, outcomeTooLarge)
		return nil, fmt.Sprintf("request body is larger than this relay's limit of %d bytes "+
			"(RELAY_MAX_BODY)", s.maxBody)
	case err != nil:
		wh.reject(http.StatusBadRequest, outcomeBadBody)
		wh.err = err
		return nil, "request body could not be read"
	}
	return body, ""
}

// verify checks the signature of the webhook.
func (s *Server) verify(c *channel, h http.Header, body []byte, wh *webhook) string {
	wh.id = h.Get(sign.HeaderID)
	err := c.verifier.Verify(h, body, s.now())
	switch {
	case err == nil:
		return ""
	case errors.Is(err, sign.ErrMissingHeaders):
		wh.reject(http.StatusBadRequest, outcomeBadHeaders)
		return "missing or malformed signature headers: webhook-id, webhook-timestamp " +
			"(Unix seconds) and webhook-signature are required"
	default:
		wh.reject(http.StatusUnauthorized, outcomeBadSignature)
		return "webhook signature does not verify: check that this relay's " +
			"OPENAI_WEBHOOK_SECRET is the endpoint's signing secret and that the " +
			"webhook-timestamp is within 5 minutes of the relay's clock"
	}
}

// eventType returns the type field of body, or "" when it has none, and
// whether body is a JSON object.
func eventType(body []byte) (string, bool) {
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return "", false
	}
	var env struct {
		Type json.RawMessage `json:"type"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return "", false
	}
	var typ string
	if json.Unmarshal(env.Type, &typ) != nil {
		return "", true
	}
	return typ, true
}

// store commits the webhook. The commit is not cancelled when the client goes
// away, so a request that reached this point leaves a definite result.
func (s *Server) store(ctx context.Context, c *channel, e *store.Event, wh *webhook) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), appendTimeout)
	defer cancel()
	start := time.Now()
	seq, created, err := s.st.Append(ctx, e)
	s.metrics.commitSeconds.Observe(time.Since(start).Seconds())
	if errors.Is(err, store.ErrInvalidEvent) {
		wh.reject(http.StatusBadRequest, outcomeBadHeaders)
		return "webhook-id and the event type must be UTF-8 text without NUL bytes"
	}
	if err != nil {
		wh.reject(http.StatusServiceUnavailable, outcomeStoreError)
		wh.err = err
		return "the relay's event store is unavailable; the webhook was not stored, retry later"
	}
	wh.seq, wh.status, wh.outcome = seq, http.StatusOK, outcomeDuplicate
	if created {
		wh.outcome = outcomeStored
		s.metrics.stored.WithLabelValues(c.name).Inc()
	}
	return ""
}

func (wh *webhook) reject(status int, o outcome) {
	wh.status, wh.outcome = status, o
}

// logWebhook writes the one log line of a webhook request and counts it.
func (s *Server) logWebhook(ctx context.Context, wh *webhook) {
	s.metrics.webhooks.WithLabelValues(wh.channel, string(wh.outcome)).Inc()
	level := slog.LevelInfo
	switch {
	case wh.outcome == outcomeStoreError:
		level = slog.LevelError
	case wh.status >= 400:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String(logkey.Channel, wh.channel),
		slog.String(logkey.WebhookID, clip(wh.id)),
		slog.String(logkey.EventType, wh.eventType),
		slog.String(logkey.Outcome, string(wh.outcome)),
		slog.Int(logkey.Status, wh.status),
		slog.Int(logkey.Bytes, wh.bytes),
		slog.Duration(logkey.Duration, time.Since(wh.start)),
	}
	if wh.seq > 0 {
		attrs = append(attrs, slog.Int64(logkey.Seq, wh.seq))
	}
	if wh.err != nil {
		attrs = append(attrs, slog.String(logkey.Err, wh.err.Error()))
	}
	s.logger.LogAttrs(ctx, level, "webhook", attrs...)
}

// clip shortens s, which came from a request, for a log line.
func clip(s string) string {
	const max = 128
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}
