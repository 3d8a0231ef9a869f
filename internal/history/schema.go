package history

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations[i] upgrades a history at schema version i to version i+1. A
// later version appends a step and raises schemaVersion; a step never
// changes once released.
var migrations = []string{
	// Version 1. An empty webhook_id, event_id or type and a seq of 0 are
	// stored as NULL, so the unique indexes ignore them.
	`
CREATE TABLE events (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	source      TEXT    NOT NULL,
	seq         INTEGER,
	webhook_id  TEXT,
	event_id    TEXT,
	type        TEXT,
	header      TEXT    NOT NULL, -- JSON of http.Header
	body        BLOB    NOT NULL,
	received_at INTEGER,          -- Unix nanoseconds
	recorded_at INTEGER NOT NULL, -- Unix nanoseconds
	state       TEXT    NOT NULL
);
CREATE UNIQUE INDEX events_source_seq ON events (source, seq);
-- webhook_id first, so that Find can look a webhook-id up in every source.
CREATE UNIQUE INDEX events_webhook_id ON events (webhook_id, source);
CREATE INDEX events_event_id ON events (event_id);
-- Listing one source newest first walks this index, whose rows end in id.
CREATE INDEX events_source ON events (source);
-- Pending events are few; resuming delivery finds them without a scan.
CREATE INDEX events_pending ON events (state, source) WHERE state = 'pending';

-- types lists every type ever recorded, so that Events can turn type
-- patterns into an exact list of types.
CREATE TABLE types (type TEXT PRIMARY KEY) WITHOUT ROWID;

CREATE TABLE cursors (
	source TEXT PRIMARY KEY,
	seq    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE attempts (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	event_id        INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	n               INTEGER NOT NULL,
	replay          INTEGER NOT NULL,
	edited          INTEGER NOT NULL,
	body            BLOB,
	target          TEXT    NOT NULL,
	started_at      INTEGER,          -- Unix nanoseconds
	latency         INTEGER NOT NULL, -- nanoseconds
	outcome         TEXT    NOT NULL,
	status          INTEGER NOT NULL,
	error           TEXT    NOT NULL,
	request_header  TEXT    NOT NULL, -- JSON of http.Header
	response_header TEXT    NOT NULL, -- JSON of http.Header
	response_body   BLOB    NOT NULL
);
CREATE INDEX attempts_event_id ON attempts (event_id);
`,
	// Version 2. Data fetched about an event from elsewhere, such as the
	// OpenAI response a response.* event names; see SetEnrichment.
	`
CREATE TABLE enrichments (
	event_id   INTEGER PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
	fetched_at INTEGER NOT NULL, -- Unix nanoseconds
	data       BLOB    NOT NULL
);
`,
}

// migrate brings the schema of db up to schemaVersion in one transaction,
// so that two processes opening a new file at once create it only once.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()

	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > schemaVersion {
		return fmt.Errorf("schema version %d is newer than this program's %d", v, schemaVersion)
	}
	for ; v < schemaVersion; v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
	}
	// PRAGMA takes no parameters; v is an int.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v)); err != nil {
		return fmt.Errorf("write schema version %d: %w", v, err)
	}
	return tx.Commit()
}
