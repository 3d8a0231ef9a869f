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
