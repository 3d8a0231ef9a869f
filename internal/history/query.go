package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hookrelay/hookrelay/internal/wire"
)

// DefaultLimit is how many events Events returns when Query.Limit is zero.
const DefaultLimit = 100

// Query selects events for Events.
type Query struct {
	// Source keeps the events of one source. If empty, all sources are kept.
	Source string
	// Types keeps the events whose type matches one of these patterns, as
	// wire.Match understands them ("response.*"). If empty, all types are
	// kept.
	Types []string
	// Before keeps the events with an ID below it. If zero, there is no bound.
	Before int64
	// Limit is how many of the newest matching events are returned. If zero,
	// DefaultLimit is used; if negative, all are.
	Limit int
}

// Event returns the event with history ID id, or ErrNotFound.
func (h *History) Event(ctx context.Context, id int64) (Event, error) {
	const q = `SELECT ` + eventColumns + ` FROM events WHERE id = ?`
	ev, err := queryEvent(ctx, h.r, q, id)
	if err != nil {
		return Event{}, fmt.Errorf("read event %d: %w", id, err)
	}
	return ev, nil
}

// Find returns the event a user names by key: a history ID ("42"), an event
// id ("evt_…") or a webhook-id. When several events match, the newest wins.
// It returns ErrNotFound when none does.
func (h *History) Find(ctx context.Context, key string) (Event, error) {
	key = strings.TrimSpace(key)
	if id, err := strconv.ParseInt(key, 10, 64); err == nil {
		ev, err := h.Event(ctx, id)
		if !errors.Is(err, ErrNotFound) {
			return ev, err
		}
	}
	ev, err := queryEvent(ctx, h.r, findQuery, key)
	if err != nil {
		return Event{}, fmt.Errorf("find event %q by history ID, event id or webhook-id: %w",
			key, err)
	}
	return ev, nil
}

// findQuery selects the newest event with event id or webhook-id ?1.
const findQuery = `SELECT ` + eventColumns + ` FROM events WHERE id = (
	SELECT max(id) FROM (
		SELECT id FROM events WHERE event_id = ?1
		UNION ALL SELECT id FROM events WHERE webhook_id = ?1))`

// Events returns the newest events that q selects, oldest first.
func (h *History) Events(ctx context.Context, q Query) ([]Event, error) {
	// One transaction reads the types and the events from the same snapshot,
	// so an event of a new type recorded in between is not missed.
	tx, err := h.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer tx.Rollback()
	stmt, args, err := eventsQuery(ctx, tx, q)
	if errors.Is(err, errNoMatch) {
		return []Event{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	evs, err := queryEvents(ctx, tx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	slices.Reverse(evs)
	return evs, nil
}

// eventsQuery returns the statement and arguments of Events, newest first.
func eventsQuery(ctx context.Context, db querier, q Query) (string, []any, error) {
	where, args, err := filter(ctx, db, q)
	if err != nil {
		return "", nil, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	stmt := `SELECT ` + eventColumns + ` FROM events` + where + ` ORDER BY id DESC LIMIT ?`
	return stmt, append(args, max(limit, -1)), nil
}

// errNoMatch reports that no recorded type matches the patterns of a Query.
var errNoMatch = errors.New("no type matches")

// filter returns the WHERE clause and arguments that select the events of q.
func filter(ctx context.Context, db querier, q Query) (string, []any, error) {
	var conds []string
	var args []any
	if q.Source != "" {
		conds = append(conds, "source = ?")
		args = append(args, q.Source)
	}
	if q.Before != 0 {
		conds = append(conds, "id < ?")
		args = append(args, q.Before)
	}
	if len(q.Types) > 0 {
		cond, arg, err := typeFilter(ctx, db, q.Types)
		if err != nil {
			return "", nil, err
		}
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// typeFilter turns patterns into a condition on the exact types they match
// among those ever recorded, so that SQL applies the Limit, and so that the
// patterns mean what wire.Match says rather than what GLOB would.
func typeFilter(ctx context.Context, db querier, patterns []string) (string, any, error) {
	if err := wire.ValidatePatterns(patterns); err != nil {
		return "", nil, err
	}
	types, err := matchingTypes(ctx, db, patterns)
	if err != nil {
		return "", nil, err
	}
	typesJSON, err := json.Marshal(types)
	if err != nil {
		return "", nil, err
	}
	cond := "type IN (SELECT value FROM json_each(?))"
	switch {
	case wire.Match(patterns, ""):
		cond = "(" + cond + " OR type IS NULL)"
	case len(types) == 0:
		return "", nil, errNoMatch
	}
	return cond, string(typesJSON), nil
}

// matchingTypes returns the recorded types that match patterns.
func matchingTypes(ctx context.Context, db querier, patterns []string) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT type FROM types`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types := []string{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		if wire.Match(patterns, t) {
			types = append(types, t)
		}
	}
	return types, rows.Err()
}

// Pending returns the events of source whose delivery is pending, oldest
// first. If source is empty, those of all sources are returned.
func (h *History) Pending(ctx context.Context, source string) ([]Event, error) {
	q, args := pendingQuery(source)
	evs, err := queryEvents(ctx, h.r, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list pending events: %w", err)
	}
	return evs, nil
}

// pendingQuery returns the statement and arguments of Pending.
func pendingQuery(source string) (string, []any) {
	const q = `SELECT ` + eventColumns + ` FROM events WHERE state = 'pending'`
	if source == "" {
		return q + ` ORDER BY id`, nil
	}
	return q + ` AND source = ? ORDER BY id`, []any{source}
}

// Count returns the number of recorded events.
func (h *History) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := h.r.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

// Attempts returns the delivery attempts of event eventID, oldest first.
func (h *History) Attempts(ctx context.Context, eventID int64) ([]Attempt, error) {
	const q = `SELECT ` + attemptColumns + ` FROM attempts WHERE event_id = ? ORDER BY id`
	as, err := queryAttempts(ctx, h.r, q, eventID)
	if err != nil {
		return nil, fmt.Errorf("list attempts of event %d: %w", eventID, err)
	}
	return as, nil
}

// LastAttempts returns the newest attempt of each of eventIDs, keyed by
// event ID. Events without attempts have no entry.
func (h *History) LastAttempts(ctx context.Context, eventIDs []int64) (map[int64]Attempt, error) {
	last := make(map[int64]Attempt, len(eventIDs))
	if len(eventIDs) == 0 {
		return last, nil
	}
	ids, err := json.Marshal(eventIDs)
	if err != nil {
		return nil, fmt.Errorf("list last attempts: %w", err)
	}
	const q = `SELECT ` + attemptColumns + ` FROM attempts WHERE id IN (
		SELECT max(id) FROM attempts
		WHERE event_id IN (SELECT value FROM json_each(?)) GROUP BY event_id)`
	as, err := queryAttempts(ctx, h.r, q, string(ids))
	if err != nil {
		return nil, fmt.Errorf("list last attempts of %d events: %w", len(eventIDs), err)
	}
	for _, a := range as {
		last[a.EventID] = a
	}
	return last, nil
}
