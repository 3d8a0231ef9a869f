package store_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
)

// A plain path, or a sqlite: URL, opens the embedded SQLite store.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "hookrelay-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "relay.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	e := &store.Event{
		Channel:    "default",
		WebhookID:  "wh_123",
		Type:       "response.completed",
		Header:     http.Header{"Webhook-Id": {"wh_123"}},
		Body:       []byte(`{"type":"response.completed"}`),
		ReceivedAt: time.Now(),
	}
	seq, created, err := s.Append(ctx, e)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(seq, created)

	// A retried delivery of the same webhook is stored once.
	seq, created, err = s.Append(ctx, e)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(seq, created)

	events, err := s.Read(ctx, "default", 0, 10)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range events {
		fmt.Println(e.Seq, e.WebhookID, e.Type, string(e.Body))
	}
	// Output:
	// 1 true
	// 1 false
	// 1 wh_123 response.completed {"type":"response.completed"}
}

// A postgres:// URL opens the PostgreSQL store, which several relay instances
// can share.
func ExampleOpen_postgres() {
	ctx := context.Background()
	s, err := store.Open(ctx, "postgres://relay@db.internal:5432/relay?sslmode=require")
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	// Wait wakes when any instance appends to the channel.
	head, err := s.Head(ctx, "default")
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Wait(ctx, "default", head); err != nil {
		log.Fatal(err)
	}
}
