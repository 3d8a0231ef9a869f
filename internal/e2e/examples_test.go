package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/history"
	"github.com/hookrelay/hookrelay/internal/sign"
)

// python is the interpreter whose Debian packages (python3-flask) the Flask
// example runs with.
const python = "/usr/bin/python3"

// exampleCase is one webhook sent through relay and agent to an example app.
type exampleCase struct {
	name   string
	route  string    // path of the app's route
	mode   sign.Mode // how the agent signs the delivery
	secret string    // what the agent signs with
	status int       // what the app must answer
}

func TestFlaskExample(t *testing.T) {
	needFlask(t)
	app := startExample(t, python, filepath.Join(repoRoot(t), "examples", "flask", "app.py"))
	runExampleCases(t, app, []exampleCase{
		{"standard", "/webhooks/openai", sign.ModeResign, appSecret, 200},
		{"hex", "/webhooks/openai-hex", sign.ModeHex, appSecret, 200},
		{"standard_wrong_secret", "/webhooks/openai", sign.ModeResign, openaiSecret, 400},
		{"hex_wrong_secret", "/webhooks/openai-hex", sign.ModeHex, "not-the-app-secret", 400},
		{"hex_unsigned", "/webhooks/openai-hex", sign.ModePassthrough, "", 400},
	})
}

func TestGoExample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Go example; run without -short")
	}
	bin := filepath.Join(t.TempDir(), "example")
	build := exec.Command("go", "build", "-o", bin, "github.com/hookrelay/hookrelay/examples/go")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build examples/go: %v\n%s", err, out)
	}
	app := startExample(t, bin)
	runExampleCases(t, app, []exampleCase{
		{"standard", "/webhooks/openai", sign.ModeResign, appSecret, 200},
		{"wrong_secret", "/webhooks/openai", sign.ModeResign, openaiSecret, 400},
	})
}

// runExampleCases posts one webhook per case to a relay and checks, through
// a fresh agent each, what the example app answered and logged.
func runExampleCases(t *testing.T, app *exampleApp, cases []exampleCase) {
	t.Helper()
	r := startRelay(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			signer, err := sign.NewSigner(tc.mode, tc.secret) // non-nil: runAgent keeps it
			if err != nil {
				t.Fatal(err)
			}
			cfg := agent.Config{Relay: r.URL, ForwardTo: app.base + tc.route, Signer: signer}
			a, _ := runAgent(t, cfg, filepath.Join(t.TempDir(), "history.db"))
			updates, unsubscribe := a.Subscribe()
			defer unsubscribe()

			typ := []string{"response.completed", "batch.completed"}[i%2]
			body := sampleBody(t, typ)
			id := "wh_example_" + tc.name
			if got := r.post(t, "/webhooks/openai", id, body); got != 200 {
				t.Fatalf("relay answered %d, want 200", got)
			}
			att := waitAttempt(t, updates, id)
			if att.Status != tc.status {
				t.Fatalf("app answered %d (%s), want %d", att.Status, att.ResponseBody, tc.status)
			}
			checkAnswer(t, att.ResponseBody, tc.status, typ, eventID(t, body))
			checkLogLine(t, app, id, tc.status, eventID(t, body))
		})
	}
}

// checkAnswer checks the app's JSON answer: the verified type and id, or a
// reason for the rejection.
func checkAnswer(t *testing.T, body []byte, status int, typ, evtID string) {
	t.Helper()
	var got struct {
		Verified bool
		Type     string
		ID       string
		Error    string
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("app answer %q is not JSON: %v", body, err)
	}
	if status != 200 {
		if got.Error == "" || got.Verified {
			t.Errorf("rejection %s gives no reason", body)
		}
		return
	}
	if !got.Verified || got.Type != typ || got.ID != evtID {
		t.Errorf("app answer = %s, want verified %s %s", body, typ, evtID)
	}
}

// checkLogLine waits for the app's log line about webhook id: it names the
// event when verified and says "rejected" otherwise.
func checkLogLine(t *testing.T, app *exampleApp, id string, status int, evtID string) {
	t.Helper()
	line := app.out.waitLine(t, id)
	want := evtID
	if status != 200 {
		want = "rejected"
	}
	if !strings.Contains(line, want) {
		t.Errorf("app log line for %s = %q, want it to contain %q", id, line, want)
	}
}

// waitAttempt returns the first finished delivery attempt of webhook id.
func waitAttempt(t *testing.T, updates <-chan agent.Update, id string) history.Attempt {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case u, ok := <-updates:
			if !ok {
				t.Fatal("agent updates ended")
			}
			if u.Kind == agent.KindAttempt && u.Event.WebhookID == id {
				return *u.Attempt
			}
		case <-timeout:
			t.Fatalf("no delivery attempt of %s within 20s", id)
		}
	}
}

// needFlask skips the test unless the Flask example can run.
func needFlask(t *testing.T) {
	t.Helper()
	if err := exec.Command(python, "-c", "import flask").Run(); err != nil {
		t.Skipf("%s cannot import flask (%v): apt-get install -y python3-flask enables "+
			"this test (CI installs it)", python, err)
	}
}

// repoRoot returns the module's root folder, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// exampleApp is a running example app.
type exampleApp struct {
	base string // http://127.0.0.1:port
	out  *lineBuffer
}

// startExample runs an example app with the app secret on a free port and
// waits until it logs that address, which both examples do once listening.
func startExample(t *testing.T, name string, args ...string) *exampleApp {
	t.Helper()
	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "OPENAI_WEBHOOK_SECRET="+appSecret, "PORT="+port,
		"HOST=127.0.0.1", "PYTHONUNBUFFERED=1", "OPENAI_API_KEY=")
	out := newLineBuffer()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(name), out.String())
		}
	})
	if !out.waitFor(addr, exited, 20*time.Second) {
		t.Fatalf("%s did not report listening on %s:\n%s", filepath.Base(name), addr, out.String())
	}
	return &exampleApp{base: "http://" + addr, out: out}
}

// lineBuffer keeps a process's output and announces each write.
type lineBuffer struct {
	mu      sync.Mutex // guards b and changed
	b       bytes.Buffer
	changed chan struct{} // closed and replaced on each write
}

func newLineBuffer() *lineBuffer {
	return &lineBuffer{changed: make(chan struct{})}
}

func (l *lineBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(p)
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

func (l *lineBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// line returns the first complete line that contains s.
func (l *lineBuffer) line(s string) (string, bool, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for line := range strings.Lines(l.b.String()) {
		if strings.HasSuffix(line, "\n") && strings.Contains(line, s) {
			return line, true, nil
		}
	}
	return "", false, l.changed
}

// waitFor reports whether a line containing s was written before stop was
// closed or timeout passed.
func (l *lineBuffer) waitFor(s string, stop <-chan struct{}, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		_, ok, changed := l.line(s)
		if ok {
			return true
		}
		select {
		case <-changed:
		case <-stop:
			_, ok, _ := l.line(s)
			return ok
		case <-deadline:
			return false
		}
	}
}

// waitLine returns the first line that contains s, waiting up to 10s for it.
func (l *lineBuffer) waitLine(t *testing.T, s string) string {
	t.Helper()
	if !l.waitFor(s, nil, 10*time.Second) {
		t.Fatalf("no output line contains %q within 10s", s)
	}
	line, _, _ := l.line(s)
	return line
}
