// Package store keeps the relay's durable event log: every verified webhook,
// with its headers and exact body bytes, under a sequence number that grows
// within its channel. Store is the interface; OpenSQLite and OpenPostgres
// return its two implementations, and Open picks one from a DSN. The package
// storetest holds the conformance suite that both implementations pass.
package store

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// ErrClosed is returned by every method of a Store after Close.
var ErrClosed = errors.New("store closed")

// ErrInvalidEvent is returned by Append for an event that cannot be stored:
// one without a WebhookID, or whose Channel, WebhookID or Type is not valid
// UTF-8 text free of NUL bytes.
var ErrInvalidEvent = errors.New("invalid event")

// Event is one webhook as the relay received it.
type Event struct {
	// Channel is the relay channel the webhook was posted to.
	Channel string
	// Seq is the event's sequence number within Channel, assigned by Append.
	// Numbers grow strictly but may have gaps.
	Seq int64
	// WebhookID is the webhook-id header, unique within a channel.
	WebhookID string
	// Type is the event type from the body ("response.completed"), or ""
	// when the body has none.
	Type string
	// Header holds the request headers as received.
	Header http.Header
	// Body is the exact request body.
	Body []byte
	// ReceivedAt is when the relay received the webhook. Stores keep it with
	// microsecond precision and return it in UTC. If zero, Append uses the
	// current time.
	ReceivedAt time.Time
}

// Stats describes the retained events of one channel.
type Stats struct {
	// Events is the number of retained events.
	Events int64
	// Newest is when the newest retained event was received; zero if none.
	Newest time.Time
}

// Store is a durable, ordered log of events, partitioned by channel.
//
// All methods are safe for concurrent use. Append returns only after the
// event is committed to stable storage, so an acknowledged event survives a
// crash of the process at any moment. Close releases the store; calls after
// it return ErrClosed.
type Store interface {
	// Append stores e under the next sequence number of e.Channel and
	// returns that number. If an event with the same WebhookID is already
	// stored in the channel, Append stores nothing and returns the existing
	// event's number with created false. e.Seq is ignored, and e is not
	// retained. An event without a WebhookID fails with ErrInvalidEvent.
	//
	// If ctx ends before the commit is confirmed, Append returns ctx's
	// error, and the event may or may not be stored; appending it again
	// with the same WebhookID is safe.
	Append(ctx context.Context, e *Event) (seq int64, created bool, err error)

	// Read returns up to limit events of channel with Seq > after, oldest
	// first. A limit of zero or less returns no events.
	Read(ctx context.Context, channel string, after int64, limit int) ([]Event, error)

	// Head returns the highest sequence number ever assigned in channel, or
	// 0 if none has been. Pruning does not lower it.
	Head(ctx context.Context, channel string) (int64, error)

	// SeqBefore returns the highest sequence number in channel of an event
	// received before t, or 0 if there is none. Reading after it yields the
	// events received at or after t.
	SeqBefore(ctx context.Context, channel string, t time.Time) (int64, error)

	// Wait blocks until Head(channel) > after, ctx is done or the store is
	// closed. It also wakes for events appended by other processes that share
	// the same database, where the implementation supports that.
	Wait(ctx context.Context, channel string, after int64) error

	// Prune deletes the events received before t in every channel and
	// returns how many it deleted.
	Prune(ctx context.Context, before time.Time) (int64, error)

	// Stats reports the retained events of channel.
	Stats(ctx context.Context, channel string) (Stats, error)

	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error

	// Close releases the store's resources and wakes every Wait, which then
	// returns ErrClosed. Appends already being committed finish first.
	Close() error
}
