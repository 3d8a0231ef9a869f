package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestFlushIsolatesRejectedEvent(t *testing.T) {
	errRejected := errors.New("rejected")
	var batches []string
	commit := func(_ context.Context, batch []*appendReq, res []appendResult) error {
		var ids []string
		for _, req := range batch {
			ids = append(ids, req.rec.channel+"/"+req.rec.webhookID)
		}
		batches = append(batches, fmt.Sprint(ids))
		for i, req := range batch {
			if req.rec.webhookID == "bad" {
				return errRejected
			}
			res[i] = appendResult{seq: int64(i + 1), created: true}
		}
		return nil
	}
	w := &groupWriter{commit: commit, notify: newNotifier()}
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	reqs := []*appendReq{
		newTestReq(t.Context(), "b", "wh_1"),
		newTestReq(t.Context(), "a", "bad"),
		newTestReq(canceled, "a", "wh_2"),
		newTestReq(t.Context(), "a", "wh_3"),
	}
	w.flush(slices.Clone(reqs))

	wantErrs := []error{nil, errRejected, context.Canceled, nil}
	for i, req := range reqs {
		if res := <-req.done; !errors.Is(res.err, wantErrs[i]) {
			t.Errorf("%s result error = %v, want %v", req.rec.webhookID, res.err, wantErrs[i])
		}
	}
	want := "[[a/bad a/wh_3 b/wh_1] [a/bad] [a/wh_3] [b/wh_1]]"
	if got := fmt.Sprint(batches); got != want {
		t.Errorf("transactions = %s, want %s", got, want)
	}
	if n := w.commits.Load(); n != 2 {
		t.Errorf("commits = %d, want 2", n)
	}
}

func newTestReq(ctx context.Context, channel, id string) *appendReq {
	return &appendReq{
		ctx:  ctx,
		rec:  &record{channel: channel, webhookID: id},
		done: make(chan appendResult, 1),
	}
}
