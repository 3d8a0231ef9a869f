// Package trigger starts real OpenAI jobs, a background response or a
// one-request batch, and waits for their webhooks to come back through a
// hookrelay relay, timing the round trip.
//
// Run does it all: it opens an agent.Tail on the relay first, so that even
// a webhook faster than the create call's answer is seen, then starts the
// job with StartResponse or StartBatch and returns once Matches finds the
// job's final webhook. relay-agent trigger --openai is its command.
package trigger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"
)

// Kind names a job that Run can start.
type Kind string

// The kinds of job, named as their webhook families are.
const (
	KindResponse Kind = "response" // a background response; response.* webhooks
	KindBatch    Kind = "batch"    // a batch of one request; batch.* webhooks
)

// Defaults of Run.
const (
	// DefaultModel is a small, cheap model that the Responses API and the
	// Batch API both serve.
	DefaultModel = openai.ChatModelGPT5Nano
	// DefaultResponseTimeout bounds the wait for a response's webhook: a
	// tiny prompt completes in seconds.
	DefaultResponseTimeout = 10 * time.Minute
	// DefaultBatchTimeout bounds the wait for a batch's webhook: OpenAI
	// promises batches within their 24-hour completion window.
	DefaultBatchTimeout = 24 * time.Hour
)

// Prompt is the input of every job: a few tokens in, one word out.
const Prompt = "Reply with the single word: pong"

// metadata tags every job, so that it can be recognized in the OpenAI
// dashboard.
var metadata = shared.Metadata{"created_by": "hookrelay relay-agent trigger"}

// ParseKind returns the Kind named s.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case KindResponse, KindBatch:
		return k, nil
	}
	return "", fmt.Errorf("unknown OpenAI job %q: want response or batch", s)
}

// DefaultTimeout returns how long Run waits for a webhook of k by default.
func (k Kind) DefaultTimeout() time.Duration {
	if k == KindBatch {
		return DefaultBatchTimeout
	}
	return DefaultResponseTimeout
}

// Patterns returns the event type patterns of k's webhooks.
func (k Kind) Patterns() []string {
	return []string{string(k) + ".*"}
}

// Start starts a job of kind k with model and returns its id.
func Start(ctx context.Context, client *openai.Client, k Kind, model string) (string, error) {
	switch k {
	case KindResponse:
		return StartResponse(ctx, client, model)
	case KindBatch:
		return StartBatch(ctx, client, model)
	}
	return "", fmt.Errorf("unknown OpenAI job %q: want response or batch", k)
}

// StartResponse creates a stored background response to Prompt with model
// and returns its id. OpenAI sends response.completed (or .failed,
// .cancelled, .incomplete) when it ends.
func StartResponse(ctx context.Context, client *openai.Client, model string) (string, error) {
	resp, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model:      model,
		Input:      responses.ResponseNewParamsInputUnion{OfString: openai.String(Prompt)},
		Background: openai.Bool(true),
		Store:      openai.Bool(true),
		Metadata:   metadata,
	})
	if err != nil {
		return "", apiError("create background response", err)
	}
	if resp.ID == "" {
		return "", errors.New("create background response: OpenAI answered without an id")
	}
	return resp.ID, nil
}

// batchLine returns the one line of input StartBatch uploads: a request to
// the Responses API for Prompt with model.
func batchLine(model string) []byte {
	line, _ := json.Marshal(map[string]any{ // a map of strings always encodes
		"custom_id": "hookrelay-trigger",
		"method":    "POST",
		"url":       string(openai.BatchNewParamsEndpointV1Responses),
		"body":      map[string]string{"model": model, "input": Prompt},
	})
	return append(line, '\n')
}

// StartBatch uploads a batch input file of one request, for Prompt with
// model through the Responses API, creates a batch over it with a 24-hour
// window and returns the batch's id. OpenAI sends batch.completed (or
// .failed, .cancelled, .expired) when it ends.
//
// Limitation: the input file stays in the project until it expires, after
// 30 days as OpenAI keeps batch files; deleting it once the batch ends would
// tidy up.
func StartBatch(ctx context.Context, client *openai.Client, model string) (string, error) {
	input := bytes.NewReader(batchLine(model))
	file, err := client.Files.New(ctx, openai.FileNewParams{
		File:    openai.File(input, "hookrelay-trigger.jsonl", "application/jsonl"),
		Purpose: openai.FilePurposeBatch,
	})
	if err != nil {
		return "", apiError("upload batch input file", err)
	}
	batch, err := client.Batches.New(ctx, openai.BatchNewParams{
		InputFileID:      file.ID,
		Endpoint:         openai.BatchNewParamsEndpointV1Responses,
		CompletionWindow: openai.BatchNewParamsCompletionWindow24h,
		Metadata:         metadata,
	})
	if err != nil {
		return "", apiError("create batch", err)
	}
	if batch.ID == "" {
		return "", errors.New("create batch: OpenAI answered without an id")
	}
	return batch.ID, nil
}

// apiKeyPattern matches OpenAI API keys, masked or not.
var apiKeyPattern = regexp.MustCompile(`sk-[A-Za-z0-9_*-]+`)

// apiError describes a failed API call with what OpenAI said. The SDK's
// own message holds only the status; OpenAI's message names the problem
// (an unknown model, a bad key). A key the message quotes, even masked as
// OpenAI does, is left out.
func apiError(op string, err error) error {
	var ae *openai.Error
	if !errors.As(err, &ae) {
		return fmt.Errorf("%s: %w", op, err)
	}
	msg := apiKeyPattern.ReplaceAllString(strings.TrimSpace(ae.Message), "sk-…")
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	hint := ""
	if ae.StatusCode == 401 {
		hint = " (check OPENAI_API_KEY)"
	}
	if msg == "" {
		return fmt.Errorf("%s: %w%s", op, err, hint)
	}
	return fmt.Errorf("%s: %w: %s%s", op, err, msg, hint)
}
