package relay

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/wire"
)

func TestStatus(t *testing.T) {
	h := newHarness(t)
	var st statusBody
	get := func(token string) {
		t.Helper()
		a := h.do(http.MethodGet, "/api/status", bearer(token), nil)
		if a.status != 200 {
			t.Fatalf("GET /api/status = %d %s", a.status, a.body)
		}
		st = statusBody{}
		if err := json.Unmarshal(a.body, &st); err != nil {
			t.Fatalf("decode %s: %v", a.body, err)
		}
	}

	a := h.do(http.MethodGet, "/api/status", bearer(testToken), nil)
	want := `{"channel":"default","agents":0,"events":0,"newest_event_at":null}` + "\n"
	if string(a.body) != want {
		t.Errorf("empty status = %s, want %s", a.body, want)
	}
	h.connect(testToken, wire.Hello{})
	h.post(eventBody("response.completed"))
	h.clock.Add(time.Minute)
	h.post(eventBody("response.completed"))
	get(testToken)
	newest := t0.Add(time.Minute)
	if st.Channel != "default" || st.Agents != 1 || st.Events != 2 ||
		st.NewestEventAt == nil || !st.NewestEventAt.Equal(newest) {
		t.Errorf("status = %+v, want default, 1 agent, 2 events, newest %v", st, newest)
	}
	get(batchToken)
	if st.Channel != "batch" || st.Agents != 0 || st.Events != 0 {
		t.Errorf("batch status = %+v, want batch, 0 agents, 0 events", st)
	}
}

func TestStatusUnauthorized(t *testing.T) {
	h := newHarness(t)
	for _, hdr := range []http.Header{nil, bearer("nope"), bearer(testSecret)} {
		a := h.do(http.MethodGet, "/api/status", hdr, nil)
		if a.status != http.StatusUnauthorized {
			t.Errorf("GET /api/status with %v = %d, want 401", hdr, a.status)
		}
		if !strings.Contains(a.errorText(t), "RELAY_TOKEN") {
			t.Errorf("401 message %s does not say which token to use", a.body)
		}
		if a.header.Get("WWW-Authenticate") == "" {
			t.Errorf("401 without WWW-Authenticate")
		}
	}
}

func TestHealthz(t *testing.T) {
	tests := []struct {
		name    string
		pingErr error
		want    int
	}{
		{name: "store_answers", want: 200},
		{name: "store_down", pingErr: errors.New("connection refused"), want: 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(s *setup) {
				s.st = &faultStore{Store: s.st, pingErr: tt.pingErr}
			})
			a := h.do(http.MethodGet, "/healthz", nil, nil)
			if a.status != tt.want {
				t.Errorf("GET /healthz = %d %s, want %d", a.status, a.body, tt.want)
			}
			if tt.want == 200 && string(a.body) != `{"status":"ok"}`+"\n" {
				t.Errorf("GET /healthz body = %s", a.body)
			}
			if tt.want != 200 && strings.Contains(a.errorText(t), "refused") {
				t.Errorf("GET /healthz echoes the store's error: %s", a.body)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	h := newHarness(t)
	c, _ := h.connect(testToken, wire.Hello{})
	h.post(eventBody("response.completed"))
	recvEvent(t, c)
	h.do(http.MethodPost, "/webhooks/openai", nil, []byte("{}")) // bad headers
	// The stream counts an event pushed once its write returns, which can
	// be just after the agent has read it: scrape until the count shows.
	pushed := `hookrelay_events_pushed_total{channel="default"} 1`
	var text string
	for deadline := time.Now().Add(5 * time.Second); ; {
		a := h.do(http.MethodGet, "/metrics", nil, nil)
		if a.status != 200 {
			t.Fatalf("GET /metrics = %d", a.status)
		}
		text = string(a.body)
		if strings.Contains(text, pushed) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, want := range []string{
		`hookrelay_webhooks_total{channel="default",outcome="stored"} 1`,
		`hookrelay_webhooks_total{channel="default",outcome="bad_headers"} 1`,
		`hookrelay_events_stored_total{channel="default"} 1`,
		`hookrelay_events_stored_total{channel="batch"} 0`,
		`hookrelay_agents_connected{channel="default"} 1`,
		`hookrelay_events_pushed_total{channel="default"} 1`,
		`hookrelay_store_commit_seconds_count 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	checkNoSecrets(t, "metrics", text)
}

func TestRoot(t *testing.T) {
	h := newHarness(t)
	a := h.do(http.MethodGet, "/", nil, nil)
	if a.status != 200 || !strings.Contains(string(a.body), "POST /webhooks/openai") {
		t.Errorf("GET / = %d %s", a.status, a.body)
	}
	a = h.do(http.MethodGet, "/nothing-here", nil, nil)
	if a.status != http.StatusNotFound {
		t.Errorf("GET /nothing-here = %d, want 404", a.status)
	}
	a.errorText(t)
	a = h.do(http.MethodPost, "/healthz", nil, nil)
	if a.status != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405", a.status)
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header string
		want   string
		wantOK bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"Bearer  abc ", "abc", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic abc", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := bearerToken(tt.header)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("bearerToken(%q) = %q, %v; want %q, %v",
				tt.header, got, ok, tt.want, tt.wantOK)
		}
	}
}
