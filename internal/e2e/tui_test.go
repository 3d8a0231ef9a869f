package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// screenTimeout bounds each wait for the screen or the paste buffer.
const screenTimeout = 20 * time.Second

// tmuxSession is a private tmux server, on a socket in a temp folder, with
// one session whose pane runs a script.
type tmuxSession struct {
	t      *testing.T
	socket string
	name   string
	// hide replaces the fixtures' secrets in what a failing test prints.
	hide *strings.Replacer
}

// newTmux returns a private tmux server, not started yet; it skips the test
// when tmux is not installed.
func newTmux(t *testing.T) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not on PATH: the terminal screen's end-to-end test needs it")
	}
	// A short folder: a Unix socket's path is limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "hr-tmux-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var pairs []string
	for _, s := range secrets() {
		pairs = append(pairs, s, "[secret]")
	}
	return &tmuxSession{t: t, socket: filepath.Join(dir, "sock"), name: "hookrelay",
		hide: strings.NewReplacer(pairs...)}
}

// secrets returns the fixtures' secrets, with and without their whsec_
// prefix.
func secrets() []string {
	return []string{appSecret, openaiSecret, token,
		strings.TrimPrefix(appSecret, "whsec_"), strings.TrimPrefix(openaiSecret, "whsec_")}
}

// start starts the session, width by height, running script with sh in
// the script's folder. The pane stays after the script ends, so that the
// test can read its last screen and exit status, and what the program
// copies with OSC 52 lands in tmux's paste buffer. The test's end stops
// the program, then the server.
func (s *tmuxSession) start(width, height int, script string) {
	s.t.Helper()
	s.tmux("set-option", "-g", "remain-on-exit", "on", ";",
		"set-option", "-g", "set-clipboard", "on", ";",
		"new-session", "-d", "-s", s.name, "-x", fmt.Sprint(width), "-y", fmt.Sprint(height),
		"-c", filepath.Dir(script), "sh "+shellQuote(script))
	s.t.Cleanup(s.stop)
}

// stop quits the program with ctrl+c if it still runs, so that it ends
// before the test's folders go, then kills the server.
func (s *tmuxSession) stop() {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		out, err := s.tryTmux("display-message", "-p", "-t", s.name, "#{pane_dead}")
		if err != nil || strings.TrimSpace(out) == "1" {
			break
		}
		s.tryTmux("send-keys", "-t", s.name, "C-c")
		time.Sleep(50 * time.Millisecond) // the pane's end has no event to wait on
	}
	s.tryTmux("kill-server")
}

// tmux runs a tmux command on the private server and returns its output.
func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := s.tryTmux(args...)
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", args[0], err, s.hide.Replace(out))
	}
	return out
}

// tryTmux runs a tmux command that may fail, without the user's tmux
// configuration. Its environment lacks TMUX, so that a test run inside
// tmux does not nest.
func (s *tmuxSession) tryTmux(args ...string) (string, error) {
	args = append([]string{"-u", "-S", s.socket, "-f", os.DevNull}, args...)
	cmd := exec.Command("tmux", args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TMUX=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// keys sends keys by their tmux names (Escape, Enter, G).
func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	s.tmux(append([]string{"send-keys", "-t", s.name}, keys...)...)
}

// typeText sends text literally, one key per character.
func (s *tmuxSession) typeText(text string) {
	s.t.Helper()
	s.tmux("send-keys", "-t", s.name, "-l", text)
}

// capture returns the visible screen of the pane, checking that it shows
// no secret.
func (s *tmuxSession) capture() string {
	s.t.Helper()
	return s.captureArgs()
}

// captureAll returns the pane's scrollback and screen, checking that they
// show no secret.
func (s *tmuxSession) captureAll() string {
	s.t.Helper()
	return s.captureArgs("-S", "-")
}

func (s *tmuxSession) captureArgs(args ...string) string {
	s.t.Helper()
	screen := s.tmux(append([]string{"capture-pane", "-p", "-t", s.name}, args...)...)
	for _, secret := range secrets() {
		if strings.Contains(screen, secret) {
			s.t.Fatal("the screen shows a secret of the fixtures")
		}
	}
	return screen
}

// poll calls get until it reports ok and returns what it got; what names
// what the test waits for.
func (s *tmuxSession) poll(what string, get func() (string, bool)) string {
	s.t.Helper()
	deadline := time.Now().Add(screenTimeout)
	for {
		got, ok := get()
		if ok {
			return got
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no %s within %s; last seen:\n%s", what, screenTimeout, s.hide.Replace(got))
		}
		time.Sleep(25 * time.Millisecond) // a screen has no event to wait on
	}
}

// waitScreen waits until ok accepts the screen and returns it.
func (s *tmuxSession) waitScreen(what string, ok func(screen string) bool) string {
	s.t.Helper()
	return s.poll(what, func() (string, bool) {
		screen := s.capture()
		return screen, ok(screen)
	})
}

// waitText waits until the screen contains every one of want.
func (s *tmuxSession) waitText(what string, want ...string) string {
	s.t.Helper()
	return s.waitScreen(what, func(screen string) bool { return containsAll(screen, want...) })
}

// waitBuffer waits until ok accepts tmux's paste buffer and returns it. The
// program writes OSC 52 from a command of its own, maybe after it has drawn
// the status line that tells of the copy.
func (s *tmuxSession) waitBuffer(what string, ok func(buf string) bool) string {
	s.t.Helper()
	return s.poll(what, func() (string, bool) {
		buf, err := s.tryTmux("show-buffer")
		return buf, err == nil && ok(buf)
	})
}

// paneStatus returns whether the pane's script has ended, and its exit
// status.
func (s *tmuxSession) paneStatus() (dead bool, status string) {
	s.t.Helper()
	out := strings.Fields(s.tmux("display-message", "-p", "-t", s.name,
		"#{pane_dead} #{pane_dead_status}"))
	if len(out) == 0 {
		return false, ""
	}
	return out[0] == "1", strings.Join(out[1:], " ")
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// lineWith returns the first line of screen that contains sub, or "".
func lineWith(screen, sub string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// agentScript writes a script that runs relay-agent listen, which shows its
// screen on the terminal, with its state folder in state, then prints its
// exit status and exits with it.
func agentScript(t *testing.T, dir, state, relayURL, appURL string) string {
	t.Helper()
	args := []string{filepath.Join(binaries(t), "relay-agent"), "listen",
		"--relay", relayURL, "--token", token, "--forward-to", appURL,
		"--sign-secret", appSecret, "--history", filepath.Join(dir, "history.db")}
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	script := fmt.Sprintf("XDG_STATE_HOME=%s NO_COLOR=1 %s\n", shellQuote(state),
		strings.Join(args, " ")) + "code=$?\necho \"EXIT=$code\"\nexit $code\n"
	path := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tuiEvent is a webhook the test posts and then looks for on the screen.
type tuiEvent struct {
	typ, webhookID, eventID string
	body                    []byte
}

// rowShows returns a check that the row of e shows text.
func rowShows(e tuiEvent, text string) func(string) bool {
	return func(screen string) bool { return strings.Contains(lineWith(screen, e.eventID), text) }
}

// TestTUIInTmux runs relay-agent listen in tmux, its terminal screen shown,
// against a relay and an app that verifies each delivery with openai-go, and
// drives it with keys: events appear, / filters, r re-sends, enter shows the
// details, y and x copy, ? shows the help, p and n pause and step, the
// screen reflows to 80x24, and q exits 0 with the terminal restored.
func TestTUIInTmux(t *testing.T) {
	tm := newTmux(t)
	r := startRelay(t)
	app := startApp(t, appSecret)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	tm.start(100, 30, agentScript(t, dir, state, r.URL, app.URL))
	tm.waitText("connected header", "hookrelay", "● connected")

	events := postTUIEvents(t, r, "wh_tui_", "response.completed", "batch.completed",
		"fine_tuning.job.succeeded", "batch.failed", "eval.run.succeeded")
	for i, e := range events {
		wantDelivery(t, app, i, e, false)
	}
	screen := tm.waitScreen("list of the delivered events", func(s string) bool {
		for _, e := range events {
			if !rowShows(e, "200")(s) {
				return false
			}
		}
		return strings.Contains(s, "5/5 events")
	})
	t.Logf("the event list at 100x30:\n%s", tm.hide.Replace(screen))
	tuiCheckRows(t, screen, events)

	tuiCheckFilter(t, tm, events)
	tuiCheckResend(t, tm, app, events[0])
	tuiCheckDetails(t, tm, app, events[0])
	tuiCheckCopy(t, tm, app, events[0])
	tuiCheckHelp(t, tm, state)
	tuiCheckPause(t, tm, r, app)
	tuiCheckNarrow(t, tm)
	tuiCheckQuit(t, tm)
	tuiCheckLog(t, state)
}

// postTUIEvents posts a webhook of each type to the relay, signed as OpenAI
// signs them, with webhook ids prefix1, prefix2, …
func postTUIEvents(t *testing.T, r *testRelay, prefix string, types ...string) []tuiEvent {
	t.Helper()
	var events []tuiEvent
	for i, typ := range types {
		e := tuiEvent{typ: typ, webhookID: fmt.Sprint(prefix, i+1), body: sampleBody(t, typ)}
		e.eventID = eventID(t, e.body)
		if got := r.post(t, "/webhooks/openai", e.webhookID, e.body); got != 200 {
			t.Fatalf("post %s: status %d, want 200", typ, got)
		}
		events = append(events, e)
	}
	return events
}

// wantDelivery waits for the app's request number i, from 0, and checks
// that it is e, verified, and marked as a replay or not.
func wantDelivery(t *testing.T, app *app, i int, e tuiEvent, replay bool) {
	t.Helper()
	d := app.waitFor(t, i+1)[i]
	mark := d.Header.Get("X-Hookrelay-Replay")
	if d.WebhookID != e.webhookID || d.Verified != nil || (mark == "1") != replay ||
		string(d.Body) != string(e.body) {
		t.Errorf("request %d: %s (verified: %v, replay %q), want %s verified, replay %v",
			i+1, d.WebhookID, d.Verified, mark, e.webhookID, replay)
	}
}

// tuiCheckRows checks each event's row, oldest first: its type, its id, its
// status code and no marker; and the column titles and counts.
func tuiCheckRows(t *testing.T, screen string, events []tuiEvent) {
	t.Helper()
	last := -1
	for _, e := range events {
		line := lineWith(screen, e.eventID)
		if !containsAll(line, e.typ, "200") || strings.ContainsAny(line, "↻✎✗") {
			t.Errorf("row of %s = %q, want its type, 200 and no marker", e.typ, line)
		}
		at := strings.Index(screen, e.eventID)
		if at < last {
			t.Errorf("%s is listed above an older event", e.typ)
		}
		last = at
	}
	if !containsAll(screen, "TIME", "TYPE", "EVENT ID", "OUTCOME", "LATENCY") {
		t.Error("the list lacks its column titles")
	}
	if !containsAll(screen, "received 5 · delivered 5 · failed 0", "following live") {
		t.Error("the header or the status line lacks the counts or the live marker")
	}
}

// tuiCheckFilter types a filter, clears it with esc, types it again, keeps
// it with enter and clears it from the list with esc.
func tuiCheckFilter(t *testing.T, tm *tmuxSession, events []tuiEvent) {
	t.Helper()
	onlyBatch := func(s string) bool {
		for _, e := range events {
			if strings.Contains(s, e.eventID) != strings.HasPrefix(e.typ, "batch.") {
				return false
			}
		}
		return strings.Contains(s, "2/2 of 5 events")
	}
	all := func(s string) bool {
		return containsAll(s, events[0].eventID, events[4].eventID, "5/5 events") &&
			!strings.Contains(s, "/ batch") && !strings.Contains(s, `filter "`)
	}
	tm.keys("/")
	tm.typeText("batch")
	tm.waitScreen("batch events typed /batch", func(s string) bool {
		return onlyBatch(s) && strings.Contains(s, "/ batch")
	})
	tm.keys("Escape")
	tm.waitScreen("every event after esc in the filter", all)

	tm.keys("/")
	tm.typeText("batch")
	tm.keys("Enter")
	tm.waitScreen("kept filter", func(s string) bool {
		return onlyBatch(s) && strings.Contains(s, `filter "batch"`)
	})
	tm.keys("Escape")
	tm.waitScreen("every event after esc on the list", all)
}

// tuiCheckResend selects the oldest event with g and re-sends it with r: the
// app receives it again, re-signed and marked as a replay, and its row
// shows the replay marker.
func tuiCheckResend(t *testing.T, tm *tmuxSession, app *app, e tuiEvent) {
	t.Helper()
	before := len(app.deliveries())
	tm.keys("g")
	screen := tm.waitText("oldest event selected", "1/5 events")
	if sel := lineWith(screen, "›"); !strings.Contains(sel, e.eventID) {
		t.Fatalf("selected row = %q, want %s", sel, e.eventID)
	}
	tm.keys("r")
	wantDelivery(t, app, before, e, true)
	screen = tm.waitScreen("replay marker", func(s string) bool {
		return rowShows(e, "↻")(s) && rowShows(e, "200")(s)
	})
	if !strings.Contains(screen, "re-sending "+e.eventID) {
		t.Errorf("the status line does not tell of the re-send:\n%s", tm.hide.Replace(screen))
	}
	if got := len(app.deliveries()); got != before+1 {
		t.Errorf("r made %d deliveries, want 1", got-before)
	}
}

// tuiCheckDetails opens the re-sent event's details with enter: the title,
// the body's size and SHA-256, the request headers of the replay with its
// signature shortened, and at the bottom both attempts; esc goes back.
func tuiCheckDetails(t *testing.T, tm *tmuxSession, app *app, e tuiEvent) {
	t.Helper()
	got := app.deliveries()
	sig := got[len(got)-1].Header.Get("webhook-signature")
	v1, full, ok := strings.Cut(sig, ",")
	if !ok || v1 != "v1" || len(full) < 8 {
		t.Fatalf("the replay's signature has an unexpected form (%d bytes)", len(sig))
	}
	short := "v1," + full[:8] + "…"
	sum := sha256.Sum256(e.body)
	tm.keys("Enter")
	screen := tm.waitText("details of the re-sent event",
		e.typ+"  "+e.eventID, "Body", fmt.Sprintf("%d bytes", len(e.body)),
		"SHA-256 "+hex.EncodeToString(sum[:]), "a replay", short)
	line := strings.ToLower(lineWith(screen, short))
	if !strings.Contains(line, "webhook-signature:") || strings.Contains(screen, full) {
		t.Errorf("signature line = %q, want webhook-signature shortened", line)
	}
	if title := strings.Split(screen, "\n")[2]; !strings.HasPrefix(title, e.typ+"  "+e.eventID) {
		t.Errorf("details title = %q, want the type and the event id", title)
	}
	tm.keys("G")
	screen = tm.waitText("attempts at the bottom of the details", "Attempts", "100%")
	first, replayed := lineWith(screen, "  first  "), lineWith(screen, "  replay  ")
	if !strings.Contains(first, "200") || !strings.Contains(replayed, "200") {
		t.Errorf("attempts = %q and %q, want the first delivery and the replay, both 200",
			first, replayed)
	}
	tm.keys("Escape")
	tm.waitText("list after the details", "TIME", "OUTCOME", "1/5 events")
}

// tuiCheckCopy copies the selected event's id with y and its delivery as a
// curl command with x, through OSC 52 into tmux's paste buffer; the curl
// command, run, reaches the app re-signed and verified.
func tuiCheckCopy(t *testing.T, tm *tmuxSession, app *app, e tuiEvent) {
	t.Helper()
	tm.keys("y")
	tm.waitText("status of the copied id", "copied "+e.eventID)
	tm.waitBuffer("event id in the paste buffer", func(b string) bool { return b == e.eventID })
	tm.keys("x")
	tm.waitText("status of the copied curl", "copied the curl command for "+e.eventID)
	curl := tm.waitBuffer("curl command in the paste buffer", func(b string) bool {
		return strings.HasPrefix(b, "curl ")
	})
	for _, s := range secrets() {
		if strings.Contains(curl, s) {
			t.Fatal("the copied curl command holds a secret")
		}
	}
	if !strings.Contains(curl, app.URL) {
		t.Fatalf("x copied %q, want a curl command to the app", curl)
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Log("curl is not on PATH: the copied command is not run")
		return
	}
	before := len(app.deliveries())
	if out, err := exec.Command("sh", "-c", curl).CombinedOutput(); err != nil {
		t.Fatalf("run the copied curl command: %v\n%s", err, out)
	}
	wantDelivery(t, app, before, e, true)
}

// tuiCheckHelp opens the help with ?: it names the actions in words and the
// log file in the state folder; ? closes it.
func tuiCheckHelp(t *testing.T, tm *tmuxSession, state string) {
	t.Helper()
	logLine := "Logs:    " + filepath.Join(state, "hookrelay", "agent.log")
	if len(logLine) > 100 {
		logLine = logLine[:100] // a long temp folder: the line ends at the screen's edge
	}
	tm.keys("?")
	tm.waitText("help with the log file", "Keys", "filter", "resend", "edit & send", "pause",
		"step", "copy curl", logLine)
	tm.keys("?")
	tm.waitText("list after the help", "TIME", "OUTCOME", "1/5 events")
}

// tuiCheckPause pauses forwarding with p: two events arrive and wait as
// pending, n delivers just the first, p again delivers the other.
func tuiCheckPause(t *testing.T, tm *tmuxSession, r *testRelay, app *app) {
	t.Helper()
	tm.keys("p")
	tm.waitText("paused marker", "PAUSED")
	before := len(app.deliveries())
	held := postTUIEvents(t, r, "wh_tui_held_", "response.failed", "realtime.call.incoming")
	tm.waitScreen("held events pending", func(s string) bool {
		return rowShows(held[0], "pending")(s) && rowShows(held[1], "pending")(s) &&
			strings.Contains(s, "2 queued")
	})
	if got := len(app.deliveries()); got != before {
		t.Fatalf("the app received %d requests while paused", got-before)
	}
	tm.keys("n")
	wantDelivery(t, app, before, held[0], false)
	tm.waitScreen("first held event delivered", func(s string) bool {
		return rowShows(held[0], "200")(s) && rowShows(held[1], "pending")(s) &&
			strings.Contains(s, "1 queued")
	})
	tm.keys("p")
	wantDelivery(t, app, before+1, held[1], false)
	tm.waitScreen("every event delivered after p", func(s string) bool {
		return rowShows(held[1], "200")(s) && !strings.Contains(s, "PAUSED") &&
			strings.Contains(s, "received 7 · delivered 7")
	})
	tm.keys("g") // any key clears the status line
	tm.waitText("oldest event still selected", "1/7 events")
}

// tuiCheckNarrow resizes the terminal to 80x24: the header, the column
// titles and the footer each fit on their line.
func tuiCheckNarrow(t *testing.T, tm *tmuxSession) {
	t.Helper()
	tm.tmux("resize-window", "-t", tm.name, "-x", "80", "-y", "24")
	screen := tm.waitScreen("screen reflowed to 80x24", func(s string) bool {
		lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		return len(lines) == 24 && strings.HasPrefix(lines[0], "hookrelay") &&
			strings.Contains(lines[1], "received 7") && strings.Contains(lines[2], "OUTCOME") &&
			strings.Contains(lines[22], "1/7 events") && strings.Contains(lines[23], "q quit")
	})
	t.Logf("the event list at 80x24:\n%s", tm.hide.Replace(screen))
	for i, l := range strings.Split(screen, "\n") {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("line %d is %d columns wide: %q", i+1, n, l)
		}
	}
}

// tuiCheckQuit quits with q: relay-agent exits 0 and the normal screen is
// back. The list was drawn on the alternate screen only, so neither the
// normal screen nor its scrollback show it.
func tuiCheckQuit(t *testing.T, tm *tmuxSession) {
	t.Helper()
	tm.keys("q")
	tm.poll("end of the script after q", func() (string, bool) {
		dead, status := tm.paneStatus()
		return "pane status " + status, dead
	})
	// Some tmux set-ups leave #{pane_dead_status} empty (seen when tmux runs
	// without a TERM, as under CI); the EXIT marker below says it always.
	if _, status := tm.paneStatus(); status != "" && status != "0" {
		t.Errorf("the script's exit status = %q, want 0", status)
	}
	// The line tmux adds under a dead pane may scroll the marker off the
	// screen, into the scrollback.
	screen := tm.captureAll()
	if !strings.Contains(screen, "EXIT=0") {
		t.Errorf("relay-agent's exit status after q is not 0:\n%s", tm.hide.Replace(screen))
	}
	if strings.Contains(screen, "● connected") || strings.Contains(screen, "OUTCOME") {
		t.Errorf("the normal screen shows the event list after q:\n%s", tm.hide.Replace(screen))
	}
}

// tuiCheckLog checks that the logs went to the state folder, without
// secrets.
func tuiCheckLog(t *testing.T, state string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(state, "hookrelay", "agent.log"))
	if err != nil {
		t.Fatalf("read the log file: %v", err)
	}
	for _, s := range secrets() {
		if strings.Contains(string(b), s) {
			t.Error("the log file holds a secret")
		}
	}
}
