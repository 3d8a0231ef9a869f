package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds relay-server and relay-agent once per test run and
// returns the folder that holds them.
func binaries(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binaries; run without -short")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "hookrelay-bin-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+"/",
			"github.com/hookrelay/hookrelay/cmd/relay-server",
			"github.com/hookrelay/hookrelay/cmd/relay-agent")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// proc is a started binary whose output the test keeps.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

func start(t *testing.T, env []string, name string, args ...string) *proc {
	t.Helper()
	return startIn(t, "", env, name, args...)
}

// startIn starts a binary in the working folder dir.
func startIn(t *testing.T, dir string, env []string, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(filepath.Join(binaries(t), name), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	p := &proc{cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.out.String())
		}
	})
	return p
}

// waitOutput waits until the process has printed want.
func (p *proc) waitOutput(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not print %q within 20s:\n%s",
				filepath.Base(p.cmd.Path), want, p.out.String())
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before printing %q:\n%s",
				filepath.Base(p.cmd.Path), want, p.out.String())
		case <-time.After(10 * time.Millisecond): // output has no event to wait on
		}
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("%s still running after %s", p.cmd.Path, timeout)
	}
	return p.cmd.ProcessState.ExitCode()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs relay-server on addr with a SQLite file and waits until
// it answers /healthz.
func startServer(t *testing.T, addr, db string) *proc {
	t.Helper()
	p := start(t, []string{"OPENAI_WEBHOOK_SECRET=" + openaiSecret, "RELAY_TOKEN=" + token},
		"relay-server", "--addr", addr, "--database", db)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("relay-server exited: %v\n%s", p.err, p.out.String())
		case <-time.After(20 * time.Millisecond): // nothing to wait on but the port
		}
	}
	t.Fatalf("relay-server not healthy after 20s:\n%s", p.out.String())
	return nil
}

// TestRelayKilledMidBurst kills the relay with SIGKILL while webhooks pour
// in, restarts it, and checks that every webhook it acknowledged reaches the
// app exactly once.
func TestRelayKilledMidBurst(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	db := filepath.Join(dir, "relay.db")
	server := startServer(t, addr, db)

	var (
		mu    sync.Mutex
		acked []string
	)
	ctx, stopBurst := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil && i < 500; i++ {
				id := fmt.Sprintf("wh_burst_%d_%03d", w, i)
				req := signedRequest(t, "http://"+addr+"/webhooks/openai", openaiSecret, id,
					sampleBody(t, "batch.completed"), time.Now())
				resp, err := http.DefaultClient.Do(req.WithContext(ctx))
				if err != nil {
					return // the relay is gone: this one was not acknowledged
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		}()
	}
	for { // kill once a good part of the burst is acknowledged
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 100 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	server.cmd.Process.Signal(syscall.SIGKILL)
	server.wait(t, 10*time.Second)
	stopBurst()
	wg.Wait()
	t.Logf("%d webhooks acknowledged before SIGKILL", len(acked))

	startServer(t, addr, db)
	app := startApp(t, appSecret)
	agent := start(t, nil, "relay-agent", "listen", "--relay", "http://"+addr, "--token", token,
		"--forward-to", app.URL, "--sign-secret", appSecret, "--since", "all", "--json",
		"--history", filepath.Join(dir, "history.db"))

	sentinel := "wh_sentinel"
	if got := (&testRelay{URL: "http://" + addr}).post(t, "/webhooks/openai", sentinel,
		sampleBody(t, "batch.completed")); got != 200 {
		t.Fatalf("sentinel post: %d", got)
	}
	var got []delivery
	for { // deliveries are in order: all stored events precede the sentinel
		got = app.waitFor(t, len(got)+1)
		if got[len(got)-1].WebhookID == sentinel {
			break
		}
	}
	count := map[string]int{}
	for _, d := range got {
		count[d.WebhookID]++
		if d.Verified != nil {
			t.Errorf("%s failed verification in the app: %v", d.WebhookID, d.Verified)
		}
	}
	for _, id := range acked {
		if count[id] != 1 {
			t.Errorf("acknowledged webhook %s reached the app %d times, want 1", id, count[id])
		}
	}
	for id, n := range count {
		if n > 1 {
			t.Errorf("webhook %s reached the app %d times", id, n)
		}
	}

	agent.cmd.Process.Signal(os.Interrupt)
	if code := agent.wait(t, 10*time.Second); code != 0 {
		t.Errorf("relay-agent exit code after SIGINT = %d, want 0", code)
	}
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(agent.out.String()))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "{") {
			lines++
		}
	}
	if lines < len(acked) {
		t.Errorf("--json printed %d delivery lines, want at least %d", lines, len(acked))
	}
}

func TestAgentExitCodes(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	startServer(t, addr, filepath.Join(dir, "relay.db"))

	wrong := "not-the-token-0123456789"
	p := start(t, nil, "relay-agent", "--relay", "http://"+addr, "--token", wrong, "--no-tui",
		"--history", filepath.Join(dir, "h.db"))
	if code := p.wait(t, 15*time.Second); code != 3 {
		t.Errorf("exit code with a refused token = %d, want 3", code)
	}
	out := p.out.String()
	if !strings.Contains(out, "token") || strings.Contains(out, wrong) {
		t.Errorf("refusal message must name the token without printing it:\n%s", out)
	}

	p = start(t, []string{"RELAY_URL=", "RELAY_TOKEN="}, "relay-agent", "listen", "--no-tui")
	if code := p.wait(t, 15*time.Second); code != 2 {
		t.Errorf("exit code without --relay = %d, want 2", code)
	}
	if out := p.out.String(); !strings.Contains(out, "--relay") ||
		!strings.Contains(out, "RELAY_URL") {
		t.Errorf("usage error must name --relay and RELAY_URL:\n%s", out)
	}
}

func TestServerUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{"no_secret", []string{"OPENAI_WEBHOOK_SECRET=", "RELAY_TOKEN=t"},
			[]string{"--openai-secret", "OPENAI_WEBHOOK_SECRET"}},
		{"no_token", []string{"OPENAI_WEBHOOK_SECRET=" + openaiSecret, "RELAY_TOKEN="},
			[]string{"--token", "RELAY_TOKEN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := start(t, tt.env, "relay-server", "--addr", "127.0.0.1:0", "--database",
				filepath.Join(t.TempDir(), "r.db"))
			if code := p.wait(t, 15*time.Second); code != 2 {
				t.Errorf("exit code = %d, want 2", code)
			}
			out := p.out.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, openaiSecret) {
				t.Error("output contains the secret")
			}
		})
	}
}

// TestServerNamedChannels: --channels adds channels whose secret and token
// come from their own variables, for teams sharing one relay.
func TestServerNamedChannels(t *testing.T) {
	addr := freeAddr(t)
	teamToken := "team-token-0123456789"
	p := start(t, []string{
		"OPENAI_WEBHOOK_SECRET=" + openaiSecret, "RELAY_TOKEN=" + token,
		"RELAY_CHANNELS=team",
		"OPENAI_WEBHOOK_SECRET_TEAM=" + appSecret, "RELAY_TOKEN_TEAM=" + teamToken,
	}, "relay-server", "--addr", addr, "--database", filepath.Join(t.TempDir(), "r.db"))
	r := &testRelay{URL: "http://" + addr}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(r.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("relay-server not up:\n%s", p.out.String())
		}
		time.Sleep(20 * time.Millisecond) // the port has no event to wait on
	}
	req := signedRequest(t, r.URL+"/webhooks/openai/team", appSecret, "wh_team", sampleBody(t,
		"batch.completed"), time.Now())
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("post to the team channel with its secret: %v %v", resp, err)
	}
	if got := r.post(t, "/webhooks/openai/team", "wh_wrong",
		sampleBody(t, "batch.completed")); got != 401 {
		t.Errorf("post to the team channel with the default secret: %d, want 401", got)
	}
	req, _ = http.NewRequest(http.MethodGet, r.URL+"/api/status", nil)
	req.Header.Set("Authorization", "Bearer "+teamToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var status struct {
		Channel string
		Events  int
	}
	json.NewDecoder(resp.Body).Decode(&status)
	resp.Body.Close()
	if status.Channel != "team" || status.Events != 1 {
		t.Errorf("status with the team token = %+v, want channel team with 1 event", status)
	}

	missing := start(t, []string{"OPENAI_WEBHOOK_SECRET=" + openaiSecret, "RELAY_TOKEN=" + token,
		"RELAY_CHANNELS=ops", "OPENAI_WEBHOOK_SECRET_OPS=", "RELAY_TOKEN_OPS="},
		"relay-server", "--addr", "127.0.0.1:0", "--database", filepath.Join(t.TempDir(), "r.db"))
	if code := missing.wait(t, 15*time.Second); code != 2 ||
		!strings.Contains(missing.out.String(), "RELAY_TOKEN_OPS") {
		t.Errorf("a channel without its variables: exit %d, want 2 naming them:\n%s", code,
			missing.out.String())
	}
}
