package store

import (
	"errors"
	"strings"
	"testing"
)

func TestRedactError(t *testing.T) {
	tests := []struct {
		name   string
		dsn    string
		secret string
	}{
		{"url_userinfo", "postgres://u:pa%3Ass@h/db", "pa:ss"},
		{"url_userinfo_escaped", "postgres://u:pa%3Ass@h/db", "pa%3Ass"},
		{"url_query", "postgres://u@h/db?sslpassword=k3y&password=pw1", "pw1"},
		{"url_unparsable", "postgres://u:pw2@h:port:x/%zz", "pw2"},
		{"keyword", "host=h password=pw3 user=u", "pw3"},
		{"keyword_quoted", "host=h password='p w4' user=u", "p w4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := errors.New("dial " + tt.dsn + " with " + tt.secret)
			err := redactError(inner, tt.dsn)
			if strings.Contains(err.Error(), tt.secret) {
				t.Errorf("redactError() = %q, still shows %q", err, tt.secret)
			}
			if !errors.Is(err, inner) {
				t.Errorf("redactError() does not wrap the original error")
			}
		})
	}
}

func TestRedactErrorWithoutPassword(t *testing.T) {
	inner := errors.New("connection refused")
	if err := redactError(inner, "postgres://u@h/db"); err != inner {
		t.Errorf("redactError() = %v, want the error unchanged", err)
	}
}
