// Package sample makes realistic OpenAI webhook events of every type that
// openai-go knows, for `relay-agent trigger` and the demo.
//
// Types lists the known event types and Family groups them. Body returns a
// fresh event body of a type, in the envelope and JSON layout OpenAI sends,
// with new random ids. Request wraps a body in a signed POST as OpenAI
// would deliver it, and NewWebhookID makes the webhook-id of a delivery.
package sample

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/internal/sign"
)

// UserAgent is the user-agent header OpenAI sends with webhooks.
const UserAgent = "OpenAI/1.0 (+https://platform.openai.com/docs/webhooks)"

// families lists the event families in the order that error messages and
// legends show them, each with the type prefix that selects it.
var families = []struct{ name, prefix string }{
	{"response", "response."},
	{"batch", "batch."},
	{"fine_tuning", "fine_tuning."},
	{"eval", "eval."},
	{"realtime", "realtime."},
	{"live", "live."},
	{"agent", "agent."},
	{"safety", "safety."},
	{"video", "video."},
}

// familyOther is the family of a type that no known prefix matches.
const familyOther = "other"

// Types returns every event type the catalog has a sample of, sorted.
func Types() []string {
	types := make([]string, 0, len(catalog))
	for typ := range catalog {
		types = append(types, typ)
	}
	slices.Sort(types)
	return types
}

// Family returns the family of an event type: "response", "batch",
// "fine_tuning", "eval", "realtime", "live", "agent", "safety", "video", or
// "other". It goes by the type's prefix, so a type newer than the catalog
// still gets its family.
func Family(typ string) string {
	for _, f := range families {
		if strings.HasPrefix(typ, f.prefix) {
			return f.name
		}
	}
	return familyOther
}

// Families returns every family Family can return, in the order a legend
// should show them.
func Families() []string {
	names := make([]string, 0, len(families)+1)
	for _, f := range families {
		names = append(names, f.name)
	}
	return append(names, familyOther)
}

// UnknownTypeError is returned for an event type the catalog has no sample
// of. Its message lists the known types, one family per line.
type UnknownTypeError struct {
	Type string // the type asked for
}

// Error implements error.
func (e *UnknownTypeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unknown event type %q; known types:", e.Type)
	byFamily := make(map[string][]string)
	for _, typ := range Types() {
		byFamily[Family(typ)] = append(byFamily[Family(typ)], typ)
	}
	for _, f := range Families() {
		if types := byFamily[f]; len(types) > 0 {
			b.WriteString("\n  " + strings.Join(types, " "))
		}
	}
	return b.String()
}

// envelope is the JSON object OpenAI posts, fields in OpenAI's order.
type envelope struct {
	ID        string `json:"id"`
	Object    string `json:"object"`
	CreatedAt int64  `json:"created_at"`
	Type      string `json:"type"`
	Data      any    `json:"data"`
}

// Body returns a fresh sample event of type typ as OpenAI would post it: a
// new evt_ id, created_at set to now, and new ids in its data. It returns an
// *UnknownTypeError if the catalog has no sample of typ.
func Body(typ string, now time.Time) ([]byte, error) {
	data, ok := catalog[typ]
	if !ok {
		return nil, &UnknownTypeError{Type: typ}
	}
	env := envelope{
		ID:        "evt_" + randomHex(16),
		Object:    "event",
		CreatedAt: now.Unix(),
		Type:      typ,
		Data:      data(),
	}
	return marshal(env)
}

// marshal encodes v the way OpenAI's webhook bodies are laid out: one line,
// ", " and ": " between items, and no HTML escaping (SIP headers carry < and
// >), like the body of OpenAI's published signature test vector.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode sample event: %w", err)
	}
	return spaceOut(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// spaceOut adds a space after each comma and colon of compact JSON that is
// outside a string.
func spaceOut(compact []byte) []byte {
	out := make([]byte, 0, len(compact)+len(compact)/8)
	inString, escaped := false, false
	for _, c := range compact {
		out = append(out, c)
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ',' || c == ':'):
			out = append(out, ' ')
		}
	}
	return out
}

// NewWebhookID returns a random webhook-id: "wh_" and 32 lowercase hex
// digits, the shape of OpenAI's.
func NewWebhookID() string {
	return "wh_" + randomHex(16)
}

// Request returns a POST of a fresh sample event of type typ to url, with
// the headers OpenAI sends: content-type, user-agent and webhook-id, then
// whatever s.Sign adds in its mode, as of now. If s is nil, the request is
// not signed. It returns an *UnknownTypeError if typ has no sample.
func Request(
	ctx context.Context,
	url string,
	s *sign.Signer,
	typ string,
	now time.Time,
) (*http.Request, error) {
	body, err := Body(typ, now)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("new sample request %s: %w", typ, err)
	}
	id := NewWebhookID()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(sign.HeaderID, id)
	if s == nil {
		return req, nil
	}
	if err := s.Sign(req.Header, id, body, now); err != nil {
		return nil, fmt.Errorf("sign sample %s: %w", typ, err)
	}
	return req, nil
}

// randomHex returns n random bytes as 2n lowercase hex digits. Here and in
// randomAlnum, crypto/rand.Read never returns an error: it crashes the
// program instead.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// randomAlnum returns n random letters and digits, with a bias too small to
// matter for sample ids.
func randomAlnum(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
