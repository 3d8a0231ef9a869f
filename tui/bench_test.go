package tui

import (
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/history"
)

// bigModel returns a model at 80x24 listing n events of every family, a
// tenth of them failed.
func bigModel(tb testing.TB, n int) Model {
	tb.Helper()
	c := newFake(nil)
	m := New(c, Options{NoColor: false, Now: testNow})
	tb.Cleanup(m.Close)
	m.list.lean = true // as with a history
	types := []string{"response.completed", "batch.completed", "fine_tuning.job.succeeded",
		"eval.run.failed", "realtime.call.incoming", "response.failed", "batch.expired"}
	for i := 1; i <= n; i++ {
		id := int64(i)
		m.list.add(liveEvent(id, types[i%len(types)]))
		o := history.OutcomeDelivered
		if i%10 == 0 {
			o = history.OutcomeRejected
		}
		a := attempt(id, 1, o)
		a.Latency = time.Duration(i%900) * time.Millisecond
		m.list.setAttempt(a)
	}
	return m
}

// BenchmarkFilter100k types a six-letter filter over 100,000 events, a key
// at a time, then clears it: the first key scans every row, the next five
// re-check only the current matches, and clearing scans them all again.
func BenchmarkFilter100k(b *testing.B) {
	m := bigModel(b, 100_000)
	query := "failed"
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := 1; i <= len(query); i++ {
			m.list.setFilter(filter{text: query[:i]})
		}
		m.list.setFilter(filter{})
	}
	b.StopTimer()
	perKey := float64(b.Elapsed().Nanoseconds()) / float64(b.N*(len(query)+1))
	b.ReportMetric(perKey/1e6, "ms/key")
}

// BenchmarkRender100k draws the whole screen, header to footer, with
// 100,000 events listed, after moving the selection a page.
func BenchmarkRender100k(b *testing.B) {
	m := bigModel(b, 100_000)
	b.ReportAllocs()
	b.ResetTimer()
	up := true
	for b.Loop() {
		if up {
			next, _ := m.Update(press("pgup"))
			m = next.(Model)
		} else {
			next, _ := m.Update(press("pgdown"))
			m = next.(Model)
		}
		up = !up
		_ = m.View()
	}
}
