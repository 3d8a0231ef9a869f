package history

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
)

func TestHeaderRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header
	}{
		{"nil", nil},
		{"empty", http.Header{}},
		{"multi_valued", http.Header{"Webhook-Signature": {"v1,a", "v1,b"}, "X": {"1"}}},
		{"empty_values", http.Header{"A": {}, "B": nil, "C": {""}}},
		{"escapes", http.Header{"Q": {`say "hi"\n`, "<b>&amp;</b>", "tab\there"}}},
		{"unicode", http.Header{"Ü": {"é", "\u2028", "日本"}}},
		{"invalid_utf8", http.Header{"X": {"\xff"}}},
		{"punctuation", http.Header{"X": {"a,b:c[d]{e}", `,"`, "null"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := marshalHeader(tt.h)
			if err != nil {
				t.Fatalf("marshalHeader: %v", err)
			}
			got, err := unmarshalHeader([]byte(s))
			if err != nil {
				t.Fatalf("unmarshalHeader(%s): %v", s, err)
			}
			var want http.Header
			if err := json.Unmarshal([]byte(s), &want); err != nil {
				t.Fatalf("json.Unmarshal(%s): %v", s, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("unmarshalHeader(%s) = %#v, want %#v", s, got, want)
			}
		})
	}
}

func TestUnmarshalHeaderInvalid(t *testing.T) {
	for _, in := range []string{``, `{`, `{"a":["b"]`, `{"a":["b",]}`, `{"a":"b"}`, `[]`,
		`{"a":["b"],}`, `{"a":["b"]}}`, `{"a" ["b"]}`, `{"a":[1]}`} {
		if h, err := unmarshalHeader([]byte(in)); err == nil {
			t.Errorf("unmarshalHeader(%s) = %v, want an error", in, h)
		}
	}
}

// FuzzParsePlainHeader checks that the fast path agrees with encoding/json
// on every input it accepts.
func FuzzParsePlainHeader(f *testing.F) {
	for _, s := range []string{`null`, `{}`, `{"A":["b","c"],"D":[]}`, `{"A":null}`,
		`{"A":["b"],}`, `{"A":["b"] }`, `{"A":["\u00e9"]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := parsePlainHeader(b)
		if !ok {
			return
		}
		var want http.Header
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("parsePlainHeader(%q) accepted what json.Unmarshal rejects: %v", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("parsePlainHeader(%q) = %#v, json.Unmarshal = %#v", b, got, want)
		}
	})
}
