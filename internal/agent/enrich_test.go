package agent

import (
	"errors"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/hookrelay/hookrelay/internal/enrich"
	"github.com/hookrelay/hookrelay/internal/history"
	"github.com/hookrelay/hookrelay/internal/trigger/fakeopenai"
)

func TestEnrichUsesTheCache(t *testing.T) {
	fake := fakeopenai.Start(fakeopenai.Config{OutputText: "pong"})
	t.Cleanup(fake.Close)
	client := openai.NewClient(option.WithBaseURL(fake.URL), option.WithAPIKey("sk-test"),
		option.WithMaxRetries(0))
	resp, err := client.Responses.New(t.Context(), responses.ResponseNewParams{
		Model: openai.ChatModelGPT5Nano,
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("ping")},
	})
	if err != nil {
		t.Fatal(err)
	}
	hist := openHistory(t)
	ev, _, err := hist.Record(t.Context(), &history.Event{Source: "r/default", Seq: 1,
		WebhookID: "wh_1", Body: []byte(`{"type":"response.completed","data":{"id":"` +
			resp.ID + `"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{Relay: "http://r", Token: "t",
		Enricher: enrich.New(&client, hist, nil)}, hist)
	if err != nil {
		t.Fatal(err)
	}
	for i, wantCached := range []bool{false, true} {
		e, err := a.Enrich(t.Context(), ev.ID)
		if err != nil || e.OutputText != "pong" || e.Cached != wantCached {
			t.Fatalf("Enrich #%d = %+v, %v; want pong, cached %v", i+1, e, err, wantCached)
		}
	}
	gets := 0
	for _, r := range fake.Requests() {
		if r.Method == "GET" && strings.HasSuffix(r.Path, resp.ID) {
			gets++
		}
	}
	if gets != 1 {
		t.Errorf("the API was asked for the response %d times, want once", gets)
	}
}

func TestEnrichDisabled(t *testing.T) {
	a, err := New(Config{Relay: "http://r", Token: "t"}, openHistory(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Enrich(t.Context(), 1); !errors.Is(err, enrich.ErrDisabled) {
		t.Errorf("Enrich without an Enricher = %v, want ErrDisabled", err)
	}
}
