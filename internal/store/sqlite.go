package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

const (
	// sqliteSchemaVersion is the PRAGMA user_version this code writes.
	sqliteSchemaVersion = 1
	// sqliteReaders bounds the read connection pool.
	sqliteReaders = 4
	// sqliteBusyTimeout is how long a connection waits for a lock held by
	// another connection before it gives up with SQLITE_BUSY.
	sqliteBusyTimeout = 10 * time.Second
	// prunePage bounds the events one pruning transaction deletes, so that
	// appends are not held up behind a long delete.
	prunePage = 1000
)

// sqliteSchema creates version 1 of the schema. Times are Unix microseconds.
// channels.head survives pruning, so a sequence number is never reused.
const sqliteSchema = `
CREATE TABLE channels (
	name TEXT PRIMARY KEY,
	head INTEGER NOT NULL
);
CREATE TABLE events (
	id          INTEGER PRIMARY KEY,
	channel     TEXT    NOT NULL,
	seq         INTEGER NOT NULL,
	webhook_id  TEXT    NOT NULL,
	type        TEXT    NOT NULL,
	header      TEXT    NOT NULL,
	body        BLOB    NOT NULL,
	received_at INTEGER NOT NULL,
	UNIQUE (channel, seq),
	UNIQUE (channel, webhook_id)
);
CREATE INDEX events_received_at ON events (received_at);
CREATE INDEX events_channel_received_at ON events (channel, received_at);
PRAGMA user_version = 1;
`

// SQLite is a Store kept in one SQLite file, for a single relay instance.
//
// One goroutine owned by the store writes every append; appends that arrive
// while it commits are committed together, so the fsync that makes an event
// durable is shared by all the events of a batch. Reads use a separate pool
// of read-only connections, which WAL mode lets run beside the writer. Wait
// is woken in process when an append commits.
//
// Limitation: Wait does not see events appended by another process sharing
// the file; use PostgreSQL to run several relay instances.
//
// The caller must call Close to stop the writer and release the file.
type SQLite struct {
	path   string
	wdb    *sql.DB // one connection: the writer's and Prune's
	rdb    *sql.DB // read-only connections
	stmts  sqliteStmts
	writer *groupWriter
	notify *notifier
	closed atomic.Bool
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens the SQLite store at path, creating the file, its parent
// directory and the schema as needed. The file is in WAL mode with
// synchronous=FULL, so an acknowledged append survives a crash of the
// process or the machine.
func OpenSQLite(path string) (*SQLite, error) {
	if err := createFile(path); err != nil {
		return nil, err
	}
	s := &SQLite{path: path, notify: newNotifier()}
	if err := s.openDBs(); err != nil {
		return nil, err
	}
	s.writer = startGroupWriter(s.commit, s.notify)
	return s, nil
}

// createFile creates path and its directory, readable by the owner only,
// since events carry webhook payloads. An existing file is left as it is.
func createFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create store directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open store %s: %w", path, err)
	}
	return f.Close()
}

func (s *SQLite) openDBs() error {
	wdb, err := sql.Open("sqlite", sqliteDSN(s.path, false))
	if err != nil {
		return fmt.Errorf("open store %s: %w", s.path, err)
	}
	wdb.SetMaxOpenConns(1)
	if err := migrateSQLite(wdb); err != nil {
		wdb.Close()
		return fmt.Errorf("open store %s: %w", s.path, err)
	}
	if s.stmts, err = prepareSQLite(wdb); err != nil {
		wdb.Close()
		return fmt.Errorf("open store %s: %w", s.path, err)
	}
	rdb, err := sql.Open("sqlite", sqliteDSN(s.path, true))
	if err != nil {
		s.stmts.close()
		wdb.Close()
		return fmt.Errorf("open store %s: %w", s.path, err)
	}
	rdb.SetMaxOpenConns(sqliteReaders)
	rdb.SetMaxIdleConns(sqliteReaders)
	s.wdb, s.rdb = wdb, rdb
	return nil
}

// sqliteDSN returns the modernc.org/sqlite DSN for path. It is a file: URI,
// so that any path works, with the driver's own query parameters: every
// write transaction takes the write lock at BEGIN (BEGIN IMMEDIATE), which
// avoids the deadlock-prone upgrade of a read lock.
func sqliteDSN(path string, readOnly bool) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()))
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Set("_txlock", "immediate")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	if u.Path != "" && u.Path[0] != '/' {
		u.Path = "/" + u.Path
	}
	return u.String()
}

// migrateSQLite brings the schema to sqliteSchemaVersion.
func migrateSQLite(db *sql.DB) error {
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	switch {
	case version == sqliteSchemaVersion:
		return nil
	case version > sqliteSchemaVersion:
		return fmt.Errorf("schema version %d is newer than this build's %d",
			version, sqliteSchemaVersion)
	}
	if _, err := tx.ExecContext(ctx, sqliteSchema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration: %w", err)
	}
	return nil
}

// sqliteStmts are the writer's statements, prepared once on its connection.
type sqliteStmts struct {
	find    *sql.Stmt // the seq of a webhook id in a channel
	advance *sql.Stmt // next head of a channel, creating it on first use
	insert  *sql.Stmt // an event
}

func prepareSQLite(db *sql.DB) (sqliteStmts, error) {
	var st sqliteStmts
	var errs []error
	prepare := func(query string) *sql.Stmt {
		stmt, err := db.Prepare(query)
		errs = append(errs, err)
		return stmt
	}
	st.find = prepare(`SELECT seq FROM events WHERE channel = ? AND webhook_id = ?`)
	st.advance = prepare(`INSERT INTO channels (name, head) VALUES (?, 1)
		ON CONFLICT (name) DO UPDATE SET head = head + 1
		RETURNING head`)
	st.insert = prepare(`INSERT INTO events
		(channel, seq, webhook_id, type, header, body, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err := errors.Join(errs...); err != nil {
		st.close()
		return sqliteStmts{}, fmt.Errorf("prepare statements: %w", err)
	}
	return st, nil
}

func (st sqliteStmts) close() {
	for _, stmt := range []*sql.Stmt{st.find, st.advance, st.insert} {
		if stmt != nil {
			stmt.Close()
		}
	}
}

// Append implements Store. It waits for the writer's next group commit.
func (s *SQLite) Append(ctx context.Context, e *Event) (int64, bool, error) {
	if s.closed.Load() {
		return 0, false, ErrClosed
	}
	rec, err := newRecord(e)
	if err != nil {
		return 0, false, fmt.Errorf("append event: %w", err)
	}
	seq, created, err := s.writer.append(ctx, rec)
	if err != nil {
		return 0, false, s.wrap("append event", err)
	}
	return seq, created, nil
}

// commit is the writer's commitFunc.
func (s *SQLite) commit(ctx context.Context, batch []*appendReq, res []appendResult) error {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	st := sqliteStmts{
		find:    tx.StmtContext(ctx, s.stmts.find),
		advance: tx.StmtContext(ctx, s.stmts.advance),
		insert:  tx.StmtContext(ctx, s.stmts.insert),
	}
	for i, req := range batch {
		if res[i], err = st.insertTx(ctx, req.rec); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// insertTx stores r, with statements of a transaction, unless its webhook id
// is already in its channel.
func (st sqliteStmts) insertTx(ctx context.Context, r *record) (appendResult, error) {
	var seq int64
	err := st.find.QueryRowContext(ctx, r.channel, r.webhookID).Scan(&seq)
	if err == nil {
		return appendResult{seq: seq}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return appendResult{}, fmt.Errorf("find webhook id: %w", err)
	}
	err = st.advance.QueryRowContext(ctx, r.channel).Scan(&seq)
	if err != nil {
		return appendResult{}, fmt.Errorf("advance head: %w", err)
	}
	_, err = st.insert.ExecContext(ctx,
		r.channel, seq, r.webhookID, r.typ, string(r.header), r.body,
		r.receivedAt.UnixMicro(),
	)
	if err != nil {
		return appendResult{}, fmt.Errorf("insert event: %w", err)
	}
	return appendResult{seq: seq, created: true}, nil
}

// Read implements Store.
func (s *SQLite) Read(
	ctx context.Context,
	channel string,
	after int64,
	limit int,
) ([]Event, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.rdb.QueryContext(ctx,
		`SELECT seq, webhook_id, type, header, body, received_at FROM events
		WHERE channel = ? AND seq > ? ORDER BY seq LIMIT ?`,
		channel, after, limit,
	)
	if err != nil {
		return nil, s.wrap("read events", err)
	}
	defer rows.Close()
	var events []Event
	for rows.Next() {
		e, err := scanSQLiteEvent(rows, channel)
		if err != nil {
			return nil, s.wrap("read events", err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("read events", err)
	}
	return events, nil
}

func scanSQLiteEvent(rows *sql.Rows, channel string) (Event, error) {
	e := Event{Channel: channel}
	var header []byte
	var receivedAt int64
	err := rows.Scan(&e.Seq, &e.WebhookID, &e.Type, &header, &e.Body, &receivedAt)
	if err != nil {
		return Event{}, err
	}
	if e.Body == nil {
		e.Body = []byte{}
	}
	e.ReceivedAt = time.UnixMicro(receivedAt).UTC()
	return e, decodeHeader(header, &e)
}

// Head implements Store.
func (s *SQLite) Head(ctx context.Context, channel string) (int64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	var head int64
	err := s.rdb.QueryRowContext(ctx,
		`SELECT head FROM channels WHERE name = ?`, channel,
	).Scan(&head)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, s.wrap("read head", err)
	}
	return head, nil
}

// SeqBefore implements Store.
func (s *SQLite) SeqBefore(ctx context.Context, channel string, t time.Time) (int64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	var seq int64
	err := s.rdb.QueryRowContext(ctx,
		`SELECT COALESCE(MAX(seq), 0) FROM events WHERE channel = ? AND received_at < ?`,
		channel, t.UnixMicro(),
	).Scan(&seq)
	if err != nil {
		return 0, s.wrap("find sequence before time", err)
	}
	return seq, nil
}

// Wait implements Store. It is woken in process by the writer.
func (s *SQLite) Wait(ctx context.Context, channel string, after int64) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.notify.wait(ctx, channel, after, s.Head)
}

// Prune implements Store. It deletes in pages of prunePage events, each in
// its own transaction, so that appends interleave with a long prune.
func (s *SQLite) Prune(ctx context.Context, before time.Time) (int64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	var total int64
	for {
		res, err := s.wdb.ExecContext(ctx,
			`DELETE FROM events WHERE id IN
			(SELECT id FROM events WHERE received_at < ? LIMIT ?)`,
			before.UnixMicro(), prunePage,
		)
		if err != nil {
			return total, s.wrap("prune events", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, s.wrap("prune events", err)
		}
		total += n
		if n < prunePage {
			return total, nil
		}
	}
}

// Stats implements Store.
func (s *SQLite) Stats(ctx context.Context, channel string) (Stats, error) {
	if s.closed.Load() {
		return Stats{}, ErrClosed
	}
	var st Stats
	var newest sql.NullInt64
	err := s.rdb.QueryRowContext(ctx,
		`SELECT COUNT(*), MAX(received_at) FROM events WHERE channel = ?`, channel,
	).Scan(&st.Events, &newest)
	if err != nil {
		return Stats{}, s.wrap("read stats", err)
	}
	if newest.Valid {
		st.Newest = time.UnixMicro(newest.Int64).UTC()
	}
	return st, nil
}

// Ping implements Store. It reads the schema version from the file.
func (s *SQLite) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	var version int
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return s.wrap("ping store", err)
	}
	return nil
}

// Close implements Store. It waits for the batch being committed, then
// closes the file.
func (s *SQLite) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	s.notify.close()
	s.writer.stop()
	s.stmts.close()
	if err := errors.Join(s.rdb.Close(), s.wdb.Close()); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// wrap names the failed operation, or returns ErrClosed when the store was
// closed under it.
func (s *SQLite) wrap(op string, err error) error {
	if s.closed.Load() || errors.Is(err, ErrClosed) {
		return ErrClosed
	}
	return fmt.Errorf("%s: %w", op, err)
}
