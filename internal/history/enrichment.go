package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrNoEnrichment is returned when no enrichment is cached for an event.
var ErrNoEnrichment = errors.New("no enrichment cached")

// Enrichment is data fetched about an event from elsewhere and cached with
// it, such as the OpenAI response that a response.* event names, so that a
// second look and a restart cost no fetch. The history stores Data as given
// and never reads it; its owner chooses the encoding and when it expires.
type Enrichment struct {
	// EventID is the history ID of the event.
	EventID int64
	// FetchedAt is when the data was fetched.
	FetchedAt time.Time
	// Data is the cached data.
	Data []byte
}

// SetEnrichment caches e for its event, replacing what was cached before.
// The event must exist; deleting it deletes its enrichment.
func (h *History) SetEnrichment(ctx context.Context, e Enrichment) error {
	const q = `INSERT INTO enrichments (event_id, fetched_at, data) VALUES (?, ?, ?)
		ON CONFLICT (event_id) DO UPDATE SET fetched_at = excluded.fetched_at,
		data = excluded.data`
	data := e.Data
	if data == nil {
		data = []byte{}
	}
	_, err := h.w.ExecContext(ctx, q, e.EventID, e.FetchedAt.UnixNano(), data)
	if err != nil {
		return fmt.Errorf("cache enrichment of event %d: %w", e.EventID, err)
	}
	return nil
}

// Enrichment returns the enrichment cached for the event with history ID
// eventID, or ErrNoEnrichment.
func (h *History) Enrichment(ctx context.Context, eventID int64) (Enrichment, error) {
	const q = `SELECT fetched_at, data FROM enrichments WHERE event_id = ?`
	e := Enrichment{EventID: eventID}
	var fetched int64
	err := h.r.QueryRowContext(ctx, q, eventID).Scan(&fetched, &e.Data)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNoEnrichment
	}
	if err != nil {
		return Enrichment{}, fmt.Errorf("read enrichment of event %d: %w", eventID, err)
	}
	e.FetchedAt = time.Unix(0, fetched)
	return e, nil
}
