package sign_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/hookrelay/hookrelay/internal/sign"
)

func ExampleVerifier() {
	v, err := sign.NewVerifier("whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c=")
	if err != nil {
		fmt.Println(err)
		return
	}
	body := []byte(`{"id": "evt_685c059ae3a481909bdc86819b066fb6", "object": "event", ` +
		`"created_at": 1750861210, "type": "response.completed", "data": {"id": "resp_123"}}`)
	h := make(http.Header)
	h.Set("webhook-id", "wh_685c059ae39c8190af8c71ed1022a24d")
	h.Set("webhook-timestamp", "1750861210")
	h.Set("webhook-signature", "v1,gUAg4R2hWouRZqRQG4uJypNS8YK885G838+EHb4nKBY=")

	fmt.Println(v.Verify(h, body, time.Unix(1750861210, 0)))
	fmt.Println(v.Verify(h, body, time.Unix(1750861210, 0).Add(time.Hour)) != nil)
	// Output:
	// <nil>
	// true
}

func ExampleSigner() {
	s, err := sign.NewSigner(sign.ModeResign, "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c=")
	if err != nil {
		fmt.Println(err)
		return
	}
	body := []byte(`{"id": "evt_685c059ae3a481909bdc86819b066fb6", "object": "event", ` +
		`"created_at": 1750861210, "type": "response.completed", "data": {"id": "resp_123"}}`)
	// The headers as the relay received them, long ago.
	h := make(http.Header)
	h.Set("webhook-id", "wh_685c059ae39c8190af8c71ed1022a24d")
	h.Set("webhook-timestamp", "1700000000")
	h.Set("webhook-signature", "v1,c2lnbmVkIGJ5IHRoZSByZWxheQ==")

	// Re-sign for the local app as of the delivery time.
	if err := s.Sign(h, "", body, time.Unix(1750861210, 0)); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.Get("webhook-id"))
	fmt.Println(h.Get("webhook-timestamp"))
	fmt.Println(h.Get("webhook-signature"))
	// Output:
	// wh_685c059ae39c8190af8c71ed1022a24d
	// 1750861210
	// v1,gUAg4R2hWouRZqRQG4uJypNS8YK885G838+EHb4nKBY=
}

func ExampleSigner_hex() {
	s, err := sign.NewSigner(sign.ModeHex, "my-flask-secret")
	if err != nil {
		fmt.Println(err)
		return
	}
	h := make(http.Header)
	if err := s.Sign(h, "wh_1", []byte(`{"type":"batch.completed"}`), time.Now()); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(h.Get("X-OpenAI-Signature")))
	// Output:
	// 64
}
