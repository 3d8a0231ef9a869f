package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/hookrelay/hookrelay/internal/logkey"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/wire"
)

// Session timing and sizes.
const (
	helloTimeout = 10 * time.Second // for the agent's first message
	frameTimeout = 30 * time.Second // for writing one message
	readBatch    = 32               // events read from the store at a time
)

// closeError ends a session with a close status and a reason for the agent.
type closeError struct {
	code   websocket.StatusCode
	reason string // sent to the agent: short, fixed text, at most 123 bytes
	err    error  // detail for the log, or nil
}

func (e *closeError) Error() string {
	if e.err == nil {
		return e.reason
	}
	return e.reason + ": " + e.err.Error()
}

func (e *closeError) Unwrap() error { return e.err }

// session is one agent's WebSocket. The handler goroutine runs the hello and
// the welcome, then three goroutines it waits for: the reader (acks, and the
// control frames that only a reader sees), the stream (every event write)
// and the heartbeat.
type session struct {
	s       *Server
	id      string
	channel string
	conn    *websocket.Conn
	addr    string
	started time.Time

	// Set by the hello, before the goroutines start.
	client   string
	patterns []string
	after    int64

	// Flow control. sent holds the sequence numbers written and not yet
	// acknowledged, ascending; only the stream touches it. acked is the
	// highest ack, set by the reader, which pokes ackCh (capacity 1).
	sent  []int64
	acked atomic.Int64
	ackCh chan struct{}
}

// handleAgent serves GET /agent: it upgrades an authorized request to a
// WebSocket and streams the token's channel to it.
func (s *Server) handleAgent(w http.ResponseWriter, r *http.Request) {
	c, conn := s.upgrade(w, r)
	if conn == nil {
		return
	}
	defer conn.CloseNow()
	ss := s.register(c, conn, r.RemoteAddr)
	if ss == nil {
		conn.Close(websocket.StatusGoingAway, "relay shutting down")
		return
	}
	// The request's context must not be used once the connection is
	// hijacked; the session ends when its connection does.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()
	err := ss.run(ctx)
	ss.logEnd(err)
	s.unregister(ss)
	if s.onSessionEnd != nil {
		s.onSessionEnd(err)
	}
}

// upgrade checks the request of an agent and accepts its WebSocket. It
// returns a nil conn when it has answered with an error instead.
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request) (*channel, *websocket.Conn) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeError(w, http.StatusMethodNotAllowed, "method not allowed: /agent is a WebSocket")
		return nil, nil
	}
	c := s.authorize(w, r)
	if c == nil {
		return nil, nil
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Upgrade", "websocket")
		writeError(w, http.StatusUpgradeRequired,
			"/agent is a WebSocket endpoint: connect with relay-agent --relay <this relay's URL>")
		return nil, nil
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols: []string{wire.Subprotocol},
	})
	if err != nil {
		s.logger.Debug("accept websocket", logkey.Addr, r.RemoteAddr, logkey.Err, err)
		return nil, nil
	}
	return c, conn
}

// register adds a session for conn on c, or returns nil when the server is
// shutting down.
func (s *Server) register(c *channel, conn *websocket.Conn, addr string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil
	}
	s.nextAgent++
	ss := &session{
		s:       s,
		id:      fmt.Sprintf("agent-%d", s.nextAgent),
		channel: c.name,
		conn:    conn,
		addr:    addr,
		started: time.Now(),
		ackCh:   make(chan struct{}, 1),
	}
	s.sessions[ss] = struct{}{}
	s.agents[c.name]++
	s.metrics.agents.WithLabelValues(c.name).Inc()
	s.wg.Add(1)
	return ss
}

func (s *Server) unregister(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, ss)
	s.agents[ss.channel]--
	s.metrics.agents.WithLabelValues(ss.channel).Dec()
	s.wg.Done()
}

// agentCount returns how many agents are connected to channel here.
func (s *Server) agentCount(channel string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.agents[channel]
}

// run runs the session until the connection ends.
func (ss *session) run(ctx context.Context) error {
	if ss.conn.Subprotocol() != wire.Subprotocol {
		return ss.fail(&closeError{
			code:   websocket.StatusPolicyViolation,
			reason: "subprotocol " + wire.Subprotocol + " required",
		})
	}
	ss.conn.SetReadLimit(wire.ReadLimit(ss.s.maxBody))
	if err := ss.open(ctx); err != nil {
		return ss.fail(err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return ss.readAcks(gctx) })
	g.Go(func() error { return ss.stream(gctx) })
	g.Go(func() error { return ss.heartbeat(gctx) })
	return g.Wait()
}

// open reads the hello, resolves where streaming starts and sends the
// welcome.
func (ss *session) open(ctx context.Context) error {
	h, err := ss.readHello(ctx)
	if err != nil {
		return err
	}
	ss.client, ss.patterns = h.Agent, h.Events
	head, err := ss.s.st.Head(ctx, ss.channel)
	if err != nil {
		return storeError("read channel head", err)
	}
	if ss.after, err = ss.start(ctx, h, head); err != nil {
		return err
	}
	ss.s.logger.Info("agent connected", logkey.AgentID, ss.id, logkey.Channel, ss.channel,
		logkey.Client, clip(ss.client), logkey.Addr, ss.addr, logkey.Seq, ss.after)
	return ss.write(ctx, &wire.Message{Type: wire.TypeWelcome, Welcome: &wire.Welcome{
		Channel: ss.channel,
		Head:    head,
		After:   ss.after,
		Window:  ss.s.window,
		MaxBody: ss.s.maxBody,
	}})
}

func (ss *session) readHello(ctx context.Context) (*wire.Hello, error) {
	ctx, cancel := context.WithTimeout(ctx, helloTimeout)
	defer cancel()
	m, err := wire.Read(ctx, ss.conn)
	if connGone(err) {
		return nil, fmt.Errorf("read hello: %w", err)
	}
	if err != nil {
		return nil, protocolError("first message must be a hello", err)
	}
	if m.Type != wire.TypeHello {
		return nil, protocolError("first message must be a hello", nil)
	}
	if err := wire.ValidatePatterns(m.Hello.Events); err != nil {
		return nil, protocolError("malformed event pattern", err)
	}
	if c := m.Hello.Cursor; c != nil && *c < 0 {
		return nil, protocolError("cursor must not be negative", nil)
	}
	return m.Hello, nil
}

// start returns the sequence number to stream after, as the wire package
// comment says. A cursor beyond head means this relay never assigned it: its
// database was reset or replaced. Every event it now retains is then newer
// than anything the agent saw, so the session replays them all rather than
// lose those that arrived since the reset; the welcome's After below the
// agent's cursor tells the agent.
func (ss *session) start(ctx context.Context, h *wire.Hello, head int64) (int64, error) {
	since, ok, err := ss.sinceSeq(ctx, h.Since)
	if err != nil {
		return 0, err
	}
	if h.Cursor == nil {
		if ok {
			return since, nil
		}
		return head, nil
	}
	after := *h.Cursor
	if after > head {
		ss.s.logger.Warn("agent cursor beyond channel head, replaying every retained event",
			logkey.AgentID, ss.id, logkey.Channel, ss.channel, logkey.Seq, after,
			logkey.Count, head)
		after = 0
	}
	if ok {
		after = min(after, since)
	}
	return after, nil
}

// sinceSeq returns the sequence number that since asks to start after, and
// false when since is empty.
func (ss *session) sinceSeq(ctx context.Context, since string) (int64, bool, error) {
	switch since {
	case "":
		return 0, false, nil
	case wire.SinceAll:
		return 0, true, nil
	}
	d, err := time.ParseDuration(since)
	if err != nil || d < 0 {
		return 0, false, protocolError(`since must be "all" or a duration such as 1h`, err)
	}
	seq, err := ss.s.st.SeqBefore(ctx, ss.channel, ss.s.now().Add(-d))
	if err != nil {
		return 0, false, storeError("find events since "+since, err)
	}
	return seq, true, nil
}

// readAcks is the session's only reader. It records acks until the
// connection ends or the agent breaks the protocol.
func (ss *session) readAcks(ctx context.Context) error {
	for {
		m, err := wire.Read(ctx, ss.conn)
		if err != nil {
			if connGone(err) {
				return err
			}
			return ss.fail(protocolError("malformed message", err))
		}
		switch m.Type {
		case wire.TypeAck:
			ss.ack(m.Ack.Seq)
		case wire.TypeError:
			ss.s.logger.Info("agent reported an error", logkey.AgentID, ss.id,
				logkey.Err, clip(m.Error.Message))
		default:
			return ss.fail(protocolError("unexpected "+m.Type+" message", nil))
		}
	}
}

// ack records that the agent holds every event up to seq.
func (ss *session) ack(seq int64) {
	for {
		cur := ss.acked.Load()
		if seq <= cur {
			return
		}
		if ss.acked.CompareAndSwap(cur, seq) {
			break
		}
	}
	select {
	case ss.ackCh <- struct{}{}:
	default:
	}
}

// stream writes the channel's events after ss.after in order, from the
// store, first the retained ones and then each as it is committed.
func (ss *session) stream(ctx context.Context) error {
	st, after := ss.s.st, ss.after
	for {
		evs, err := st.Read(ctx, ss.channel, after, readBatch)
		if err != nil {
			return ss.storeFailed(ctx, "read events", err)
		}
		if len(evs) == 0 {
			if after, err = ss.waitNew(ctx, after); err != nil {
				return err
			}
			continue
		}
		for i := range evs {
			if err := ss.push(ctx, &evs[i]); err != nil {
				return err
			}
			after = evs[i].Seq
		}
	}
}

// waitNew waits, once the stream has read every event after after, until
// the channel may hold newer ones. It returns where to read from next: after,
// or the head when the events between after and the head have been pruned.
func (ss *session) waitNew(ctx context.Context, after int64) (int64, error) {
	st := ss.s.st
	head, err := st.Head(ctx, ss.channel)
	if err != nil {
		return 0, ss.storeFailed(ctx, "read channel head", err)
	}
	if head <= after {
		if err := st.Wait(ctx, ss.channel, after); err != nil {
			return 0, ss.storeFailed(ctx, "wait for events", err)
		}
		return after, nil
	}
	// Stores make sequence numbers visible in order, so everything up to
	// head is readable now: an empty read means it was pruned.
	evs, err := st.Read(ctx, ss.channel, after, 1)
	if err != nil {
		return 0, ss.storeFailed(ctx, "read events", err)
	}
	if len(evs) == 0 {
		return head, nil
	}
	return after, nil
}

// push sends e if it matches the agent's patterns, once the window allows.
//
// Limitation: an event stored while MaxBody was larger than it is now may
// exceed the agent's read limit, which then closes the connection at that
// event on every reconnection; keeping MaxBody until such events expire
// avoids it, and skipping oversized events here would lift it.
func (ss *session) push(ctx context.Context, e *store.Event) error {
	if !wire.Match(ss.patterns, e.Type) {
		return nil
	}
	if err := ss.waitWindow(ctx); err != nil {
		return err
	}
	err := ss.write(ctx, &wire.Message{Type: wire.TypeEvent, Event: &wire.Event{
		Seq:        e.Seq,
		WebhookID:  e.WebhookID,
		Type:       e.Type,
		Header:     e.Header,
		Body:       e.Body,
		ReceivedAt: e.ReceivedAt,
	}})
	if err != nil {
		return err
	}
	ss.sent = append(ss.sent, e.Seq)
	ss.s.metrics.pushed.WithLabelValues(ss.channel).Inc()
	return nil
}

// waitWindow returns once fewer than Window events are unacknowledged.
func (ss *session) waitWindow(ctx context.Context) error {
	for stalled := false; ; stalled = true {
		acked, n := ss.acked.Load(), 0
		for n < len(ss.sent) && ss.sent[n] <= acked {
			n++
		}
		ss.sent = ss.sent[n:]
		if len(ss.sent) < ss.s.window {
			return nil
		}
		if !stalled {
			ss.s.windowFull(ss)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ss.ackCh:
		}
	}
}

// windowFull counts a stream that pauses until its agent acknowledges.
func (s *Server) windowFull(ss *session) {
	s.metrics.windowStalls.WithLabelValues(ss.channel).Inc()
	s.logger.Debug("agent window full", logkey.AgentID, ss.id)
	if s.onWindowFull != nil {
		s.onWindowFull()
	}
}

func (ss *session) heartbeat(ctx context.Context) error {
	if f := ss.s.heartbeat; f != nil {
		return f(ctx, ss.conn)
	}
	return wire.Heartbeat(ctx, ss.conn)
}

func (ss *session) write(ctx context.Context, m *wire.Message) error {
	ctx, cancel := context.WithTimeout(ctx, frameTimeout)
	defer cancel()
	if err := wire.Write(ctx, ss.conn, m); err != nil {
		return fmt.Errorf("write %s: %w", m.Type, err)
	}
	return nil
}

// storeFailed turns a store error of the stream into the session's end,
// unless the session is already ending.
func (ss *session) storeFailed(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return ss.fail(storeError(op, err))
}

// fail closes the connection for a closeError, telling the agent why, and
// returns err. Other errors mean the connection is already gone.
func (ss *session) fail(err error) error {
	var ce *closeError
	if !errors.As(err, &ce) {
		return err
	}
	if ce.code == websocket.StatusTryAgainLater {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		wire.Write(ctx, ss.conn, &wire.Message{
			Type: wire.TypeError, Error: &wire.Error{Message: ce.reason},
		})
		cancel()
	}
	ss.conn.Close(ce.code, ce.reason)
	return err
}

// goAway closes the connection because the server is shutting down.
func (ss *session) goAway() {
	ss.conn.Close(websocket.StatusGoingAway, "relay shutting down")
}

// logEnd logs the end of the session.
func (ss *session) logEnd(err error) {
	attrs := []any{
		logkey.AgentID, ss.id, logkey.Channel, ss.channel,
		logkey.Duration, time.Since(ss.started),
	}
	var ce *closeError
	switch {
	case errors.As(err, &ce) && ce.code != websocket.StatusTryAgainLater:
		ss.s.logger.Warn("agent dropped for a protocol error", append(attrs, logkey.Err, err)...)
	case errors.As(err, &ce):
		ss.s.logger.Error("agent stream stopped", append(attrs, logkey.Err, err)...)
	case normalEnd(err):
		ss.s.logger.Info("agent disconnected", attrs...)
	default:
		ss.s.logger.Info("agent gone", append(attrs, logkey.Err, err)...)
	}
}

func protocolError(reason string, err error) error {
	return &closeError{code: websocket.StatusPolicyViolation, reason: reason, err: err}
}

func storeError(op string, err error) error {
	return &closeError{
		code:   websocket.StatusTryAgainLater,
		reason: "relay event store unavailable, reconnect later",
		err:    fmt.Errorf("%s: %w", op, err),
	}
}

// connGone reports whether err from a read means the connection has ended,
// rather than that the agent sent something malformed.
func connGone(err error) bool {
	return websocket.CloseStatus(err) != -1 || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// normalEnd reports whether err ends a session the usual way: the agent or
// the relay closed it.
func normalEnd(err error) bool {
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway:
		return true
	}
	return err == nil || errors.Is(err, context.Canceled)
}
