package tui

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// writeCell writes s padded to width w and a gap.
func writeCell(b *strings.Builder, s string, w int) {
	b.WriteString(pad(s, w))
	b.WriteByte(' ')
}

// pad pads s with spaces to w columns. Like truncate and cut, it counts a
// rune as one column: the list shows ASCII types and ids, and its markers
// are narrow.
func pad(s string, w int) string {
	n := utf8.RuneCountInString(s)
	if n >= w {
		return s
	}
	return s + strings.Repeat(" ", w-n)
}

func padLeft(s string, w int) string {
	n := utf8.RuneCountInString(s)
	if n >= w {
		return s
	}
	return strings.Repeat(" ", w-n) + s
}

// cut shortens s to at most w runes.
func cut(s string, w int) string {
	if len(s) <= w {
		return s
	}
	if utf8.RuneCountInString(s) <= w {
		return s
	}
	r := []rune(s)
	return string(r[:max(w, 0)])
}

// truncate shortens s to at most w runes, ending it with … when cut.
func truncate(s string, w int) string {
	if utf8.RuneCountInString(s) <= w {
		return s
	}
	if w <= 1 {
		return cut(s, w)
	}
	return cut(s, w-1) + "…"
}

// truncateMiddle shortens s to at most w runes by replacing its middle with
// …, keeping both ends of an id recognisable.
func truncateMiddle(s string, w int) string {
	n := utf8.RuneCountInString(s)
	if n <= w {
		return s
	}
	if w <= 3 {
		return cut(s, w)
	}
	r := []rune(s)
	head := (w - 1) / 2
	tail := w - 1 - head
	return string(r[:head]) + "…" + string(r[n-tail:])
}

// printable replaces the control characters of s, which a webhook could use
// to drive the terminal, with ·, and tabs with a space.
func printable(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case r == utf8.RuneError, unicode.IsControl(r):
			return '·'
		}
		return r
	}, s)
}
