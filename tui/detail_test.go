package tui

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/history"
)

func TestDetails(t *testing.T) {
	h := openHistory(t)
	ev := record(t, h, 1, "response.completed", history.OutcomeRefused, history.OutcomeDelivered)
	m := newTestModel(t, newFake(h))
	m, _ = keys(t, m, "enter")
	if m.focus != focusDetail {
		t.Fatal("enter did not open the details")
	}
	content := ansiSeq.ReplaceAllString(m.detail.vp.GetContent(), "")
	sum := sha256.Sum256(ev.Body)
	wants := []string{
		"Event     " + ev.EventID,
		"Webhook-Signature: v1,Zm9vYmFy…", // shortened
		"as sent in attempt 2",
		formatBytes(len(ev.Body)),
		"SHA-256 " + hex.EncodeToString(sum[:]),
		`"object": "event",`, // indented JSON
		"Answer  200",
		`"ok": true`,
		"  #1 ", "refused", "connection refused",
		"  #2 ",
	}
	for _, want := range wants {
		if !strings.Contains(content, want) {
			t.Errorf("details lack %q:\n%s", want, content)
		}
	}
	if strings.Contains(content, "Zm9vYmFyYmF6cXV4") {
		t.Errorf("details show a whole signature:\n%s", content)
	}
	m, _ = keys(t, m, "esc")
	if m.focus != focusList {
		t.Error("esc did not go back to the list")
	}
}

func TestDetailsScroll(t *testing.T) {
	h := openHistory(t)
	record(t, h, 1, "response.completed", history.OutcomeDelivered)
	m := newTestModel(t, newFake(h))
	m, _ = keys(t, m, "enter")
	if m.detail.vp.TotalLineCount() <= m.detail.vp.Height() {
		t.Fatalf("details fit on screen (%d lines); the test needs more",
			m.detail.vp.TotalLineCount())
	}
	steps := []struct {
		key  string
		want func(y, bottom int) bool
	}{
		{"j", func(y, _ int) bool { return y == 1 }},
		{"down", func(y, _ int) bool { return y == 2 }},
		{"k", func(y, _ int) bool { return y == 1 }},
		{"G", func(y, bottom int) bool { return y == bottom }},
		{"g", func(y, _ int) bool { return y == 0 }},
		{"pgdown", func(y, _ int) bool { return y > 1 }},
		{"pgup", func(y, _ int) bool { return y == 0 }},
	}
	vp := m.detail.vp
	vp.GotoBottom()
	bottom := vp.YOffset()
	for _, s := range steps {
		m, _ = keys(t, m, s.key)
		if y := m.detail.vp.YOffset(); !s.want(y, bottom) {
			t.Errorf("after %s: offset %d (bottom %d)", s.key, y, bottom)
		}
	}
}

func TestDetailsFollowNewAttempts(t *testing.T) {
	h := openHistory(t)
	ev := record(t, h, 1, "response.completed", history.OutcomeServerErr)
	m := newTestModel(t, newFake(h))
	m, _ = keys(t, m, "enter")
	a := attempt(ev.ID, 2, history.OutcomeDelivered)
	if _, err := h.AddAttempt(t.Context(), &a); err != nil {
		t.Fatal(err)
	}
	m = publish(t, m, attemptUpdate(a))
	content := ansiSeq.ReplaceAllString(m.detail.vp.GetContent(), "")
	if !strings.Contains(content, "#2 ") || !strings.Contains(content, "Answer  200") {
		t.Errorf("details did not reload with the new attempt:\n%s", content)
	}
}

func TestDetailsActOnShownEvent(t *testing.T) {
	m, c := liveModel(t, 3)
	m, _ = keys(t, m, "g", "enter")
	m = publish(t, m, eventUpdate(liveEvent(4, "response.completed")))
	m, msgs := keys(t, m, "r", "y", "w")
	if len(c.resends) != 1 || c.resends[0].id != 1 {
		t.Errorf("resends = %+v, want the shown event 1", c.resends)
	}
	if got, _ := clipboard(msgs); got != liveEvent(1, "").EventID {
		t.Errorf("copied %q, want the shown event's id", got)
	}
	if len(c.pins) != 1 || c.pins[0] != 1 {
		t.Errorf("pins = %v, want [1]", c.pins)
	}
}

func TestHeaderValue(t *testing.T) {
	tests := []struct {
		name, header, value, want string
		redacted                  bool
	}{
		{"plain", "Content-Type", "application/json", "application/json", false},
		{"authorization", "Authorization", "Bearer s3cr3t", "[redacted]", true},
		{"cookie", "Cookie", "session=abc", "[redacted]", true},
		{"token_header", "X-Relay-Token", "abc", "[redacted]", true},
		{"api_key", "X-Api-Key", "sk-abc", "[redacted]", true},
		{"standard_signature", "Webhook-Signature", "v1,abcdefghijklmnop v1,qrstuvwxyz123456",
			"v1,abcdefgh… v1,qrstuvwx…", false},
		{"hex_signature", "X-Openai-Signature", "0123456789abcdef0123", "01234567…", false},
		{"short_signature", "Webhook-Signature", "v1,abc", "v1,abc", false},
		{"control_characters", "X-Note", "a\x1b[31mb", "a·[31mb", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, redacted := headerValue(tt.header, tt.value)
			if got != tt.want || redacted != tt.redacted {
				t.Errorf("headerValue(%q, %q) = %q, %v; want %q, %v",
					tt.header, tt.value, got, redacted, tt.want, tt.redacted)
			}
		})
	}
}

func TestBodyLines(t *testing.T) {
	st := DefaultStyles(true)
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"json", `{"a":[1,true,null],"b":"x"}`,
			[]string{"{", `  "a": [`, "    1,", "    true,", "    null", "  ],", `  "b": "x"`,
				"}"}},
		{"text", "line one\nline\ttwo\x1b]52;c;x\x07", []string{"line one", "line two·]52;c;x·"}},
		{"empty", "", []string{"(empty)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bodyLines([]byte(tt.body), &st)
			for i := range got {
				got[i] = ansiSeq.ReplaceAllString(got[i], "")
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("bodyLines(%q) =\n%s\nwant\n%s", tt.body,
					strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestHighlightJSON(t *testing.T) {
	st := DefaultStyles(false)
	const in = `  "key": "va\"lue", "n": -1.5e3, "ok": false`
	line := highlightJSON(in, &st)
	for _, tok := range []string{`"key"`, `"va\"lue"`, "-1.5e3", "false"} {
		if !strings.Contains(line, tok+"\x1b[") {
			t.Errorf("token %s is not coloured in %q", tok, line)
		}
	}
	if got := ansiSeq.ReplaceAllString(line, ""); got != in {
		t.Errorf("highlighting changed the text: %q", got)
	}
}
