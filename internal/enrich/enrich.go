// Package enrich fetches what a webhook only names: a response.* event
// carries the id of a model response, and the details view shows that
// response's status, model, usage and output text, fetched from the OpenAI
// API with openai-go.
//
// New returns an Enricher for a client and a history; its Enrich fetches
// once per event and caches the result in the history, so that a second look
// and a restart cost no call. Applies says which events it serves.
package enrich

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"

	"github.com/hookrelay/hookrelay/internal/history"
)

// MaxOutputText bounds the output text an Enrichment keeps, in bytes: the
// details view shows what a handler received, not a whole essay.
const MaxOutputText = 4 << 10

// Errors of Enrich.
var (
	// ErrDisabled says enrichment is off: no OpenAI API key was given.
	ErrDisabled = errors.New("enrichment is off: set OPENAI_API_KEY")
	// ErrNotResponse says the event is not a response.* event naming a
	// response in its data.id.
	ErrNotResponse = errors.New("not a response.* event with a data.id")
)

// Enrichment is what the OpenAI API says of the response an event names.
// When the fetch failed, Error says why and only ResponseID and FetchedAt
// are set besides it.
type Enrichment struct {
	// ResponseID is the response's id, the event's data.id ("resp_…").
	ResponseID string `json:"response_id"`
	// Status is the response's status: completed, failed, cancelled,
	// incomplete, queued or in_progress.
	Status string `json:"status,omitempty"`
	// Model is the model that ran the response.
	Model string `json:"model,omitempty"`
	// Reason says why a response failed or is incomplete.
	Reason string `json:"reason,omitempty"`
	// OutputText is the text the response output, cut at MaxOutputText
	// bytes.
	OutputText string `json:"output_text,omitempty"`
	// Truncated reports that OutputText was cut.
	Truncated bool `json:"truncated,omitempty"`
	// Token usage; all zero when the response reports none.
	InputTokens     int64 `json:"input_tokens,omitempty"`
	CachedTokens    int64 `json:"cached_tokens,omitempty"`
	OutputTokens    int64 `json:"output_tokens,omitempty"`
	ReasoningTokens int64 `json:"reasoning_tokens,omitempty"`
	TotalTokens     int64 `json:"total_tokens,omitempty"`
	// Error says why the response could not be fetched, or is "". It
	// never holds the API key.
	Error string `json:"error,omitempty"`
	// FetchedAt is when the API answered.
	FetchedAt time.Time `json:"fetched_at"`
	// Cached reports that the Enrichment came from the history's cache
	// rather than from the API just now.
	Cached bool `json:"-"`
}

// Applies reports whether events of type typ name a response that Enrich
// can fetch.
func Applies(typ string) bool {
	return strings.HasPrefix(typ, "response.")
}

// ResponseID returns the id of the response that ev names, its data.id,
// when ev is a response.* event.
func ResponseID(ev history.Event) (string, bool) {
	if !Applies(ev.Type) {
		return "", false
	}
	var body struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if json.Unmarshal(ev.Body, &body) != nil || body.Data.ID == "" {
		return "", false
	}
	return body.Data.ID, true
}

// fromResponse returns the Enrichment of a fetched response.
func fromResponse(r *responses.Response, fetchedAt time.Time) *Enrichment {
	e := &Enrichment{
		ResponseID:      r.ID,
		Status:          string(r.Status),
		Model:           r.Model,
		InputTokens:     r.Usage.InputTokens,
		CachedTokens:    r.Usage.InputTokensDetails.CachedTokens,
		OutputTokens:    r.Usage.OutputTokens,
		ReasoningTokens: r.Usage.OutputTokensDetails.ReasoningTokens,
		TotalTokens:     r.Usage.TotalTokens,
		FetchedAt:       fetchedAt,
	}
	e.OutputText, e.Truncated = cut(r.OutputText(), MaxOutputText)
	switch {
	case r.Error.Code != "":
		e.Reason = string(r.Error.Code) + ": " + r.Error.Message
	case r.Error.Message != "":
		e.Reason = r.Error.Message
	case r.IncompleteDetails.Reason != "":
		e.Reason = r.IncompleteDetails.Reason
	}
	return e
}

// final reports whether a response's status can no longer change.
func final(status string) bool {
	switch responses.ResponseStatus(status) {
	case responses.ResponseStatusCompleted, responses.ResponseStatusFailed,
		responses.ResponseStatusCancelled, responses.ResponseStatusIncomplete:
		return true
	}
	return false
}

// cut returns at most n bytes of s, ending on a whole character, and
// whether it cut anything.
func cut(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}

// describe says why fetching response id failed, in words for the details
// view. It never quotes the request, whose headers hold the API key.
func describe(err error, id string) string {
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		return "reach the OpenAI API: " + redact(err.Error())
	}
	switch apiErr.StatusCode {
	case http.StatusUnauthorized:
		return "the OpenAI API refused the API key (401): check OPENAI_API_KEY"
	case http.StatusForbidden:
		return "the API key may not read response " + id + " (403)"
	case http.StatusNotFound:
		return "OpenAI has no response " + id + " (404): it belongs to another project, or " +
			"was not stored (a background response without store: true is kept about ten minutes)"
	case http.StatusTooManyRequests:
		return "the OpenAI API is rate limiting this key (429): look again later"
	}
	return fmt.Sprintf("the OpenAI API answered %d: %s", apiErr.StatusCode,
		redact(apiErr.Message))
}

// secretish matches what may be an API key in a message: OpenAI keys start
// with sk-, and any bearer credential follows "Bearer".
var secretish = regexp.MustCompile(`sk-[A-Za-z0-9_*\-]+|(?i:bearer)\s+\S+`)

// redact hides what looks like an API key in a message from the API. The
// API masks keys itself, but a message is shown on screen and cached.
func redact(msg string) string {
	return secretish.ReplaceAllString(msg, "[redacted]")
}
