package storetest

import (
	"bytes"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
)

// event returns an event of channel with webhook id id, received at at.
func event(channel, id string, at time.Time) *store.Event {
	return &store.Event{
		Channel:   channel,
		WebhookID: id,
		Type:      "response.completed",
		Header: http.Header{
			"Webhook-Id":   {id},
			"Content-Type": {"application/json"},
		},
		Body:       fmt.Appendf(nil, `{"id":"evt_%s","type":"response.completed"}`, id),
		ReceivedAt: at,
	}
}

// appendNew appends e and fails the test unless a new event was created.
func appendNew(t *testing.T, s store.Store, e *store.Event) int64 {
	t.Helper()
	seq, created, err := s.Append(testContext(t), e)
	if err != nil {
		t.Fatalf("Append(%s/%s) error = %v", e.Channel, e.WebhookID, err)
	}
	if !created {
		t.Fatalf("Append(%s/%s) created = false, want true", e.Channel, e.WebhookID)
	}
	if seq <= 0 {
		t.Fatalf("Append(%s/%s) seq = %d, want > 0", e.Channel, e.WebhookID, seq)
	}
	return seq
}

// appendEvents appends one new event per webhook id to channel, received at
// base, and returns their sequence numbers.
func appendEvents(t *testing.T, s store.Store, channel string, ids ...string) []int64 {
	t.Helper()
	seqs := make([]int64, len(ids))
	for i, id := range ids {
		seqs[i] = appendNew(t, s, event(channel, id, base))
	}
	return seqs
}

func read(t *testing.T, s store.Store, channel string, after int64, limit int) []store.Event {
	t.Helper()
	events, err := s.Read(testContext(t), channel, after, limit)
	if err != nil {
		t.Fatalf("Read(%q, %d, %d) error = %v", channel, after, limit, err)
	}
	return events
}

func head(t *testing.T, s store.Store, channel string) int64 {
	t.Helper()
	h, err := s.Head(testContext(t), channel)
	if err != nil {
		t.Fatalf("Head(%q) error = %v", channel, err)
	}
	return h
}

func stats(t *testing.T, s store.Store, channel string) store.Stats {
	t.Helper()
	st, err := s.Stats(testContext(t), channel)
	if err != nil {
		t.Fatalf("Stats(%q) error = %v", channel, err)
	}
	return st
}

// seqsOf returns the sequence numbers of events.
func seqsOf(events []store.Event) []int64 {
	seqs := make([]int64, len(events))
	for i, e := range events {
		seqs[i] = e.Seq
	}
	return seqs
}

// checkIncreasing fails the test unless seqs grow strictly.
func checkIncreasing(t *testing.T, what string, seqs []int64) {
	t.Helper()
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Errorf("%s: seqs %v do not grow strictly", what, seqs)
			return
		}
	}
}

// checkEvent fails the test unless got holds what want described, with the
// receive time kept to the microsecond.
func checkEvent(t *testing.T, got store.Event, want *store.Event, seq int64) {
	t.Helper()
	if got.Channel != want.Channel || got.Seq != seq || got.WebhookID != want.WebhookID ||
		got.Type != want.Type {
		t.Errorf("event = %s/%d id %q type %q, want %s/%d id %q type %q",
			got.Channel, got.Seq, got.WebhookID, got.Type,
			want.Channel, seq, want.WebhookID, want.Type)
	}
	if !bytes.Equal(got.Body, want.Body) {
		t.Errorf("event %d body = %q, want %q", seq, got.Body, want.Body)
	}
	if len(got.Header) != 0 || len(want.Header) != 0 {
		if !reflect.DeepEqual(got.Header, want.Header) {
			t.Errorf("event %d header = %v, want %v", seq, got.Header, want.Header)
		}
	}
	wantAt := want.ReceivedAt.Truncate(time.Microsecond)
	if !got.ReceivedAt.Equal(wantAt) {
		t.Errorf("event %d received at %v, want %v", seq, got.ReceivedAt, wantAt)
	}
}
