package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// marshalHeader encodes h as the JSON object of string arrays that
// encoding/json writes for an http.Header ("null" for nil).
func marshalHeader(h http.Header) (string, error) {
	b, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("encode header: %w", err)
	}
	return string(b), nil
}

// unmarshalHeader decodes what marshalHeader wrote. Loading the whole
// history decodes one header per event, and encoding/json took half the
// time of Events on 100,000 events, so headers without escapes take a fast
// path that allocates one string for all the names and values.
func unmarshalHeader(b []byte) (http.Header, error) {
	if h, ok := parsePlainHeader(b); ok {
		return h, nil
	}
	var h http.Header
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("decode header: %w", err)
	}
	return h, nil
}

// parsePlainHeader parses b when it is exactly what json.Marshal writes for
// an http.Header whose names and values need no escapes. ok is false for any
// other input, including valid JSON with spaces or escapes.
func parsePlainHeader(b []byte) (h http.Header, ok bool) {
	if string(b) == "null" {
		return nil, true
	}
	if !plain(b) || len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, false
	}
	p := headerParser{s: string(b), i: 1}
	// Each value is one string of at least "" and a separator.
	p.vals = make([]string, 0, bytes.Count(b, []byte{'"'})/2)
	h = make(http.Header)
	for !p.done() {
		name, ok := p.name()
		if !ok {
			return nil, false
		}
		vals, ok := p.values()
		if !ok {
			return nil, false
		}
		h[name] = vals
		if !p.next('}') {
			return nil, false
		}
	}
	return h, true
}

// plain reports whether b holds no escapes, no control characters and only
// valid UTF-8, which encoding/json would reject or rewrite.
func plain(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c < 0x20 {
			return false
		}
	}
	return utf8.Valid(b)
}

// headerParser reads s from i on; names and values are substrings of s and
// value lists subslices of vals.
type headerParser struct {
	s    string
	i    int
	vals []string
}

// done reports whether only the closing brace is left.
func (p *headerParser) done() bool {
	return p.i == len(p.s)-1
}

// next consumes the comma before another element, or reports whether end
// comes next without consuming it.
func (p *headerParser) next(end byte) bool {
	if p.i < len(p.s) && p.s[p.i] == ',' {
		p.i++
		return p.i < len(p.s) && p.s[p.i] != end
	}
	return p.i < len(p.s) && p.s[p.i] == end
}

// name reads `"name":`.
func (p *headerParser) name() (string, bool) {
	name, ok := p.str()
	if !ok || p.i >= len(p.s) || p.s[p.i] != ':' {
		return "", false
	}
	p.i++
	return name, true
}

// values reads `["v1","v2"]` or `null`.
func (p *headerParser) values() ([]string, bool) {
	if len(p.s)-p.i >= 4 && p.s[p.i:p.i+4] == "null" {
		p.i += 4
		return nil, true
	}
	if p.i >= len(p.s) || p.s[p.i] != '[' {
		return nil, false
	}
	p.i++
	start := len(p.vals)
	for p.i < len(p.s) && p.s[p.i] != ']' {
		v, ok := p.str()
		if !ok || !p.next(']') {
			return nil, false
		}
		p.vals = append(p.vals, v)
	}
	if p.i >= len(p.s) {
		return nil, false
	}
	p.i++
	return p.vals[start:len(p.vals):len(p.vals)], true
}

// str reads a string without escapes.
func (p *headerParser) str() (string, bool) {
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return "", false
	}
	n := strings.IndexByte(p.s[p.i+1:], '"')
	if n < 0 {
		return "", false
	}
	v := p.s[p.i+1 : p.i+1+n]
	p.i += n + 2
	return v, true
}
