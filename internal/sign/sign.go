// Package sign checks the Standard Webhooks signatures that OpenAI puts on
// its webhooks, and signs deliveries for a local app in one of three modes.
//
// Verify checks an incoming webhook with openai-go's webhooks package.
// NewSigner returns a Signer that prepares the headers of a delivery:
// ModeResign signs afresh with the app's secret, ModePassthrough keeps the
// original headers, ModeHex adds an X-OpenAI-Signature hex HMAC of the body.
package sign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Standard Webhooks headers, and the hex scheme's header.
const (
	HeaderID        = "Webhook-Id"
	HeaderTimestamp = "Webhook-Timestamp"
	HeaderSignature = "Webhook-Signature"
	HeaderHex       = "X-Openai-Signature"
)

// Tolerance is how far a webhook's timestamp may be from now.
const Tolerance = 5 * time.Minute

// Errors of Verify, to be told apart with errors.Is.
var (
	// ErrMissingHeaders means a signature header is absent or malformed.
	ErrMissingHeaders = errors.New("missing or malformed webhook signature headers")
	// ErrBadSignature means no signature matched, or the timestamp is
	// outside Tolerance.
	ErrBadSignature = errors.New("webhook signature does not verify")
)

// Mode says how a delivery to the local app is signed.
type Mode string

// Signing modes.
const (
	ModeResign      Mode = "resign"      // fresh timestamp, signed with the app's secret
	ModePassthrough Mode = "passthrough" // the relay's headers as received
	ModeHex         Mode = "hex"         // X-OpenAI-Signature: hex HMAC-SHA256 of the body
)

// ParseMode returns the Mode named s.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeResign, ModePassthrough, ModeHex:
		return m, nil
	}
	return "", fmt.Errorf("unknown signing mode %q: use resign, passthrough or hex", s)
}

// CheckSecret reports whether secret can sign and verify Standard Webhooks,
// with the reason when it cannot. It signs a probe with the Standard Webhooks
// library and verifies it with openai-go, so a secret that passes works with
// both. The error never contains the secret.
func CheckSecret(secret string) error {
	if secret == "" {
		return errors.New("webhook secret is empty")
	}
	wh, err := newWebhook(secret)
	if err != nil {
		return errors.New("webhook secret is malformed: expected whsec_ followed by base64")
	}
	now := time.Now()
	body := []byte("{}")
	sig, err := wh.Sign("msg_probe", now, body)
	if err != nil {
		return errors.New("webhook secret cannot sign: expected whsec_ followed by base64")
	}
	h := make(http.Header)
	h.Set(HeaderID, "msg_probe")
	h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(HeaderSignature, sig)
	c := openai.NewClient(option.WithWebhookSecret(secret), option.WithAPIKey("unused"))
	if err := c.Webhooks.VerifySignatureWithToleranceAndTime(body, h, Tolerance, now); err != nil {
		return errors.New(
			"webhook secret is unusable: expected whsec_ followed by at least 24 bytes in canonical base64")
	}
	return nil
}

// newWebhook reads secret the way openai-go does: a whsec_ secret is base64,
// any other string is the key's bytes as given.
func newWebhook(secret string) (*standardwebhooks.Webhook, error) {
	if strings.HasPrefix(secret, "whsec_") {
		return standardwebhooks.NewWebhook(secret)
	}
	return standardwebhooks.NewWebhookRaw([]byte(secret))
}

// Verifier checks the Standard Webhooks signatures made with one secret. It
// is safe for concurrent use.
type Verifier struct {
	client openai.Client
}

// NewVerifier returns a Verifier for secret, or an error if the secret is not
// a usable whsec_ secret.
func NewVerifier(secret string) (*Verifier, error) {
	if err := CheckSecret(secret); err != nil {
		return nil, err
	}
	c := openai.NewClient(option.WithWebhookSecret(secret), option.WithAPIKey("unused"))
	return &Verifier{client: c}, nil
}

// Verify checks the signature of body and header at time now, accepting any
// of several space-separated signatures and a timestamp within Tolerance.
// It returns nil, or an error wrapping ErrMissingHeaders or ErrBadSignature.
func (v *Verifier) Verify(header http.Header, body []byte, now time.Time) error {
	if err := checkHeaders(header); err != nil {
		return err
	}
	err := v.client.Webhooks.VerifySignatureWithToleranceAndTime(body, header, Tolerance, now)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return nil
}

func checkHeaders(header http.Header) error {
	id, ts, sig := header.Get(HeaderID), header.Get(HeaderTimestamp), header.Get(HeaderSignature)
	if id == "" || ts == "" || sig == "" {
		return fmt.Errorf("%w: webhook-id, webhook-timestamp and webhook-signature are required",
			ErrMissingHeaders)
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		return fmt.Errorf("%w: webhook-timestamp must be Unix seconds", ErrMissingHeaders)
	}
	return nil
}

// Signer prepares the headers of deliveries. It is safe for concurrent use.
type Signer struct {
	mode   Mode
	secret string
	wh     *standardwebhooks.Webhook // set in ModeResign
}

// NewSigner returns a Signer for mode. ModeResign and ModeHex need a secret;
// for ModeResign it must pass CheckSecret: a whsec_ secret, or any other
// string used as the key's bytes, as openai-go and openai-python read it.
func NewSigner(mode Mode, secret string) (*Signer, error) {
	s := &Signer{mode: mode, secret: secret}
	switch mode {
	case ModePassthrough:
	case ModeHex:
		if secret == "" {
			return nil, errors.New(
				"sign mode hex needs a secret: set --sign-secret or OPENAI_WEBHOOK_SECRET")
		}
	case ModeResign:
		if secret == "" {
			return nil, errors.New(
				"sign mode resign needs a secret: set --sign-secret or OPENAI_WEBHOOK_SECRET")
		}
		if err := CheckSecret(secret); err != nil {
			return nil, err
		}
		wh, err := newWebhook(secret)
		if err != nil {
			return nil, err
		}
		s.wh = wh
	default:
		return nil, fmt.Errorf("unknown signing mode %q: use resign, passthrough or hex", mode)
	}
	return s, nil
}

// Mode returns the signer's mode.
func (s *Signer) Mode() Mode { return s.mode }

// Sign sets the signature headers of a delivery of body on h, as of now.
// In ModeResign it keeps webhook-id and replaces webhook-timestamp and
// webhook-signature; in ModeHex it sets X-OpenAI-Signature and leaves the
// rest; in ModePassthrough it changes nothing. If h has no webhook-id in
// ModeResign, id is used; if both are empty, Sign returns an error, since no
// verifier accepts a delivery without one.
func (s *Signer) Sign(h http.Header, id string, body []byte, now time.Time) error {
	switch s.mode {
	case ModeResign:
		if h.Get(HeaderID) == "" {
			if id == "" {
				return errors.New("sign delivery: no webhook-id")
			}
			h.Set(HeaderID, id)
		}
		sig, err := s.wh.Sign(h.Get(HeaderID), now, body)
		if err != nil {
			return fmt.Errorf("sign delivery: %w", err)
		}
		h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		h.Set(HeaderSignature, sig)
	case ModeHex:
		h.Set(HeaderHex, Hex(s.secret, body))
	}
	return nil
}

// Hex returns hex(HMAC-SHA256(key, body)) where key is secret's bytes as
// given, whsec_ prefix included.
func Hex(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
