package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
)

// waitResult is what a Wait in a goroutine returned, with the head the
// goroutine read right after it.
type waitResult struct {
	err  error
	head int64
}

// goWait calls s.Wait in a goroutine and returns where its result arrives.
func goWait(ctx context.Context, s store.Store, channel string, after int64) <-chan waitResult {
	done := make(chan waitResult, 1)
	go func() {
		err := s.Wait(ctx, channel, after)
		h, _ := s.Head(context.WithoutCancel(ctx), channel)
		done <- waitResult{err, h}
	}()
	return done
}

// receive returns the result of a Wait, failing the test if none arrives.
func receive(t *testing.T, done <-chan waitResult) waitResult {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-testContext(t).Done():
		t.Fatalf("Wait did not return")
		return waitResult{}
	}
}

// checkStillWaiting fails the test if the Wait behind done has returned.
func checkStillWaiting(t *testing.T, done <-chan waitResult, why string) {
	t.Helper()
	select {
	case r := <-done:
		t.Fatalf("Wait returned %v (head %d) %s", r.err, r.head, why)
	default:
	}
}

func testWaitReady(t *testing.T, s store.Store) {
	seqs := appendEvents(t, s, "a", "wh_0", "wh_1")
	for _, after := range []int64{0, seqs[0]} {
		if err := s.Wait(testContext(t), "a", after); err != nil {
			t.Errorf("Wait(a, %d) with head %d = %v, want nil", after, seqs[1], err)
		}
	}
}

func testWaitBlocks(t *testing.T, s store.Store) {
	after := appendEvents(t, s, "a", "wh_0")[0]
	done := goWait(testContext(t), s, "a", after)
	appendEvents(t, s, "b", "wh_b")
	checkStillWaiting(t, done, "after an append to another channel")

	seq := appendEvents(t, s, "a", "wh_1")[0]
	r := receive(t, done)
	if r.err != nil {
		t.Fatalf("Wait(a, %d) = %v, want nil", after, r.err)
	}
	if r.head < seq {
		t.Errorf("Wait(a, %d) returned before the append: head %d, want %d", after, r.head, seq)
	}
}

func testWaitCanceled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(testContext(t))
	done := goWait(ctx, s, "a", 0)
	checkStillWaiting(t, done, "on an empty channel")
	cancel()
	if r := receive(t, done); !errors.Is(r.err, context.Canceled) {
		t.Errorf("Wait() after cancel = %v, want context.Canceled", r.err)
	}

	ctx, cancel = context.WithTimeout(testContext(t), time.Millisecond)
	defer cancel()
	if err := s.Wait(ctx, "a", 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait() past its deadline = %v, want context.DeadlineExceeded", err)
	}
}

func testWaitClose(t *testing.T, s store.Store) {
	done := goWait(testContext(t), s, "a", 0)
	checkStillWaiting(t, done, "on an empty channel")
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if r := receive(t, done); !errors.Is(r.err, store.ErrClosed) {
		t.Errorf("Wait() after Close = %v, want ErrClosed", r.err)
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(testContext(t)); err != nil {
		t.Errorf("Ping() = %v", err)
	}
}

func testClosed(t *testing.T, s store.Store) {
	appendEvents(t, s, "a", "wh_0")
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	ctx := testContext(t)
	calls := []struct {
		name string
		call func() error
	}{
		{"Append", func() error {
			_, _, err := s.Append(ctx, event("a", "wh_1", base))
			return err
		}},
		{"Read", func() error { _, err := s.Read(ctx, "a", 0, 10); return err }},
		{"Head", func() error { _, err := s.Head(ctx, "a"); return err }},
		{"SeqBefore", func() error { _, err := s.SeqBefore(ctx, "a", base); return err }},
		{"Wait", func() error { return s.Wait(ctx, "a", 0) }},
		{"Prune", func() error { _, err := s.Prune(ctx, base); return err }},
		{"Stats", func() error { _, err := s.Stats(ctx, "a"); return err }},
		{"Ping", func() error { return s.Ping(ctx) }},
		{"Close", s.Close},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", c.name, err)
		}
	}
}
