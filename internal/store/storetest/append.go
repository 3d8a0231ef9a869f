package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
)

func testRoundTrip(t *testing.T, s store.Store) {
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		e    *store.Event
	}{
		{"json_body", &store.Event{
			Channel:   "main",
			WebhookID: "wh_json",
			Type:      "response.completed",
			Header: http.Header{
				"Webhook-Id":        {"wh_json"},
				"Webhook-Signature": {"v1,abc v1,def"},
				"X-Multi":           {"first", "second", ""},
			},
			Body:       []byte("{\n  \"type\": \"response.completed\",\t\"n\": 1.50 }\n"),
			ReceivedAt: time.Date(2026, 1, 2, 3, 4, 5, 123_456_789, cet),
		}},
		{"binary_body", &store.Event{
			Channel:    "main",
			WebhookID:  "wh_binary",
			Type:       "",
			Header:     http.Header{"Content-Type": {"application/octet-stream"}},
			Body:       []byte{0, 1, 0xfe, 0xff, '\n', 0},
			ReceivedAt: base,
		}},
		{"empty_body_no_header", &store.Event{
			Channel:    "other",
			WebhookID:  "wh_empty",
			Type:       "batch.failed",
			ReceivedAt: base,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seq := appendNew(t, s, tt.e)
			events := read(t, s, tt.e.Channel, seq-1, 10)
			if len(events) != 1 {
				t.Fatalf("Read after %d returned %d events, want 1", seq-1, len(events))
			}
			checkEvent(t, events[0], tt.e, seq)
			if loc := events[0].ReceivedAt.Location(); loc != time.UTC {
				t.Errorf("ReceivedAt location = %v, want UTC", loc)
			}
		})
	}
}

func testReceivedAtDefault(t *testing.T, s store.Store) {
	before := time.Now().Truncate(time.Microsecond)
	appendNew(t, s, event("main", "wh_1", time.Time{}))
	after := time.Now()
	events := read(t, s, "main", 0, 10)
	if len(events) != 1 {
		t.Fatalf("Read returned %d events, want 1", len(events))
	}
	if at := events[0].ReceivedAt; at.Before(before) || at.After(after) {
		t.Errorf("ReceivedAt = %v, want between %v and %v", at, before, after)
	}
}

func testInvalidEvent(t *testing.T, s store.Store) {
	tests := []struct {
		name string
		e    *store.Event
	}{
		{"empty_webhook_id", event("main", "", base)},
		{"channel_not_utf8", event("ma\xffin", "wh_1", base)},
		{"webhook_id_with_nul", event("main", "wh\x001", base)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.Append(testContext(t), tt.e)
			if !errors.Is(err, store.ErrInvalidEvent) {
				t.Errorf("Append() error = %v, want ErrInvalidEvent", err)
			}
			if h := head(t, s, tt.e.Channel); h != 0 {
				t.Errorf("Head after a rejected append = %d, want 0", h)
			}
		})
	}
}

func testAppendCanceled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(testContext(t))
	cancel()
	_, _, err := s.Append(ctx, event("main", "wh_1", base))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Append(canceled context) error = %v, want context.Canceled", err)
	}
}

func testSeqPerChannel(t *testing.T, s store.Store) {
	var a, b []int64
	for i := range 3 {
		a = append(a, appendNew(t, s, event("a", fmt.Sprintf("wh_a%d", i), base)))
		if i < 2 {
			b = append(b, appendNew(t, s, event("b", fmt.Sprintf("wh_b%d", i), base)))
		}
	}
	checkIncreasing(t, "channel a", a)
	checkIncreasing(t, "channel b", b)
	if h := head(t, s, "a"); h != a[2] {
		t.Errorf("Head(a) = %d, want %d", h, a[2])
	}
	if h := head(t, s, "b"); h != b[1] {
		t.Errorf("Head(b) = %d, want %d", h, b[1])
	}
	events := read(t, s, "a", 0, 10)
	var ids []string
	for _, e := range events {
		ids = append(ids, e.WebhookID)
	}
	if got, want := fmt.Sprint(ids), "[wh_a0 wh_a1 wh_a2]"; got != want {
		t.Errorf("Read(a) webhook ids = %s, want %s", got, want)
	}
}

func testIdempotent(t *testing.T, s store.Store) {
	ctx := testContext(t)
	first := event("a", "wh_dup", base)
	seq := appendNew(t, s, first)

	again := event("a", "wh_dup", base.Add(time.Minute))
	again.Body = []byte(`{"changed":true}`)
	got, created, err := s.Append(ctx, again)
	if err != nil || created || got != seq {
		t.Errorf("Append(duplicate) = %d, %t, %v; want %d, false, nil", got, created, err, seq)
	}
	events := read(t, s, "a", 0, 10)
	if len(events) != 1 {
		t.Fatalf("Read after a duplicate returned %d events, want 1", len(events))
	}
	checkEvent(t, events[0], first, seq)
	if h := head(t, s, "a"); h != seq {
		t.Errorf("Head after a duplicate = %d, want %d", h, seq)
	}

	appendNew(t, s, event("b", "wh_dup", base))
	if next := appendNew(t, s, event("a", "wh_next", base)); next <= seq {
		t.Errorf("seq after a duplicate = %d, want > %d", next, seq)
	}
}

func testConcurrentDuplicates(t *testing.T, s store.Store) {
	const n = 16
	ctx := testContext(t)
	type result struct {
		seq     int64
		created bool
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			seq, created, err := s.Append(ctx, event("a", "wh_same", base))
			if err != nil {
				t.Errorf("Append() error = %v", err)
			}
			results[i] = result{seq, created}
		})
	}
	wg.Wait()
	created := 0
	for _, r := range results {
		if r.created {
			created++
		}
		if r.seq != results[0].seq {
			t.Errorf("concurrent duplicates got seqs %v, want one", results)
			break
		}
	}
	if created != 1 {
		t.Errorf("%d of %d concurrent duplicates were created, want 1", created, n)
	}
	if events := read(t, s, "a", 0, 100); len(events) != 1 {
		t.Errorf("Read returned %d events, want 1", len(events))
	}
}

func testConcurrentAppends(t *testing.T, s store.Store) {
	const writers, perWriter = 8, 25
	ctx := testContext(t)
	channels := []string{"a", "b"}
	var mu sync.Mutex
	got := map[string]map[int64]string{"a": {}, "b": {}}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				ch := channels[(w+i)%2]
				id := fmt.Sprintf("wh_%d_%d", w, i)
				seq, created, err := s.Append(ctx, event(ch, id, base))
				if err != nil || !created {
					t.Errorf("Append(%s) = %t, %v", id, created, err)
					return
				}
				mu.Lock()
				if prev, ok := got[ch][seq]; ok {
					t.Errorf("%s and %s both got seq %d in %s", prev, id, seq, ch)
				}
				got[ch][seq] = id
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, ch := range channels {
		checkAllRead(t, s, ch, got[ch])
	}
}

// checkAllRead fails the test unless channel holds exactly want, a webhook id
// by sequence number, and its head is the highest of those numbers.
func checkAllRead(t *testing.T, s store.Store, channel string, want map[int64]string) {
	t.Helper()
	events := read(t, s, channel, 0, 10*len(want)+10)
	if len(events) != len(want) {
		t.Errorf("Read(%s) returned %d events, want %d", channel, len(events), len(want))
	}
	checkIncreasing(t, "Read("+channel+")", seqsOf(events))
	var highest int64
	for _, e := range events {
		if want[e.Seq] != e.WebhookID {
			t.Errorf("event %s/%d is %q, want %q", channel, e.Seq, e.WebhookID, want[e.Seq])
		}
		highest = max(highest, e.Seq)
	}
	if h := head(t, s, channel); h != highest {
		t.Errorf("Head(%s) = %d, want %d", channel, h, highest)
	}
}
