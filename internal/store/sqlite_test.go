package store_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openSQLite(t, filepath.Join(t.TempDir(), "relay.db"))
	})
}

// openSQLite opens the store at path and closes it when the test ends.
func openSQLite(t testing.TB, path string) *store.SQLite {
	t.Helper()
	s, err := store.OpenSQLite(path)
	if err != nil {
		t.Fatalf("OpenSQLite(%s) error = %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLiteCreatesDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay-data", "nested", "relay.db")
	openSQLite(t, path)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("store file: %v", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("store file mode = %v, want no access for group and others", perm)
	}
}

func TestSQLitePragmas(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "relay.db"))
	names := []string{"journal_mode", "synchronous", "busy_timeout", "query_only", "user_version"}
	writer, reader := store.Pragmas(t, s, names...)
	wantWriter := []string{"wal", "2", "10000", "0", "1"}
	wantReader := []string{"wal", "2", "10000", "1", "1"}
	if !slices.Equal(writer, wantWriter) {
		t.Errorf("writer pragmas %v = %v, want %v", names, writer, wantWriter)
	}
	if !slices.Equal(reader, wantReader) {
		t.Errorf("reader pragmas %v = %v, want %v", names, reader, wantReader)
	}
}

func TestSQLiteDurable(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "dir with space", "relay?.db")
	s := openSQLite(t, path)
	at := time.Date(2026, 5, 6, 7, 8, 9, 10_000, time.UTC)
	for i := range 3 {
		e := &store.Event{
			Channel:    "main",
			WebhookID:  fmt.Sprintf("wh_%d", i),
			Body:       []byte{byte(i), 0, 0xff},
			ReceivedAt: at.Add(time.Duration(i) * time.Hour),
		}
		if _, _, err := s.Append(ctx, e); err != nil {
			t.Fatalf("Append() error = %v", err)
		}
	}
	if _, err := s.Prune(ctx, at.Add(time.Minute)); err != nil {
		t.Fatalf("Prune() error = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}

	s = openSQLite(t, path)
	events, err := s.Read(ctx, "main", 0, 10)
	if err != nil || len(events) != 2 {
		t.Fatalf("Read after reopen = %d events, %v; want 2", len(events), err)
	}
	if e := events[1]; e.Seq != 3 || !bytes.Equal(e.Body, []byte{2, 0, 0xff}) ||
		!e.ReceivedAt.Equal(at.Add(2*time.Hour)) {
		t.Errorf("event after reopen = %d %q %v", e.Seq, e.Body, e.ReceivedAt)
	}
	if h, err := s.Head(ctx, "main"); err != nil || h != 3 {
		t.Errorf("Head after reopen = %d, %v; want 3", h, err)
	}
}

func TestSQLiteGroupCommit(t *testing.T) {
	const appends = 32
	s := openSQLite(t, filepath.Join(t.TempDir(), "relay.db"))
	release := store.HoldWriter(t, s)
	var started, done sync.WaitGroup
	for i := range appends {
		started.Add(1)
		done.Go(func() {
			e := &store.Event{Channel: "main", WebhookID: fmt.Sprintf("wh_%d", i)}
			started.Done()
			if _, _, err := s.Append(t.Context(), e); err != nil {
				t.Errorf("Append() error = %v", err)
			}
		})
	}
	started.Wait()
	release()
	done.Wait()

	commits := store.CommitCount(s)
	if commits >= appends {
		t.Errorf("%d appends took %d transactions, want fewer", appends, commits)
	}
	t.Logf("%d appends in %d transactions", appends, commits)
}

func BenchmarkAppendParallel(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			benchmarkAppend(b, writers)
		})
	}
}

// benchmarkAppend appends b.N events from writers goroutines and reports
// events per second and events per transaction.
func benchmarkAppend(b *testing.B, writers int) {
	s := openSQLite(b, filepath.Join(b.TempDir(), "relay.db"))
	body := bytes.Repeat([]byte("x"), 2048)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range writers {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				e := &store.Event{Channel: "main", WebhookID: fmt.Sprint(i), Body: body}
				if _, _, err := s.Append(b.Context(), e); err != nil {
					b.Errorf("Append() error = %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/float64(store.CommitCount(s)), "events/commit")
}
