package trigger

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/wire"
)

// Config configures Run.
type Config struct {
	// Kind is the job to start.
	Kind Kind
	// Model runs the job. If empty, DefaultModel is used.
	Model string
	// Tail says how to reach the relay. Run sets its Events to
	// Kind.Patterns().
	Tail agent.TailConfig
	// Timeout bounds the wait for the webhook, from the job's creation. If
	// zero, Kind.DefaultTimeout() is used.
	Timeout time.Duration
	// Started is called with the job's id and how long creating it took,
	// before the wait. If nil, nothing is called.
	Started func(id string, took time.Duration)
	// Now tells the time for the round trip. If nil, time.Now is used.
	Now func() time.Time
}

// Result is a job whose webhook came through the relay.
type Result struct {
	// ID is the job's id: resp_… or batch_….
	ID string
	// Event is the job's webhook as the relay sent it.
	Event *wire.Event
	// RoundTrip runs from the create call to the webhook's arrival here.
	RoundTrip time.Duration
}

// TimeoutError means no webhook for the job came within the timeout.
type TimeoutError struct {
	Kind    Kind
	ID      string
	Timeout time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("no %s.* webhook for %s came through the relay within %s: check that "+
		"your OpenAI project's webhook endpoint is the relay's /webhooks/openai URL with %s "+
		"events enabled, or wait longer with --timeout", e.Kind, e.ID, e.Timeout, e.Kind)
}

// Run opens a tail on the relay, starts a job, and waits until the job's
// final webhook arrives through the relay, the timeout passes (a
// *TimeoutError) or ctx ends (ctx's error). The job keeps running at
// OpenAI when Run gives up.
func Run(ctx context.Context, client *openai.Client, cfg Config) (*Result, error) {
	if _, err := ParseKind(string(cfg.Kind)); err != nil {
		return nil, err
	}
	cfg.applyDefaults()
	cfg.Tail.Events = cfg.Kind.Patterns()
	tl, err := agent.OpenTail(ctx, cfg.Tail)
	if err != nil {
		return nil, err
	}
	defer tl.Close()

	start := cfg.Now()
	id, err := Start(ctx, client, cfg.Kind, cfg.Model)
	if err != nil {
		return nil, err
	}
	if cfg.Started != nil {
		cfg.Started(id, cfg.Now().Sub(start))
	}
	res := &Result{ID: id}
	wctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	err = tl.Each(wctx, func(ev *wire.Event) bool {
		if !Matches(ev, cfg.Kind, id) {
			return false
		}
		res.Event, res.RoundTrip = ev, cfg.Now().Sub(start)
		return true
	})
	switch {
	case err != nil:
		return nil, err
	case res.Event != nil:
		return res, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	}
	return nil, &TimeoutError{Kind: cfg.Kind, ID: id, Timeout: cfg.Timeout}
}

func (c *Config) applyDefaults() {
	if c.Model == "" {
		c.Model = DefaultModel
	}
	if c.Timeout == 0 {
		c.Timeout = c.Kind.DefaultTimeout()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Matches reports whether ev is a webhook of kind k about the job id: its
// type is in k's family and its data.id is id. Every such webhook OpenAI
// sends marks the job's end.
func Matches(ev *wire.Event, k Kind, id string) bool {
	var body struct {
		Type string `json:"type"`
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(ev.Body, &body); err != nil {
		return false
	}
	return strings.HasPrefix(body.Type, string(k)+".") && body.Data.ID == id && id != ""
}
