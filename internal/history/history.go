// Package history keeps the agent's local record of the webhooks it received
// and of every delivery attempt to the app, in a SQLite file. Open returns a
// History; Record stores an event and advances the resume cursor of its
// source, AddAttempt and SetState follow its delivery, and Event, Find,
// Events, Pending, Attempts and LastAttempts read it back for the agent, the
// TUI and the events and replay commands. SetEnrichment and Enrichment cache
// what was fetched about an event elsewhere, such as its OpenAI response.
package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// ErrNotFound is returned when no event matches an ID or a key.
var ErrNotFound = errors.New("event not found")

// schemaVersion is the PRAGMA user_version this code writes and understands.
const schemaVersion = 2

// busyTimeout is how long a statement waits for another connection or
// process to release the file before failing with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// maxReaders bounds the connections that serve reads.
const maxReaders = 4

// History is the agent's local event history, stored in one SQLite file.
//
// All methods are safe for concurrent use, and several processes may open the
// same file: one (relay-agent listen) writes while others (relay-agent events)
// read. Record returns only after the event is committed, so an event
// acknowledged to the relay after Record survives a crash of the process; a
// power failure may lose the newest events, but with the cursor covering
// them, so the relay sends them again. Prune deletes old events. The caller
// must call Close.
type History struct {
	path string
	// w serves every write through one connection, so writers in this process
	// queue in Go rather than on the file lock; its transactions begin
	// IMMEDIATE so that a write never fails upgrading a read lock.
	w *sql.DB
	// r serves reads; in WAL mode they never wait for the writer.
	r *sql.DB
}

// Open opens the history at path, creating the file and its parent
// directory if needed, and upgrades an older schema. The directory is
// created with mode 0700 and the file with mode 0600, because the history
// holds webhook bodies; an existing file keeps its mode.
func Open(path string) (*History, error) {
	dsn, err := prepare(path)
	if err != nil {
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	h := &History{path: path}
	h.w, err = sql.Open("sqlite", dsn+writerParams())
	if err != nil {
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	h.w.SetMaxOpenConns(1)
	if err := migrate(context.Background(), h.w); err != nil {
		h.w.Close()
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	h.r, err = sql.Open("sqlite", dsn+readerParams())
	if err != nil {
		h.w.Close()
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	h.r.SetMaxOpenConns(maxReaders)
	return h, nil
}

// Close releases the history's connections. Calls after Close fail.
func (h *History) Close() error {
	errW := h.w.Close()
	errR := h.r.Close()
	if err := errors.Join(errW, errR); err != nil {
		return fmt.Errorf("close history %s: %w", h.path, err)
	}
	return nil
}

// Path returns the path the history was opened with.
func (h *History) Path() string {
	return h.path
}

// prepare creates the directory and the file of path with private modes and
// returns the base of a DSN naming the file.
func prepare(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return "", err
	}
	// SQLite would create the file with mode 0644, and gives the -wal and
	// -shm files the mode of the database file, so the file is made first.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	slashed := filepath.ToSlash(abs)
	if !strings.HasPrefix(slashed, "/") {
		slashed = "/" + slashed // a Windows drive letter
	}
	u := url.URL{Scheme: "file", Path: slashed}
	return u.String(), nil
}

// writerParams returns the DSN query of the write connection.
//
// Commits survive a crash of the process, since WAL mode writes them to the
// log before Commit returns, but are synced to disk only at checkpoints
// (synchronous=NORMAL). That is enough here, and makes each delivery about
// three fsyncs cheaper: an event and the cursor that covers it are recorded
// in one transaction, so the power failure that loses the event also rolls
// the cursor back, and the relay, which keeps every event for its retention
// period, sends it again on the next connection.
func writerParams() string {
	q := commonParams()
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return "?" + q.Encode()
}

// readerParams returns the DSN query of the read connections.
func readerParams() string {
	q := commonParams()
	q.Add("_pragma", "query_only(1)")
	return "?" + q.Encode()
}

func commonParams() url.Values {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	return q
}
