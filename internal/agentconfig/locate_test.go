package agentconfig

import (
	"testing"

	"github.com/BurntSushi/toml"
)

func TestLineOf(t *testing.T) {
	const src = `title = """
[[route]]
forward_to = "not a key"
"""
literal = '''it's [[route]] again'''
events = [
  "a", # [[route]] in a comment
  ['nested', "]"],
]
inline = { forward_to = "x", y = [1, 2] }
"quoted.key" = 'x'
dotted . key = 1

[[route]]
events = ["a"]
forward_to = "http://one"
[[route]] # second
  events = ["b"]
  forward_to = "http://two"
[table]
k = "v\"\\"
`
	if _, err := toml.Decode(src, new(map[string]any)); err != nil {
		t.Fatalf("test document is not valid TOML: %v", err)
	}
	keys := scanKeys(src)
	tests := []struct {
		name  string
		path  toml.Key
		index int
		want  int
	}{
		{name: "after_multiline_string", path: toml.Key{"literal"}, want: 5},
		{name: "after_multiline_array", path: toml.Key{"inline"}, want: 10},
		{name: "inline_table_falls_back", path: toml.Key{"inline", "forward_to"}, want: 10},
		{name: "quoted_key", path: toml.Key{"quoted.key"}, want: 11},
		{name: "dotted_key", path: toml.Key{"dotted", "key"}, want: 12},
		{name: "first_route_key", path: toml.Key{"route", "forward_to"}, index: 0, want: 16},
		{name: "second_route_key", path: toml.Key{"route", "forward_to"}, index: 1, want: 19},
		{name: "second_route_header", path: toml.Key{"route"}, index: 1, want: 17},
		{name: "any_route", path: toml.Key{"route", "events"}, index: -1, want: 15},
		{name: "table_key", path: toml.Key{"table", "k"}, want: 21},
		{name: "missing", path: toml.Key{"nope"}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lineOf(keys, tt.path, tt.index); got != tt.want {
				t.Errorf("lineOf(%v, %d) = %d, want %d", tt.path, tt.index, got, tt.want)
			}
		})
	}
}

func TestScanKeysEndsOnBrokenInput(t *testing.T) {
	for _, src := range []string{`a = "open`, "a = [1, 2", "[[t", `k = """x`, "= = ="} {
		scanKeys(src) // must return
	}
}
