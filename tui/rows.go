package tui

import (
	"strconv"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/history"
)

// row is one event of the list and what the screen knows of its delivery.
type row struct {
	ev   history.Event
	last history.Attempt // the newest finished attempt, when hasLast
	// hasLast is set once an attempt of the event has finished.
	hasLast bool
	// inflight is the number of the attempt being made, 0 when none.
	inflight       int
	inflightReplay bool

	family string
}

// outcomeKind says how a row's outcome is drawn.
type outcomeKind int

const (
	outcomePending outcomeKind = iota // queued, in flight or retrying
	outcomeOK                         // the app answered 2xx
	outcomeBad                        // the delivery failed
)

func newRow(ev history.Event) row {
	return row{ev: ev, family: family(ev.Type)}
}

// family returns the family of an event type: its first dotted part
// ("response", "fine_tuning"), or "other" for an event without a type.
func family(typ string) string {
	if typ == "" {
		return "other"
	}
	if i := strings.IndexByte(typ, '.'); i > 0 {
		return typ[:i]
	}
	return typ
}

// knownFamilies orders the families that t cycles through first.
var knownFamilies = []string{"response", "batch", "fine_tuning", "eval", "realtime"}

// failed reports whether the event's delivery failed: its newest attempt was
// not answered 2xx, or the agent gave up on it.
func (r *row) failed() bool {
	if r.hasLast {
		return r.last.Outcome != history.OutcomeDelivered
	}
	return r.ev.State == history.StateFailed
}

// setAttempt records a finished attempt, unless a newer one is known. A
// first delivery that succeeded or
// failed for good settles the event's state; a retryable failure leaves it
// pending, as the agent retries it.
func (r *row) setAttempt(a history.Attempt) {
	if r.hasLast && a.ID != 0 && a.ID < r.last.ID {
		return // older than the one shown, which the history loaded
	}
	r.last, r.hasLast = listAttempt(a), true
	r.inflight, r.inflightReplay = 0, false
	if a.Replay || r.ev.State != history.StatePending {
		return
	}
	switch {
	case a.Outcome == history.OutcomeDelivered:
		r.ev.State = history.StateDelivered
	case !agent.Retryable(a.Outcome):
		r.ev.State = history.StateFailed
	}
}

// listAttempt returns what the list keeps of an attempt: not the headers
// and the answer's body, which the details read from the history, so that a
// long history fits in memory.
func listAttempt(a history.Attempt) history.Attempt {
	a.RequestHeader, a.ResponseHeader, a.ResponseBody = nil, nil, nil
	if !a.Edited {
		a.Body = nil
	}
	return a
}

// displayID returns the id a person knows the event by: the evt_ id of its
// body, else its webhook-id, else its number in the history.
func (r *row) displayID() string {
	switch {
	case r.ev.EventID != "":
		return r.ev.EventID
	case r.ev.WebhookID != "":
		return r.ev.WebhookID
	}
	return "#" + strconv.FormatInt(r.ev.ID, 10)
}

// outcome returns the text of the row's delivery outcome and how to draw it:
// a status code, refused, timeout, failed, pending or retrying n. A row
// leaves "retrying n" when the agent republishes the event with its final
// state.
func (r *row) outcome() (string, outcomeKind) {
	switch {
	case r.inflight > 1:
		return "retrying " + strconv.Itoa(r.inflight), outcomePending
	case r.inflight == 1:
		return "pending", outcomePending
	case !r.hasLast:
		return r.stateOutcome()
	}
	a := &r.last
	if !a.Replay && r.ev.State == history.StatePending && agent.Retryable(a.Outcome) {
		return "retrying " + strconv.Itoa(a.N+1), outcomePending
	}
	return attemptOutcome(a)
}

// attemptOutcome returns the text of a finished attempt's outcome, a status
// code when the app answered, and how to draw it.
func attemptOutcome(a *history.Attempt) (string, outcomeKind) {
	kind := outcomeBad
	if a.Outcome == history.OutcomeDelivered {
		kind = outcomeOK
	}
	if a.Status == 0 {
		return string(a.Outcome), kind
	}
	return strconv.Itoa(a.Status), kind
}

func (r *row) stateOutcome() (string, outcomeKind) {
	switch r.ev.State {
	case history.StateDelivered:
		return "delivered", outcomeOK
	case history.StateFailed:
		return "failed", outcomeBad
	}
	return "pending", outcomePending
}

// replayMark returns the marker of a replayed or edited delivery, or "".
func (r *row) replayMark() string {
	switch {
	case r.inflight > 0 && r.inflightReplay:
		return "↻"
	case !r.hasLast || !r.last.Replay:
		return ""
	case r.last.Edited:
		return "✎"
	}
	return "↻"
}

// latency returns the newest attempt's latency, formatted to at most six
// columns, or "" when there is none.
func (r *row) latency() string {
	if !r.hasLast || r.inflight > 0 {
		return ""
	}
	return formatLatency(r.last.Latency)
}

func formatLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < 10*time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < 100*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
}

// receivedAt returns when the relay received the event, else when it was
// recorded.
func (r *row) receivedAt() time.Time {
	if r.ev.ReceivedAt.IsZero() {
		return r.ev.RecordedAt
	}
	return r.ev.ReceivedAt
}
