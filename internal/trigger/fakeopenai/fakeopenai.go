// Package fakeopenai is a fake OpenAI API for tests. It answers the calls
// that relay-agent trigger --openai makes (create a response, upload a
// file, create a batch), records them, and posts the job's webhook, signed
// with a whsec_ secret as OpenAI signs it, to a relay's ingress. It also
// answers the retrieval of a response it created, finished, with output
// text and usage, as the agent's details view fetches it.
//
// Start returns a running Server; point openai-go at its URL with
// option.WithBaseURL or OPENAI_BASE_URL, and Close it at the end.
package fakeopenai

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Config configures a Server.
type Config struct {
	// WebhookURL receives the webhooks: a relay's /webhooks/openai URL. If
	// empty, no webhook is sent, as when the project has no endpoint.
	WebhookURL string
	// Secret is the whsec_ secret webhooks are signed with.
	Secret string
	// Outcome ends the webhook's type ("response." + Outcome). If empty,
	// "completed".
	Outcome string
	// Decoy sends first a webhook of the same type for another job, as a
	// busy project would.
	Decoy bool
	// OutputText is the text every response outputs. If empty, "pong".
	OutputText string
	// Refuse, when not zero, is the status every job creation and
	// retrieval fails with.
	// A 401 quotes the request's API key in its message, as a careless API
	// might (OpenAI masks it), so tests can check that it is never shown.
	Refuse int
}

// Request is one API call the server received.
type Request struct {
	Method        string
	Path          string
	Authorization string
	// Body is the JSON body; for a file upload, the file's content.
	Body []byte
	// Purpose and Filename are the file upload's fields.
	Purpose  string
	Filename string
}

// Webhook is one webhook the server posted.
type Webhook struct {
	Type      string
	JobID     string // the body's data.id
	WebhookID string
	Status    int   // the relay's answer
	Err       error // why the post failed, or nil
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	// URL is the API's base URL, ending in /v1.
	URL string

	cfg Config
	srv *httptest.Server

	// mu guards the fields below.
	mu       sync.Mutex
	requests []Request
	webhooks []Webhook
	models   map[string]string // model of each response created, by id
}

// Start starts a Server for cfg.
func Start(cfg Config) *Server {
	if cfg.Outcome == "" {
		cfg.Outcome = "completed"
	}
	if cfg.OutputText == "" {
		cfg.OutputText = "pong"
	}
	s := &Server{cfg: cfg, models: make(map[string]string)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/v1"
	return s
}

// Close stops the server.
func (s *Server) Close() {
	s.srv.Close()
}

// Requests returns the calls received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Webhooks returns the webhooks posted so far.
func (s *Server) Webhooks() []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Webhook(nil), s.webhooks...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	req := Request{Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization")}
	if err := readBody(r, &req); err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	if !strings.HasPrefix(req.Authorization, "Bearer ") {
		apiError(w, http.StatusUnauthorized, "You didn't provide an API key.")
		return
	}
	if id, ok := strings.CutPrefix(r.URL.Path, "/v1/responses/"); ok && r.Method == "GET" {
		s.getResponse(w, r, id)
		return
	}
	switch r.Method + " " + r.URL.Path {
	case "POST /v1/responses":
		s.createJob(w, r, "response", "resp_", req.Body)
	case "POST /v1/batches":
		s.createJob(w, r, "batch", "batch_", nil)
	case "POST /v1/files":
		answer(w, map[string]any{"id": "file-" + randomHex(12), "object": "file",
			"bytes": len(req.Body), "created_at": time.Now().Unix(), "filename": req.Filename,
			"purpose": req.Purpose, "status": "processed"})
	default:
		apiError(w, http.StatusNotFound, "Invalid URL ("+r.Method+" "+r.URL.Path+")")
	}
}

// readBody reads a JSON body, or a multipart file upload, into req.
func readBody(r *http.Request, req *Request) error {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		b, err := io.ReadAll(r.Body)
		req.Body = b
		return err
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		return fmt.Errorf("parse upload: %w", err)
	}
	req.Purpose = r.FormValue("purpose")
	f, h, err := r.FormFile("file")
	if err != nil {
		return fmt.Errorf("upload without a file: %w", err)
	}
	defer f.Close()
	req.Filename = h.Filename
	req.Body, err = io.ReadAll(f)
	return err
}

// createJob sends the new job's webhooks before it answers, as the fastest
// OpenAI could: a client must be listening before it creates a job.
func (s *Server) createJob(w http.ResponseWriter, r *http.Request, kind, prefix string,
	body []byte) {
	if s.cfg.Refuse != 0 {
		s.refuse(w, r)
		return
	}
	id := prefix + randomHex(16)
	if kind == "response" {
		s.remember(id, body)
	}
	if s.cfg.WebhookURL != "" {
		if s.cfg.Decoy {
			s.sendWebhook(kind, prefix+randomHex(16))
		}
		s.sendWebhook(kind, id)
	}
	answer(w, map[string]any{"id": id, "object": kind, "created_at": time.Now().Unix(),
		"status": "queued", "background": kind == "response", "metadata": map[string]string{}})
}

// remember keeps the model of a new response, named in its creation's body,
// for its retrieval.
func (s *Server) remember(id string, body []byte) {
	var params struct {
		Model string `json:"model"`
	}
	json.Unmarshal(body, &params)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.models[id] = params.Model
}

// getResponse answers the retrieval of a response: one the server created
// has finished with the configured outcome; any other is unknown, as a
// background response is once OpenAI no longer keeps it.
func (s *Server) getResponse(w http.ResponseWriter, r *http.Request, id string) {
	if s.cfg.Refuse != 0 {
		s.refuse(w, r)
		return
	}
	s.mu.Lock()
	model, ok := s.models[id]
	s.mu.Unlock()
	if !ok {
		apiError(w, http.StatusNotFound, "Response with id '"+id+"' not found.")
		return
	}
	answer(w, s.response(id, model))
}

// response returns a finished response as the API shows it, with a
// reasoning item before the message, as a reasoning model outputs.
func (s *Server) response(id, model string) map[string]any {
	status := s.cfg.Outcome
	resp := map[string]any{"id": id, "object": "response", "created_at": time.Now().Unix(),
		"status": status, "background": true, "model": model, "error": nil,
		"incomplete_details": nil, "metadata": map[string]string{}, "output": []any{},
		"parallel_tool_calls": true, "temperature": 1.0, "top_p": 1.0, "tool_choice": "auto",
		"tools": []any{}, "usage": nil}
	switch status {
	case "failed":
		resp["error"] = map[string]any{"code": "server_error",
			"message": "The model failed to generate a response."}
		return resp
	case "incomplete":
		resp["incomplete_details"] = map[string]any{"reason": "max_output_tokens"}
	case "cancelled":
		return resp
	}
	resp["output"] = []any{
		map[string]any{"type": "reasoning", "id": "rs_" + randomHex(16), "summary": []any{}},
		map[string]any{"type": "message", "id": "msg_" + randomHex(16), "status": "completed",
			"role": "assistant", "content": []any{map[string]any{"type": "output_text",
				"text": s.cfg.OutputText, "annotations": []any{}, "logprobs": []any{}}}},
	}
	resp["usage"] = usage()
	return resp
}

// The usage of every response the server answers with output.
const (
	InputTokens     = 19
	OutputTokens    = 71 // reasoning included
	ReasoningTokens = 64
	TotalTokens     = InputTokens + OutputTokens
)

func usage() map[string]any {
	return map[string]any{
		"input_tokens": InputTokens, "input_tokens_details": map[string]any{"cached_tokens": 0},
		"output_tokens":         OutputTokens,
		"output_tokens_details": map[string]any{"reasoning_tokens": ReasoningTokens},
		"total_tokens":          TotalTokens,
	}
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Refuse == http.StatusUnauthorized {
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		apiError(w, s.cfg.Refuse, "Incorrect API key provided: "+key+".")
		return
	}
	apiError(w, s.cfg.Refuse, "The model does not exist or you do not have access to it.")
}

// sendWebhook posts a signed webhook of kind's outcome about job id.
func (s *Server) sendWebhook(kind, id string) {
	typ := kind + "." + s.cfg.Outcome
	wh := Webhook{Type: typ, JobID: id, WebhookID: "wh_" + randomHex(16)}
	wh.Status, wh.Err = s.post(typ, id, wh.WebhookID)
	s.mu.Lock()
	s.webhooks = append(s.webhooks, wh)
	s.mu.Unlock()
}

func (s *Server) post(typ, id, webhookID string) (int, error) {
	now := time.Now()
	body := fmt.Appendf(nil,
		`{"object":"event","id":"evt_%s","type":%q,"created_at":%d,"data":{"id":%q}}`,
		randomHex(16), typ, now.Unix(), id)
	signer, err := standardwebhooks.NewWebhook(s.cfg.Secret)
	if err != nil {
		return 0, fmt.Errorf("webhook secret: %w", err)
	}
	sig, err := signer.Sign(webhookID, now, body)
	if err != nil {
		return 0, fmt.Errorf("sign webhook: %w", err)
	}
	req, err := http.NewRequest(http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "OpenAI/1.0 (+https://platform.openai.com/docs/webhooks)")
	req.Header.Set("Webhook-Id", webhookID)
	req.Header.Set("Webhook-Timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("Webhook-Signature", sig)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, fmt.Errorf("post webhook: %w", err)
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// apiError answers as the OpenAI API does when a call fails.
func apiError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": msg, "type": "invalid_request_error", "param": nil, "code": nil}})
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
