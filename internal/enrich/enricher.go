package enrich

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
	"golang.org/x/sync/singleflight"

	"github.com/hookrelay/hookrelay/internal/history"
	"github.com/hookrelay/hookrelay/internal/logkey"
)

// NotFoundTTL is how long the history keeps the answer that a response does
// not exist: long enough that looking again costs nothing, short enough that
// a corrected API key gets its chance.
const NotFoundTTL = 10 * time.Minute

// Enricher fetches the responses that events name and caches them in a
// history.
//
// What is cached, and for how long:
//   - a response whose status is final (completed, failed, cancelled,
//     incomplete): for good, since it can no longer change;
//   - the API's answer that the response does not exist (404): for
//     NotFoundTTL;
//   - anything else (a response still running, a refused key, a rate
//     limit, a network failure): never, so the next look fetches again.
//
// Its methods are safe for concurrent use; concurrent calls for one event
// make one API call.
type Enricher struct {
	client *openai.Client
	hist   *history.History
	log    *slog.Logger
	now    func() time.Time
	group  singleflight.Group
}

// New returns an Enricher that fetches with client and caches in hist.
// If logger is nil, logs are discarded.
func New(client *openai.Client, hist *history.History, logger *slog.Logger) *Enricher {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Enricher{
		client: client,
		hist:   hist,
		log:    logger.With(logkey.Component, "enrich"),
		now:    time.Now,
	}
}

// Enrich returns what the OpenAI API says of the response that the event
// with history ID eventID names: from the history when it is cached, else
// fetched, and then cached as the Enricher's contract says. A failed fetch
// is not an error: the Enrichment's Error says why. Enrich returns an error
// when the event cannot be read, is not a response.* event
// (ErrNotResponse), or ctx ends.
func (e *Enricher) Enrich(ctx context.Context, eventID int64) (*Enrichment, error) {
	ev, err := e.hist.Event(ctx, eventID)
	if err != nil {
		return nil, fmt.Errorf("enrich event %d: %w", eventID, err)
	}
	id, ok := ResponseID(ev)
	if !ok {
		return nil, fmt.Errorf("enrich event %d: %w", eventID, ErrNotResponse)
	}
	if c, ok := e.cached(ctx, eventID); ok {
		return c, nil
	}
	v, err, _ := e.group.Do(strconv.FormatInt(eventID, 10), func() (any, error) {
		return e.fetch(ctx, eventID, id)
	})
	if err != nil {
		return nil, fmt.Errorf("enrich event %d: %w", eventID, err)
	}
	c := *v.(*Enrichment) // each caller gets its own copy
	return &c, nil
}

// cached returns the enrichment cached for an event, unless there is none
// or it has expired.
func (e *Enricher) cached(ctx context.Context, eventID int64) (*Enrichment, bool) {
	row, err := e.hist.Enrichment(ctx, eventID)
	if err != nil {
		if !errors.Is(err, history.ErrNoEnrichment) {
			e.log.Debug("read cached enrichment", logkey.HistoryID, eventID, logkey.Err, err)
		}
		return nil, false
	}
	var c Enrichment
	if err := json.Unmarshal(row.Data, &c); err != nil {
		e.log.Debug("decode cached enrichment", logkey.HistoryID, eventID, logkey.Err, err)
		return nil, false
	}
	if c.Error != "" && e.now().Sub(c.FetchedAt) >= NotFoundTTL {
		return nil, false
	}
	c.Cached = true
	return &c, true
}

// fetch fetches response id for the event with history ID eventID and
// caches what the contract allows.
func (e *Enricher) fetch(ctx context.Context, eventID int64, id string) (*Enrichment, error) {
	r, err := e.client.Responses.Get(ctx, id, responses.ResponseGetParams{})
	now := e.now()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		c := &Enrichment{ResponseID: id, Error: describe(err, id), FetchedAt: now}
		if notFound(err) {
			e.store(ctx, eventID, c)
		}
		return c, nil
	}
	c := fromResponse(r, now)
	if final(c.Status) {
		e.store(ctx, eventID, c)
	}
	return c, nil
}

// store caches c for an event. A failure only costs a fetch next time, so
// it is logged rather than returned.
func (e *Enricher) store(ctx context.Context, eventID int64, c *Enrichment) {
	data, err := json.Marshal(c)
	if err == nil {
		err = e.hist.SetEnrichment(ctx, history.Enrichment{
			EventID: eventID, FetchedAt: c.FetchedAt, Data: data,
		})
	}
	if err != nil {
		e.log.Debug("cache enrichment", logkey.HistoryID, eventID, logkey.Err, err)
	}
}

func notFound(err error) bool {
	var apiErr *openai.Error
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound
}
