package store

import "testing"

// CommitCount returns how many transactions the writer of s has committed.
func CommitCount(s *SQLite) int64 {
	return s.writer.commits.Load()
}

// HoldWriter takes the connection the writer of s commits with, so that
// appends queue up behind it until release is called.
func HoldWriter(t testing.TB, s *SQLite) (release func()) {
	t.Helper()
	conn, err := s.wdb.Conn(t.Context())
	if err != nil {
		t.Fatalf("hold writer connection: %v", err)
	}
	return func() { conn.Close() }
}

// Pragmas returns the values of the named pragmas on the writer connection
// of s and on one of its read connections.
func Pragmas(t testing.TB, s *SQLite, names ...string) (writer, reader []string) {
	t.Helper()
	for _, name := range names {
		var w, r string
		if err := s.wdb.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&w); err != nil {
			t.Fatalf("writer PRAGMA %s: %v", name, err)
		}
		if err := s.rdb.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&r); err != nil {
			t.Fatalf("reader PRAGMA %s: %v", name, err)
		}
		writer, reader = append(writer, w), append(reader, r)
	}
	return writer, reader
}

// ListenerPID returns the backend process of the LISTEN connection of p.
func ListenerPID(p *Postgres) uint32 {
	return p.listenPID.Load()
}

// AppendSkippingLookup appends e to p in a transaction of its own without
// first looking for its webhook id, as when another instance commits the
// same webhook id between that look-up and the insert.
func AppendSkippingLookup(t testing.TB, p *Postgres, e *Event) (int64, bool) {
	t.Helper()
	rec, err := newRecord(e)
	if err != nil {
		t.Fatalf("newRecord() error = %v", err)
	}
	tx, err := p.pool.Begin(t.Context())
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer tx.Rollback(t.Context())
	res, err := insertNewPostgres(t.Context(), tx, rec)
	if err != nil {
		t.Fatalf("insertNewPostgres() error = %v", err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatalf("commit: %v", err)
	}
	return res.seq, res.created
}
