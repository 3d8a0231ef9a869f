package history

import (
	"context"
	"database/sql"
	"slices"
	"time"
)

const eventColumns = `id, source, seq, webhook_id, event_id, type, header, body,
	received_at, recorded_at, state`

const attemptColumns = `id, event_id, n, replay, edited, body, target, started_at,
	latency, outcome, status, error, request_header, response_header, response_body`

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryEvent runs q, which selects eventColumns, and returns the event of its
// first row, or ErrNotFound.
func queryEvent(ctx context.Context, db querier, q string, args ...any) (Event, error) {
	evs, err := queryEvents(ctx, db, q, args...)
	if err != nil {
		return Event{}, err
	}
	if len(evs) == 0 {
		return Event{}, ErrNotFound
	}
	return evs[0], nil
}

// queryEvents runs q, which selects eventColumns, and returns the events of
// its rows in order.
func queryEvents(ctx context.Context, db querier, q string, args ...any) ([]Event, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	s := newEventScanner()
	// Chunks rather than one growing slice: Events may read 100,000 events,
	// and regrowing would copy them several times over.
	var chunks [][]Event
	chunk := make([]Event, 0, 64)
	for rows.Next() {
		if len(chunk) == cap(chunk) {
			chunks = append(chunks, chunk)
			chunk = make([]Event, 0, min(2*cap(chunk), 4096))
		}
		ev, err := s.scan(rows)
		if err != nil {
			return nil, err
		}
		chunk = append(chunk, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return slices.Concat(append(chunks, chunk)...), nil
}

// eventScanner reads the eventColumns of rows into reused destinations,
// which spares allocations when reading the whole history.
type eventScanner struct {
	ev                 Event
	seq, received      sql.NullInt64
	webhookID, eventID sql.NullString
	source, typ, state sql.RawBytes
	header             sql.RawBytes
	recorded           int64
	dest               []any
	// names holds one copy of each source, type and state read.
	names map[string]string
}

func newEventScanner() *eventScanner {
	s := &eventScanner{names: make(map[string]string)}
	s.dest = []any{&s.ev.ID, &s.source, &s.seq, &s.webhookID, &s.eventID, &s.typ, &s.header,
		&s.ev.Body, &s.received, &s.recorded, &s.state}
	return s
}

func (s *eventScanner) scan(rows *sql.Rows) (Event, error) {
	s.ev = Event{}
	if err := rows.Scan(s.dest...); err != nil {
		return Event{}, err
	}
	ev := s.ev
	ev.Source, ev.Type, ev.State = s.name(s.source), s.name(s.typ), State(s.name(s.state))
	ev.Seq, ev.WebhookID, ev.EventID = s.seq.Int64, s.webhookID.String, s.eventID.String
	ev.ReceivedAt, ev.RecordedAt = fromNull(s.received), time.Unix(0, s.recorded)
	var err error
	ev.Header, err = unmarshalHeader(s.header)
	return ev, err
}

// name returns b as a string, sharing one copy among the rows of a query.
func (s *eventScanner) name(b sql.RawBytes) string {
	if v, ok := s.names[string(b)]; ok {
		return v
	}
	v := string(b)
	if len(s.names) < 1024 {
		s.names[v] = v
	}
	return v
}

// queryAttempts runs q, which selects attemptColumns, and returns the
// attempts of its rows in order.
func queryAttempts(ctx context.Context, db querier, q string, args ...any) ([]Attempt, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	as := []Attempt{}
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, err
		}
		as = append(as, a)
	}
	return as, rows.Err()
}

func scanAttempt(rows *sql.Rows) (Attempt, error) {
	var (
		a                    Attempt
		started              sql.NullInt64
		latency              int64
		reqHeader, resHeader sql.RawBytes
	)
	err := rows.Scan(&a.ID, &a.EventID, &a.N, &a.Replay, &a.Edited, &a.Body, &a.Target,
		&started, &latency, &a.Outcome, &a.Status, &a.Error, &reqHeader, &resHeader,
		&a.ResponseBody)
	if err != nil {
		return Attempt{}, err
	}
	a.StartedAt, a.Latency = fromNull(started), time.Duration(latency)
	if a.RequestHeader, err = unmarshalHeader(reqHeader); err != nil {
		return Attempt{}, err
	}
	a.ResponseHeader, err = unmarshalHeader(resHeader)
	return a, err
}

// fromNull returns the time of Unix nanoseconds n, or the zero time for NULL.
func fromNull(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64)
}
