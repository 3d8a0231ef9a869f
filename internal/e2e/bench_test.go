package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/agent"
)

// BenchmarkRelayVsDirect measures what the relay adds to a webhook's trip.
// Each iteration sends the same signed webhook twice: straight to the app
// (the baseline), and through relay and agent until the app has it. It
// reports both latencies and their ratio.
//
//	go test -run '^$' -bench RelayVsDirect -benchtime 200x ./internal/e2e
func BenchmarkRelayVsDirect(b *testing.B) {
	r := startRelay(b)
	a := startApp(b, appSecret)
	runAgent(b, agent.Config{Relay: r.URL, ForwardTo: a.URL}, filepath.Join(b.TempDir(), "h.db"))
	body := sampleBody(b, "response.completed")

	var direct, relayed time.Duration
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("wh_bench_%d", i)
		start := time.Now()
		req := signedRequest(b, a.URL, appSecret, id, body, time.Now())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		direct += time.Since(start)
		a.waitFor(b, 2*i+1)

		start = time.Now()
		if got := r.post(b, "/webhooks/openai", id, body); got != 200 {
			b.Fatalf("relay answered %d", got)
		}
		a.waitFor(b, 2*i+2)
		relayed += time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(float64(direct.Microseconds())/float64(b.N), "direct-µs/event")
	b.ReportMetric(float64(relayed.Microseconds())/float64(b.N), "relayed-µs/event")
	b.ReportMetric(float64(relayed)/float64(direct), "relayed/direct")
}
