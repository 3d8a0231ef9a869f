package tui

import (
	"bytes"
	"encoding/json"
	"strings"
)

// maxPrettyBody is the largest body shown as coloured JSON; a larger one is
// shown as plain indented text, since colouring it would take long.
const maxPrettyBody = 256 << 10

// maxShownBody bounds the bytes of a body the details show.
//
// Limitation: the details show only the first 1 MiB of a body (the relay's
// default limit); opening the body with e shows all of it.
const maxShownBody = 1 << 20

// bodyLines returns body as lines for the details: indented and coloured
// when it is JSON, else as text, control characters replaced.
func bodyLines(body []byte, st *Styles) []string {
	if len(body) == 0 {
		return []string{st.Muted.Render("(empty)")}
	}
	var more int
	if len(body) > maxShownBody {
		body, more = body[:maxShownBody], len(body)-maxShownBody
	}
	var lines []string
	var pretty bytes.Buffer
	if json.Valid(body) && json.Indent(&pretty, body, "", "  ") == nil {
		lines = strings.Split(pretty.String(), "\n")
		color := len(body) <= maxPrettyBody
		for i, l := range lines {
			if color {
				lines[i] = highlightJSON(l, st)
			} else {
				lines[i] = printable(l)
			}
		}
	} else {
		lines = strings.Split(string(body), "\n")
		for i, l := range lines {
			lines[i] = printable(strings.TrimSuffix(l, "\r"))
		}
	}
	if more > 0 {
		lines = append(lines, st.Muted.Render("… "+formatBytes(more)+" more"))
	}
	return lines
}

// highlightJSON colours one line of indented JSON: keys, strings, numbers
// and literals. Indented JSON keeps every string on one line.
func highlightJSON(line string, st *Styles) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == '"':
			j := stringEnd(line, i)
			tok := printable(line[i:j])
			if strings.HasPrefix(strings.TrimLeft(line[j:], " "), ":") {
				b.WriteString(st.JSONKey.Render(tok))
			} else {
				b.WriteString(st.JSONStr.Render(tok))
			}
			i = j
		case c == '-' || ('0' <= c && c <= '9'):
			j := i + 1
			for j < len(line) && strings.IndexByte("0123456789.eE+-", line[j]) >= 0 {
				j++
			}
			b.WriteString(st.JSONNum.Render(line[i:j]))
			i = j
		case c == 't' || c == 'f' || c == 'n':
			j := i + 1
			for j < len(line) && 'a' <= line[j] && line[j] <= 'z' {
				j++
			}
			b.WriteString(st.JSONLit.Render(line[i:j]))
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// stringEnd returns the index just after the JSON string that starts at i.
func stringEnd(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(s)
}
