package history

import (
	"fmt"
	"testing"
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
