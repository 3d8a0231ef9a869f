package history

import (
	"net/http"
	"time"
)

// Event is a webhook the agent received from a relay, as recorded locally.
type Event struct {
	// ID is the event's number in this history, assigned by Record.
	ID int64
	// Source names the relay and channel the event came from
	// ("relay.example.com/default"); sequence numbers are per source.
	Source string
	// Seq is the relay's sequence number of the event within its channel.
	Seq int64
	// WebhookID is the webhook-id header.
	WebhookID string
	// EventID is the id field of the body ("evt_…"), or "".
	EventID string
	// Type is the type field of the body, or "".
	Type string
	// Header holds the headers the relay received.
	Header http.Header
	// Body is the exact body the relay received.
	Body []byte
	// ReceivedAt is when the relay received the webhook.
	ReceivedAt time.Time
	// RecordedAt is when the agent recorded it.
	RecordedAt time.Time
	// State is where the event's delivery stands.
	State State
}

// State is where an event's first delivery stands.
type State string

// Event states.
const (
	StatePending   State = "pending"   // not yet delivered; resumed after a restart
	StateDelivered State = "delivered" // the app answered 2xx
	StateFailed    State = "failed"    // given up: 4xx, redirect or retries exhausted
)

// Attempt is one delivery of an event to the app.
type Attempt struct {
	// ID is the attempt's number in this history, assigned by AddAttempt.
	ID int64
	// EventID is the History ID of the event delivered.
	EventID int64
	// N counts the attempts of one delivery, from 1; a replay starts at 1
	// again.
	N int
	// Replay is true for a delivery the user asked for (replay, resend,
	// edit, replay on save), false for the first delivery and its retries.
	Replay bool
	// Edited is true when Body replaced the original body.
	Edited bool
	// Body is the body sent when Edited; nil otherwise (the event's body
	// was sent).
	Body []byte
	// Target is the URL the delivery went to.
	Target string
	// StartedAt is when the request was sent.
	StartedAt time.Time
	// Latency is how long the app took to answer, or until the failure.
	Latency time.Duration
	// Outcome says what happened.
	Outcome Outcome
	// Status is the app's HTTP status code, or 0 when it did not answer.
	Status int
	// Error describes a failure without an answer ("connection refused").
	Error string
	// RequestHeader holds the headers sent, signatures included.
	RequestHeader http.Header
	// ResponseHeader holds the app's answer headers.
	ResponseHeader http.Header
	// ResponseBody holds the first MaxResponseBody bytes of the answer.
	ResponseBody []byte
}

// MaxResponseBody is how much of an app's answer an Attempt keeps.
const MaxResponseBody = 64 << 10

// Outcome is what became of one delivery attempt.
type Outcome string

// Attempt outcomes.
const (
	OutcomeDelivered Outcome = "delivered" // 2xx
	OutcomeRejected  Outcome = "rejected"  // 4xx: recorded, not retried
	OutcomeServerErr Outcome = "error"     // 5xx: retried
	OutcomeRedirect  Outcome = "redirect"  // 3xx: recorded, never followed
	OutcomeRefused   Outcome = "refused"   // connection refused: retried
	OutcomeTimeout   Outcome = "timeout"   // no answer within the timeout: retried
	OutcomeFailed    Outcome = "failed"    // any other transport error: retried
)
