package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

const (
	// maxBatch bounds how many appends one transaction commits.
	maxBatch = 256
	// commitTimeout bounds one group commit, retries included, so that a
	// database that stops answering cannot hold Close forever.
	commitTimeout = 30 * time.Second
)

// record is an event ready to be written: validated, with its header already
// encoded and its body copied, so that the writer never touches memory the
// caller of Append may reuse once Append has returned.
type record struct {
	channel    string
	webhookID  string
	typ        string
	header     []byte // JSON object of string arrays
	body       []byte // never nil
	receivedAt time.Time
}

// newRecord validates e and copies what the writer needs from it.
func newRecord(e *Event) (*record, error) {
	if e.WebhookID == "" {
		return nil, fmt.Errorf("%w: empty webhook id", ErrInvalidEvent)
	}
	for _, s := range []string{e.Channel, e.WebhookID, e.Type} {
		if !isText(s) {
			return nil, fmt.Errorf("%w: %q is not text", ErrInvalidEvent, s)
		}
	}
	header, err := encodeHeader(e.Header)
	if err != nil {
		return nil, err
	}
	receivedAt := e.ReceivedAt
	if receivedAt.IsZero() {
		receivedAt = time.Now()
	}
	return &record{
		channel:    e.Channel,
		webhookID:  e.WebhookID,
		typ:        e.Type,
		header:     header,
		body:       append([]byte{}, e.Body...),
		receivedAt: time.UnixMicro(receivedAt.UnixMicro()).UTC(),
	}, nil
}

// isText reports whether s is valid UTF-8 without NUL bytes, which is what
// PostgreSQL accepts as text. A channel that is not text holds no events.
func isText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// encodeHeader encodes h as a JSON object; a nil header becomes {}.
func encodeHeader(h http.Header) ([]byte, error) {
	if h == nil {
		return []byte("{}"), nil
	}
	b, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encode header: %w", err)
	}
	return b, nil
}

// decodeHeader decodes a header stored by encodeHeader.
func decodeHeader(b []byte, e *Event) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, &e.Header); err != nil {
		return fmt.Errorf("decode header of event %d: %w", e.Seq, err)
	}
	return nil
}

// appendReq is one Append waiting for the writer.
type appendReq struct {
	ctx  context.Context
	rec  *record
	done chan appendResult // buffered; receives exactly one result
}

// appendResult is the writer's answer to one appendReq.
type appendResult struct {
	seq     int64
	created bool
	err     error
}

// commitFunc stores batch in one transaction and sets res[i] to the outcome
// of batch[i]. It returns an error when the transaction did not commit.
type commitFunc func(ctx context.Context, batch []*appendReq, res []appendResult) error

// groupWriter is the one goroutine that writes appends. Appends that queue up
// while it commits are committed together by its next transaction, so one
// durable commit acknowledges many events.
type groupWriter struct {
	commit commitFunc
	notify *notifier

	reqs    chan *appendReq // unbuffered: a request sent is a request answered
	quit    chan struct{}
	stopped chan struct{}

	// commits counts committed transactions, for tests.
	commits atomic.Int64
}

// startGroupWriter starts a writer that commits with commit and wakes the
// waiters of n; stop ends it.
func startGroupWriter(commit commitFunc, n *notifier) *groupWriter {
	w := &groupWriter{
		commit:  commit,
		notify:  n,
		reqs:    make(chan *appendReq),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go w.run()
	return w
}

// stop answers the requests the writer has taken, then ends it. Appends that
// have not been taken return ErrClosed.
func (w *groupWriter) stop() {
	close(w.quit)
	<-w.stopped
}

// append queues rec and waits for its commit. If ctx ends first, append
// returns ctx's error; the event may still be committed, and a retry with the
// same webhook id then finds it.
func (w *groupWriter) append(ctx context.Context, rec *record) (int64, bool, error) {
	req := &appendReq{ctx: ctx, rec: rec, done: make(chan appendResult, 1)}
	select {
	case w.reqs <- req:
	case <-ctx.Done():
		return 0, false, ctx.Err()
	case <-w.quit:
		return 0, false, ErrClosed
	}
	select {
	case res := <-req.done:
		return res.seq, res.created, res.err
	case <-ctx.Done():
		return 0, false, ctx.Err()
	}
}

func (w *groupWriter) run() {
	defer close(w.stopped)
	for {
		select {
		case <-w.quit:
			return
		case req := <-w.reqs:
			w.flush(w.collect(req))
		}
	}
}

// collect gathers the requests already waiting behind first.
func (w *groupWriter) collect(first *appendReq) []*appendReq {
	batch := []*appendReq{first}
	for len(batch) < maxBatch {
		select {
		case req := <-w.reqs:
			batch = append(batch, req)
		default:
			return batch
		}
	}
	return batch
}

// flush commits batch, wakes the waiters of the channels that grew and
// answers every request.
func (w *groupWriter) flush(batch []*appendReq) {
	batch = slices.DeleteFunc(batch, func(req *appendReq) bool {
		if err := req.ctx.Err(); err != nil {
			req.done <- appendResult{err: err}
			return true
		}
		return false
	})
	// Sorting fixes the order in which a transaction locks channels, so
	// that writers of several relay instances cannot deadlock.
	slices.SortStableFunc(batch, func(a, b *appendReq) int {
		return strings.Compare(a.rec.channel, b.rec.channel)
	})
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	res := w.commitAll(ctx, batch)
	for i, req := range batch {
		if res[i].created {
			w.notify.wake(req.rec.channel)
		}
	}
	for i, req := range batch {
		req.done <- res[i]
	}
}

// commitAll commits batch in one transaction. If that fails, it commits each
// request alone, so that one event the database rejects fails only its own
// Append.
func (w *groupWriter) commitAll(ctx context.Context, batch []*appendReq) []appendResult {
	res := make([]appendResult, len(batch))
	err := w.commitOnce(ctx, batch, res)
	if err == nil {
		return res
	}
	if len(batch) == 1 {
		res[0] = appendResult{err: err}
		return res
	}
	for i := range batch {
		if err := w.commitOnce(ctx, batch[i:i+1], res[i:i+1]); err != nil {
			res[i] = appendResult{err: err}
		}
	}
	return res
}

func (w *groupWriter) commitOnce(
	ctx context.Context,
	batch []*appendReq,
	res []appendResult,
) error {
	if err := w.commit(ctx, batch, res); err != nil {
		clear(res)
		return err
	}
	w.commits.Add(1)
	return nil
}
