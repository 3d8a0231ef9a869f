package relay

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hookrelay/hookrelay/internal/logkey"
)

// queryTimeout bounds the store queries of the small endpoints.
const queryTimeout = 5 * time.Second

// routes returns the mux of every endpoint. Methods are checked by the
// handlers, so that a wrong one gets a JSON answer.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/webhooks/openai", s.handleWebhook)
	mux.HandleFunc("/webhooks/openai/{channel}", s.handleWebhook)
	mux.HandleFunc("/agent", s.handleAgent)
	mux.HandleFunc("/api/status", s.handleStatus)
	mux.HandleFunc("/healthz", s.handleHealth)
	mux.Handle("/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}))
	mux.HandleFunc("/", s.handleRoot)
	return mux
}

// rootText is the page a person sees at the relay's address.
const rootText = `hookrelay relay server

  POST /webhooks/openai            OpenAI webhooks for the default channel
  POST /webhooks/openai/{channel}  OpenAI webhooks for a named channel
  GET  /agent                      WebSocket for relay-agent (bearer token)
  GET  /api/status                 channel status (bearer token)
  GET  /healthz                    health check
  GET  /metrics                    Prometheus metrics

Run "relay-agent --relay <this URL> --token <token>" to receive the webhooks.
`

// handleRoot serves GET / and answers 404 for every unknown path.
func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		writeError(w, http.StatusNotFound, "no such endpoint: GET / lists the endpoints")
		return
	}
	if !allowGet(w, r) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprint(w, rootText)
}

// handleHealth serves GET /healthz: 200 when the store answers.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if !allowGet(w, r) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	if err := s.st.Ping(ctx); err != nil {
		s.logger.Warn("health check", logkey.Err, err)
		writeError(w, http.StatusServiceUnavailable, "the relay's event store is not answering")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// statusBody is the answer of GET /api/status.
type statusBody struct {
	Channel       string     `json:"channel"`
	Agents        int        `json:"agents"`
	Events        int64      `json:"events"`
	NewestEventAt *time.Time `json:"newest_event_at"`
}

// handleStatus serves GET /api/status for the channel of the bearer token.
//
// Limitation: agents counts the agents connected to this instance only; with
// several instances sharing PostgreSQL, each reports its own. Counting them
// in the store would give the total.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	if !allowGet(w, r) {
		return
	}
	c := s.authorize(w, r)
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	st, err := s.st.Stats(ctx, c.name)
	if err != nil {
		s.logger.Warn("read channel stats", logkey.Channel, c.name, logkey.Err, err)
		writeError(w, http.StatusServiceUnavailable, "the relay's event store is not answering")
		return
	}
	body := statusBody{Channel: c.name, Agents: s.agentCount(c.name), Events: st.Events}
	if !st.Newest.IsZero() {
		t := st.Newest.UTC()
		body.NewestEventAt = &t
	}
	writeJSON(w, http.StatusOK, body)
}

// authorize returns the channel of r's bearer token, or answers 401 and
// returns nil.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) *channel {
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hookrelay"`)
		writeError(w, http.StatusUnauthorized,
			"missing bearer token: send Authorization: Bearer <token> with the relay's RELAY_TOKEN")
		return nil
	}
	if c := s.channelOfToken(token); c != nil {
		return c
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="hookrelay", error="invalid_token"`)
	writeError(w, http.StatusUnauthorized,
		"bearer token not accepted: use the relay's RELAY_TOKEN")
	return nil
}

// channelOfToken returns the channel whose token is token, or nil. It
// compares hashes in constant time and checks every channel, so the time it
// takes tells nothing about the tokens.
func (s *Server) channelOfToken(token string) *channel {
	h := sha256.Sum256([]byte(token))
	var found *channel
	for _, c := range s.channels {
		if subtle.ConstantTimeCompare(h[:], c.tokenHash[:]) == 1 {
			found = c
		}
	}
	return found
}

// bearerToken returns the token of an Authorization header value.
func bearerToken(auth string) (string, bool) {
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// allowGet answers 405 and returns false unless r is a GET or HEAD.
func allowGet(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeError(w, http.StatusMethodNotAllowed, "method not allowed: use GET")
	return false
}

// errorBody is the answer of every failed request.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // messages say <token>, for people to read
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString(`{"error":"internal error"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}
