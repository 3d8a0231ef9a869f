package store_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hookrelay/hookrelay/internal/store"
)

// crashChildEnv, when set, makes TestSQLiteSurvivesKill the child process
// that appends to the store at the path it names until it is killed.
const crashChildEnv = "HOOKRELAY_STORE_CRASH_CHILD"

// TestSQLiteSurvivesKill kills a process that is appending with SIGKILL and
// checks that every append it acknowledged is in the file.
func TestSQLiteSurvivesKill(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		appendUntilKilled(path)
		return
	}
	const acks = 300
	path := filepath.Join(t.TempDir(), "relay.db")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestSQLiteSurvivesKill$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("child stdout: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	acked := readAcks(t, out, acks)
	cmd.Process.Kill()
	cmd.Wait()

	s := openSQLite(t, path)
	events, err := s.Read(t.Context(), "main", 0, 1_000_000)
	if err != nil {
		t.Fatalf("Read() error = %v", err)
	}
	stored := make(map[string]int64, len(events))
	for _, e := range events {
		stored[e.WebhookID] = e.Seq
	}
	for id, seq := range acked {
		if got, ok := stored[id]; !ok || got != seq {
			t.Errorf("acknowledged %s as %d, stored as %d (found %t)", id, seq, got, ok)
		}
	}
}

// readAcks reads n acknowledgements, "ack ID SEQ" lines, from the child.
func readAcks(t *testing.T, out io.Reader, n int) map[string]int64 {
	t.Helper()
	acked := make(map[string]int64, n)
	sc := bufio.NewScanner(out)
	for len(acked) < n && sc.Scan() {
		var id string
		var seq int64
		if _, err := fmt.Sscanf(sc.Text(), "ack %s %d", &id, &seq); err == nil {
			acked[id] = seq
		}
	}
	if len(acked) < n {
		t.Fatalf("child acknowledged %d appends, then stopped: %v", len(acked), sc.Err())
	}
	return acked
}

// appendUntilKilled appends from several goroutines to the store at path and
// prints each acknowledged append.
func appendUntilKilled(path string) {
	s, err := store.OpenSQLite(path)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	body := []byte(strings.Repeat("x", 512))
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("wh_%d_%d", g, i)
				e := &store.Event{Channel: "main", WebhookID: id, Body: body}
				seq, _, err := s.Append(context.Background(), e)
				if err != nil {
					fmt.Println("append:", err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Fprintf(w, "ack %s %d\n", id, seq)
				w.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
