package relay_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

func Example() {
	dir, err := os.MkdirTemp("", "relay-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := store.OpenSQLite(filepath.Join(dir, "relay.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	const secret = "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c="
	srv, err := relay.New(relay.Config{
		Channels: []relay.Channel{{Name: "default", Secret: secret, Token: "agent-token"}},
	}, st)
	if err != nil {
		log.Fatal(err)
	}
	// In production: srv.Serve(ctx, listener).
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	// OpenAI's side: a signed webhook.
	body := []byte(`{"object":"event","id":"evt_1","type":"response.completed","data":{}}`)
	now := time.Now()
	wh, _ := standardwebhooks.NewWebhook(secret)
	sig, _ := wh.Sign("wh_1", now, body)
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/webhooks/openai", bytes.NewReader(body))
	req.Header.Set("webhook-id", "wh_1")
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("%d %s", resp.StatusCode, answer)
	// Output: 200 {"status":"received","id":"wh_1"}
}
