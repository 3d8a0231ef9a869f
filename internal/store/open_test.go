package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/store"
)

func TestOpenSQLite(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		prefix string
		file   string
	}{
		{"plain_path", "", "plain.db"},
		{"sqlite_colon", "sqlite:", "colon.db"},
		{"sqlite_url", "sqlite://", "url.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			dsn := tt.prefix + path
			s, err := store.Open(t.Context(), dsn)
			if err != nil {
				t.Fatalf("Open(%q) error = %v", dsn, err)
			}
			defer s.Close()
			if _, ok := s.(*store.SQLite); !ok {
				t.Errorf("Open(%q) = %T, want *store.SQLite", dsn, s)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("Open(%q) did not create %s: %v", dsn, path, err)
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	for _, dsn := range []string{"", "sqlite:", "mysql://user:pw@host/db"} {
		if s, err := store.Open(t.Context(), dsn); err == nil {
			s.Close()
			t.Errorf("Open(%q) error = nil, want an error", dsn)
		}
	}
}

func TestOpenRedactsPassword(t *testing.T) {
	const secret = "s3cr3t-pw"
	tests := []struct {
		name string
		dsn  string
	}{
		{"unreachable_url", "postgres://user:" + secret + "@127.0.0.1:1/db?connect_timeout=2"},
		{"bad_port", "postgresql://user:" + secret + "@127.0.0.1:port/db"},
		{"query_password", "postgres://user@127.0.0.1:1/db?password=" + secret},
		{"keyword_value", "host=127.0.0.1 port=1 user=u password=" + secret},
		{"keyword_quoted", "host=127.0.0.1 port=x user=u password='" + secret + "'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			open := store.Open
			if !strings.Contains(tt.dsn, "://") {
				open = func(ctx context.Context, dsn string) (store.Store, error) {
					return store.OpenPostgres(ctx, dsn)
				}
			}
			_, err := open(t.Context(), tt.dsn)
			if err == nil {
				t.Fatalf("open(%s) error = nil, want an error", tt.name)
			}
			if msg := fmt.Sprint(err); strings.Contains(msg, secret) {
				t.Errorf("open(%s) error shows the password: %s",
					tt.name, strings.ReplaceAll(msg, secret, "<secret>"))
			}
		})
	}
}
