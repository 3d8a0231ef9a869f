package tui

import (
	"strings"
)

// filter says which rows the list shows. Its zero value shows every row.
type filter struct {
	text       string // lower-cased; matched against type, ids and body
	family     string // "" for every family
	failedOnly bool
}

func (f filter) active() bool {
	return f.text != "" || f.family != "" || f.failedOnly
}

// match reports whether r passes f; q is f.text as bytes.
func (f filter) match(r *row, q []byte) bool {
	if f.failedOnly && !r.failed() {
		return false
	}
	if f.family != "" && r.family != f.family {
		return false
	}
	return len(q) == 0 || r.contains(q)
}

// narrows reports whether every row that passes f also passes old, so that
// only old's matches need checking again: typing one more letter, choosing
// a family after all families, turning on failed only.
func (f filter) narrows(old filter) bool {
	return strings.Contains(f.text, old.text) &&
		(old.family == "" || old.family == f.family) &&
		(!old.failedOnly || f.failedOnly)
}

// matches returns the indexes of the rows that pass f. When incremental (f
// narrows the filter that gave prevMatches), only prevMatches are checked
// again, and their slice is reused for the result.
func (f filter) matches(rows []row, prevMatches []int, incremental bool) []int {
	q := []byte(f.text)
	if incremental {
		out := prevMatches[:0]
		for _, i := range prevMatches {
			if f.match(&rows[i], q) {
				out = append(out, i)
			}
		}
		return out
	}
	out := make([]int, 0, len(rows))
	for i := range rows {
		if f.match(&rows[i], q) {
			out = append(out, i)
		}
	}
	return out
}
