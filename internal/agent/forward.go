package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hookrelay/hookrelay/internal/history"
	"github.com/hookrelay/hookrelay/internal/sign"
	"github.com/hookrelay/hookrelay/internal/wire"
)

// Headers the agent adds to every delivery.
const (
	HeaderSeq    = "X-Hookrelay-Seq"
	HeaderReplay = "X-Hookrelay-Replay"
)

// DefaultTimeout is how long a delivery waits for the app's answer.
const DefaultTimeout = 30 * time.Second

// Route sends the events whose type matches one of Events to ForwardTo.
type Route struct {
	Events    []string
	ForwardTo string
}

// Targets picks the URL each event is delivered to: the first route whose
// patterns match the event type, else Default.
type Targets struct {
	Default string
	Routes  []Route
}

// For returns the target of an event of type typ.
func (t Targets) For(typ string) string {
	for _, r := range t.Routes {
		if wire.Match(r.Events, typ) {
			return r.ForwardTo
		}
	}
	return t.Default
}

// Forwarder delivers recorded events to the local app. It signs each
// request, never follows redirects, and records the app's answer. It is safe
// for concurrent use; SetTargets and SetSigner apply to later deliveries.
type Forwarder struct {
	client *http.Client

	mu      sync.Mutex // guards targets and signer
	targets Targets
	signer  *sign.Signer
}

// NewForwarder returns a Forwarder. A nil signer delivers the original
// headers (passthrough). If timeout is zero, DefaultTimeout is used.
func NewForwarder(targets Targets, signer *sign.Signer, timeout time.Duration) *Forwarder {
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	client := &http.Client{
		// Deliveries go to the developer's own machine: never through a proxy.
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     30 * time.Second,
		},
		Timeout: timeout,
		// A followed redirect can turn the POST into a GET; record it instead.
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return &Forwarder{client: client, targets: targets, signer: signer}
}

// SetTargets replaces the delivery targets.
func (f *Forwarder) SetTargets(t Targets) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.targets = t
}

// SetSigner replaces the signer; nil means passthrough.
func (f *Forwarder) SetSigner(s *sign.Signer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signer = s
}

// Target returns where an event of type typ goes now.
func (f *Forwarder) Target(typ string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.targets.For(typ)
}

// SignMode names the current signing mode.
func (f *Forwarder) SignMode() sign.Mode {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.signer == nil {
		return sign.ModePassthrough
	}
	return f.signer.Mode()
}

// Delivery says what to send: the event, and optionally another body.
type Delivery struct {
	Event  history.Event
	Body   []byte // if nil, Event.Body
	Replay bool   // adds X-Hookrelay-Replay: 1
	N      int    // attempt number, from 1
}

func (d *Delivery) body() []byte {
	if d.Body != nil {
		return d.Body
	}
	return d.Event.Body
}

// Request builds the signed request of d as of now, and the target it goes to.
func (f *Forwarder) Request(
	ctx context.Context, d *Delivery, now time.Time,
) (*http.Request, error) {
	f.mu.Lock()
	target, signer := f.targets.For(d.Event.Type), f.signer
	f.mu.Unlock()

	body := d.body()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request to %s: %w", target, err)
	}
	copyHeader(req.Header, d.Event.Header)
	req.Header.Set(HeaderSeq, strconv.FormatInt(d.Event.Seq, 10))
	if d.Replay {
		req.Header.Set(HeaderReplay, "1")
	}
	if signer != nil {
		if err := signer.Sign(req.Header, d.Event.WebhookID, body, now); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// Deliver sends d once and returns the attempt it made, never an error: a
// failure is an attempt with its Outcome.
func (f *Forwarder) Deliver(ctx context.Context, d *Delivery) history.Attempt {
	start := time.Now()
	a := history.Attempt{
		EventID:   d.Event.ID,
		N:         d.N,
		Replay:    d.Replay,
		StartedAt: start,
	}
	if d.Body != nil {
		a.Edited = true
		a.Body = d.Body
	}
	req, err := f.Request(ctx, d, start)
	if err != nil {
		a.Outcome, a.Error = history.OutcomeFailed, err.Error()
		return a
	}
	a.Target = req.URL.String()
	a.RequestHeader = req.Header.Clone()

	resp, err := f.client.Do(req)
	if err != nil {
		a.Latency = time.Since(start)
		a.Outcome, a.Error = classify(err)
		return a
	}
	a.ResponseBody, _ = io.ReadAll(io.LimitReader(resp.Body, history.MaxResponseBody))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	resp.Body.Close()
	a.Latency = time.Since(start)
	a.Status = resp.StatusCode
	a.ResponseHeader = resp.Header
	a.Outcome = outcomeOf(resp.StatusCode)
	return a
}

func outcomeOf(status int) history.Outcome {
	switch {
	case status >= 200 && status < 300:
		return history.OutcomeDelivered
	case status >= 300 && status < 400:
		return history.OutcomeRedirect
	case status >= 500:
		return history.OutcomeServerErr
	default:
		return history.OutcomeRejected
	}
}

func classify(err error) (history.Outcome, string) {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return history.OutcomeRefused, "connection refused"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return history.OutcomeTimeout, "no answer within the timeout"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF):
		return history.OutcomeFailed, "connection closed by the app"
	}
	return history.OutcomeFailed, err.Error()
}

// Retryable reports whether an attempt with outcome o is worth repeating.
func Retryable(o history.Outcome) bool {
	switch o {
	case history.OutcomeRefused, history.OutcomeTimeout, history.OutcomeServerErr,
		history.OutcomeFailed:
		return true
	}
	return false
}

// hopHeaders are not forwarded: they describe one connection, not the
// message (RFC 9110 section 7.6.1), and Host belongs to the target.
var hopHeaders = map[string]bool{
	"Connection":          true,
	"Keep-Alive":          true,
	"Proxy-Authenticate":  true,
	"Proxy-Authorization": true,
	"Proxy-Connection":    true,
	"Te":                  true,
	"Trailer":             true,
	"Transfer-Encoding":   true,
	"Upgrade":             true,
	"Host":                true,
	"Content-Length":      true,
}

// copyHeader copies every value of every end-to-end header of src to dst.
func copyHeader(dst, src http.Header) {
	named := map[string]bool{}
	for _, v := range src.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			named[http.CanonicalHeaderKey(strings.TrimSpace(name))] = true
		}
	}
	for k, vs := range src {
		ck := http.CanonicalHeaderKey(k)
		if hopHeaders[ck] || named[ck] {
			continue
		}
		dst[ck] = append(dst[ck], vs...)
	}
}
