package history

import (
	"bytes"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestEnrichmentRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	h := openAt(t, path)
	ev := record(t, h, newEvent(src, 1, "wh_1", "response.completed"))
	ctx := t.Context()
	if _, err := h.Enrichment(ctx, ev.ID); !errors.Is(err, ErrNoEnrichment) {
		t.Fatalf("Enrichment before SetEnrichment: %v, want ErrNoEnrichment", err)
	}
	first := Enrichment{EventID: ev.ID, FetchedAt: time.Unix(0, 1778500000123456789),
		Data: []byte(`{"status":"completed"}`)}
	second := Enrichment{EventID: ev.ID, FetchedAt: first.FetchedAt.Add(time.Minute),
		Data: []byte(`{"status":"failed"}`)}
	for _, want := range []Enrichment{first, second} {
		if err := h.SetEnrichment(ctx, want); err != nil {
			t.Fatalf("SetEnrichment: %v", err)
		}
		checkEnrichment(t, h, want)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	checkEnrichment(t, openAt(t, path), second)
}

func checkEnrichment(t *testing.T, h *History, want Enrichment) {
	t.Helper()
	got, err := h.Enrichment(t.Context(), want.EventID)
	if err != nil {
		t.Fatalf("Enrichment: %v", err)
	}
	if !got.FetchedAt.Equal(want.FetchedAt) || !bytes.Equal(got.Data, want.Data) ||
		got.EventID != want.EventID {
		t.Errorf("Enrichment = %d %v %s, want %d %v %s", got.EventID, got.FetchedAt, got.Data,
			want.EventID, want.FetchedAt, want.Data)
	}
}

func TestSetEnrichmentUnknownEvent(t *testing.T) {
	h := openHistory(t)
	err := h.SetEnrichment(t.Context(), Enrichment{EventID: 42, FetchedAt: time.Now(),
		Data: []byte(`{}`)})
	if err == nil {
		t.Error("SetEnrichment of an unknown event succeeded")
	}
}

// TestMigrateFromVersion1 opens a file written by a history of schema
// version 1, which has no enrichments table.
func TestMigrateFromVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	writeVersion1(t, path)
	h := openAt(t, path)
	ev, err := h.Event(t.Context(), 1)
	if err != nil || ev.WebhookID != "wh_old" {
		t.Fatalf("event of version 1 = %+v, %v; want wh_old", ev, err)
	}
	var v int
	if err := h.r.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != schemaVersion {
		t.Errorf("user_version after Open = %d, want %d", v, schemaVersion)
	}
	want := Enrichment{EventID: ev.ID, FetchedAt: time.Unix(1778500000, 0), Data: []byte("{}")}
	if err := h.SetEnrichment(t.Context(), want); err != nil {
		t.Fatalf("SetEnrichment after migration: %v", err)
	}
	checkEnrichment(t, h, want)
}

// writeVersion1 writes at path a history of schema version 1 holding one
// event.
func writeVersion1(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stmts := []string{
		migrations[0],
		`INSERT INTO events (source, seq, webhook_id, header, body, recorded_at, state)
			VALUES ('relay/a', 1, 'wh_old', '{}', '{}', 1, 'delivered')`,
		"PRAGMA user_version = 1",
	}
	for i, q := range stmts {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("statement %d of version 1: %v", i, err)
		}
	}
	var n int
	err = db.QueryRowContext(t.Context(),
		"SELECT count(*) FROM sqlite_master WHERE name = 'enrichments'").Scan(&n)
	if err != nil || n != 0 {
		t.Fatalf("version 1 has an enrichments table (%d, %v)", n, err)
	}
}
