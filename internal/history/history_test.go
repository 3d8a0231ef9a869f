package history

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

const src = "relay.example.com/default"

// openHistory opens a history in a new temporary directory.
func openHistory(t testing.TB) *History {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "history.db"))
}

// openAt opens the history at path and closes it at the end of the test.
func openAt(t testing.TB, path string) *History {
	t.Helper()
	h, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

// newEvent returns an event of source with a JSON body of type typ.
func newEvent(source string, seq int64, webhookID, typ string) *Event {
	body := fmt.Sprintf(`{"id":"evt_%s_%d","type":%q,"data":{"id":"resp_1"}}`, webhookID, seq, typ)
	return &Event{
		Source:     source,
		Seq:        seq,
		WebhookID:  webhookID,
		Header:     http.Header{"Webhook-Id": {webhookID}},
		Body:       []byte(body),
		ReceivedAt: time.Date(2026, 5, 1, 12, 0, 0, int(seq), time.UTC),
	}
}

// record records e and fails the test unless it was created.
func record(t testing.TB, h *History, e *Event) Event {
	t.Helper()
	ev, created, err := h.Record(context.Background(), e)
	if err != nil {
		t.Fatalf("Record(%s/%d): %v", e.Source, e.Seq, err)
	}
	if !created {
		t.Fatalf("Record(%s/%d) created = false, want true", e.Source, e.Seq)
	}
	return ev
}

// checkEvent reports the fields in which got differs from want.
func checkEvent(t *testing.T, got, want Event) {
	t.Helper()
	if got.ID != want.ID || got.Source != want.Source || got.Seq != want.Seq ||
		got.WebhookID != want.WebhookID || got.EventID != want.EventID ||
		got.Type != want.Type || got.State != want.State {
		t.Errorf("event = %+v, want %+v", brief(got), brief(want))
	}
	if !bytes.Equal(got.Body, want.Body) {
		t.Errorf("event %d body = %q, want %q", got.ID, got.Body, want.Body)
	}
	if !reflect.DeepEqual(got.Header, want.Header) {
		t.Errorf("event %d header = %v, want %v", got.ID, got.Header, want.Header)
	}
	if !got.ReceivedAt.Equal(want.ReceivedAt) || !got.RecordedAt.Equal(want.RecordedAt) {
		t.Errorf("event %d times = %v, %v, want %v, %v", got.ID,
			got.ReceivedAt, got.RecordedAt, want.ReceivedAt, want.RecordedAt)
	}
}

// brief returns ev without its header and body, for messages.
func brief(ev Event) Event {
	ev.Header, ev.Body = nil, nil
	return ev
}

// ids returns the IDs of evs.
func ids(evs []Event) []int64 {
	out := make([]int64, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

func TestRecordRoundTrip(t *testing.T) {
	h := openHistory(t)
	body := []byte("{\"id\": \"evt_1\",\n \"type\": \"response.completed\"," +
		" \"x\": \"\xff\u00e9\"}\n")
	e := &Event{
		Source:    src,
		Seq:       7,
		WebhookID: "wh_1",
		Header: http.Header{
			"Webhook-Signature": {"v1,abc", "v1,def"},
			"Content-Type":      {"application/json"},
		},
		Body:       body,
		ReceivedAt: time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC),
	}
	before := time.Now()
	ev, created, err := h.Record(t.Context(), e)
	if err != nil || !created {
		t.Fatalf("Record = %v, %v, want created", created, err)
	}
	if ev.ID == 0 || ev.State != StatePending || ev.RecordedAt.Before(before.Truncate(0)) {
		t.Errorf("Record = %+v, want an ID, state pending, recorded now", brief(ev))
	}
	if ev.EventID != "evt_1" || ev.Type != "response.completed" {
		t.Errorf("Record EventID, Type = %q, %q, want from the body", ev.EventID, ev.Type)
	}
	if e.ID != 0 || e.EventID != "" {
		t.Errorf("Record modified its argument: %+v", brief(*e))
	}
	got, err := h.Event(t.Context(), ev.ID)
	if err != nil {
		t.Fatalf("Event(%d): %v", ev.ID, err)
	}
	checkEvent(t, got, ev)
}

func TestRecordFillsFromBody(t *testing.T) {
	tests := []struct {
		name             string
		eventID, typ     string
		body             string
		wantID, wantType string
	}{
		{"from_body", "", "", `{"id":"evt_b","type":"batch.done"}`, "evt_b", "batch.done"},
		{"given_wins", "evt_g", "eval.failed", `{"id":"evt_b","type":"x"}`, "evt_g", "eval.failed"},
		{"half_given", "evt_g", "", `{"id":"evt_b","type":"x"}`, "evt_g", "x"},
		{"not_json", "", "", `id=evt_b`, "", ""},
		{"empty_body", "", "", ``, "", ""},
	}
	h := openHistory(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &Event{Source: src, Seq: int64(i + 1), EventID: tt.eventID, Type: tt.typ,
				Body: []byte(tt.body)}
			ev := record(t, h, e)
			got, err := h.Event(t.Context(), ev.ID)
			if err != nil {
				t.Fatalf("Event: %v", err)
			}
			if got.EventID != tt.wantID || got.Type != tt.wantType {
				t.Errorf("EventID, Type = %q, %q, want %q, %q",
					got.EventID, got.Type, tt.wantID, tt.wantType)
			}
		})
	}
}

func TestRecordDedup(t *testing.T) {
	tests := []struct {
		name        string
		source      string
		seq         int64
		webhookID   string
		wantCreated bool
	}{
		{"same_seq", src, 1, "wh_other", false},
		{"same_webhook_id", src, 9, "wh_1", false},
		{"both_same", src, 1, "wh_1", false},
		{"other_source", "relay.example.com/ci", 1, "wh_1", true},
		{"new", src, 2, "wh_2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := openHistory(t)
			first := record(t, h, newEvent(src, 1, "wh_1", "response.completed"))
			e := newEvent(tt.source, tt.seq, tt.webhookID, "x")
			ev, created, err := h.Record(t.Context(), e)
			if err != nil {
				t.Fatalf("Record: %v", err)
			}
			if created != tt.wantCreated {
				t.Fatalf("Record created = %v, want %v", created, tt.wantCreated)
			}
			wantCount := int64(2)
			if !created {
				wantCount = 1
				checkEvent(t, ev, first)
			}
			if n, err := h.Count(t.Context()); err != nil || n != wantCount {
				t.Errorf("Count = %d, %v, want %d", n, err, wantCount)
			}
		})
	}
}

func TestRecordDedupBothMatch(t *testing.T) {
	h := openHistory(t)
	first := record(t, h, newEvent(src, 1, "wh_1", "x"))
	record(t, h, newEvent(src, 2, "wh_2", "x"))
	ev, created, err := h.Record(t.Context(), newEvent(src, 2, "wh_1", "x"))
	if err != nil || created || ev.ID != first.ID {
		t.Errorf("Record = %d, %v, %v, want the oldest match %d", ev.ID, created, err, first.ID)
	}
}

func TestRecordWithoutSeqOrWebhookID(t *testing.T) {
	h := openHistory(t)
	for range 2 {
		record(t, h, &Event{Source: src, Body: []byte(`{}`)})
	}
	if n, err := h.Count(t.Context()); err != nil || n != 2 {
		t.Errorf("Count = %d, %v, want 2", n, err)
	}
	if _, ok, err := h.Cursor(t.Context(), src); err != nil || ok {
		t.Errorf("Cursor = _, %v, %v, want no cursor", ok, err)
	}
}

func TestCursor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	h, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	checkCursor := func(h *History, want int64) {
		t.Helper()
		seq, ok, err := h.Cursor(t.Context(), src)
		if err != nil || !ok || seq != want {
			t.Errorf("Cursor = %d, %v, %v, want %d, true", seq, ok, err, want)
		}
	}
	if _, ok, err := h.Cursor(t.Context(), src); err != nil || ok {
		t.Errorf("Cursor of a new history = _, %v, %v, want not ok", ok, err)
	}
	record(t, h, newEvent(src, 5, "wh_5", "x"))
	checkCursor(h, 5)
	record(t, h, newEvent(src, 3, "wh_3", "x"))
	checkCursor(h, 5)
	// A duplicate by webhook-id still moves the cursor.
	_, created, err := h.Record(t.Context(), newEvent(src, 8, "wh_3", "x"))
	if err != nil || created {
		t.Fatalf("Record duplicate = %v, %v, want not created", created, err)
	}
	checkCursor(h, 8)
	record(t, h, newEvent("other", 2, "wh_o", "x"))
	checkCursor(h, 8)
	if err := h.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	checkCursor(openAt(t, path), 8)
}

func TestDurableAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "history.db")
	h, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ev := record(t, h, newEvent(src, 1, "wh_1", "response.completed"))
	a := &Attempt{EventID: ev.ID, N: 1, Outcome: OutcomeDelivered, Status: 200}
	if _, err := h.AddAttempt(t.Context(), a); err != nil {
		t.Fatalf("AddAttempt: %v", err)
	}
	if err := h.SetState(t.Context(), ev.ID, StateDelivered); err != nil {
		t.Fatalf("SetState: %v", err)
	}
	if err := h.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	h = openAt(t, path)
	if h.Path() != path {
		t.Errorf("Path = %q, want %q", h.Path(), path)
	}
	got, err := h.Event(t.Context(), ev.ID)
	if err != nil {
		t.Fatalf("Event after reopen: %v", err)
	}
	ev.State = StateDelivered
	checkEvent(t, got, ev)
	as, err := h.Attempts(t.Context(), ev.ID)
	if err != nil || len(as) != 1 || as[0].ID != a.ID {
		t.Errorf("Attempts after reopen = %+v, %v, want attempt %d", as, err, a.ID)
	}
}

func TestOpenModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes on Windows")
	}
	dir := filepath.Join(t.TempDir(), "state", "hookrelay")
	path := filepath.Join(dir, "history.db")
	h := openAt(t, path)
	record(t, h, newEvent(src, 1, "wh_1", "x"))
	for name, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %v, want %v", filepath.Base(name), got, want)
		}
	}
}

func TestOpenNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	_, err = db.ExecContext(t.Context(), "PRAGMA user_version = 99")
	if cerr := db.Close(); err != nil || cerr != nil {
		t.Fatalf("set user_version: %v, %v", err, cerr)
	}
	h, err := Open(path)
	if err == nil {
		h.Close()
		t.Fatal("Open of a newer schema succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "99") {
		t.Errorf("Open error %q does not name the version", err)
	}
}

func TestFind(t *testing.T) {
	h := openHistory(t)
	first := record(t, h, newEvent(src, 1, "wh_1", "x"))
	numeric := record(t, h, newEvent(src, 2, "999999", "x"))
	older := record(t, h, newEvent("a", 1, "wh_dup", "x"))
	newer := record(t, h, newEvent("b", 2, "wh_dup", "x"))
	tests := []struct {
		name string
		key  string
		want int64
	}{
		{"history_id", fmt.Sprint(first.ID), first.ID},
		{"history_id_spaces", fmt.Sprintf(" %d\n", numeric.ID), numeric.ID},
		{"event_id", first.EventID, first.ID},
		{"webhook_id", "wh_1", first.ID},
		{"numeric_webhook_id", "999999", numeric.ID},
		{"newest_wins", "wh_dup", newer.ID},
		{"event_id_of_older", older.EventID, older.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := h.Find(t.Context(), tt.key)
			if err != nil || ev.ID != tt.want {
				t.Errorf("Find(%q) = %d, %v, want %d", tt.key, ev.ID, err, tt.want)
			}
		})
	}
	for _, key := range []string{"evt_missing", "12345", ""} {
		_, err := h.Find(t.Context(), key)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("Find(%q) error = %v, want ErrNotFound", key, err)
		}
		if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("%q", key)) {
			t.Errorf("Find(%q) error %q does not say what was looked for", key, err)
		}
	}
}

func TestEventNotFound(t *testing.T) {
	h := openHistory(t)
	if _, err := h.Event(t.Context(), 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("Event(1) error = %v, want ErrNotFound", err)
	}
	if err := h.SetState(t.Context(), 1, StateFailed); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetState(1) error = %v, want ErrNotFound", err)
	}
	ev := record(t, h, newEvent(src, 1, "wh_1", "x"))
	if err := h.SetState(t.Context(), ev.ID, "lost"); err == nil {
		t.Error("SetState with an unknown state succeeded")
	}
}
