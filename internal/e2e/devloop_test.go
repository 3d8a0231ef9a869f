package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeConfig writes relay-agent.toml the way editors do: a new file renamed
// over the old one.
func writeConfig(t *testing.T, dir, body string) {
	t.Helper()
	tmp := filepath.Join(dir, ".relay-agent.toml.tmp")
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "relay-agent.toml")); err != nil {
		t.Fatal(err)
	}
}

func configText(relayURL, forwardTo string, routes ...string) string {
	s := fmt.Sprintf(`relay = %q
token = "env:HOOKRELAY_E2E_TOKEN"
forward_to = %q
sign_mode = "resign"
sign_secret = "env:HOOKRELAY_E2E_SECRET"
`, relayURL, forwardTo)
	for i := 0; i+1 < len(routes); i += 2 {
		s += fmt.Sprintf("\n[[route]]\nevents = [%q]\nforward_to = %q\n", routes[i], routes[i+1])
	}
	return s
}

func TestConfigFileRoutesAndReload(t *testing.T) {
	r := startRelay(t)
	def, batch, later := startApp(t, appSecret), startApp(t, appSecret), startApp(t, appSecret)
	dir := t.TempDir()
	writeConfig(t, dir, configText(r.URL, def.URL, "batch.*", batch.URL))
	env := []string{"HOOKRELAY_E2E_TOKEN=" + token, "HOOKRELAY_E2E_SECRET=" + appSecret,
		"RELAY_URL=", "RELAY_TOKEN=", "FORWARD_TO=", "OPENAI_WEBHOOK_SECRET="}
	agent := startIn(t, dir, env,
		"relay-agent", "--no-tui", "--history", filepath.Join(dir, "h.db"))
	agent.waitOutput(t, "connected to")

	r.post(t, "/webhooks/openai", "wh_resp", sampleBody(t, "response.completed"))
	r.post(t, "/webhooks/openai", "wh_batch", sampleBody(t, "batch.completed"))
	if got := def.waitFor(t, 1); got[0].WebhookID != "wh_resp" || got[0].Verified != nil {
		t.Errorf("default target got %s (verified: %v), want wh_resp",
			got[0].WebhookID, got[0].Verified)
	}
	if got := batch.waitFor(t, 1); got[0].WebhookID != "wh_batch" || got[0].Verified != nil {
		t.Errorf("batch route got %s (verified: %v), want wh_batch",
			got[0].WebhookID, got[0].Verified)
	}

	writeConfig(t, dir, configText(r.URL, later.URL))
	agent.waitOutput(t, "relay-agent.toml reloaded")
	r.post(t, "/webhooks/openai", "wh_after_reload", sampleBody(t, "batch.failed"))
	if got := later.waitFor(t, 1); got[0].WebhookID != "wh_after_reload" {
		t.Errorf("after reload, new target got %s, want wh_after_reload", got[0].WebhookID)
	}

	writeConfig(t, dir, configText(r.URL, "htp://broken"))
	agent.waitOutput(t, "keeping the previous config")
	if out := agent.out.String(); !strings.Contains(out, "relay-agent.toml:3") {
		t.Errorf("invalid config error lacks file and line:\n%s", out)
	}
	r.post(t, "/webhooks/openai", "wh_after_broken", sampleBody(t, "response.completed"))
	if got := later.waitFor(t, 2); got[1].WebhookID != "wh_after_broken" {
		t.Errorf("after an invalid change, target got %s, want wh_after_broken", got[1].WebhookID)
	}
	if n := len(def.deliveries()) + len(batch.deliveries()); n != 2 {
		t.Errorf("old targets got %d deliveries after the reload, want none", n-2)
	}
	if strings.Contains(agent.out.String(), appSecret) ||
		strings.Contains(agent.out.String(), token) {
		t.Error("agent output contains a secret or the token")
	}
}

func TestFlagsOverrideConfigFile(t *testing.T) {
	r := startRelay(t)
	fromFile, fromFlag := startApp(t, appSecret), startApp(t, appSecret)
	dir := t.TempDir()
	writeConfig(t, dir, configText(r.URL, fromFile.URL))
	env := []string{"HOOKRELAY_E2E_TOKEN=" + token, "HOOKRELAY_E2E_SECRET=" + appSecret,
		"RELAY_URL=", "RELAY_TOKEN=", "FORWARD_TO=", "OPENAI_WEBHOOK_SECRET="}
	agent := startIn(t, dir, env, "relay-agent", "--no-tui", "--forward-to", fromFlag.URL,
		"--history", filepath.Join(dir, "h.db"))
	agent.waitOutput(t, "connected to")
	r.post(t, "/webhooks/openai", "wh_flag", sampleBody(t, "response.completed"))
	r.post(t, "/webhooks/openai", "wh_flag2", sampleBody(t, "response.completed"))
	fromFlag.waitFor(t, 2)
	if n := len(fromFile.deliveries()); n != 0 {
		t.Errorf("the file's target got %d deliveries, want 0: --forward-to must win", n)
	}
}

// restartableApp serves an app on a fixed port that the test can stop and
// start again, like a reloader restarting the developer's app.
type restartableApp struct {
	*app
	addr string
	srv  *http.Server
}

func (a *restartableApp) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", a.addr)
	if err != nil {
		t.Fatal(err)
	}
	a.srv = &http.Server{Handler: a.app}
	go a.srv.Serve(ln)
}

func (a *restartableApp) stop() { a.srv.Close() }

func TestReplayOnSave(t *testing.T) {
	r := startRelay(t)
	a := &restartableApp{app: startApp(t, appSecret), addr: freeAddr(t)}
	a.start(t)
	t.Cleanup(a.stop)
	target := "http://" + a.addr + "/webhooks/openai"
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(filepath.Join(src, "__pycache__"), 0o755)
	agent := start(t, nil, "relay-agent", "--relay", r.URL, "--token", token, "--no-tui",
		"--forward-to", target, "--sign-secret", appSecret, "--history", filepath.Join(dir, "h.db"),
		"--watch", src, "--watch-settle", "100ms")
	agent.waitOutput(t, "connected to")
	r.post(t, "/webhooks/openai", "wh_first", sampleBody(t, "response.completed"))
	a.waitFor(t, 1)
	// Stop the app only once the agent has its answer: closing it mid-answer
	// would make the agent retry, which is not what this test is about.
	agent.waitOutput(t, "-> 200")

	// The app goes down, the developer saves three times, and the reloader
	// brings the app back a moment later: one replay, once the app is up.
	a.stop()
	for i := range 3 {
		os.WriteFile(filepath.Join(src, "handler.py"), []byte(fmt.Sprint("v", i)), 0o644)
		os.WriteFile(filepath.Join(src, "__pycache__", "handler.pyc"), []byte("x"), 0o644)
	}
	time.Sleep(700 * time.Millisecond) // the app stays down a while
	a.start(t)
	got := a.waitFor(t, 2)
	if got[1].WebhookID != "wh_first" || got[1].Header.Get("X-Hookrelay-Replay") != "1" ||
		got[1].Verified != nil {
		t.Fatalf("second delivery = %s replay=%q verified=%v, want a verified replay of wh_first",
			got[1].WebhookID, got[1].Header.Get("X-Hookrelay-Replay"), got[1].Verified)
	}

	// A later event, then one more save: the replay is of the new event. A
	// second replay from the first burst would have come before it, since
	// replays on save run one after another.
	r.post(t, "/webhooks/openai", "wh_second", sampleBody(t, "batch.completed"))
	a.waitFor(t, 3)
	os.WriteFile(filepath.Join(src, "handler.py"), []byte("v9"), 0o644)
	got = a.waitFor(t, 4)
	want := "wh_first,wh_first,wh_second,wh_second"
	if strings.Join(ids(got), ",") != want {
		t.Errorf("app received %v, want %s: one replay per burst of saves", ids(got), want)
	}
	// Ignored files alone trigger nothing: a third replay would follow this.
	os.WriteFile(filepath.Join(src, "__pycache__", "other.pyc"), []byte("y"), 0o644)
	os.WriteFile(filepath.Join(src, "handler.py.swp"), []byte("y"), 0o644)
	r.post(t, "/webhooks/openai", "wh_third", sampleBody(t, "eval.run.failed"))
	got = a.waitFor(t, 5)
	time.Sleep(600 * time.Millisecond) // longer than the debounce and settle together
	if got = a.deliveries(); len(got) != 5 {
		t.Errorf("app received %v after ignored files changed, want no replay", ids(got))
	}
}

// TestReplayOnSaveWithFlaskReloader is the developer loop for real: the
// Flask example runs under its own reloader, the developer saves the app,
// and the event must reach the restarted app, not the old process.
func TestReplayOnSaveWithFlaskReloader(t *testing.T) {
	needFlask(t)
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "flask", "app.py"))
	if err != nil {
		t.Fatal(err)
	}
	appPath := filepath.Join(dir, "app.py")
	if err := os.WriteFile(appPath, src, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	flask := exec.Command(python, appPath)
	flask.Env = append(os.Environ(), "FLASK_DEBUG=1", "OPENAI_WEBHOOK_SECRET="+appSecret,
		"PORT="+port, "HOST=127.0.0.1", "PYTHONUNBUFFERED=1", "OPENAI_API_KEY=")
	out := newLineBuffer()
	flask.Stdout, flask.Stderr = out, out
	flask.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the reloader forks a child
	if err := flask.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-flask.Process.Pid, syscall.SIGKILL)
		flask.Wait()
		if t.Failed() {
			t.Logf("flask output:\n%s", out.String())
		}
	})
	out.waitLine(t, "Debugger is active")

	r := startRelay(t)
	agent := start(t, nil, "relay-agent", "--relay", r.URL, "--token", token, "--no-tui",
		"--forward-to", "http://"+addr+"/webhooks/openai", "--sign-secret", appSecret,
		"--history", filepath.Join(dir, "h.db"), "--watch", dir, "--watch-ignore", "*.db*")
	agent.waitOutput(t, "connected to")
	body := sampleBody(t, "response.completed")
	r.post(t, "/webhooks/openai", "wh_flask_loop", body)
	evt := eventID(t, body)
	out.waitLine(t, evt)

	// Save the handler, as an editor would.
	edited := append(src, []byte("\n# edited by the test\n")...)
	if err := os.WriteFile(appPath, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	agent.waitOutput(t, "replaying event")
	agent.waitOutput(t, "-> 200")
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(out.String(), evt) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the restarted app never logged the replay of %s", evt)
		}
		time.Sleep(20 * time.Millisecond) // the app's output has no other signal
	}
	log := out.String()
	if n := strings.Count(log, "Restarting with"); n < 2 {
		t.Fatalf("the reloader did not restart the app after the save:\n%s", log)
	}
	restart := strings.LastIndex(log, "Restarting with")
	replay := strings.LastIndex(log, evt)
	if replay < restart {
		t.Errorf("the replay reached the app before its reloader restarted it:\n%s", log)
	}
	if n := strings.Count(agent.out.String(), "replaying event"); n != 1 {
		t.Errorf("one save gave %d replays, want 1:\n%s", n, agent.out.String())
	}
}

// TestReplayOnSaveWaitsForRebuild is the air loop: after the save the old
// app keeps serving while the new build compiles, then the reloader stops it
// and starts the new one. The replay must reach the new one, as soon as it
// is up rather than at the end of --watch-settle.
func TestReplayOnSaveWaitsForRebuild(t *testing.T) {
	r := startRelay(t)
	a := &restartableApp{app: startApp(t, appSecret), addr: freeAddr(t)}
	a.start(t)
	t.Cleanup(func() { a.stop() })
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	agent := start(t, nil, "relay-agent", "--relay", r.URL, "--token", token, "--no-tui",
		"--forward-to", "http://"+a.addr+"/webhooks/openai", "--sign-secret", appSecret,
		"--history", filepath.Join(dir, "h.db"), "--watch", src, "--watch-settle", "20s")
	agent.waitOutput(t, "connected to")
	r.post(t, "/webhooks/openai", "wh_air", sampleBody(t, "batch.completed"))
	a.waitFor(t, 1)
	agent.waitOutput(t, "-> 200")

	os.WriteFile(filepath.Join(src, "main.go"), []byte("package main // v2"), 0o644)
	time.Sleep(800 * time.Millisecond) // the rebuild: the old app still serves
	if n := len(a.deliveries()); n != 1 {
		t.Fatalf("the replay reached the old app during the rebuild (%d deliveries)", n)
	}
	a.stop()
	time.Sleep(300 * time.Millisecond) // the new build starts
	a.start(t)
	restarted := time.Now()
	got := a.waitFor(t, 2)
	if got[1].WebhookID != "wh_air" || got[1].Header.Get("X-Hookrelay-Replay") != "1" {
		t.Errorf("second delivery = %s, want the replay of wh_air", got[1].WebhookID)
	}
	if late := time.Since(restarted); late > 5*time.Second {
		t.Errorf("the replay came %v after the app was back, want it at once, not at the end "+
			"of --watch-settle", late)
	}
}
