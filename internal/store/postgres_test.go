package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/store/storetest"
)

// testDatabaseEnv names the PostgreSQL server the tests use.
const testDatabaseEnv = "HOOKRELAY_TEST_DATABASE_URL"

func TestPostgres(t *testing.T) {
	testDatabaseURL(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return openPostgres(t, newSchema(t))
	})
}

func TestPostgresShared(t *testing.T) {
	testDatabaseURL(t)
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		dsn := newSchema(t)
		return openPostgres(t, dsn), openPostgres(t, dsn)
	})
}

func TestPostgresListenerReconnects(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	dsn := newSchema(t)
	a, b := openPostgres(t, dsn), openPostgres(t, dsn)
	terminate(t, store.ListenerPID(b))

	done := make(chan error, 1)
	go func() { done <- b.Wait(ctx, "main", 0) }()
	e := &store.Event{Channel: "main", WebhookID: "wh_1"}
	if _, _, err := a.Append(ctx, e); err != nil {
		t.Fatalf("Append() error = %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("Wait() after the listener's connection was terminated = %v", err)
	}
}

// terminate ends the PostgreSQL backend pid and waits until it is gone.
func terminate(t *testing.T, pid uint32) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), testDatabaseURL(t))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))
	var ok bool
	err = conn.QueryRow(t.Context(), "SELECT pg_terminate_backend($1, 10000)", int32(pid)).
		Scan(&ok)
	if err != nil || !ok {
		t.Fatalf("terminate backend %d = %t, %v", pid, ok, err)
	}
}

func TestPostgresDuplicateCommittedMeanwhile(t *testing.T) {
	ctx := t.Context()
	p := openPostgres(t, newSchema(t))
	seq, _, err := p.Append(ctx, &store.Event{Channel: "main", WebhookID: "wh_1"})
	if err != nil {
		t.Fatalf("Append() error = %v", err)
	}
	e := &store.Event{Channel: "main", WebhookID: "wh_1", Body: []byte("second")}
	if got, created := store.AppendSkippingLookup(t, p, e); got != seq || created {
		t.Errorf("racing duplicate = %d, %t; want %d, false", got, created, seq)
	}
	events, err := p.Read(ctx, "main", 0, 10)
	if err != nil || len(events) != 1 || len(events[0].Body) != 0 {
		t.Errorf("Read() = %+v, %v; want the first event alone", events, err)
	}
}

func TestPostgresConcurrentOpen(t *testing.T) {
	dsn := newSchema(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := store.OpenPostgres(t.Context(), dsn)
			if err != nil {
				t.Errorf("OpenPostgres() error = %v", err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
}

// testDatabaseURL returns the test server's URL, or skips the test.
func testDatabaseURL(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(testDatabaseEnv)
	if dsn == "" {
		t.Skip("set HOOKRELAY_TEST_DATABASE_URL to run the PostgreSQL store tests, e.g. " +
			"HOOKRELAY_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return dsn
}

// newSchema creates a schema of its own for the test, dropped when the test
// ends, and returns the test database's URL with the schema as search_path.
func newSchema(t *testing.T) string {
	t.Helper()
	base := testDatabaseURL(t)
	name := fmt.Sprintf("hookrelay_test_%016x", rand.Uint64())
	execSQL(t, base, "CREATE SCHEMA "+name)
	t.Cleanup(func() { execSQL(t, base, "DROP SCHEMA "+name+" CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", testDatabaseEnv, err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func execSQL(t *testing.T, dsn, sql string) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// openPostgres opens the store at dsn and closes it when the test ends.
func openPostgres(t *testing.T, dsn string) *store.Postgres {
	t.Helper()
	s, err := store.OpenPostgres(t.Context(), dsn)
	if err != nil {
		t.Fatalf("OpenPostgres() error = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
