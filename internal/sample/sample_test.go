package sample_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/webhooks"

	"github.com/hookrelay/hookrelay/internal/sample"
	"github.com/hookrelay/hookrelay/internal/sign"
)

// wantVariant holds a zero value of the Go type that openai-go must decode
// each typed event into.
var wantVariant = map[string]any{
	"response.completed":  webhooks.ResponseCompletedWebhookEvent{},
	"response.cancelled":  webhooks.ResponseCancelledWebhookEvent{},
	"response.failed":     webhooks.ResponseFailedWebhookEvent{},
	"response.incomplete": webhooks.ResponseIncompleteWebhookEvent{},

	"batch.completed": webhooks.BatchCompletedWebhookEvent{},
	"batch.cancelled": webhooks.BatchCancelledWebhookEvent{},
	"batch.failed":    webhooks.BatchFailedWebhookEvent{},
	"batch.expired":   webhooks.BatchExpiredWebhookEvent{},

	"fine_tuning.job.succeeded": webhooks.FineTuningJobSucceededWebhookEvent{},
	"fine_tuning.job.failed":    webhooks.FineTuningJobFailedWebhookEvent{},
	"fine_tuning.job.cancelled": webhooks.FineTuningJobCancelledWebhookEvent{},

	"eval.run.succeeded": webhooks.EvalRunSucceededWebhookEvent{},
	"eval.run.failed":    webhooks.EvalRunFailedWebhookEvent{},
	"eval.run.canceled":  webhooks.EvalRunCanceledWebhookEvent{},

	"realtime.call.incoming":   webhooks.RealtimeCallIncomingWebhookEvent{},
	"live.transport.incoming":  webhooks.LiveTransportIncomingWebhookEvent{},
	"live.transport.connected": webhooks.LiveTransportConnectedWebhookEvent{},
	"live.call.incoming":       webhooks.LiveCallIncomingWebhookEvent{},

	"agent.environment.ready":       webhooks.AgentEnvironmentReadyWebhookEvent{},
	"agent.environment.failed":      webhooks.AgentEnvironmentFailedWebhookEvent{},
	"agent.environment.suspended":   webhooks.AgentEnvironmentSuspendedWebhookEvent{},
	"agent.environment.expired":     webhooks.AgentEnvironmentExpiredWebhookEvent{},
	"agent.session.created":         webhooks.AgentSessionCreatedWebhookEvent{},
	"agent.session.action_required": webhooks.AgentSessionActionRequiredWebhookEvent{},
	"agent.session.in_progress":     webhooks.AgentSessionInProgressWebhookEvent{},
	"agent.session.idle":            webhooks.AgentSessionIdleWebhookEvent{},
	"agent.session.failed":          webhooks.AgentSessionFailedWebhookEvent{},

	"safety.alert.created":       webhooks.SafetyAlertCreatedWebhookEvent{},
	"safety.org_alert.created":   webhooks.SafetyOrgAlertCreatedWebhookEvent{},
	"safety.warning_issued":      webhooks.SafetyWarningIssuedWebhookEvent{},
	"safety.deactivation_issued": webhooks.SafetyDeactivationIssuedWebhookEvent{},
}

// idShape is the shape of the main id in the data of each family's events,
// read through openai-go's union fields.
var idShape = map[string]struct {
	field string
	re    *regexp.Regexp
}{
	"response":    {"ID", regexp.MustCompile(`^resp_[0-9a-f]{48}$`)},
	"batch":       {"ID", regexp.MustCompile(`^batch_[0-9a-f]{32}$`)},
	"fine_tuning": {"ID", regexp.MustCompile(`^ftjob-[A-Za-z0-9]{24}$`)},
	"eval":        {"ID", regexp.MustCompile(`^evalrun_[0-9a-f]{32}$`)},
	"realtime":    {"CallID", regexp.MustCompile(`^rtc_[0-9a-f]{32}$`)},
	"live":        {"SessionID", regexp.MustCompile(`^live_[0-9a-f]{32}$`)},
	"agent":       {"ID", regexp.MustCompile(`^(env|sess)_[0-9a-f]{32}$`)},
	"safety":      {"ID", regexp.MustCompile(`^(alert|case)_[0-9a-f]{32}$`)},
	"video":       {"ID", regexp.MustCompile(`^video_[0-9a-f]{48}$`)},
}

// enums lists the values OpenAI documents for enum-like data fields.
var enums = map[string][]string{
	"EnvironmentType":  {"none", "openai_hosted", "self_hosted"},
	"SipMediaSecurity": {"", "srtp", "rtp"},
	"RequiredAction.Type": {"computer_use_approval_request", "mcp_approval_request",
		"function_call", "environment_connection"},
}

var (
	eventIDRe   = regexp.MustCompile(`^evt_[0-9a-f]{32}$`)
	webhookIDRe = regexp.MustCompile(`^wh_[0-9a-f]{32}$`)
)

// testSecret is a whsec_ secret made for these tests.
func testSecret() ([]byte, string) {
	k := sha256.Sum256([]byte("hookrelay sample test key"))
	return k[:], "whsec_" + base64.StdEncoding.EncodeToString(k[:])
}

// openaiClient returns an openai-go client that verifies with secret and
// never reads OPENAI_WEBHOOK_SECRET from the environment.
func openaiClient(t *testing.T, secret string) openai.Client {
	t.Helper()
	t.Setenv("OPENAI_WEBHOOK_SECRET", "")
	return openai.NewClient(option.WithWebhookSecret(secret), option.WithAPIKey("unused"))
}

func newSigner(t *testing.T, mode sign.Mode, secret string) *sign.Signer {
	t.Helper()
	s, err := sign.NewSigner(mode, secret)
	if err != nil {
		t.Fatalf("NewSigner(%q): %v", mode, err)
	}
	return s
}

// unwrap signs body as now and decodes it with openai-go.
func unwrap(
	t *testing.T,
	client openai.Client,
	s *sign.Signer,
	body []byte,
	now time.Time,
) *webhooks.UnwrapWebhookEventUnion {
	t.Helper()
	h := make(http.Header)
	if err := s.Sign(h, sample.NewWebhookID(), body, now); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	evt, err := client.Webhooks.Unwrap(body, h)
	if err != nil {
		t.Fatalf("openai-go Unwrap(%s) = %v, want nil", body, err)
	}
	return evt
}

func TestCatalogDecodesWithOpenAIGo(t *testing.T) {
	_, secret := testSecret()
	client := openaiClient(t, secret)
	s := newSigner(t, sign.ModeResign, secret)
	now := time.Now()

	for _, typ := range sample.Types() {
		t.Run(typ, func(t *testing.T) {
			body, err := sample.Body(typ, now)
			if err != nil {
				t.Fatalf("Body: %v", err)
			}
			evt := unwrap(t, client, s, body, now)
			checkEnvelope(t, evt, typ, now)
			checkIDShape(t, evt, typ)
			want, typed := wantVariant[typ]
			if !typed {
				if got := evt.AsAny(); got != nil {
					t.Errorf("AsAny() = %T, want nil for a type openai-go does not type", got)
				}
				return
			}
			got := reflect.ValueOf(evt.AsAny())
			if !got.IsValid() || got.Type() != reflect.TypeOf(want) {
				t.Fatalf("AsAny() is %T, want %T", evt.AsAny(), want)
			}
			checkRequired(t, "Data", got.FieldByName("Data"))
			checkEnums(t, got.FieldByName("Data"))
		})
	}
}

func checkEnvelope(t *testing.T, evt *webhooks.UnwrapWebhookEventUnion, typ string, now time.Time) {
	t.Helper()
	if evt.Type != typ {
		t.Errorf("Type = %q, want %q", evt.Type, typ)
	}
	if !eventIDRe.MatchString(evt.ID) {
		t.Errorf("ID = %q, want evt_ and 32 hex digits", evt.ID)
	}
	if evt.Object != "event" {
		t.Errorf("Object = %q, want event", evt.Object)
	}
	if evt.CreatedAt != now.Unix() {
		t.Errorf("CreatedAt = %d, want %d", evt.CreatedAt, now.Unix())
	}
}

func checkIDShape(t *testing.T, evt *webhooks.UnwrapWebhookEventUnion, typ string) {
	t.Helper()
	shape, ok := idShape[sample.Family(typ)]
	if !ok {
		t.Fatalf("no id shape for family %q", sample.Family(typ))
	}
	id := reflect.ValueOf(evt.Data).FieldByName(shape.field).String()
	if !shape.re.MatchString(id) {
		t.Errorf("data %s = %q, want it to match %s", shape.field, id, shape.re)
	}
}

// checkRequired fails for each field of v, recursively, that openai-go tags
// api:"required" and that is zero or an empty list.
func checkRequired(t *testing.T, path string, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.IsExported() && f.Tag.Get("api") == "required" {
				checkNonEmpty(t, path+"."+f.Name, v.Field(i))
				checkRequired(t, path+"."+f.Name, v.Field(i))
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			checkRequired(t, path, v.Index(i))
		}
	}
}

func checkNonEmpty(t *testing.T, path string, v reflect.Value) {
	t.Helper()
	if v.IsZero() || (v.Kind() == reflect.Slice && v.Len() == 0) {
		t.Errorf("required %s is empty", path)
	}
}

// checkEnums fails for each enum-like field of data whose value OpenAI does
// not document.
func checkEnums(t *testing.T, data reflect.Value) {
	t.Helper()
	for path, allowed := range enums {
		v := data
		for name := range strings.SplitSeq(path, ".") {
			if v = v.FieldByName(name); !v.IsValid() {
				break
			}
		}
		if v.IsValid() && !slices.Contains(allowed, v.String()) {
			t.Errorf("data %s = %q, want one of %q", path, v.String(), allowed)
		}
	}
}

func TestSIPSamples(t *testing.T) {
	_, secret := testSecret()
	client := openaiClient(t, secret)
	s := newSigner(t, sign.ModeResign, secret)
	now := time.Now()

	body, err := sample.Body("realtime.call.incoming", now)
	if err != nil {
		t.Fatalf("Body: %v", err)
	}
	call := unwrap(t, client, s, body, now).AsRealtimeCallIncoming().Data
	headers := make(map[string]string)
	for _, h := range call.SipHeaders {
		headers[h.Name] = h.Value
	}
	// Values hold quotes, commas, colons and angle brackets, which the
	// body's layout must leave alone.
	want := map[string]string{
		"From":    `"Jane Doe" <sip:+14155550123@`,
		"To":      "<sip:proj_",
		"Allow":   "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE",
		"CSeq":    "1 INVITE",
		"Call-ID": "",
	}
	for name, prefix := range want {
		if v, ok := headers[name]; !ok || !strings.HasPrefix(v, prefix) {
			t.Errorf("SIP header %s = %q, want it to start with %q", name, v, prefix)
		}
	}
	if !strings.Contains(string(body), "<sip:") {
		t.Errorf("body escapes < and >: %s", body)
	}

	body, err = sample.Body("live.transport.connected", now)
	if err != nil {
		t.Fatalf("Body: %v", err)
	}
	live := unwrap(t, client, s, body, now).AsLiveTransportConnected()
	if got := live.Data.Type; got != "webrtc" {
		t.Errorf("live.transport.connected data type = %q, want webrtc", got)
	}
}

func TestBodyLayout(t *testing.T) {
	body, err := sample.Body("response.completed", time.Unix(1750861210, 0))
	if err != nil {
		t.Fatalf("Body: %v", err)
	}
	// The layout of OpenAI's published test vector body.
	re := regexp.MustCompile(`^\{"id": "evt_[0-9a-f]{32}", "object": "event", ` +
		`"created_at": 1750861210, "type": "response.completed", ` +
		`"data": \{"id": "resp_[0-9a-f]{48}"\}\}$`)
	if !re.Match(body) {
		t.Errorf("Body() = %s, want it to match %s", body, re)
	}
}

func TestBodyIsFresh(t *testing.T) {
	types := []string{"batch.completed", "realtime.call.incoming", "agent.session.created"}
	for _, typ := range types {
		a, errA := sample.Body(typ, time.Unix(1750000000, 0))
		b, errB := sample.Body(typ, time.Unix(1760000000, 0))
		if errA != nil || errB != nil {
			t.Fatalf("Body(%s): %v, %v", typ, errA, errB)
		}
		var ea, eb struct {
			ID        string          `json:"id"`
			CreatedAt int64           `json:"created_at"`
			Data      json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(a, &ea); err != nil {
			t.Fatalf("decode %s: %v", a, err)
		}
		if err := json.Unmarshal(b, &eb); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		if ea.ID == eb.ID {
			t.Errorf("Body(%s) twice gave the same event id %s", typ, ea.ID)
		}
		if string(ea.Data) == string(eb.Data) {
			t.Errorf("Body(%s) twice gave the same data %s", typ, ea.Data)
		}
		if ea.CreatedAt != 1750000000 || eb.CreatedAt != 1760000000 {
			t.Errorf("Body(%s) created_at = %d, %d; want the times given",
				typ, ea.CreatedAt, eb.CreatedAt)
		}
	}
}

func TestNewWebhookID(t *testing.T) {
	a, b := sample.NewWebhookID(), sample.NewWebhookID()
	for _, id := range []string{a, b} {
		if !webhookIDRe.MatchString(id) {
			t.Errorf("NewWebhookID() = %q, want wh_ and 32 lowercase hex digits", id)
		}
	}
	if a == b {
		t.Errorf("NewWebhookID() twice = %q", a)
	}
}

func TestTypes(t *testing.T) {
	types := sample.Types()
	if !slices.IsSorted(types) || len(slices.Compact(slices.Clone(types))) != len(types) {
		t.Errorf("Types() = %q, want sorted and without repeats", types)
	}
	for _, typ := range types {
		if sample.Family(typ) == "other" {
			t.Errorf("Family(%q) = other, want a known family", typ)
		}
	}
	types[0] = "changed"
	if sample.Types()[0] == "changed" {
		t.Errorf("Types() returns the catalog's own slice")
	}
}

func TestFamily(t *testing.T) {
	tests := []struct{ typ, want string }{
		{"response.completed", "response"},
		{"batch.expired", "batch"},
		{"fine_tuning.job.succeeded", "fine_tuning"},
		{"eval.run.canceled", "eval"},
		{"realtime.call.incoming", "realtime"},
		{"live.transport.connected", "live"},
		{"agent.session.idle", "agent"},
		{"safety.org_alert.created", "safety"},
		{"video.failed", "video"},
		{"response.something_new", "response"},
		{"vector_store.file.completed", "other"},
		{"responses.completed", "other"},
		{"", "other"},
	}
	for _, tt := range tests {
		if got := sample.Family(tt.typ); got != tt.want {
			t.Errorf("Family(%q) = %q, want %q", tt.typ, got, tt.want)
		}
	}
	for _, tt := range tests {
		if !slices.Contains(sample.Families(), tt.want) {
			t.Errorf("Families() = %q, lacks %q", sample.Families(), tt.want)
		}
	}
}

func TestBodyUnknownType(t *testing.T) {
	_, err := sample.Body("response.complete", time.Now())
	var ute *sample.UnknownTypeError
	if !errors.As(err, &ute) {
		t.Fatalf("Body(unknown) = %v, want *UnknownTypeError", err)
	}
	if ute.Type != "response.complete" {
		t.Errorf("UnknownTypeError.Type = %q, want response.complete", ute.Type)
	}
	lines := strings.Split(err.Error(), "\n")
	if !strings.Contains(lines[0], `"response.complete"`) {
		t.Errorf("first line %q does not name the unknown type", lines[0])
	}
	var listed, families []string
	for _, line := range lines[1:] {
		fields := strings.Fields(line)
		fam := sample.Family(fields[0])
		for _, typ := range fields {
			if sample.Family(typ) != fam {
				t.Errorf("line %q mixes families %s and %s", line, fam, sample.Family(typ))
			}
		}
		families = append(families, fam)
		listed = append(listed, fields...)
	}
	if !slices.Equal(listed, sortedByFamily(sample.Types())) {
		t.Errorf("message lists %q, want every known type once, by family", listed)
	}
	if len(slices.Compact(slices.Clone(families))) != len(families) {
		t.Errorf("message repeats a family: %q", families)
	}
}

// sortedByFamily orders types by the position of their family in
// Families(), keeping their order within a family.
func sortedByFamily(types []string) []string {
	out := slices.Clone(types)
	order := sample.Families()
	slices.SortStableFunc(out, func(a, b string) int {
		return slices.Index(order, sample.Family(a)) - slices.Index(order, sample.Family(b))
	})
	return out
}

func TestRequest(t *testing.T) {
	_, secret := testSecret()
	client := openaiClient(t, secret)
	received := make(chan *webhooks.UnwrapWebhookEventUnion, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		evt, err := client.Webhooks.Unwrap(body, r.Header)
		if err != nil {
			t.Errorf("openai-go Unwrap at the server = %v, want nil", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		received <- evt
	}))
	t.Cleanup(srv.Close)
	s := newSigner(t, sign.ModeResign, secret)

	url := srv.URL + "/webhooks/openai"
	req, err := sample.Request(t.Context(), url, s, "batch.completed", time.Now())
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	checkOpenAIHeaders(t, req)
	if req.GetBody == nil || req.ContentLength <= 0 {
		t.Errorf("GetBody = %v, ContentLength = %d; want a body that can be re-sent",
			req.GetBody != nil, req.ContentLength)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if evt := <-received; evt.Type != "batch.completed" {
		t.Errorf("server got type %q, want batch.completed", evt.Type)
	}
}

func checkOpenAIHeaders(t *testing.T, req *http.Request) {
	t.Helper()
	if req.Method != http.MethodPost {
		t.Errorf("Method = %s, want POST", req.Method)
	}
	want := map[string]string{
		"Content-Type": "application/json",
		"User-Agent":   "OpenAI/1.0 (+https://platform.openai.com/docs/webhooks)",
	}
	for k, v := range want {
		if got := req.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if id := req.Header.Get("webhook-id"); !webhookIDRe.MatchString(id) {
		t.Errorf("webhook-id = %q, want wh_ and 32 hex digits", id)
	}
}

func TestRequestModes(t *testing.T) {
	const hexSecret = "my-flask-secret"
	tests := []struct {
		name   string
		signer *sign.Signer
		check  func(t *testing.T, h http.Header, body []byte)
	}{
		{"hex", newSigner(t, sign.ModeHex, hexSecret), func(t *testing.T, h http.Header, b []byte) {
			m := hmac.New(sha256.New, []byte(hexSecret))
			m.Write(b)
			want := hex.EncodeToString(m.Sum(nil))
			if got := h.Get("X-OpenAI-Signature"); got != want {
				t.Errorf("X-OpenAI-Signature = %q, want %q", got, want)
			}
			if h.Get("webhook-signature") != "" {
				t.Errorf("hex mode set webhook-signature")
			}
		}},
		{"passthrough", newSigner(t, sign.ModePassthrough, ""), noSignature},
		{"nil_signer", nil, noSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := sample.Request(t.Context(), "http://127.0.0.1:5000/webhooks/openai",
				tt.signer, "response.completed", time.Now())
			if err != nil {
				t.Fatalf("Request: %v", err)
			}
			checkOpenAIHeaders(t, req)
			body, err := io.ReadAll(req.Body)
			if err != nil {
				t.Fatalf("read body: %v", err)
			}
			tt.check(t, req.Header, body)
		})
	}
}

func noSignature(t *testing.T, h http.Header, _ []byte) {
	t.Helper()
	for _, k := range []string{"webhook-signature", "webhook-timestamp", "X-OpenAI-Signature"} {
		if v := h.Get(k); v != "" {
			t.Errorf("%s = %q, want none", k, v)
		}
	}
}

func TestRequestErrors(t *testing.T) {
	var ute *sample.UnknownTypeError
	_, err := sample.Request(t.Context(), "http://127.0.0.1:5000/", nil, "batch.done", time.Now())
	if !errors.As(err, &ute) {
		t.Errorf("Request(unknown type) = %v, want *UnknownTypeError", err)
	}
	_, err = sample.Request(t.Context(), "http://[::1", nil, "batch.completed", time.Now())
	if err == nil {
		t.Errorf("Request(bad URL) = nil error, want one")
	}
}
