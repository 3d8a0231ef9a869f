package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEventsAndReplayCommands records events with a listening agent, then
// lists them with relay-agent events and delivers one again with replay.
func TestEventsAndReplayCommands(t *testing.T) {
	r := startRelay(t)
	a := startApp(t, appSecret)
	hist := filepath.Join(t.TempDir(), "h.db")
	listen := start(t, nil, "relay-agent", "--relay", r.URL, "--token", token, "--json",
		"--forward-to", a.URL, "--sign-secret", appSecret, "--history", hist, "--since", "all")
	body := sampleBody(t, "fine_tuning.job.succeeded")
	r.post(t, "/webhooks/openai", "wh_listed_1", body)
	r.post(t, "/webhooks/openai", "wh_listed_2", sampleBody(t, "eval.run.canceled"))
	listen.waitOutput(t, `"webhook_id":"wh_listed_2"`)
	listen.cmd.Process.Signal(os.Interrupt)
	if code := listen.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("listen exit code %d", code)
	}

	list := start(t, nil, "relay-agent", "events", "--history", hist, "--json")
	if code := list.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("events exit code %d:\n%s", code, list.out.String())
	}
	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(list.out.String()), "\n") {
		var row map[string]any
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("events --json line %q: %v", line, err)
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 || rows[len(rows)-1]["webhook_id"] != "wh_listed_2" ||
		rows[len(rows)-1]["state"] != "delivered" {
		t.Fatalf("events --json = %v, want wh_listed_2 delivered last", rows)
	}
	table := start(t, nil, "relay-agent", "events", "--history", hist)
	table.wait(t, 10*time.Second)
	if out := table.out.String(); !strings.Contains(out, "eval.run.canceled") ||
		!strings.Contains(out, "delivered") {
		t.Errorf("events table lacks the event:\n%s", out)
	}

	before := len(a.deliveries())
	evtID := rows[len(rows)-1]["event_id"].(string)
	replay := start(t, nil, "relay-agent", "replay", evtID, "--history", hist,
		"--forward-to", a.URL, "--sign-secret", appSecret)
	if code := replay.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("replay exit code %d:\n%s", code, replay.out.String())
	}
	got := a.waitFor(t, before+1)
	last := got[len(got)-1]
	if last.WebhookID != "wh_listed_2" || last.Verified != nil ||
		last.Header.Get("X-Hookrelay-Replay") != "1" {
		t.Errorf("replayed %s (verified: %v, replay %q), want a verified replay of wh_listed_2",
			last.WebhookID, last.Verified, last.Header.Get("X-Hookrelay-Replay"))
	}

	missing := start(t, nil, "relay-agent", "replay", "evt_nope", "--history", hist,
		"--forward-to", a.URL)
	if code := missing.wait(t, 10*time.Second); code != 2 {
		t.Errorf("replay of an unknown id: exit code %d, want 2:\n%s", code, missing.out.String())
	}
}

// TestHistoryKeep: listen deletes settled events older than --history-keep.
func TestHistoryKeep(t *testing.T) {
	r := startRelay(t)
	a := startApp(t, appSecret)
	hist := filepath.Join(t.TempDir(), "h.db")
	args := []string{"--relay", r.URL, "--token", token, "--json",
		"--forward-to", a.URL, "--sign-secret", appSecret, "--history", hist}
	listen := start(t, nil, "relay-agent", append(args, "--since", "all")...)
	r.post(t, "/webhooks/openai", "wh_old", sampleBody(t, "batch.completed"))
	listen.waitOutput(t, `"webhook_id":"wh_old"`)
	listen.cmd.Process.Signal(os.Interrupt)
	listen.wait(t, 10*time.Second)

	listen = start(t, nil, "relay-agent", append(args, "--history-keep", "1ms")...)
	r.post(t, "/webhooks/openai", "wh_new", sampleBody(t, "batch.completed"))
	listen.waitOutput(t, `"webhook_id":"wh_new"`)
	listen.cmd.Process.Signal(os.Interrupt)
	listen.wait(t, 10*time.Second)

	list := start(t, nil, "relay-agent", "events", "--history", hist, "--json")
	list.wait(t, 10*time.Second)
	if out := list.out.String(); strings.Contains(out, "wh_old") || !strings.Contains(out, "wh_new") {
		t.Errorf("history after --history-keep 1ms:\n%s\nwant wh_old pruned and wh_new kept", out)
	}
}
