package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/hookrelay/hookrelay/internal/store"
)

func testSharedWait(t *testing.T, a, b store.Store) {
	done := goWait(testContext(t), b, "ch", 0)
	checkStillWaiting(t, done, "on an empty channel")
	e := event("ch", "wh_0", base)
	seq := appendNew(t, a, e)
	r := receive(t, done)
	if r.err != nil || r.head < seq {
		t.Fatalf("Wait on the second store = %v with head %d, want nil with head %d",
			r.err, r.head, seq)
	}
	events := read(t, b, "ch", 0, 10)
	if len(events) != 1 {
		t.Fatalf("Read on the second store returned %d events, want 1", len(events))
	}
	checkEvent(t, events[0], e, seq)
}

func testSharedSequence(t *testing.T, a, b store.Store) {
	var seqs []int64
	for i := range 4 {
		s := []store.Store{a, b}[i%2]
		seqs = append(seqs, appendNew(t, s, event("ch", fmt.Sprintf("wh_%d", i), base)))
	}
	checkIncreasing(t, "appends alternating between stores", seqs)
	if ha, hb := head(t, a, "ch"), head(t, b, "ch"); ha != seqs[3] || hb != seqs[3] {
		t.Errorf("Head = %d and %d, want %d on both stores", ha, hb, seqs[3])
	}
}

func testSharedIdempotent(t *testing.T, a, b store.Store) {
	seq := appendNew(t, a, event("ch", "wh_dup", base))
	got, created, err := b.Append(testContext(t), event("ch", "wh_dup", base))
	if err != nil || created || got != seq {
		t.Errorf("Append(duplicate) on the second store = %d, %t, %v; want %d, false, nil",
			got, created, err, seq)
	}
}

func testSharedConcurrentDuplicates(t *testing.T, a, b store.Store) {
	const perStore = 8
	ctx := testContext(t)
	var mu sync.Mutex
	seqs := map[int64]bool{}
	created := 0
	var wg sync.WaitGroup
	for _, s := range []store.Store{a, b, a, b} {
		for range perStore {
			wg.Go(func() {
				seq, c, err := s.Append(ctx, event("ch", "wh_same", base))
				if err != nil {
					t.Errorf("Append() error = %v", err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				seqs[seq] = true
				if c {
					created++
				}
			})
		}
	}
	wg.Wait()
	if len(seqs) != 1 || created != 1 {
		t.Errorf("concurrent duplicates on two stores got seqs %v, %d created; want one seq, 1",
			seqs, created)
	}
	for _, s := range []store.Store{a, b} {
		if events := read(t, s, "ch", 0, 100); len(events) != 1 {
			t.Errorf("Read returned %d events, want 1", len(events))
		}
	}
}

func testSharedConcurrent(t *testing.T, a, b store.Store) {
	const perStore = 40
	ctx := testContext(t)
	var mu sync.Mutex
	got := map[int64]string{}
	var wg sync.WaitGroup
	for i, s := range []store.Store{a, b} {
		for j := range perStore {
			wg.Go(func() {
				id := fmt.Sprintf("wh_%d_%d", i, j)
				seq, created, err := s.Append(ctx, event("ch", id, base))
				if err != nil || !created {
					t.Errorf("Append(%s) = %t, %v", id, created, err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if prev, ok := got[seq]; ok {
					t.Errorf("%s and %s both got seq %d", prev, id, seq)
				}
				got[seq] = id
			})
		}
	}
	wg.Wait()
	checkAllRead(t, a, "ch", got)
	checkAllRead(t, b, "ch", got)
}
