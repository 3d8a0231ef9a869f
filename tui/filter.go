package tui

import (
	"bytes"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hookrelay/hookrelay/internal/history"
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

// matchAttrs reports whether r passes the family and failed parts of f.
func (f filter) matchAttrs(r *row) bool {
	if f.failedOnly && !r.failed() {
		return false
	}
	return f.family == "" || r.family == f.family
}

// match reports whether row i of rows, whose text hay holds, passes f.
func (f filter) match(rows []row, hay *haystack, i int) bool {
	return f.matchAttrs(&rows[i]) && (f.text == "" || hay.has(i, []byte(f.text)))
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
// again, and their slice is reused for the result; but when they are most
// rows, one sweep of the search text is faster than checking each.
func (f filter) matches(rows []row, hay *haystack, prevMatches []int, incremental bool) []int {
	q := []byte(f.text)
	keep := func(i int) bool { return f.matchAttrs(&rows[i]) }
	switch {
	case incremental && len(q) > 0 && len(prevMatches) > len(rows)/sweepRatio:
		return hay.find(q, keep, prevMatches[:0])
	case incremental:
		out := prevMatches[:0]
		for _, i := range prevMatches {
			if keep(i) && (len(q) == 0 || hay.has(i, q)) {
				out = append(out, i)
			}
		}
		return out
	case len(q) == 0:
		out := make([]int, 0, len(rows))
		for i := range rows {
			if keep(i) {
				out = append(out, i)
			}
		}
		return out
	}
	return hay.find(q, keep, nil)
}

// sweepRatio decides when a narrowing filter sweeps the whole search text
// rather than check its current matches one by one: when they exceed this
// fraction of the rows.
const sweepRatio = 4

// haystack holds what the text filter searches in every row (type, event
// id, webhook-id and body, lower-cased), in one buffer, so that a search
// sweeps memory in order instead of visiting each row. A NUL separates the
// fields and the rows; a query never holds one, so no match spans two.
type haystack struct {
	text []byte
	ends []int // ends[i] is where row i's text ends, its separator included
}

// add appends the text of the next row.
func (h *haystack) add(ev *history.Event) {
	for _, s := range []string{ev.Type, ev.EventID, ev.WebhookID} {
		h.text = appendLower(h.text, []byte(s))
		h.text = append(h.text, 0)
	}
	h.text = appendLower(h.text, ev.Body)
	h.text = append(h.text, 0)
	h.ends = append(h.ends, len(h.text))
}

// rebuild replaces the text with that of rows, after rows moved.
func (h *haystack) rebuild(rows []row) {
	h.text, h.ends = h.text[:0], h.ends[:0]
	for i := range rows {
		h.add(&rows[i].ev)
	}
}

func (h *haystack) start(i int) int {
	if i == 0 {
		return 0
	}
	return h.ends[i-1]
}

// has reports whether row i's text contains q.
func (h *haystack) has(i int, q []byte) bool {
	return bytes.Contains(h.text[h.start(i):h.ends[i]], q)
}

// find appends to out the rows whose text contains q and that keep accepts,
// in order, with one sweep of the buffer that skips to the next row after
// each match.
func (h *haystack) find(q []byte, keep func(int) bool, out []int) []int {
	pos, row := 0, 0
	for pos < len(h.text) {
		j := bytes.Index(h.text[pos:], q)
		if j < 0 {
			break
		}
		at := pos + j
		row += sort.SearchInts(h.ends[row:], at+1)
		if keep(row) {
			out = append(out, row)
		}
		pos = h.ends[row]
	}
	return out
}

// appendLower appends s lower-cased to dst.
func appendLower(dst, s []byte) []byte {
	for i, c := range s {
		if c >= utf8.RuneSelf {
			return append(dst, bytes.ToLower(s[i:])...)
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
