package tui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/enrich"
	"github.com/hookrelay/hookrelay/internal/history"
)

// Controller is what the screen needs of the agent: its updates, its state,
// its history, and the commands the keys give. *agent.Agent implements it.
type Controller interface {
	// Subscribe returns a channel of every update from now on and a
	// function that ends the subscription.
	Subscribe() (<-chan agent.Update, func())
	// Snapshot returns the agent's state now.
	Snapshot() agent.Snapshot
	// History returns the local history, or nil when there is none.
	History() *history.History
	// Resend queues a replay of an event, re-signed; body nil means the
	// original body. It returns once the replay is queued.
	Resend(ctx context.Context, eventID int64, body []byte) error
	// SetPaused pauses or resumes forwarding.
	SetPaused(paused bool)
	// Step delivers just the next queued delivery while paused.
	Step()
	// Curl returns a curl command reproducing the delivery, re-signed now.
	Curl(ctx context.Context, eventID int64) (string, error)
	// Pin chooses the event replayed when the app's code is saved; 0
	// unpins.
	Pin(eventID int64)
}

// Enricher is what a Controller may also do: fetch what the OpenAI API says
// of the response that a response.* event names. The details of such an
// event show it when the controller implements Enricher; *agent.Agent does.
type Enricher interface {
	// Enrich returns the response's status, model, usage and output text,
	// or enrich.ErrDisabled when enrichment is off.
	Enrich(ctx context.Context, eventID int64) (*enrich.Enrichment, error)
}

// maxUpdateBatch bounds how many queued updates one message carries.
const maxUpdateBatch = 512

// cmdTimeout bounds a command's call into the agent or the history.
const cmdTimeout = 10 * time.Second

// lastAttemptsChunk bounds the ids of one LastAttempts query.
const lastAttemptsChunk = 5000

// updatesMsg carries the agent's updates, oldest first.
type updatesMsg []agent.Update

// feedClosedMsg says the agent's update channel closed.
type feedClosedMsg struct{}

// historyMsg carries the events of earlier runs and their newest attempts.
type historyMsg struct {
	events []history.Event
	last   map[int64]history.Attempt
}

// eventMsg carries an event fetched because an update named it before the
// list had it.
type eventMsg struct {
	ev   history.Event
	last *history.Attempt
}

// snapshotMsg carries the agent's state.
type snapshotMsg agent.Snapshot

// detailMsg carries an event and its attempts, rendered for the details
// view: the event's facts, and the lines after them.
type detailMsg struct {
	eventID int64
	ev      history.Event
	facts   []string
	lines   []string
}

// enrichMsg carries the Response section of an event's details.
type enrichMsg struct {
	eventID  int64
	lines    []string
	disabled bool // the controller has no enrichment configured
}

// statusMsg is a message for the status line.
type statusMsg string

// curlMsg carries a curl command to copy.
type curlMsg struct {
	label string
	cmd   string
}

// editorReadyMsg says the body to edit is in a file, ready for the editor.
type editorReadyMsg struct {
	eventID int64
	label   string
	path    string
	orig    []byte
}

// editorDoneMsg says the editor exited.
type editorDoneMsg struct {
	editorReadyMsg
	err error
}

// tickMsg redraws the reconnection countdown.
type tickMsg time.Time

// errMsg reports a failed command; the status line shows it.
type errMsg struct {
	err  error
	load bool // loading the history failed
}

func (e errMsg) Error() string { return e.err.Error() }

// waitUpdatesCmd waits for the agent's next update and returns it with any
// others already queued, so that a burst costs one redraw.
func waitUpdatesCmd(ch <-chan agent.Update) tea.Cmd {
	return func() tea.Msg {
		u, ok := <-ch
		if !ok {
			return feedClosedMsg{}
		}
		batch := updatesMsg{u}
		for len(batch) < maxUpdateBatch {
			select {
			case u, ok := <-ch:
				if !ok {
					return batch
				}
				batch = append(batch, u)
			default:
				return batch
			}
		}
		return batch
	}
}

// loadHistoryCmd reads every event of the history and its newest attempt.
//
// Limitation: the whole history is held in memory, bodies included (about
// 1 KB an event with small bodies, so 100 MB for 100,000); reading the rows
// around the screen on demand would lift it.
func loadHistoryCmd(ctx context.Context, h *history.History) tea.Cmd {
	return func() tea.Msg {
		events, err := h.Events(ctx, history.Query{Limit: -1})
		if err != nil {
			return errMsg{err: fmt.Errorf("load history %s: %w", h.Path(), err), load: true}
		}
		last := make(map[int64]history.Attempt, len(events))
		for start := 0; start < len(events); start += lastAttemptsChunk {
			chunk := events[start:min(start+lastAttemptsChunk, len(events))]
			ids := make([]int64, len(chunk))
			for i := range chunk {
				ids[i] = chunk[i].ID
			}
			got, err := h.LastAttempts(ctx, ids)
			if err != nil {
				err = fmt.Errorf("load attempts from %s: %w", h.Path(), err)
				return errMsg{err: err, load: true}
			}
			for id, a := range got {
				last[id] = a
			}
		}
		return historyMsg{events: events, last: last}
	}
}

// loadEventCmd fetches one event the list lacks, with its newest attempt.
func loadEventCmd(ctx context.Context, h *history.History, id int64) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
		defer cancel()
		ev, err := h.Event(ctx, id)
		if err != nil {
			return errMsg{err: fmt.Errorf("load event %d: %w", id, err)}
		}
		msg := eventMsg{ev: ev}
		last, err := h.LastAttempts(ctx, []int64{id})
		if err != nil {
			return errMsg{err: fmt.Errorf("load attempts of event %d: %w", id, err)}
		}
		if a, ok := last[id]; ok {
			msg.last = &a
		}
		return msg
	}
}

func snapshotCmd(c Controller) tea.Cmd {
	return func() tea.Msg { return snapshotMsg(c.Snapshot()) }
}

// loadDetailCmd reads an event and every attempt of it, and renders them;
// rendering a large body is slow, so it happens here rather than in Update.
func loadDetailCmd(
	ctx context.Context, h *history.History, id int64, st *Styles, loc *time.Location,
) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
		defer cancel()
		ev, err := h.Event(ctx, id)
		if err != nil {
			return errMsg{err: fmt.Errorf("load event %d: %w", id, err)}
		}
		attempts, err := h.Attempts(ctx, id)
		if err != nil {
			return errMsg{err: fmt.Errorf("load attempts of event %d: %w", id, err)}
		}
		facts, lines := renderDetail(ev, attempts, st, loc)
		return detailMsg{eventID: id, ev: ev, facts: facts, lines: lines}
	}
}

// enrichCmd fetches what the OpenAI API says of the response that a
// response.* event names, and renders it for the details view.
func enrichCmd(
	ctx context.Context, en Enricher, id int64, st *Styles, loc *time.Location,
) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
		defer cancel()
		e, err := en.Enrich(ctx, id)
		if errors.Is(err, enrich.ErrDisabled) {
			return enrichMsg{eventID: id, disabled: true}
		}
		if err != nil {
			err = fmt.Errorf("fetch the response: %w", err)
		}
		return enrichMsg{eventID: id, lines: responseLines(e, err, st, loc)}
	}
}

func resendCmd(ctx context.Context, c Controller, id int64, body []byte, label string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
		defer cancel()
		if err := c.Resend(ctx, id, body); err != nil {
			return errMsg{err: fmt.Errorf("resend %s: %w", label, err)}
		}
		if body != nil {
			return statusMsg(fmt.Sprintf("sending %s with the edited body (%d bytes)",
				label, len(body)))
		}
		return statusMsg("re-sending " + label + ", re-signed")
	}
}

// pauseCmd pauses or resumes forwarding, then takes a snapshot for the
// queue's length.
func pauseCmd(c Controller, paused bool) tea.Cmd {
	return func() tea.Msg {
		c.SetPaused(paused)
		return snapshotMsg(c.Snapshot())
	}
}

func stepCmd(c Controller) tea.Cmd {
	return func() tea.Msg {
		c.Step()
		return statusMsg("delivering the next queued event")
	}
}

func pinCmd(c Controller, id int64) tea.Cmd {
	return func() tea.Msg {
		c.Pin(id)
		return nil
	}
}

func curlCmd(ctx context.Context, c Controller, id int64, label string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
		defer cancel()
		cmd, err := c.Curl(ctx, id)
		if err != nil {
			return errMsg{err: fmt.Errorf("make curl command for %s: %w", label, err)}
		}
		return curlMsg{label: label, cmd: cmd}
	}
}

// editPrepareCmd writes the body to edit to a temporary file, indented when
// it is JSON so that it is easy to edit; what the user saves is sent as is.
func editPrepareCmd(id int64, label string, body []byte) tea.Cmd {
	return func() tea.Msg {
		var pretty bytes.Buffer
		if json.Indent(&pretty, body, "", "  ") == nil {
			pretty.WriteByte('\n')
			body = pretty.Bytes()
		}
		f, err := os.CreateTemp("", "hookrelay-*.json")
		if err != nil {
			return errMsg{err: fmt.Errorf("write body of %s for the editor: %w", label, err)}
		}
		_, err = f.Write(body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
			return errMsg{err: fmt.Errorf("write body of %s for the editor: %w", label, err)}
		}
		return editorReadyMsg{eventID: id, label: label, path: f.Name(), orig: body}
	}
}

// editorCmd runs the editor on the body's file, handing it the terminal.
func editorCmd(editor string, r editorReadyMsg) tea.Cmd {
	args := strings.Fields(editor)
	if len(args) == 0 {
		args = []string{defaultEditor}
	}
	c := exec.Command(args[0], append(args[1:], r.path)...)
	return tea.ExecProcess(c, func(err error) tea.Msg {
		return editorDoneMsg{editorReadyMsg: r, err: err}
	})
}

// editFinishCmd reads the edited body, removes its file and sends it.
func editFinishCmd(ctx context.Context, c Controller, d editorDoneMsg) tea.Cmd {
	return func() tea.Msg {
		body, err := os.ReadFile(d.path)
		if rerr := os.Remove(d.path); err == nil && !errors.Is(rerr, os.ErrNotExist) {
			err = rerr
		}
		switch {
		case d.err != nil:
			return errMsg{err: fmt.Errorf("run editor on %s: %w", d.label, d.err)}
		case err != nil:
			return errMsg{err: fmt.Errorf("read edited body of %s: %w", d.label, err)}
		case len(bytes.TrimSpace(body)) == 0:
			return statusMsg("empty body: nothing sent")
		case bytes.Equal(body, d.orig):
			return statusMsg("body unchanged: nothing sent (r re-sends the original)")
		}
		return resendCmd(ctx, c, d.eventID, body, d.label)()
	}
}

// tickCmd asks for a redraw in a second, for the reconnection countdown.
func tickCmd() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}
