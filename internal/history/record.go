package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Record stores e and moves the cursor of e.Source up to e.Seq, in one
// transaction that survives a crash of the process, and returns the stored
// event with its ID, RecordedAt and State (StatePending) assigned. e is not
// modified.
//
// If e.Source already has an event with e.Seq or with e.WebhookID, Record
// stores nothing, still advances the cursor and returns the existing event
// (the older one if two match) with created false. A Seq of 0 or less and an
// empty WebhookID never match another event. Record takes EventID and Type from the "id" and "type"
// fields of a JSON body when e leaves them empty.
func (h *History) Record(ctx context.Context, e *Event) (ev Event, created bool, err error) {
	ev = *e
	ev.RecordedAt = time.Unix(0, time.Now().UnixNano()) // as read back
	ev.State = StatePending
	fillFromBody(&ev)
	header, err := marshalHeader(ev.Header)
	if err != nil {
		return Event{}, false, fmt.Errorf("record event %s/%d: %w", e.Source, e.Seq, err)
	}

	tx, err := h.w.BeginTx(ctx, nil)
	if err != nil {
		return Event{}, false, fmt.Errorf("record event %s/%d: %w", e.Source, e.Seq, err)
	}
	defer tx.Rollback()
	ev, created, err = recordTx(ctx, tx, ev, header)
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return Event{}, false, fmt.Errorf("record event %s/%d: %w", e.Source, e.Seq, err)
	}
	return ev, created, nil
}

// recordTx runs the statements of Record in tx.
func recordTx(ctx context.Context, tx *sql.Tx, ev Event, header string) (Event, bool, error) {
	if err := advanceCursor(ctx, tx, ev.Source, ev.Seq); err != nil {
		return Event{}, false, err
	}
	old, err := duplicate(ctx, tx, ev)
	if err == nil {
		return old, false, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return Event{}, false, err
	}
	ev.ID, err = insertEvent(ctx, tx, ev, header)
	if err != nil {
		return Event{}, false, err
	}
	if ev.Type != "" {
		const q = `INSERT OR IGNORE INTO types (type) VALUES (?)`
		if _, err := tx.ExecContext(ctx, q, ev.Type); err != nil {
			return Event{}, false, err
		}
	}
	return ev, true, nil
}

// advanceCursor moves the cursor of source to seq unless it is already there
// or past it.
func advanceCursor(ctx context.Context, tx *sql.Tx, source string, seq int64) error {
	if seq <= 0 {
		return nil
	}
	const q = `INSERT INTO cursors (source, seq) VALUES (?, ?)
		ON CONFLICT (source) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > cursors.seq`
	_, err := tx.ExecContext(ctx, q, source, seq)
	return err
}

// duplicate returns the oldest event of ev.Source that has ev.Seq or
// ev.WebhookID, or ErrNotFound.
func duplicate(ctx context.Context, tx *sql.Tx, ev Event) (Event, error) {
	return queryEvent(ctx, tx, duplicateQuery, ev.Source, nullInt(ev.Seq), nullString(ev.WebhookID))
}

// duplicateQuery selects the event of source ?1 with seq ?2 or webhook-id ?3.
// Written as "seq = ?2 OR webhook_id = ?3", it let SQLite walk every event of
// the source through events_source; TestPlans keeps it on the unique indexes.
const duplicateQuery = `SELECT ` + eventColumns + ` FROM events WHERE id = (
	SELECT min(id) FROM (
		SELECT id FROM events WHERE source = ?1 AND seq = ?2
		UNION ALL SELECT id FROM events WHERE webhook_id = ?3 AND source = ?1))`

func insertEvent(ctx context.Context, tx *sql.Tx, ev Event, header string) (int64, error) {
	const q = `INSERT INTO events (source, seq, webhook_id, event_id, type, header, body,
		received_at, recorded_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	body := ev.Body
	if body == nil {
		body = []byte{}
	}
	res, err := tx.ExecContext(ctx, q, ev.Source, nullInt(ev.Seq), nullString(ev.WebhookID),
		nullString(ev.EventID), nullString(ev.Type), header, body,
		nullTime(ev.ReceivedAt), ev.RecordedAt.UnixNano(), string(ev.State))
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// fillFromBody sets the EventID and Type that ev leaves empty from the "id"
// and "type" fields of its body, if the body is a JSON object.
func fillFromBody(ev *Event) {
	if ev.EventID != "" && ev.Type != "" {
		return
	}
	var env struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if json.Unmarshal(ev.Body, &env) != nil {
		return
	}
	if ev.EventID == "" {
		ev.EventID = env.ID
	}
	if ev.Type == "" {
		ev.Type = env.Type
	}
}

// Cursor returns the highest sequence number recorded from source; ok is
// false when nothing was.
func (h *History) Cursor(ctx context.Context, source string) (seq int64, ok bool, err error) {
	const q = `SELECT seq FROM cursors WHERE source = ?`
	err = h.r.QueryRowContext(ctx, q, source).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read cursor of %s: %w", source, err)
	}
	return seq, true, nil
}

// SetState records where the delivery of event eventID stands. It returns
// ErrNotFound when there is no such event.
func (h *History) SetState(ctx context.Context, eventID int64, s State) error {
	switch s {
	case StatePending, StateDelivered, StateFailed:
	default:
		return fmt.Errorf("set state of event %d: unknown state %q", eventID, s)
	}
	const q = `UPDATE events SET state = ? WHERE id = ?`
	res, err := h.w.ExecContext(ctx, q, string(s), eventID)
	if err != nil {
		return fmt.Errorf("set state of event %d: %w", eventID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("set state of event %d: %w", eventID, ErrNotFound)
	}
	return nil
}

// AddAttempt stores a delivery attempt of event a.EventID and returns its ID.
// It keeps the first MaxResponseBody bytes of a.ResponseBody, and sets a.ID
// and the shortened a.ResponseBody. It returns ErrNotFound when there is no
// such event.
func (h *History) AddAttempt(ctx context.Context, a *Attempt) (int64, error) {
	if len(a.ResponseBody) > MaxResponseBody {
		a.ResponseBody = a.ResponseBody[:MaxResponseBody:MaxResponseBody]
	}
	args, err := attemptArgs(a)
	if err != nil {
		return 0, fmt.Errorf("add attempt %d of event %d: %w", a.N, a.EventID, err)
	}
	const q = `INSERT INTO attempts (event_id, n, replay, edited, body, target, started_at,
		latency, outcome, status, error, request_header, response_header, response_body)
		SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14
		WHERE EXISTS (SELECT 1 FROM events WHERE id = ?1)`
	res, err := h.w.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("add attempt %d of event %d: %w", a.N, a.EventID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return 0, fmt.Errorf("add attempt %d of event %d: %w", a.N, a.EventID, ErrNotFound)
	}
	a.ID, err = res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("add attempt %d of event %d: %w", a.N, a.EventID, err)
	}
	return a.ID, nil
}

// attemptArgs returns the values of the columns of a, in table order.
func attemptArgs(a *Attempt) ([]any, error) {
	reqHeader, err := marshalHeader(a.RequestHeader)
	if err != nil {
		return nil, err
	}
	respHeader, err := marshalHeader(a.ResponseHeader)
	if err != nil {
		return nil, err
	}
	respBody := a.ResponseBody
	if respBody == nil {
		respBody = []byte{}
	}
	var body any // NULL unless edited
	if a.Body != nil {
		body = a.Body
	}
	return []any{
		a.EventID, a.N, a.Replay, a.Edited, body, a.Target, nullTime(a.StartedAt),
		int64(a.Latency), string(a.Outcome), a.Status, a.Error, reqHeader, respHeader, respBody,
	}, nil
}

// nullInt returns n, or NULL when n is not positive.
func nullInt(n int64) any {
	if n <= 0 {
		return nil
	}
	return n
}

// nullString returns s, or NULL when s is empty.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullTime returns t in Unix nanoseconds, or NULL when t is zero.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// Rebase starts source over after a relay lost its event log and numbers
// events from after again: the events of source with a higher sequence
// number move to the source archive, where they stay listed and replayable
// but no longer count as duplicates of the relay's new events, and the
// cursor of source goes back to after. It returns how many events moved.
func (h *History) Rebase(ctx context.Context, source, archive string, after int64) (int64, error) {
	tx, err := h.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("rebase %s: %w", source, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE events SET source = ? WHERE source = ? AND seq > ?`,
		archive, source, after)
	if err != nil {
		return 0, fmt.Errorf("rebase %s: %w", source, err)
	}
	moved, _ := res.RowsAffected()
	_, err = tx.ExecContext(ctx, `UPDATE cursors SET seq = ? WHERE source = ? AND seq > ?`,
		after, source, after)
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return 0, fmt.Errorf("rebase %s: %w", source, err)
	}
	return moved, nil
}

// Prune deletes the events recorded before t whose first delivery has
// settled, with their attempts and cached enrichments, and returns how many
// events it deleted. Pending events stay, whatever their age. IDs are never
// reused, so a number a user noted never names another event.
func (h *History) Prune(ctx context.Context, before time.Time) (int64, error) {
	const q = `DELETE FROM events WHERE recorded_at < ? AND state != ?`
	res, err := h.w.ExecContext(ctx, q, before.UnixNano(), StatePending)
	if err != nil {
		return 0, fmt.Errorf("prune history: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
