// Package wire defines the protocol that a relay and its agents speak over
// one WebSocket, and the heartbeat both ends run.
//
// # Protocol hookrelay.v1
//
// The agent dials GET /agent with "Authorization: Bearer <token>" and offers
// the subprotocol named by Subprotocol. The relay answers 401 before
// upgrading when the token is wrong. Every message is one JSON text message
// holding a Message whose Type says which of its fields is set.
//
//  1. The agent sends a hello: its resume cursor (the last sequence number it
//     recorded, or none), how far back to replay on a first run (Since), and
//     the event type patterns it wants (Events; empty means all).
//  2. The relay answers welcome: the channel the token belongs to, the
//     channel's head, the sequence number it will stream after, the window
//     of unacknowledged events it allows in flight, and its body limit.
//  3. The relay sends event messages in sequence order: first the retained
//     events after the resolved cursor, then live ones as they are stored.
//     Both come from the durable log, so the switch has no gap and no
//     duplicate. Events that match no pattern of the hello are skipped by
//     the relay and never cross the network.
//  4. The agent sends ack with the highest sequence number it has recorded.
//     The relay keeps at most Window events sent but not acknowledged; acks
//     are cumulative.
//  5. Either side may send error with a message before closing.
//
// Bodies travel as base64 inside JSON (Go's encoding of []byte), so they
// arrive byte for byte. ReadLimit gives the message size a side must accept
// for a given body limit.
//
// Both ends ping every PingInterval and treat a peer whose pong does not come
// within PingTimeout as gone, so idle proxies never cut the connection and a
// laptop that slept notices the dead socket within about 25 seconds.
package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"time"

	"github.com/coder/websocket"
)

// Subprotocol is the WebSocket subprotocol of this version of the protocol.
const Subprotocol = "hookrelay.v1"

// Heartbeat timing shared by both ends.
const (
	PingInterval = 15 * time.Second // how often each end pings
	PingTimeout  = 10 * time.Second // how long a pong may take
)

// DefaultWindow is how many unacknowledged events the relay keeps in flight.
const DefaultWindow = 64

// Message types.
const (
	TypeHello   = "hello"
	TypeWelcome = "welcome"
	TypeEvent   = "event"
	TypeAck     = "ack"
	TypeError   = "error"
)

// SinceAll asks for every retained event on a first run.
const SinceAll = "all"

// Message is one frame of the protocol. Type names the one field that is set.
type Message struct {
	Type    string   `json:"type"`
	Hello   *Hello   `json:"hello,omitempty"`
	Welcome *Welcome `json:"welcome,omitempty"`
	Event   *Event   `json:"event,omitempty"`
	Ack     *Ack     `json:"ack,omitempty"`
	Error   *Error   `json:"error,omitempty"`
}

// Hello opens a session. It is the agent's first message.
type Hello struct {
	// Agent names the agent's software and version, for the relay's logs.
	Agent string `json:"agent,omitempty"`
	// Cursor is the last sequence number the agent recorded for this
	// channel, or nil on a first run.
	Cursor *int64 `json:"cursor,omitempty"`
	// Since says how far back to start: "" for live only (when Cursor is
	// nil), "all" for every retained event, or a Go duration such as "1h".
	// With a Cursor, the earlier of the two starting points wins.
	Since string `json:"since,omitempty"`
	// Events are event type patterns ("response.*", "batch.completed");
	// empty means every event.
	Events []string `json:"events,omitempty"`
}

// Welcome accepts a session.
type Welcome struct {
	// Channel is the channel the agent's token belongs to.
	Channel string `json:"channel"`
	// Head is the channel's highest sequence number when the session began.
	Head int64 `json:"head"`
	// After is the sequence number streaming starts after.
	After int64 `json:"after"`
	// Window is how many events may be in flight unacknowledged.
	Window int `json:"window"`
	// MaxBody is the relay's body limit; the agent sets its read limit to
	// ReadLimit(MaxBody) once welcomed.
	MaxBody int64 `json:"max_body"`
}

// Event carries one stored webhook.
type Event struct {
	Seq        int64       `json:"seq"`
	WebhookID  string      `json:"webhook_id"`
	Type       string      `json:"type,omitempty"`
	Header     http.Header `json:"header"`
	Body       []byte      `json:"body"`
	ReceivedAt time.Time   `json:"received_at"`
}

// Ack acknowledges every event up to and including Seq.
type Ack struct {
	Seq int64 `json:"seq"`
}

// Error explains why a side is about to close the session.
type Error struct {
	Message string `json:"message"`
}

// ReadLimit returns the largest message a side must accept when bodies may
// be up to maxBody bytes: the body grows by a third in base64, and headers
// and framing get 64 KiB.
func ReadLimit(maxBody int64) int64 {
	return (maxBody+2)/3*4 + 64<<10
}

// Write sends m on c.
func Write(ctx context.Context, c *websocket.Conn, m *Message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s: %w", m.Type, err)
	}
	return c.Write(ctx, websocket.MessageText, b)
}

// Read receives the next message from c. A message that is not valid JSON or
// lacks the field its type names is an error.
func Read(ctx context.Context, c *websocket.Conn) (*Message, error) {
	typ, b, err := c.Read(ctx)
	if err != nil {
		return nil, err
	}
	if typ != websocket.MessageText {
		return nil, fmt.Errorf("unexpected binary message")
	}
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode message: %w", err)
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *Message) check() error {
	var ok bool
	switch m.Type {
	case TypeHello:
		ok = m.Hello != nil
	case TypeWelcome:
		ok = m.Welcome != nil
	case TypeEvent:
		ok = m.Event != nil
	case TypeAck:
		ok = m.Ack != nil
	case TypeError:
		ok = m.Error != nil
	default:
		return fmt.Errorf("unknown message type %q", m.Type)
	}
	if !ok {
		return fmt.Errorf("%s message without its %s field", m.Type, m.Type)
	}
	return nil
}

// Heartbeat pings c every PingInterval until ctx is done and returns the
// error of the first ping whose pong did not arrive within PingTimeout. The
// connection is closed by then. Someone must be reading from c meanwhile, or
// no pong is ever seen.
func Heartbeat(ctx context.Context, c *websocket.Conn) error {
	return HeartbeatEvery(ctx, c, PingInterval, PingTimeout)
}

// HeartbeatEvery is Heartbeat with other timing, for tests.
func HeartbeatEvery(ctx context.Context, c *websocket.Conn, interval, timeout time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, timeout)
		err := c.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("peer silent for %s: %w", interval+timeout, err)
		}
	}
}

// Match reports whether an event of type typ passes the patterns. An empty
// list matches every type. Patterns use path.Match syntax, and since event
// types hold no slash, "*" matches any run of characters, dots included:
// "fine_tuning.*" matches "fine_tuning.job.failed", "*.failed" every failure.
func Match(patterns []string, typ string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, typ); ok {
			return true
		}
	}
	return false
}

// ValidatePatterns returns an error naming the first malformed pattern.
func ValidatePatterns(patterns []string) error {
	for _, p := range patterns {
		if p == "" {
			return fmt.Errorf("empty event pattern")
		}
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("event pattern %q: %w", p, err)
		}
	}
	return nil
}
