// Package printer shows what an agent does as text, for when there is no
// terminal UI: one plain line per delivery (Plain) or one JSON object per
// line (JSON). Each is a listener of agent updates, like the UI.
package printer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/history"
)

// Record is one delivery as the JSON printer writes it.
type Record struct {
	Seq       int64  `json:"seq"`
	ID        string `json:"id"` // the event id from the body (evt_…), else the webhook-id
	WebhookID string `json:"webhook_id"`
	Type      string `json:"type"`
	Status    int    `json:"status"`
	Outcome   string `json:"outcome"`
	LatencyMS int64  `json:"latency_ms"`
	Attempt   int    `json:"attempt"`
	Replay    bool   `json:"replay,omitempty"`
	Target    string `json:"target"`
	Error     string `json:"error,omitempty"`
}

// NewRecord describes attempt a of event e.
func NewRecord(e *history.Event, a *history.Attempt) Record {
	id := e.EventID
	if id == "" {
		id = e.WebhookID
	}
	return Record{
		Seq:       e.Seq,
		ID:        id,
		WebhookID: e.WebhookID,
		Type:      e.Type,
		Status:    a.Status,
		Outcome:   string(a.Outcome),
		LatencyMS: a.Latency.Milliseconds(),
		Attempt:   a.N,
		Replay:    a.Replay,
		Target:    a.Target,
		Error:     a.Error,
	}
}

// JSON writes one Record per delivery attempt to w until updates closes or
// ctx ends.
func JSON(ctx context.Context, w io.Writer, updates <-chan agent.Update) error {
	enc := json.NewEncoder(w)
	return each(ctx, updates, func(u agent.Update) error {
		if u.Kind != agent.KindAttempt {
			return nil
		}
		return enc.Encode(NewRecord(u.Event, u.Attempt))
	})
}

// Plain writes one line per delivery attempt, and one per connection change
// and notice, to w until updates closes or ctx ends.
func Plain(ctx context.Context, w io.Writer, updates <-chan agent.Update) error {
	return each(ctx, updates, func(u agent.Update) error {
		line := plainLine(u)
		if line == "" {
			return nil
		}
		_, err := fmt.Fprintf(w, "%s  %s\n", u.Time.Format("15:04:05"), line)
		return err
	})
}

func each(ctx context.Context, updates <-chan agent.Update, f func(agent.Update) error) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case u, ok := <-updates:
			if !ok {
				return nil
			}
			if err := f(u); err != nil {
				return err
			}
		}
	}
}

func plainLine(u agent.Update) string {
	switch u.Kind {
	case agent.KindAttempt:
		return attemptLine(u.Event, u.Attempt)
	case agent.KindConn:
		return connLine(u.Conn)
	case agent.KindPaused:
		if *u.Paused {
			return "forwarding paused"
		}
		return "forwarding resumed"
	case agent.KindNotice:
		return u.Notice.Message
	}
	return ""
}

func attemptLine(e *history.Event, a *history.Attempt) string {
	r := NewRecord(e, a)
	result := fmt.Sprintf("%d", a.Status)
	if a.Status == 0 {
		result = string(a.Outcome)
	}
	line := fmt.Sprintf("%-28s %s  -> %s %s [%s]", r.Type, r.ID, result,
		roundLatency(a.Latency), a.Target)
	if a.N > 1 {
		line += fmt.Sprintf(" attempt %d", a.N)
	}
	if a.Replay {
		line += " replay"
	}
	if a.Error != "" {
		line += ": " + a.Error
	}
	return line
}

func connLine(c *agent.ConnState) string {
	switch c.State {
	case agent.PhaseConnected:
		return fmt.Sprintf("connected to %s, channel %s", relayHost(c.Relay), c.Channel)
	case agent.PhaseReconnecting:
		return fmt.Sprintf("relay connection lost (%s); reconnecting, attempt %d in %s",
			c.Err, c.Attempt, c.Retry.Round(time.Millisecond))
	case agent.PhaseRefused:
		return "the relay refused the token: check --token or RELAY_TOKEN"
	}
	return ""
}

// roundLatency keeps two or three significant digits: 12ms, 1.4ms, 310µs.
func roundLatency(d time.Duration) time.Duration {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(10 * time.Microsecond)
}

// relayHost returns the host of a relay URL, leaving out anything else it
// may carry, such as credentials.
func relayHost(relay string) string {
	if u, err := url.Parse(relay); err == nil && u.Host != "" {
		return u.Host
	}
	return "the relay"
}
