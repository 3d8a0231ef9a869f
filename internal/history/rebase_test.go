package history

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestRebase(t *testing.T) {
	h := openHistory(t)
	ctx := t.Context()
	for i := int64(1); i <= 3; i++ {
		e := &Event{Source: "relay/a", Seq: i, WebhookID: fmt.Sprint("wh_old_", i),
			Body: []byte(`{}`)}
		if _, _, err := h.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	moved, err := h.Rebase(ctx, "relay/a", "relay/a before reset", 1)
	if err != nil || moved != 2 {
		t.Fatalf("Rebase = %d, %v; want 2 events moved", moved, err)
	}
	if seq, ok, _ := h.Cursor(ctx, "relay/a"); !ok || seq != 1 {
		t.Errorf("cursor after Rebase = %d, %v; want 1", seq, ok)
	}
	ev, created, err := h.Record(ctx, &Event{Source: "relay/a", Seq: 2, WebhookID: "wh_new_2",
		Body: []byte(`{}`)})
	if err != nil || !created || ev.WebhookID != "wh_new_2" {
		t.Errorf("Record of a new event under a reused seq = %s, created %v, %v; want created",
			ev.WebhookID, created, err)
	}
	old, err := h.Events(ctx, Query{Source: "relay/a before reset", Limit: -1})
	if err != nil || len(old) != 2 {
		t.Errorf("archived events = %d, %v; want 2", len(old), err)
	}
}

func TestPrune(t *testing.T) {
	h := openHistory(t)
	ctx := t.Context()
	var ids []int64
	for i := int64(1); i <= 3; i++ {
		ev, _, err := h.Record(ctx, &Event{Source: "s", Seq: i, WebhookID: fmt.Sprint("wh_", i),
			Body: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	h.SetState(ctx, ids[0], StateDelivered)
	h.SetState(ctx, ids[1], StateFailed) // ids[2] stays pending
	if _, err := h.AddAttempt(ctx, &Attempt{EventID: ids[0], N: 1, Outcome: OutcomeDelivered}); err != nil {
		t.Fatal(err)
	}
	n, err := h.Prune(ctx, time.Now().Add(time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want the 2 settled events", n, err)
	}
	if _, err := h.Event(ctx, ids[0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("pruned event still there: %v", err)
	}
	if atts, _ := h.Attempts(ctx, ids[0]); len(atts) != 0 {
		t.Errorf("pruned event's attempts still there: %d", len(atts))
	}
	if _, err := h.Event(ctx, ids[2]); err != nil {
		t.Errorf("pending event pruned: %v", err)
	}
	if n, _ := h.Prune(ctx, time.Now().Add(-time.Hour)); n != 0 {
		t.Errorf("Prune of nothing that old = %d, want 0", n)
	}
	if seq, _, _ := h.Cursor(ctx, "s"); seq != 3 {
		t.Errorf("cursor after Prune = %d, want 3", seq)
	}
}
