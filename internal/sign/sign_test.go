package sign_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/hookrelay/hookrelay/internal/sign"
)

// The published test vector of openai-go's webhooks/webhook_test.go,
// identical to the TypeScript SDK's (REFERENCE.md §1.2).
const (
	vectorSecret    = "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c="
	vectorID        = "wh_685c059ae39c8190af8c71ed1022a24d"
	vectorTimestamp = 1750861210
	vectorBody      = `{"id": "evt_685c059ae3a481909bdc86819b066fb6", "object": "event", ` +
		`"created_at": 1750861210, "type": "response.completed", "data": {"id": "resp_123"}}`
	vectorSignature = "v1,gUAg4R2hWouRZqRQG4uJypNS8YK885G838+EHb4nKBY="
)

// testKey returns a 32-byte HMAC key derived from label, and its whsec_
// form.
func testKey(label string) ([]byte, string) {
	k := sha256.Sum256([]byte("hookrelay test key " + label))
	return k[:], "whsec_" + base64.StdEncoding.EncodeToString(k[:])
}

// stdSignature computes a Standard Webhooks v1 signature with the standard
// library only, independently of the code under test.
func stdSignature(key []byte, id, ts string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// signedHeader returns the three Standard Webhooks headers for body, signed
// with key at ts.
func signedHeader(key []byte, id string, ts time.Time, body []byte) http.Header {
	unix := strconv.FormatInt(ts.Unix(), 10)
	h := make(http.Header)
	h.Set(sign.HeaderID, id)
	h.Set(sign.HeaderTimestamp, unix)
	h.Set(sign.HeaderSignature, stdSignature(key, id, unix, body))
	return h
}

func newVerifier(t *testing.T, secret string) *sign.Verifier {
	t.Helper()
	v, err := sign.NewVerifier(secret)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// openaiClient returns an openai-go client that verifies with secret and
// never reads OPENAI_WEBHOOK_SECRET from the environment.
func openaiClient(t *testing.T, secret string) openai.Client {
	t.Helper()
	t.Setenv("OPENAI_WEBHOOK_SECRET", "")
	return openai.NewClient(option.WithWebhookSecret(secret), option.WithAPIKey("unused"))
}

func TestVerifyOpenAIVector(t *testing.T) {
	v := newVerifier(t, vectorSecret)
	h := make(http.Header)
	h.Set("webhook-id", vectorID)
	h.Set("webhook-timestamp", strconv.Itoa(vectorTimestamp))
	h.Set("webhook-signature", vectorSignature)

	if err := v.Verify(h, []byte(vectorBody), time.Unix(vectorTimestamp, 0)); err != nil {
		t.Errorf("Verify(OpenAI test vector) = %v, want nil", err)
	}
	later := time.Unix(vectorTimestamp, 0).Add(sign.Tolerance + time.Second)
	if err := v.Verify(h, []byte(vectorBody), later); !errors.Is(err, sign.ErrBadSignature) {
		t.Errorf("Verify(OpenAI test vector, 5m1s later) = %v, want ErrBadSignature", err)
	}
}

func TestVerifyIndependentVector(t *testing.T) {
	// The vector's secret, id and body, signed by the standard library at
	// the vector's timestamp, must give the published signature.
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(vectorSecret, "whsec_"))
	if err != nil {
		t.Fatalf("decode vector secret: %v", err)
	}
	got := stdSignature(key, vectorID, strconv.Itoa(vectorTimestamp), []byte(vectorBody))
	if got != vectorSignature {
		t.Fatalf("independent signature of the vector = %q, want %q", got, vectorSignature)
	}
}

func TestVerify(t *testing.T) {
	key, secret := testKey("verify")
	otherKey, _ := testKey("other")
	v := newVerifier(t, secret)
	now := time.Unix(1767225600, 0)
	body := []byte(`{"id":"evt_0123456789abcdef0123456789abcdef","object":"event"}`)
	const id = "wh_0123456789abcdef0123456789abcdef"

	tests := []struct {
		name   string
		header func() http.Header
		body   []byte
		want   error
	}{
		{"valid", func() http.Header { return signedHeader(key, id, now, body) }, body, nil},
		{"one_valid_among_invalid", func() http.Header {
			h := signedHeader(key, id, now, body)
			bad := stdSignature(otherKey, id, h.Get(sign.HeaderTimestamp), body)
			h.Set(sign.HeaderSignature, bad+" "+h.Get(sign.HeaderSignature)+" v1,AAAA")
			return h
		}, body, nil},
		{"none_valid", func() http.Header {
			h := signedHeader(key, id, now, body)
			bad := stdSignature(otherKey, id, h.Get(sign.HeaderTimestamp), body)
			h.Set(sign.HeaderSignature, bad+" v1,AAAA v2,"+bad[3:])
			return h
		}, body, sign.ErrBadSignature},
		{"wrong_secret", func() http.Header { return signedHeader(otherKey, id, now, body) },
			body, sign.ErrBadSignature},
		{"tampered_body", func() http.Header { return signedHeader(key, id, now, body) },
			[]byte(strings.Replace(string(body), "event", "evenT", 1)), sign.ErrBadSignature},
		{"trailing_newline_added", func() http.Header { return signedHeader(key, id, now, body) },
			append(append([]byte{}, body...), '\n'), sign.ErrBadSignature},
		{"other_webhook_id", func() http.Header {
			h := signedHeader(key, id, now, body)
			h.Set(sign.HeaderID, "wh_ffffffffffffffffffffffffffffffff")
			return h
		}, body, sign.ErrBadSignature},
		{"stale_timestamp", func() http.Header {
			return signedHeader(key, id, now.Add(-sign.Tolerance-time.Second), body)
		}, body, sign.ErrBadSignature},
		{"future_timestamp", func() http.Header {
			return signedHeader(key, id, now.Add(sign.Tolerance+time.Second), body)
		}, body, sign.ErrBadSignature},
		{"hours_old_timestamp", func() http.Header {
			return signedHeader(key, id, now.Add(-3*time.Hour), body)
		}, body, sign.ErrBadSignature},
		{"old_within_tolerance", func() http.Header {
			return signedHeader(key, id, now.Add(-sign.Tolerance+time.Second), body)
		}, body, nil},
		{"old_at_tolerance", func() http.Header {
			return signedHeader(key, id, now.Add(-sign.Tolerance), body)
		}, body, nil},
		{"future_within_tolerance", func() http.Header {
			return signedHeader(key, id, now.Add(sign.Tolerance-time.Second), body)
		}, body, nil},
		{"missing_id", func() http.Header {
			h := signedHeader(key, id, now, body)
			h.Del(sign.HeaderID)
			return h
		}, body, sign.ErrMissingHeaders},
		{"missing_timestamp", func() http.Header {
			h := signedHeader(key, id, now, body)
			h.Del(sign.HeaderTimestamp)
			return h
		}, body, sign.ErrMissingHeaders},
		{"missing_signature", func() http.Header {
			h := signedHeader(key, id, now, body)
			h.Del(sign.HeaderSignature)
			return h
		}, body, sign.ErrMissingHeaders},
		{"empty_signature", func() http.Header {
			h := signedHeader(key, id, now, body)
			h.Set(sign.HeaderSignature, "")
			return h
		}, body, sign.ErrMissingHeaders},
		{"no_headers", func() http.Header { return nil }, body, sign.ErrMissingHeaders},
		{"timestamp_not_a_number", func() http.Header {
			h := signedHeader(key, id, now, body)
			h.Set(sign.HeaderTimestamp, "yesterday")
			return h
		}, body, sign.ErrMissingHeaders},
		{"timestamp_in_milliseconds_fraction", func() http.Header {
			h := signedHeader(key, id, now, body)
			h.Set(sign.HeaderTimestamp, h.Get(sign.HeaderTimestamp)+".5")
			return h
		}, body, sign.ErrMissingHeaders},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Verify(tt.header(), tt.body, now)
			if !errors.Is(err, tt.want) {
				t.Errorf("Verify() = %v, want %v", err, tt.want)
			}
			if err != nil && (strings.Contains(err.Error(), secret) ||
				strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(key))) {
				t.Errorf("Verify() error contains the secret")
			}
		})
	}
}

func TestVerifyErrorsAreDistinct(t *testing.T) {
	key, secret := testKey("distinct")
	v := newVerifier(t, secret)
	now := time.Unix(1767225600, 0)
	body := []byte(`{}`)

	err := v.Verify(signedHeader(key, "wh_1", now, body), []byte(`{"x":1}`), now)
	if errors.Is(err, sign.ErrMissingHeaders) {
		t.Errorf("Verify(bad signature) = %v, which also matches ErrMissingHeaders", err)
	}
	err = v.Verify(http.Header{}, body, now)
	if errors.Is(err, sign.ErrBadSignature) {
		t.Errorf("Verify(no headers) = %v, which also matches ErrBadSignature", err)
	}
}

func TestNewVerifierRejectsBadSecret(t *testing.T) {
	for _, secret := range []string{"", "whsec_not base64!", "whsec_" + shortSecret()} {
		if v, err := sign.NewVerifier(secret); err == nil {
			t.Errorf("NewVerifier(bad secret %d chars) = %v, nil; want an error", len(secret), v)
		}
	}
}

// shortSecret is canonical base64 of 16 bytes, below openai-go's minimum of
// 24.
func shortSecret() string {
	return base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
}

// nonCanonicalSecret returns secret with the unused low bits of its last
// base64 character set: lenient decoders accept it, openai-go does not.
func nonCanonicalSecret(secret string) string {
	i := strings.IndexByte(secret, '=') - 1
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	c := strings.IndexByte(alphabet, secret[i])
	return secret[:i] + string(alphabet[c|1]) + secret[i+1:]
}

func TestCheckSecret(t *testing.T) {
	_, valid := testKey("check")
	tests := []struct {
		name    string
		secret  string
		wantErr bool
	}{
		{"valid_whsec", valid, false},
		{"openai_vector", vectorSecret, false},
		{"raw_string", "a plain shared secret for a flask app", false},
		{"empty", "", true},
		{"prefix_only", "whsec_", true},
		{"not_base64", "whsec_this is not base64!", true},
		{"base64url_alphabet", "whsec_" + base64.URLEncoding.EncodeToString(
			[]byte("\xfb\xff\xfe0123456789abcdef0123456789")), true},
		{"missing_padding", strings.TrimRight(valid, "="), true},
		{"non_canonical_base64", nonCanonicalSecret(valid), true},
		{"too_short", "whsec_" + shortSecret(), true},
		{"just_too_short", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 23)), true},
		{"minimum_length", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 24)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sign.CheckSecret(tt.secret)
			if (err != nil) != tt.wantErr {
				t.Fatalf("CheckSecret() = %v, want error %t", err, tt.wantErr)
			}
			if err != nil && tt.secret != "" && leaks(err.Error(), tt.secret) {
				t.Errorf("CheckSecret() error contains the secret")
			}
		})
	}
}

// leaks reports whether msg contains secret's part after whsec_, the part
// that is secret.
func leaks(msg, secret string) bool {
	rest := strings.TrimPrefix(secret, "whsec_")
	return len(rest) >= 4 && strings.Contains(msg, rest)
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		in      string
		want    sign.Mode
		wantErr bool
	}{
		{"resign", sign.ModeResign, false},
		{"passthrough", sign.ModePassthrough, false},
		{"hex", sign.ModeHex, false},
		{"", "", true},
		{"Resign", "", true},
		{"hmac", "", true},
	}
	for _, tt := range tests {
		got, err := sign.ParseMode(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseMode(%q) = %q, %v; want %q, error %t",
				tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestNewSignerErrors(t *testing.T) {
	_, valid := testKey("signer")
	tests := []struct {
		name    string
		mode    sign.Mode
		secret  string
		wantErr bool
	}{
		{"resign_without_secret", sign.ModeResign, "", true},
		{"hex_without_secret", sign.ModeHex, "", true},
		{"resign_malformed_secret", sign.ModeResign, "whsec_not base64!", true},
		{"resign_short_secret", sign.ModeResign, "whsec_" + shortSecret(), true},
		{"resign_non_canonical_secret", sign.ModeResign, nonCanonicalSecret(valid), true},
		{"unknown_mode", sign.Mode("sha1"), valid, true},
		{"empty_mode", sign.Mode(""), valid, true},
		{"resign", sign.ModeResign, valid, false},
		{"hex_any_string", sign.ModeHex, "flask-secret", false},
		{"passthrough_without_secret", sign.ModePassthrough, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sign.NewSigner(tt.mode, tt.secret)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewSigner(%q) = %v, want error %t", tt.mode, err, tt.wantErr)
			}
			if err != nil {
				if tt.secret != "" && leaks(err.Error(), tt.secret) {
					t.Errorf("NewSigner() error contains the secret")
				}
				return
			}
			if s.Mode() != tt.mode {
				t.Errorf("Mode() = %q, want %q", s.Mode(), tt.mode)
			}
		})
	}
}

func newSigner(t *testing.T, mode sign.Mode, secret string) *sign.Signer {
	t.Helper()
	s, err := sign.NewSigner(mode, secret)
	if err != nil {
		t.Fatalf("NewSigner(%q): %v", mode, err)
	}
	return s
}

func TestSignerResignAcceptedByOpenAI(t *testing.T) {
	relayKey, _ := testKey("relay")
	appKey, appSecret := testKey("app")
	s := newSigner(t, sign.ModeResign, appSecret)
	client := openaiClient(t, appSecret)
	body := []byte(`{"id": "evt_685c059ae3a481909bdc86819b066fb6", "object": "event", ` +
		`"created_at": 1750861210, "type": "batch.completed", "data": {"id": "batch_1"}}`)
	const id = "wh_685c059ae39c8190af8c71ed1022a24d"

	// Received hours ago, signed with the relay's secret.
	now := time.Now()
	h := signedHeader(relayKey, id, now.Add(-3*time.Hour), body)
	h.Set("Content-Type", "application/json")
	if err := client.Webhooks.VerifySignature(body, h); err == nil {
		t.Fatal("openai-go accepted the stale original headers; the test proves nothing")
	}

	if err := s.Sign(h, "wh_unused", body, now); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if got := h.Get(sign.HeaderID); got != id {
		t.Errorf("webhook-id = %q, want the original %q", got, id)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	if got := h.Get(sign.HeaderTimestamp); got != ts {
		t.Errorf("webhook-timestamp = %q, want %q", got, ts)
	}
	want := []string{stdSignature(appKey, id, ts, body)}
	if got := h.Values(sign.HeaderSignature); !slices.Equal(got, want) {
		t.Errorf("webhook-signature = %q, want %q", got, want)
	}
	if got := h.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want it kept", got)
	}
	if err := client.Webhooks.VerifySignature(body, h); err != nil {
		t.Errorf("openai-go VerifySignature(re-signed) = %v, want nil", err)
	}
	evt, err := client.Webhooks.Unwrap(body, h)
	if err != nil {
		t.Fatalf("openai-go Unwrap(re-signed) = %v, want nil", err)
	}
	if evt.Type != "batch.completed" {
		t.Errorf("Unwrap().Type = %q, want batch.completed", evt.Type)
	}
}

func TestSignerResignWithoutID(t *testing.T) {
	appKey, appSecret := testKey("app")
	s := newSigner(t, sign.ModeResign, appSecret)
	body := []byte(`{"type":"response.completed"}`)
	now := time.Unix(1767225600, 0)
	h := make(http.Header)

	if err := s.Sign(h, "wh_fallback", body, now); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if got := h.Get(sign.HeaderID); got != "wh_fallback" {
		t.Errorf("webhook-id = %q, want wh_fallback", got)
	}
	want := stdSignature(appKey, "wh_fallback", "1767225600", body)
	if got := h.Get(sign.HeaderSignature); got != want {
		t.Errorf("webhook-signature = %q, want %q", got, want)
	}
	client := openaiClient(t, appSecret)
	err := client.Webhooks.VerifySignatureWithToleranceAndTime(body, h, 5*time.Minute, now)
	if err != nil {
		t.Errorf("openai-go VerifySignature = %v, want nil", err)
	}
}

func TestSignerResignReplacesSignatures(t *testing.T) {
	relayKey, relaySecret := testKey("relay")
	appKey, appSecret := testKey("app")
	s := newSigner(t, sign.ModeResign, appSecret)
	body := []byte(`{}`)
	then, now := time.Unix(1767225600, 0), time.Unix(1767229200, 0)
	h := signedHeader(relayKey, "wh_1", then, body)
	h.Add(sign.HeaderSignature, stdSignature(appKey, "wh_1", "1767225600", body))

	if err := s.Sign(h, "", body, now); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	want := []string{stdSignature(appKey, "wh_1", "1767229200", body)}
	if got := h.Values(sign.HeaderSignature); !slices.Equal(got, want) {
		t.Errorf("webhook-signature = %q, want %q", got, want)
	}
	if err := newVerifier(t, relaySecret).Verify(h, body, now); err == nil {
		t.Errorf("the relay's secret still verifies the re-signed delivery")
	}
}

func TestSignerPassthrough(t *testing.T) {
	key, _ := testKey("relay")
	s := newSigner(t, sign.ModePassthrough, "")
	body := []byte(`{"type":"response.completed"}`)
	h := signedHeader(key, "wh_1", time.Unix(1767225600, 0), body)
	h.Set("Content-Type", "application/json")
	want := h.Clone()

	if err := s.Sign(h, "wh_other", body, time.Unix(1767300000, 0)); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if !maps.EqualFunc(h, want, slices.Equal[[]string]) {
		t.Errorf("passthrough changed the headers: got %v, want %v", h, want)
	}
}

func TestSignerHex(t *testing.T) {
	relayKey, _ := testKey("relay")
	_, whsec := testKey("hex")
	tests := []struct {
		name   string
		secret string
	}{
		{"whsec_secret_used_as_given", whsec},
		{"plain_secret", "my flask secret"},
	}
	body := []byte(`{"id": "evt_1", "type": "response.completed"}`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSigner(t, sign.ModeHex, tt.secret)
			h := signedHeader(relayKey, "wh_1", time.Unix(1767225600, 0), body)
			before := h.Clone()

			if err := s.Sign(h, "wh_1", body, time.Unix(1767300000, 0)); err != nil {
				t.Fatalf("Sign: %v", err)
			}
			m := hmac.New(sha256.New, []byte(tt.secret))
			m.Write(body)
			want := hex.EncodeToString(m.Sum(nil))
			if got := h.Get("X-OpenAI-Signature"); got != want {
				t.Errorf("X-OpenAI-Signature = %q, want %q", got, want)
			}
			if got := sign.Hex(tt.secret, body); got != want {
				t.Errorf("Hex() = %q, want %q", got, want)
			}
			h.Del("X-OpenAI-Signature")
			for k := range before {
				if h.Get(k) != before.Get(k) {
					t.Errorf("hex mode changed %s: %q, want %q", k, h.Get(k), before.Get(k))
				}
			}
		})
	}
}

func TestSignerResignNeedsAnID(t *testing.T) {
	_, appSecret := testKey("app")
	s := newSigner(t, sign.ModeResign, appSecret)
	h := make(http.Header)

	if err := s.Sign(h, "", []byte(`{}`), time.Unix(1767225600, 0)); err == nil {
		t.Errorf("Sign(no webhook-id) = nil, want an error")
	}
	if len(h) != 0 {
		t.Errorf("Sign(no webhook-id) set headers %v, want none", h)
	}
}
