package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
)

func testRead(t *testing.T, s store.Store) {
	seqs := appendEvents(t, s, "a", "wh_0", "wh_1", "wh_2", "wh_3", "wh_4")
	appendEvents(t, s, "b", "wh_b")
	tests := []struct {
		name  string
		after int64
		limit int
		want  []int64
	}{
		{"all", 0, 10, seqs},
		{"limit", 0, 2, seqs[:2]},
		{"after_and_limit", seqs[1], 2, seqs[2:4]},
		{"after_to_end", seqs[2], 10, seqs[3:]},
		{"after_head", seqs[4], 10, nil},
		{"zero_limit", 0, 0, nil},
		{"negative_limit", 0, -1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := seqsOf(read(t, s, "a", tt.after, tt.limit))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Read(a, %d, %d) seqs = %v, want %v", tt.after, tt.limit, got, tt.want)
			}
		})
	}
}

func testHead(t *testing.T, s store.Store) {
	if h := head(t, s, "a"); h != 0 {
		t.Errorf("Head of an unused channel = %d, want 0", h)
	}
	seqs := appendEvents(t, s, "a", "wh_0", "wh_1")
	if h := head(t, s, "a"); h != seqs[1] {
		t.Errorf("Head(a) = %d, want %d", h, seqs[1])
	}
	if h := head(t, s, "b"); h != 0 {
		t.Errorf("Head(b) after appends to a = %d, want 0", h)
	}
}

func testPruneKeepsHead(t *testing.T, s store.Store) {
	ctx := testContext(t)
	old, recent := base, base.Add(time.Hour)
	for i := range 3 {
		appendNew(t, s, event("a", fmt.Sprintf("wh_old%d", i), old))
	}
	appendNew(t, s, event("b", "wh_old_b", old))
	kept := []int64{
		appendNew(t, s, event("a", "wh_new0", recent)),
		appendNew(t, s, event("a", "wh_new1", recent)),
	}
	headA, headB := head(t, s, "a"), head(t, s, "b")

	checkPrune(t, s, old.Add(time.Minute), 4)
	if got := seqsOf(read(t, s, "a", 0, 10)); !slices.Equal(got, kept) {
		t.Errorf("Read(a) after Prune = %v, want %v", got, kept)
	}
	if h := head(t, s, "b"); h != headB {
		t.Errorf("Head(b) after Prune = %d, want %d", h, headB)
	}
	checkPrune(t, s, old.Add(time.Minute), 0)

	checkPrune(t, s, recent.Add(time.Minute), 2)
	if h := head(t, s, "a"); h != headA {
		t.Errorf("Head(a) after pruning every event = %d, want %d", h, headA)
	}
	if st, err := s.Stats(ctx, "a"); err != nil || st.Events != 0 {
		t.Errorf("Stats(a) after pruning every event = %+v, %v", st, err)
	}
	if seq := appendNew(t, s, event("a", "wh_old0", recent)); seq <= headA {
		t.Errorf("seq after Prune = %d, want > pruned head %d", seq, headA)
	}
	if seq := appendNew(t, s, event("b", "wh_b", recent)); seq <= headB {
		t.Errorf("seq after Prune = %d, want > pruned head %d", seq, headB)
	}
}

func checkPrune(t *testing.T, s store.Store, before time.Time, want int64) {
	t.Helper()
	n, err := s.Prune(testContext(t), before)
	if err != nil || n != want {
		t.Errorf("Prune(%v) = %d, %v; want %d, nil", before, n, err, want)
	}
}

func testSeqBefore(t *testing.T, s store.Store) {
	times := []time.Time{base, base.Add(time.Minute), base.Add(2 * time.Minute)}
	var seqs []int64
	for i, at := range times {
		seqs = append(seqs, appendNew(t, s, event("a", fmt.Sprintf("wh_%d", i), at)))
	}
	bSeq := appendNew(t, s, event("b", "wh_b", base.Add(-time.Hour)))
	tests := []struct {
		name    string
		channel string
		t       time.Time
		want    int64
	}{
		{"before_all", "a", times[0], 0},
		{"at_second", "a", times[1], seqs[0]},
		{"between", "a", times[1].Add(time.Microsecond), seqs[1]},
		{"after_all", "a", times[2].Add(time.Second), seqs[2]},
		{"other_channel", "b", times[0], bSeq},
		{"unused_channel", "c", times[2], 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.SeqBefore(testContext(t), tt.channel, tt.t)
			if err != nil || got != tt.want {
				t.Errorf("SeqBefore(%s, %v) = %d, %v; want %d, nil",
					tt.channel, tt.t, got, err, tt.want)
			}
		})
	}
	t.Run("read_after_it", func(t *testing.T) {
		seq, err := s.SeqBefore(testContext(t), "a", times[1])
		if err != nil {
			t.Fatalf("SeqBefore() error = %v", err)
		}
		if got := seqsOf(read(t, s, "a", seq, 10)); !slices.Equal(got, seqs[1:]) {
			t.Errorf("Read after SeqBefore = %v, want %v", got, seqs[1:])
		}
	})
}

func testStats(t *testing.T, s store.Store) {
	if st := stats(t, s, "a"); st.Events != 0 || !st.Newest.IsZero() {
		t.Errorf("Stats of an unused channel = %+v, want zero", st)
	}
	newest := base.Add(2 * time.Minute)
	for i, at := range []time.Time{base, newest, base.Add(time.Minute)} {
		appendNew(t, s, event("a", fmt.Sprintf("wh_%d", i), at))
	}
	appendNew(t, s, event("b", "wh_b", newest.Add(time.Hour)))
	st := stats(t, s, "a")
	if st.Events != 3 || !st.Newest.Equal(newest) {
		t.Errorf("Stats(a) = %+v, want 3 events, newest %v", st, newest)
	}
	checkPrune(t, s, base.Add(time.Second), 1)
	if st := stats(t, s, "a"); st.Events != 2 || !st.Newest.Equal(newest) {
		t.Errorf("Stats(a) after Prune = %+v, want 2 events, newest %v", st, newest)
	}
}
