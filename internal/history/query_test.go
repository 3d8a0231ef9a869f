package history

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/wire"
)

// eventsFixture records 126 events: 120 of src with seq 1 to 120 cycling
// through three types, 5 of "other" of type eval.run.succeeded, then one of
// src without a type. IDs run from 1 to 126 in that order.
func eventsFixture(t *testing.T) (*History, []Event) {
	t.Helper()
	h := openHistory(t)
	types := []string{"batch.completed", "response.completed", "response.failed"}
	var all []Event
	for i := range 120 {
		seq := int64(i + 1)
		all = append(all, record(t, h, newEvent(src, seq, fmt.Sprint("wh_", seq), types[seq%3])))
	}
	for i := range 5 {
		seq := int64(i + 1)
		all = append(all, record(t, h, newEvent("other", seq, fmt.Sprint("wh_o", seq),
			"eval.run.succeeded")))
	}
	all = append(all, record(t, h, &Event{Source: src, Seq: 121, Body: []byte(`{}`)}))
	return h, all
}

// newestIDs returns the IDs of the newest n events of all that q selects,
// oldest first, n < 0 meaning all.
func newestIDs(all []Event, q Query, n int) []int64 {
	var out []int64
	for i := len(all) - 1; i >= 0 && (n < 0 || len(out) < n); i-- {
		ev := all[i]
		if (q.Source == "" || ev.Source == q.Source) && (q.Before == 0 || ev.ID < q.Before) &&
			wire.Match(q.Types, ev.Type) {
			out = append(out, ev.ID)
		}
	}
	slices.Reverse(out)
	return out
}

func TestEvents(t *testing.T) {
	h, all := eventsFixture(t)
	tests := []struct {
		name string
		q    Query
		want []int64
	}{
		{"default_limit", Query{}, newestIDs(all, Query{}, DefaultLimit)},
		{"all", Query{Limit: -1}, newestIDs(all, Query{}, -1)},
		{"limit", Query{Limit: 3}, []int64{124, 125, 126}},
		{"before", Query{Before: 10, Limit: 3}, []int64{7, 8, 9}},
		{"source", Query{Source: "other"}, []int64{121, 122, 123, 124, 125}},
		{"sparse_type", Query{Types: []string{"eval.*"}, Limit: 2}, []int64{124, 125}},
		{"types", Query{Types: []string{"response.failed", "batch.*"}, Before: 10},
			[]int64{2, 3, 5, 6, 8, 9}},
		{"star_includes_untyped", Query{Types: []string{"*"}, Limit: 1}, []int64{126}},
		{"prefix_excludes_untyped", Query{Types: []string{"response.*"}, Limit: 2},
			[]int64{118, 119}},
		{"no_type_matches", Query{Types: []string{"fine_tuning.*"}}, nil},
		{"source_and_type", Query{Source: src, Types: []string{"eval.*"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := h.Events(t.Context(), tt.q)
			if err != nil {
				t.Fatalf("Events(%+v): %v", tt.q, err)
			}
			if got := ids(evs); !slices.Equal(got, tt.want) {
				t.Errorf("Events(%+v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestEventsFields(t *testing.T) {
	h, all := eventsFixture(t)
	evs, err := h.Events(t.Context(), Query{Limit: -1})
	if err != nil || len(evs) != len(all) {
		t.Fatalf("Events = %d events, %v, want %d", len(evs), err, len(all))
	}
	for i := range evs {
		checkEvent(t, evs[i], all[i])
	}
}

func TestEventsBadPattern(t *testing.T) {
	h := openHistory(t)
	record(t, h, newEvent(src, 1, "wh_1", "x"))
	if _, err := h.Events(t.Context(), Query{Types: []string{"response.["}}); err == nil {
		t.Error("Events with a malformed pattern succeeded")
	}
}

func TestPending(t *testing.T) {
	h := openHistory(t)
	var evs []Event
	for i, source := range []string{src, src, "other", src, src} {
		evs = append(evs, record(t, h, newEvent(source, int64(i+1), fmt.Sprint("wh_", i), "x")))
	}
	mustSetState(t, h, evs[0].ID, StateDelivered)
	mustSetState(t, h, evs[3].ID, StateFailed)
	mustSetState(t, h, evs[4].ID, StateDelivered)
	mustSetState(t, h, evs[4].ID, StatePending)
	tests := []struct {
		source string
		want   []int64
	}{
		{src, []int64{evs[1].ID, evs[4].ID}},
		{"other", []int64{evs[2].ID}},
		{"", []int64{evs[1].ID, evs[2].ID, evs[4].ID}},
		{"none", nil},
	}
	for _, tt := range tests {
		got, err := h.Pending(t.Context(), tt.source)
		if err != nil {
			t.Fatalf("Pending(%q): %v", tt.source, err)
		}
		if !slices.Equal(ids(got), tt.want) {
			t.Errorf("Pending(%q) = %v, want %v", tt.source, ids(got), tt.want)
		}
	}
}

func mustSetState(t *testing.T, h *History, id int64, s State) {
	t.Helper()
	if err := h.SetState(t.Context(), id, s); err != nil {
		t.Fatalf("SetState(%d, %s): %v", id, s, err)
	}
}

func TestAttempts(t *testing.T) {
	h := openHistory(t)
	ev := record(t, h, newEvent(src, 1, "wh_1", "x"))
	long := bytes.Repeat([]byte("a"), MaxResponseBody+10)
	want := []Attempt{
		{
			EventID: ev.ID, N: 1, Target: "http://localhost:3000/webhook",
			StartedAt: time.Date(2026, 5, 1, 12, 0, 1, 5, time.UTC), Latency: 3 * time.Millisecond,
			Outcome: OutcomeRefused, Error: "connection refused",
			RequestHeader: http.Header{"Webhook-Signature": {"v1,a", "v1,b"}},
		},
		{
			EventID: ev.ID, N: 2, Target: "http://localhost:3000/webhook",
			StartedAt: time.Date(2026, 5, 1, 12, 0, 2, 0, time.UTC), Latency: time.Second,
			Outcome: OutcomeServerErr, Status: 500,
			RequestHeader:  http.Header{"Webhook-Id": {"wh_1"}},
			ResponseHeader: http.Header{"Set-Cookie": {"a=1", "b=2"}},
			ResponseBody:   long,
		},
		{
			EventID: ev.ID, N: 1, Replay: true, Edited: true, Body: []byte(`{"edited":true}`),
			Target: "http://localhost:3000/webhook", Outcome: OutcomeDelivered, Status: 204,
			ResponseBody: []byte("ok\x00\xff"),
		},
	}
	for i := range want {
		a := want[i]
		id, err := h.AddAttempt(t.Context(), &a)
		if err != nil {
			t.Fatalf("AddAttempt %d: %v", i, err)
		}
		if id == 0 || a.ID != id {
			t.Errorf("AddAttempt %d = %d, a.ID = %d, want the same non-zero ID", i, id, a.ID)
		}
		want[i] = a
	}
	if len(want[1].ResponseBody) != MaxResponseBody {
		t.Errorf("AddAttempt left a response body of %d bytes, want %d",
			len(want[1].ResponseBody), MaxResponseBody)
	}

	got, err := h.Attempts(t.Context(), ev.ID)
	if err != nil {
		t.Fatalf("Attempts: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("Attempts = %d attempts, want %d", len(got), len(want))
	}
	for i := range want {
		checkAttempt(t, got[i], want[i])
	}
}

// checkAttempt reports the fields in which got differs from want.
func checkAttempt(t *testing.T, got, want Attempt) {
	t.Helper()
	if !got.StartedAt.Equal(want.StartedAt) {
		t.Errorf("attempt %d StartedAt = %v, want %v", got.ID, got.StartedAt, want.StartedAt)
	}
	got.StartedAt, want.StartedAt = time.Time{}, time.Time{}
	if len(want.ResponseBody) == 0 {
		want.ResponseBody = got.ResponseBody // nil and empty are the same
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("attempt = %+v\nwant %+v", got, want)
	}
}

func TestAddAttemptUnknownEvent(t *testing.T) {
	h := openHistory(t)
	_, err := h.AddAttempt(t.Context(), &Attempt{EventID: 42, N: 1})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("AddAttempt for a missing event: error = %v, want ErrNotFound", err)
	}
}

func TestLastAttempts(t *testing.T) {
	h := openHistory(t)
	a := record(t, h, newEvent(src, 1, "wh_1", "x"))
	b := record(t, h, newEvent(src, 2, "wh_2", "x"))
	c := record(t, h, newEvent(src, 3, "wh_3", "x"))
	want := map[int64]int64{}
	for _, ev := range []Event{a, a, b, a} {
		id, err := h.AddAttempt(t.Context(), &Attempt{EventID: ev.ID, N: 1})
		if err != nil {
			t.Fatalf("AddAttempt: %v", err)
		}
		want[ev.ID] = id
	}
	last, err := h.LastAttempts(t.Context(), []int64{a.ID, b.ID, c.ID, 99})
	if err != nil {
		t.Fatalf("LastAttempts: %v", err)
	}
	got := map[int64]int64{}
	for eventID, at := range last {
		got[eventID] = at.ID
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LastAttempts = %v (event: attempt), want %v", got, want)
	}
	if last, err := h.LastAttempts(t.Context(), nil); err != nil || len(last) != 0 {
		t.Errorf("LastAttempts(nil) = %v, %v, want empty", last, err)
	}
}

func TestConcurrentRecord(t *testing.T) {
	h := openHistory(t)
	const workers, events = 8, 20
	var created atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			// Every worker records the same events, in a different order.
			for i := range events {
				seq := int64((i+w)%events + 1)
				_, ok, err := h.Record(t.Context(), newEvent(src, seq, fmt.Sprint("wh_", seq), "x"))
				if err != nil {
					t.Errorf("Record(%d): %v", seq, err)
					return
				}
				if ok {
					created.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := created.Load(); got != events {
		t.Errorf("Record created %d events, want %d", got, events)
	}
	if n, err := h.Count(t.Context()); err != nil || n != events {
		t.Errorf("Count = %d, %v, want %d", n, err, events)
	}
}

func TestTwoHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	writer := openAt(t, path)
	reader := openAt(t, path)
	ev := record(t, writer, newEvent(src, 1, "wh_1", "x"))

	got, err := reader.Find(t.Context(), "wh_1")
	if err != nil {
		t.Fatalf("reader Find: %v", err)
	}
	checkEvent(t, got, ev)
	if seq, ok, err := reader.Cursor(t.Context(), src); err != nil || !ok || seq != 1 {
		t.Errorf("reader Cursor = %d, %v, %v, want 1", seq, ok, err)
	}
	// The other handle may write too, as relay-agent replay does.
	if _, err := reader.AddAttempt(t.Context(), &Attempt{EventID: ev.ID, N: 1}); err != nil {
		t.Fatalf("reader AddAttempt: %v", err)
	}
	record(t, writer, newEvent(src, 2, "wh_2", "x"))
	evs, err := reader.Events(t.Context(), Query{})
	if err != nil || len(evs) != 2 {
		t.Errorf("reader Events = %d events, %v, want 2", len(evs), err)
	}
	if as, err := writer.Attempts(t.Context(), ev.ID); err != nil || len(as) != 1 {
		t.Errorf("writer Attempts = %d attempts, %v, want 1", len(as), err)
	}
}

func BenchmarkEvents100k(b *testing.B) {
	const n = 100_000
	h := openHistory(b)
	fill(b, h, n)
	ctx := context.Background()
	for b.Loop() {
		evs, err := h.Events(ctx, Query{Limit: -1})
		if err != nil || len(evs) != n {
			b.Fatalf("Events = %d events, %v, want %d", len(evs), err, n)
		}
	}
}

// fill records n realistic events in one transaction.
func fill(b *testing.B, h *History, n int) {
	b.Helper()
	ctx := context.Background()
	tx, err := h.w.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	for i := range n {
		e := newEvent(src, int64(i+1), fmt.Sprint("wh_", i), "response.completed")
		e.Header = http.Header{
			"Content-Type":      {"application/json"},
			"User-Agent":        {"OpenAI/1.0 (+https://platform.openai.com/docs/webhooks)"},
			"Webhook-Id":        {e.WebhookID},
			"Webhook-Signature": {"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="},
			"Webhook-Timestamp": {"1750287078"},
		}
		e.Body = append(e.Body, bytes.Repeat([]byte(" "), 300)...)
		e.RecordedAt, e.State = time.Now(), StatePending
		header, err := marshalHeader(e.Header)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := recordTx(ctx, tx, *e, header); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// TestPlans checks that the queries run on every Record and on lookups use
// their indexes: a plan that walks all events of a source made Record
// quadratic once.
func TestPlans(t *testing.T) {
	h := openHistory(t)
	eventsBySource, args, err := eventsQuery(t.Context(), h.r, Query{Source: src, Before: 9})
	if err != nil {
		t.Fatalf("eventsQuery: %v", err)
	}
	pending, pendingArgs := pendingQuery(src)
	tests := []struct {
		name string
		q    string
		args []any
		want []string
	}{
		{"duplicate", duplicateQuery, []any{src, 1, "wh_1"},
			[]string{
				"events_source_seq (source=? AND seq=?)",
				"events_webhook_id (webhook_id=? AND source=?)",
			}},
		{"find", findQuery, []any{"wh_1"},
			[]string{"events_event_id (event_id=?)", "events_webhook_id (webhook_id=?)"}},
		{"events_by_source", eventsBySource, args,
			[]string{"events_source (source=? AND rowid<?)"}},
		{"pending", pending, pendingArgs, []string{"events_pending (state=? AND source=?)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := explain(t, h, tt.q, tt.args)
			for _, w := range tt.want {
				if !strings.Contains(plan, w) {
					t.Errorf("plan lacks %q:\n%s", w, plan)
				}
			}
			for _, bad := range []string{"SCAN events", "TEMP B-TREE"} {
				if strings.Contains(plan, bad) {
					t.Errorf("plan has %q:\n%s", bad, plan)
				}
			}
		})
	}
}

// explain returns the query plan of q, one step a line.
func explain(t *testing.T, h *History, q string, args []any) string {
	t.Helper()
	rows, err := h.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatalf("explain: %v", err)
		}
		plan.WriteString(detail + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("explain: %v", err)
	}
	return plan.String()
}
