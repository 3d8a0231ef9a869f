package agentconfig

import (
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// keyPos says on which line a key is set, or a table header stands.
type keyPos struct {
	path  toml.Key // the table's pieces, then the key's; a header has no key
	index int      // under the n-th [[table]] of that name, from 0
	line  int      // from 1
}

// lineOf returns the line on which path is set within the index-th table of
// its name, or within any of them when index is -1. When path is not there
// (a key inside an inline table, say), it tries the path's parents, and it
// returns 0 when none is found.
func lineOf(keys []keyPos, path toml.Key, index int) int {
	for n := len(path); n > 0; n-- {
		for _, k := range keys {
			if slices.Equal(k.path, path[:n]) && (index < 0 || k.index == index) {
				return k.line
			}
		}
	}
	return 0
}

// scanKeys lists the keys and table headers of src, which toml has already
// parsed without error, with their lines.
//
// toml.MetaData does not say where a key is, and the positions inside the
// library are keyed by key path without an array index, so every [[route]]
// would point at the last one's lines. This scan reads only as much TOML as
// it takes to follow keys, headers, strings, arrays and inline tables.
func scanKeys(src string) []keyPos {
	s := &keyScanner{src: src, line: 1, seen: map[string]int{}}
	for s.i < len(s.src) {
		start := s.i
		s.statement()
		if s.i == start {
			s.next()
		}
	}
	return s.out
}

// keyScanner walks a TOML document one statement at a time.
type keyScanner struct {
	src  string
	i    int // offset of the next byte
	line int // line of the next byte, from 1

	table toml.Key       // the current table
	index int            // the current table's index among its [[name]] headers
	seen  map[string]int // [[name]] headers seen so far, by name
	out   []keyPos
}

func (s *keyScanner) peek() byte {
	if s.i < len(s.src) {
		return s.src[s.i]
	}
	return 0
}

func (s *keyScanner) next() {
	if s.peek() == '\n' {
		s.line++
	}
	s.i++
}

// skipSpace skips blanks and comments, and newlines too when lines is set.
func (s *keyScanner) skipSpace(lines bool) {
	for s.i < len(s.src) {
		switch c := s.peek(); {
		case c == ' ' || c == '\t' || c == '\r' || (lines && c == '\n'):
			s.next()
		case c == '#':
			for s.i < len(s.src) && s.peek() != '\n' {
				s.next()
			}
		default:
			return
		}
	}
}

func (s *keyScanner) statement() {
	s.skipSpace(true)
	if s.i >= len(s.src) {
		return
	}
	if s.peek() == '[' {
		s.header()
		return
	}
	line := s.line
	key := s.key()
	if s.peek() != '=' {
		return
	}
	s.next()
	path := append(slices.Clone(s.table), key...)
	s.out = append(s.out, keyPos{path: path, index: s.index, line: line})
	s.skipSpace(false)
	s.value()
}

func (s *keyScanner) header() {
	array := strings.HasPrefix(s.src[s.i:], "[[")
	line := s.line
	s.next()
	if array {
		s.next()
	}
	s.table = s.key()
	s.index = 0
	if array {
		name := s.table.String()
		s.index = s.seen[name]
		s.seen[name]++
	}
	s.out = append(s.out, keyPos{path: s.table, index: s.index, line: line})
	for s.peek() == ']' {
		s.next()
	}
}

// key reads a dotted key and the blanks around it.
func (s *keyScanner) key() toml.Key {
	var k toml.Key
	for {
		s.skipSpace(false)
		k = append(k, s.keyPiece())
		s.skipSpace(false)
		if s.peek() != '.' {
			return k
		}
		s.next()
	}
}

func (s *keyScanner) keyPiece() string {
	start := s.i
	switch s.peek() {
	case '"':
		s.basicString()
		if u, err := strconv.Unquote(s.src[start:s.i]); err == nil {
			return u
		}
		return strings.Trim(s.src[start:s.i], `"`)
	case '\'':
		s.literalString()
		return strings.Trim(s.src[start:s.i], `'`)
	}
	for s.i < len(s.src) && isBareKeyByte(s.peek()) {
		s.next()
	}
	return s.src[start:s.i]
}

func isBareKeyByte(c byte) bool {
	return c == '_' || c == '-' || ('0' <= c && c <= '9') ||
		('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func (s *keyScanner) value() {
	rest := s.src[s.i:]
	switch {
	case strings.HasPrefix(rest, `"""`):
		s.multilineString(`"""`)
	case strings.HasPrefix(rest, `'''`):
		s.multilineString(`'''`)
	case s.peek() == '"':
		s.basicString()
	case s.peek() == '\'':
		s.literalString()
	case s.peek() == '[':
		s.container(']')
	case s.peek() == '{':
		s.container('}')
	default:
		for s.i < len(s.src) && !strings.ContainsRune(" \t\r\n,]}#", rune(s.peek())) {
			s.next()
		}
	}
}

// container skips an array, or an inline table when end is '}'.
func (s *keyScanner) container(end byte) {
	s.next()
	for {
		s.skipSpace(true)
		switch s.peek() {
		case 0:
			return
		case end:
			s.next()
			return
		case ',':
			s.next()
			continue
		}
		start := s.i
		if end == '}' {
			s.key()
			if s.peek() == '=' {
				s.next()
			}
			s.skipSpace(false)
		}
		s.value()
		if s.i == start {
			s.next()
		}
	}
}

func (s *keyScanner) basicString() {
	s.next()
	for s.i < len(s.src) {
		switch s.peek() {
		case '\\':
			s.next()
		case '"', '\n':
			s.next()
			return
		}
		s.next()
	}
}

func (s *keyScanner) literalString() {
	s.next()
	for s.i < len(s.src) {
		c := s.peek()
		s.next()
		if c == '\'' || c == '\n' {
			return
		}
	}
}

// multilineString skips a string delimited by delim, and the up to two
// quotes that may directly precede its closing delimiter.
func (s *keyScanner) multilineString(delim string) {
	for range delim {
		s.next()
	}
	for s.i < len(s.src) {
		if delim == `"""` && s.peek() == '\\' {
			s.next()
			s.next()
			continue
		}
		if strings.HasPrefix(s.src[s.i:], delim) {
			for range delim {
				s.next()
			}
			for n := 0; n < 2 && s.peek() == delim[0]; n++ {
				s.next()
			}
			return
		}
		s.next()
	}
}
