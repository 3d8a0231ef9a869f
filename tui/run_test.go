package tui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/hookrelay/hookrelay/internal/agent"
)

func TestWaitUpdatesBatches(t *testing.T) {
	ch := make(chan agent.Update, 3)
	for i := range 3 {
		ev := liveEvent(int64(i+1), "response.completed")
		ch <- eventUpdate(ev)
	}
	got, ok := waitUpdatesCmd(ch)().(updatesMsg)
	if !ok || len(got) != 3 {
		t.Fatalf("got %d updates (%v), want the 3 queued in one message", len(got), ok)
	}
	close(ch)
	if _, ok := waitUpdatesCmd(ch)().(feedClosedMsg); !ok {
		t.Error("a closed feed did not say so")
	}
}

func TestCloseEndsSubscription(t *testing.T) {
	c := newFake(nil)
	m := New(c, Options{})
	m.Close()
	m.Close()
	if !c.cancelled {
		t.Error("Close did not end the subscription")
	}
}

// TestProgramQuits runs the model in a real Bubble Tea program, fed by an
// open update channel, until q.
func TestProgramQuits(t *testing.T) {
	c := newFake(nil)
	c.updates = make(chan agent.Update)
	m := New(c, Options{NoColor: true, Now: testNow})
	defer m.Close()
	in, keys := io.Pipe()
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(t.Context(), m, tea.WithInput(in), tea.WithOutput(&out),
			tea.WithWindowSize(80, 24), tea.WithoutSignals())
	}()
	ev := liveEvent(1, "batch.completed")
	c.updates <- eventUpdate(ev) // received once the program listens
	if _, err := keys.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("run = %v, want nil after q", err)
	}
	if !strings.Contains(out.String(), "hookrelay") {
		t.Errorf("the program drew no header: %q", out.String())
	}
}

func TestProgramEndsWithContext(t *testing.T) {
	c := newFake(nil)
	c.updates = make(chan agent.Update)
	m := New(c, Options{NoColor: true, Now: testNow})
	defer m.Close()
	in, _ := io.Pipe()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, m, tea.WithInput(in), tea.WithOutput(io.Discard),
			tea.WithWindowSize(80, 24), tea.WithoutSignals())
	}()
	c.updates <- eventUpdate(liveEvent(1, "batch.completed"))
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run = %v, want nil when the context ends", err)
	}
}
