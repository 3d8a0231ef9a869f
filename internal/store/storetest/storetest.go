// Package storetest holds the conformance suite of store.Store. Run checks
// one implementation against the interface's contract alone; RunShared
// checks that two stores opened on one shared database see, and wake on,
// each other's appends.
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
)

// testTimeout bounds every subtest, so that a Wait that never wakes fails the
// test instead of hanging it.
const testTimeout = 20 * time.Second

// base is the receive time most events of the suite are given.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535_897_000, time.UTC)

// Run runs the conformance suite on the stores open returns. Each subtest
// calls open once and expects a new, empty store; the suite closes it. open
// registers with t.Cleanup whatever else it must release, such as a
// database schema.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"round_trip", testRoundTrip},
		{"received_at_defaults_to_now", testReceivedAtDefault},
		{"invalid_event", testInvalidEvent},
		{"append_canceled", testAppendCanceled},
		{"seq_grows_per_channel", testSeqPerChannel},
		{"idempotent_append", testIdempotent},
		{"concurrent_duplicates", testConcurrentDuplicates},
		{"read_after_limit", testRead},
		{"head", testHead},
		{"prune_keeps_head", testPruneKeepsHead},
		{"seq_before", testSeqBefore},
		{"wait_ready", testWaitReady},
		{"wait_blocks_until_append", testWaitBlocks},
		{"wait_canceled", testWaitCanceled},
		{"wait_wakes_on_close", testWaitClose},
		{"stats", testStats},
		{"ping", testPing},
		{"concurrent_appends", testConcurrentAppends},
		{"closed", testClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { closeStore(t, s) })
			tt.run(t, s)
		})
	}
}

// RunShared runs the suite for stores that share a database: open returns
// two stores, opened separately on the same new, empty database, which the
// suite closes.
func RunShared(t *testing.T, open func(t *testing.T) (store.Store, store.Store)) {
	tests := []struct {
		name string
		run  func(t *testing.T, a, b store.Store)
	}{
		{"wait_wakes_across_stores", testSharedWait},
		{"sequence_is_shared", testSharedSequence},
		{"idempotent_across_stores", testSharedIdempotent},
		{"concurrent_duplicates_across_stores", testSharedConcurrentDuplicates},
		{"concurrent_appends_across_stores", testSharedConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := open(t)
			t.Cleanup(func() {
				closeStore(t, a)
				closeStore(t, b)
			})
			tt.run(t, a, b)
		})
	}
}

func closeStore(t *testing.T, s store.Store) {
	t.Helper()
	if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
		t.Errorf("Close() = %v", err)
	}
}

// testContext returns a context that ends with the test or after testTimeout.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}
