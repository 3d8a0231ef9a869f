package tui

import (
	"slices"
	"strings"
	"testing"
)

func TestFilterNarrows(t *testing.T) {
	tests := []struct {
		name     string
		old, new filter
		want     bool
	}{
		{"longer_text", filter{text: "bat"}, filter{text: "batc"}, true},
		{"text_inside", filter{text: "at"}, filter{text: "batch"}, true},
		{"shorter_text", filter{text: "batc"}, filter{text: "bat"}, false},
		{"other_text", filter{text: "bat"}, filter{text: "resp"}, false},
		{"family_chosen", filter{}, filter{family: "batch"}, true},
		{"family_changed", filter{family: "batch"}, filter{family: "eval"}, false},
		{"family_dropped", filter{family: "batch"}, filter{}, false},
		{"failed_on", filter{}, filter{failedOnly: true}, true},
		{"failed_off", filter{failedOnly: true}, filter{}, false},
		{"all_narrower", filter{text: "a"},
			filter{text: "ab", family: "x", failedOnly: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.new.narrows(tt.old); got != tt.want {
				t.Errorf("%+v.narrows(%+v) = %v, want %v", tt.new, tt.old, got, tt.want)
			}
		})
	}
}

// TestFilterIncremental shows that a narrowing filter re-checks only the
// current matches: a row outside them is not looked at again.
func TestFilterIncremental(t *testing.T) {
	l := newEventList(nil, nil, testNow)
	l.add(liveEvent(1, "batch.completed"))
	l.add(liveEvent(2, "response.completed"))
	l.add(liveEvent(3, "batch.failed"))
	for i := int64(4); i <= 12; i++ { // so that two matches are few
		l.add(liveEvent(i, "response.completed"))
	}
	f1 := filter{text: "batch"}
	m1 := f1.matches(l.rows, &l.hay, nil, false)
	if !slices.Equal(m1, []int{0, 2}) {
		t.Fatalf("batch matches %v, want [0 2]", m1)
	}
	// Were row 1 checked again, it would now match.
	copy(l.hay.text[l.hay.start(1):], "batch.f")
	f2 := filter{text: "batch.f"}
	if got := f2.matches(l.rows, &l.hay, slices.Clone(m1), true); !slices.Equal(got, []int{2}) {
		t.Errorf("incremental batch.f matches %v, want [2]", got)
	}
	if got := f2.matches(l.rows, &l.hay, nil, false); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("full batch.f matches %v, want [1 2]", got)
	}
}

// TestFilterPathsAgree checks that every way to compute matches (full scan,
// sweep, one by one) gives the same rows while a filter is typed, widened
// and combined with a family and failed only.
func TestFilterPathsAgree(t *testing.T) {
	m := bigModel(t, 2000)
	l := &m.list
	steps := []filter{
		{text: "b"}, {text: "ba"}, {text: "bat"}, {text: "batch.e"}, {text: "bat"},
		{text: "fail"}, {text: "fail", failedOnly: true}, {text: "faile", failedOnly: true},
		{family: "response"}, {text: "resp", family: "response"}, {text: "evt_0000"},
		{text: "evt_00000000000000000000000000001999"}, {text: "msg_12"}, {},
	}
	for _, f := range steps {
		l.setFilter(f)
		if full := f.matches(l.rows, &l.hay, nil, false); !slices.Equal(l.matches, full) {
			t.Errorf("filter %+v: %d matches, a full scan finds %d", f, len(l.matches), len(full))
		}
		var want []int
		for i := range l.rows {
			if naiveMatch(f, &l.rows[i]) {
				want = append(want, i)
			}
		}
		if !slices.Equal(l.matches, want) {
			t.Errorf("filter %+v: %d matches, want %d", f, len(l.matches), len(want))
		}
	}
}

func naiveMatch(f filter, r *row) bool {
	text := strings.ToLower(strings.Join(
		[]string{r.ev.Type, r.ev.EventID, r.ev.WebhookID, string(r.ev.Body)}, "\n"))
	return strings.Contains(text, f.text) && f.matchAttrs(r)
}

func TestFamily(t *testing.T) {
	tests := map[string]string{
		"response.completed":        "response",
		"fine_tuning.job.succeeded": "fine_tuning",
		"eval.run.canceled":         "eval",
		"realtime.call.incoming":    "realtime",
		"batch":                     "batch",
		"":                          "other",
	}
	for typ, want := range tests {
		if got := family(typ); got != want {
			t.Errorf("family(%q) = %q, want %q", typ, got, want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		fn   func(string, int) string
		name string
		in   string
		w    int
		want string
	}{
		{truncate, "truncate_fits", "batch", 5, "batch"},
		{truncate, "truncate_cut", "batch.completed", 8, "batch.c…"},
		{truncate, "truncate_tiny", "batch", 1, "b"},
		{truncateMiddle, "middle_fits", "evt_1", 5, "evt_1"},
		{truncateMiddle, "middle_cut", "evt_0123456789", 9, "evt_…6789"},
		{truncateMiddle, "middle_tiny", "evt_0123", 3, "evt"},
		{ignoreWidth(printable), "printable_clean", "abc", 0, "abc"},
		{ignoreWidth(printable), "printable_escape", "a\x1b[2Jb\tc", 0, "a·[2Jb c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.fn(tt.in, tt.w); got != tt.want {
				t.Errorf("(%q, %d) = %q, want %q", tt.in, tt.w, got, tt.want)
			}
		})
	}
}

func ignoreWidth(f func(string) string) func(string, int) string {
	return func(s string, _ int) string { return f(s) }
}
