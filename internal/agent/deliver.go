package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/hookrelay/hookrelay/internal/fixture"
	"github.com/hookrelay/hookrelay/internal/history"
	"github.com/hookrelay/hookrelay/internal/logkey"
)

// Retry policy. A refused connection means the app is down or restarting,
// so a first delivery waits for it without limit, keeping later events
// behind it in order; other failures (5xx, timeouts) give up after a few
// tries so that one broken handler does not hold the queue for ever.
const (
	retryMin       = 250 * time.Millisecond
	retryMax       = 10 * time.Second
	maxTries       = 5               // first deliveries failing otherwise than refused
	maxReplayTries = 3               // replays, whatever the failure
	shutdownGrace  = 2 * time.Second // for an attempt under way when Run ends
)

// job is one delivery to make: the first delivery of an event, or a replay.
type job struct {
	event  history.Event
	body   []byte // edited body, or nil
	replay bool
}

// queue holds jobs in order. The Agent's mutex guards it.
type queue struct {
	jobs []job
}

func newQueue() *queue { return &queue{} }

func (q *queue) len() int { return len(q.jobs) }

// push appends j and wakes the delivery loops.
func (a *Agent) push(q *queue, j job) {
	a.mu.Lock()
	q.jobs = append(q.jobs, j)
	a.signalLocked()
	a.mu.Unlock()
}

// signalLocked wakes everyone waiting for the queues or the pause state.
func (a *Agent) signalLocked() {
	close(a.changed)
	a.changed = make(chan struct{})
}

// next waits for the next job of q that may go now: any job of an unpausable
// queue, and on the main queue only while not paused, or one per Step.
func (a *Agent) next(ctx context.Context, q *queue, pausable bool) (job, bool) {
	for {
		a.mu.Lock()
		if len(q.jobs) > 0 && (!pausable || !a.paused || a.steps > 0) {
			j := q.jobs[0]
			q.jobs = q.jobs[1:]
			if pausable && a.paused {
				a.steps--
			}
			a.mu.Unlock()
			return j, true
		}
		changed := a.changed
		a.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return job{}, false
		}
	}
}

// deliverLoop delivers the jobs of q one at a time, in order.
func (a *Agent) deliverLoop(ctx context.Context, q *queue, pausable bool) error {
	for {
		j, ok := a.next(ctx, q, pausable)
		if !ok {
			return nil
		}
		a.deliver(ctx, j)
	}
}

// deliver makes the attempts of one job, retrying as the policy says, and
// records each attempt and the event's final state.
func (a *Agent) deliver(ctx context.Context, j job) {
	for n := 1; ; n++ {
		target := a.fwd.Target(j.event.Type)
		a.feed.publish(Update{Kind: KindDelivering, Event: &j.event, Pending: &PendingDelivery{
			EventID: j.event.ID, N: n, Replay: j.replay, Target: target,
		}})
		att, ok := a.attempt(ctx, j, n)
		if !ok {
			return // a first delivery stays pending and resumes on the next run
		}
		if att.Outcome == history.OutcomeDelivered {
			a.settle(ctx, j, history.StateDelivered)
			return
		}
		if !a.retry(j, &att, n) {
			a.settle(ctx, j, history.StateFailed)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(retryDelay(n)):
		}
	}
}

// attempt makes attempt n of j and records it. When ctx ends meanwhile, an
// attempt under way gets shutdownGrace to finish, so that a delivery the app
// accepted is not repeated on the next run; ok is false if it did not finish.
func (a *Agent) attempt(ctx context.Context, j job, n int) (att history.Attempt, ok bool) {
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(shutdownGrace, cancel) })
	defer stop()
	att = a.fwd.Deliver(dctx, &Delivery{Event: j.event, Body: j.body, Replay: j.replay, N: n})
	if dctx.Err() != nil {
		return att, false
	}
	a.record(context.WithoutCancel(ctx), j, &att)
	return att, true
}

func (a *Agent) retry(j job, att *history.Attempt, n int) bool {
	if !Retryable(att.Outcome) {
		return false
	}
	if j.replay {
		return n < maxReplayTries
	}
	return att.Outcome == history.OutcomeRefused || n < maxTries
}

func retryDelay(n int) time.Duration {
	if n > 10 {
		return retryMax
	}
	return min(retryMin<<(n-1), retryMax)
}

func (a *Agent) record(ctx context.Context, j job, att *history.Attempt) {
	id, err := a.hist.AddAttempt(ctx, att)
	if err != nil {
		a.log.Error("record delivery attempt", logkey.Seq, j.event.Seq, logkey.Err, err)
	}
	att.ID = id
	a.feed.publish(Update{Kind: KindAttempt, Event: &j.event, Attempt: att})
	level := a.log.Debug
	if att.Outcome != history.OutcomeDelivered {
		level = a.log.Warn
	}
	level("delivery", logkey.Seq, j.event.Seq, logkey.EventType, j.event.Type,
		logkey.Target, att.Target, logkey.Status, att.Status, logkey.Outcome, att.Outcome,
		logkey.Attempt, att.N, logkey.Duration, att.Latency)
}

// settle records the end of a first delivery; replays leave the event's
// state alone.
func (a *Agent) settle(ctx context.Context, j job, s history.State) {
	if j.replay {
		return
	}
	if err := a.hist.SetState(context.WithoutCancel(ctx), j.event.ID, s); err != nil {
		a.log.Error("record delivery state", logkey.Seq, j.event.Seq, logkey.Err, err)
	}
	a.mu.Lock()
	if s == history.StateDelivered {
		a.delivered++
	} else {
		a.failed++
	}
	a.mu.Unlock()
	ev := j.event
	ev.State = s
	a.feed.publish(Update{Kind: KindEvent, Event: &ev})
}

// Resend queues a replay of the event with history ID id, re-signed and
// marked as a replay. A non-nil body replaces the original (an edit); the
// original stays in the history. Replays are not held by SetPaused.
func (a *Agent) Resend(ctx context.Context, id int64, body []byte) error {
	ev, err := a.hist.Event(ctx, id)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.last = id
	a.mu.Unlock()
	a.push(a.replay, job{event: ev, body: body, replay: true})
	return nil
}

// SetPaused pauses or resumes the first deliveries of new events. While
// paused, events keep arriving and are recorded; they wait in order.
func (a *Agent) SetPaused(paused bool) {
	a.mu.Lock()
	a.paused = paused
	a.steps = 0
	a.signalLocked()
	a.mu.Unlock()
	a.feed.publish(Update{Kind: KindPaused, Paused: &paused})
}

// Step lets one more waiting delivery through while paused, like a
// breakpoint's step. It does nothing when not paused.
func (a *Agent) Step() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.paused {
		a.steps++
		a.signalLocked()
	}
}

// Pin chooses the event that replay on save re-delivers; 0 unpins, and the
// newest event is replayed instead.
func (a *Agent) Pin(id int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pinned = id
}

// Pinned returns the pinned event's history ID, or 0.
func (a *Agent) Pinned() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pinned
}

// ReplayPinned queues a replay of the pinned event, or of the newest event
// received when none is pinned, and returns its history ID.
func (a *Agent) ReplayPinned(ctx context.Context) (int64, error) {
	a.mu.Lock()
	id := a.pinned
	if id == 0 {
		id = a.last
	}
	a.mu.Unlock()
	if id == 0 {
		evs, err := a.hist.Events(ctx, history.Query{Source: a.source, Limit: 1})
		if err != nil {
			return 0, err
		}
		if len(evs) == 0 {
			return 0, fmt.Errorf("no event to replay yet: trigger one or pin one")
		}
		id = evs[0].ID
	}
	return id, a.Resend(ctx, id, nil)
}

// Curl returns a curl command that reproduces a replay of the event with
// history ID id, signed as of now: it verifies for the app's tolerance (five
// minutes with the OpenAI SDKs).
func (a *Agent) Curl(ctx context.Context, id int64) (string, error) {
	ev, err := a.hist.Event(ctx, id)
	if err != nil {
		return "", err
	}
	req, err := a.fwd.Request(ctx, &Delivery{Event: ev, Replay: true}, time.Now())
	if err != nil {
		return "", err
	}
	return fixture.Curl(req, ev.Body), nil
}
