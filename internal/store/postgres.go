package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	// postgresSchemaVersion is the version this code writes to
	// hookrelay_schema.
	postgresSchemaVersion = 1
	// migrationLockKey is the advisory lock that serializes migrations of
	// relay instances starting at once ("hookrela" in ASCII).
	migrationLockKey = 0x686f6f6b72656c61
	// notifyChannel is the PostgreSQL NOTIFY channel an append announces
	// itself on. Its payload is the relay channel, or empty for "any".
	notifyChannel = "hookrelay_events"
	// maxNotifyPayload is the longest channel name sent as a payload;
	// PostgreSQL limits payloads to 8000 bytes.
	maxNotifyPayload = 1000
	// Listener reconnection backoff.
	listenMinBackoff = 100 * time.Millisecond
	listenMaxBackoff = 5 * time.Second
	// listenCloseTimeout bounds closing the listener's connection.
	listenCloseTimeout = 5 * time.Second
)

// postgresSchema creates version 1 of the schema in the first schema of the
// connection's search_path. channels.head survives pruning, so a sequence
// number is never reused.
const postgresSchema = `
CREATE TABLE channels (
	name text PRIMARY KEY,
	head bigint NOT NULL
);
CREATE TABLE events (
	channel     text        NOT NULL,
	seq         bigint      NOT NULL,
	webhook_id  text        NOT NULL,
	type        text        NOT NULL,
	header      jsonb       NOT NULL,
	body        bytea       NOT NULL,
	received_at timestamptz NOT NULL,
	PRIMARY KEY (channel, seq),
	UNIQUE (channel, webhook_id)
);
CREATE INDEX events_received_at ON events (received_at);
CREATE INDEX events_channel_received_at ON events (channel, received_at);
`

// Postgres is a Store kept in PostgreSQL, which several relay instances can
// share: each append takes the next number of its channel under the
// channel's row lock, and announces itself with NOTIFY, so that Wait wakes
// in every instance.
//
// Like SQLite, one goroutine owned by the store writes every append and
// commits the appends that queue up meanwhile in one transaction. A second
// goroutine holds a connection that LISTENs for the appends of all
// instances; when that connection drops, it reconnects and wakes every
// Wait, which re-reads the head, so no append is missed.
//
// Limitation: the listener does not log its reconnections, since
// OpenPostgres takes no logger; Ping reports only whether the pool answers.
//
// The caller must call Close to stop both goroutines and the pool.
type Postgres struct {
	pool   *pgxpool.Pool
	writer *groupWriter
	notify *notifier
	closed atomic.Bool

	// Listener state.
	stopListen context.CancelFunc
	listenDone chan struct{}
	listenPID  atomic.Uint32 // backend of the LISTEN connection, for tests
}

var _ Store = (*Postgres)(nil)

// OpenPostgres connects to the PostgreSQL database at dsn, a URL or
// keyword/value connection string as pgx accepts, and creates the schema if
// it is missing. Errors never contain the password of dsn.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, redactError(fmt.Errorf("parse postgres dsn: %w", err), dsn)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, redactError(fmt.Errorf("open postgres pool: %w", err), dsn)
	}
	p := &Postgres{pool: pool, notify: newNotifier()}
	if err := p.start(ctx); err != nil {
		pool.Close()
		return nil, redactError(err, dsn)
	}
	return p, nil
}

// start migrates the schema, connects the listener and starts the goroutines.
func (p *Postgres) start(ctx context.Context) error {
	if err := migratePostgres(ctx, p.pool); err != nil {
		return err
	}
	conn, err := p.listen(ctx)
	if err != nil {
		return err
	}
	listenCtx, stop := context.WithCancel(context.Background())
	p.stopListen = stop
	p.listenDone = make(chan struct{})
	go p.runListener(listenCtx, conn)
	p.writer = startGroupWriter(p.commit, p.notify)
	return nil
}

// migratePostgres brings the schema to postgresSchemaVersion. The advisory
// lock lets instances that start together migrate one after the other.
func migratePostgres(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockKey); err != nil {
		return fmt.Errorf("lock migration: %w", err)
	}
	version, err := postgresVersion(ctx, tx)
	if err != nil {
		return err
	}
	switch {
	case version == postgresSchemaVersion:
		return nil
	case version > postgresSchemaVersion:
		return fmt.Errorf("schema version %d is newer than this build's %d",
			version, postgresSchemaVersion)
	}
	if _, err := tx.Exec(ctx, postgresSchema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO hookrelay_schema (version) VALUES ($1)`,
		postgresSchemaVersion)
	if err != nil {
		return fmt.Errorf("record schema version: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit migration: %w", err)
	}
	return nil
}

// postgresVersion returns the schema version, 0 for an empty database.
func postgresVersion(ctx context.Context, tx pgx.Tx) (int, error) {
	_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS hookrelay_schema (version integer NOT NULL)`)
	if err != nil {
		return 0, fmt.Errorf("create schema version table: %w", err)
	}
	var version int
	err = tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM hookrelay_schema`).
		Scan(&version)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return version, nil
}

// Append implements Store. It waits for the writer's next group commit.
func (p *Postgres) Append(ctx context.Context, e *Event) (int64, bool, error) {
	if p.closed.Load() {
		return 0, false, ErrClosed
	}
	rec, err := newRecord(e)
	if err != nil {
		return 0, false, fmt.Errorf("append event: %w", err)
	}
	seq, created, err := p.writer.append(ctx, rec)
	if err != nil {
		return 0, false, p.wrap("append event", err)
	}
	return seq, created, nil
}

// commit is the writer's commitFunc. It notifies once per channel that grew;
// PostgreSQL delivers the notifications when the transaction commits.
func (p *Postgres) commit(ctx context.Context, batch []*appendReq, res []appendResult) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	notified := make(map[string]bool)
	for i, req := range batch {
		if res[i], err = insertPostgres(ctx, tx, req.rec); err != nil {
			return err
		}
		ch := req.rec.channel
		if res[i].created && !notified[ch] {
			notified[ch] = true
			if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`,
				notifyChannel, notifyPayload(ch)); err != nil {
				return fmt.Errorf("notify: %w", err)
			}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// notifyPayload returns the NOTIFY payload for channel: its name, or empty,
// which wakes every channel, when the name is too long for a payload.
func notifyPayload(channel string) string {
	if channel == "" || len(channel) > maxNotifyPayload {
		return ""
	}
	return channel
}

// insertEventSQL advances the channel's head, creating the channel on first
// use, and inserts the event under the new head. The upsert locks the
// channel's row until the transaction ends, which orders the appends of all
// instances. When another instance committed the same webhook id after this
// transaction looked for it, the insert does nothing and returns no row; the
// number it took is then skipped, which the Store contract allows.
const insertEventSQL = `
WITH h AS (
	INSERT INTO channels (name, head) VALUES ($1, 1)
	ON CONFLICT (name) DO UPDATE SET head = channels.head + 1
	RETURNING head
)
INSERT INTO events (channel, seq, webhook_id, type, header, body, received_at)
SELECT $1, h.head, $2, $3, $4, $5, $6 FROM h
ON CONFLICT (channel, webhook_id) DO NOTHING
RETURNING seq`

// insertPostgres stores r in tx unless its webhook id is already in its
// channel.
func insertPostgres(ctx context.Context, tx pgx.Tx, r *record) (appendResult, error) {
	seq, found, err := findWebhookID(ctx, tx, r)
	if err != nil || found {
		return appendResult{seq: seq}, err
	}
	return insertNewPostgres(ctx, tx, r)
}

// insertNewPostgres stores r, whose webhook id tx did not find in its
// channel. If another instance has committed it since, it returns that
// event's number.
func insertNewPostgres(ctx context.Context, tx pgx.Tx, r *record) (appendResult, error) {
	var seq int64
	err := tx.QueryRow(ctx, insertEventSQL,
		r.channel, r.webhookID, r.typ, r.header, r.body, r.receivedAt,
	).Scan(&seq)
	if err == nil {
		return appendResult{seq: seq, created: true}, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return appendResult{}, fmt.Errorf("insert event: %w", err)
	}
	seq, found, err := findWebhookID(ctx, tx, r)
	if err == nil && !found {
		err = fmt.Errorf("webhook id %q conflicts but is not found", r.webhookID)
	}
	return appendResult{seq: seq}, err
}

// findWebhookID returns the number of the event of r's channel with r's
// webhook id, if there is one.
func findWebhookID(ctx context.Context, tx pgx.Tx, r *record) (int64, bool, error) {
	var seq int64
	err := tx.QueryRow(ctx,
		`SELECT seq FROM events WHERE channel = $1 AND webhook_id = $2`,
		r.channel, r.webhookID,
	).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("find webhook id: %w", err)
	}
	return seq, true, nil
}

// Read implements Store.
func (p *Postgres) Read(
	ctx context.Context,
	channel string,
	after int64,
	limit int,
) ([]Event, error) {
	if p.closed.Load() {
		return nil, ErrClosed
	}
	if limit <= 0 || !isText(channel) {
		return nil, nil
	}
	rows, err := p.pool.Query(ctx,
		`SELECT seq, webhook_id, type, header, body, received_at FROM events
		WHERE channel = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
		channel, after, limit,
	)
	if err != nil {
		return nil, p.wrap("read events", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Event, error) {
		return scanPostgresEvent(row, channel)
	})
	if err != nil {
		return nil, p.wrap("read events", err)
	}
	return events, nil
}

func scanPostgresEvent(row pgx.CollectableRow, channel string) (Event, error) {
	e := Event{Channel: channel}
	var header []byte
	err := row.Scan(&e.Seq, &e.WebhookID, &e.Type, &header, &e.Body, &e.ReceivedAt)
	if err != nil {
		return Event{}, err
	}
	if e.Body == nil {
		e.Body = []byte{}
	}
	e.ReceivedAt = e.ReceivedAt.UTC()
	return e, decodeHeader(header, &e)
}

// Head implements Store.
func (p *Postgres) Head(ctx context.Context, channel string) (int64, error) {
	if p.closed.Load() {
		return 0, ErrClosed
	}
	if !isText(channel) {
		return 0, nil
	}
	var head int64
	err := p.pool.QueryRow(ctx, `SELECT head FROM channels WHERE name = $1`, channel).
		Scan(&head)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, p.wrap("read head", err)
	}
	return head, nil
}

// SeqBefore implements Store.
func (p *Postgres) SeqBefore(ctx context.Context, channel string, t time.Time) (int64, error) {
	if p.closed.Load() {
		return 0, ErrClosed
	}
	if !isText(channel) {
		return 0, nil
	}
	var seq int64
	err := p.pool.QueryRow(ctx,
		`SELECT COALESCE(MAX(seq), 0) FROM events WHERE channel = $1 AND received_at < $2`,
		channel, t,
	).Scan(&seq)
	if err != nil {
		return 0, p.wrap("find sequence before time", err)
	}
	return seq, nil
}

// Wait implements Store. Appends of this instance wake it directly, those of
// other instances through the listener.
func (p *Postgres) Wait(ctx context.Context, channel string, after int64) error {
	if p.closed.Load() {
		return ErrClosed
	}
	return p.notify.wait(ctx, channel, after, p.Head)
}

// Prune implements Store.
func (p *Postgres) Prune(ctx context.Context, before time.Time) (int64, error) {
	if p.closed.Load() {
		return 0, ErrClosed
	}
	tag, err := p.pool.Exec(ctx, `DELETE FROM events WHERE received_at < $1`, before)
	if err != nil {
		return 0, p.wrap("prune events", err)
	}
	return tag.RowsAffected(), nil
}

// Stats implements Store.
func (p *Postgres) Stats(ctx context.Context, channel string) (Stats, error) {
	if p.closed.Load() {
		return Stats{}, ErrClosed
	}
	if !isText(channel) {
		return Stats{}, nil
	}
	var st Stats
	var newest *time.Time
	err := p.pool.QueryRow(ctx,
		`SELECT COUNT(*), MAX(received_at) FROM events WHERE channel = $1`, channel,
	).Scan(&st.Events, &newest)
	if err != nil {
		return Stats{}, p.wrap("read stats", err)
	}
	if newest != nil {
		st.Newest = newest.UTC()
	}
	return st, nil
}

// Ping implements Store.
func (p *Postgres) Ping(ctx context.Context) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if err := p.pool.Ping(ctx); err != nil {
		return p.wrap("ping store", err)
	}
	return nil
}

// Close implements Store. It waits for the batch being committed and for the
// listener, then closes the pool.
func (p *Postgres) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	p.notify.close()
	p.writer.stop()
	p.stopListen()
	<-p.listenDone
	p.pool.Close()
	return nil
}

// wrap names the failed operation, or returns ErrClosed when the store was
// closed under it.
func (p *Postgres) wrap(op string, err error) error {
	if p.closed.Load() || errors.Is(err, ErrClosed) {
		return ErrClosed
	}
	return fmt.Errorf("%s: %w", op, err)
}
