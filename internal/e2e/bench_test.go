package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
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

// BenchmarkBurstRelayVsDirect sends bursts of 100 webhooks from 4 senders,
// straight to the app (the baseline) and through relay and agent, and
// reports the throughput of each and their ratio. Through the relay, a burst
// ends when the app has every event, delivered in order.
//
//	go test -run '^$' -bench BurstRelayVsDirect -benchtime 5x ./internal/e2e
func BenchmarkBurstRelayVsDirect(b *testing.B) {
	const burst, senders = 100, 4
	r := startRelay(b)
	a := startApp(b, appSecret)
	runAgent(b, agent.Config{Relay: r.URL, ForwardTo: a.URL}, filepath.Join(b.TempDir(), "h.db"))
	body := sampleBody(b, "batch.completed")

	send := func(url, secret string, round int) {
		var wg sync.WaitGroup
		for s := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := s; i < burst; i += senders {
					id := fmt.Sprintf("wh_burst_%d_%d", round, i)
					resp, err := http.DefaultClient.Do(
						signedRequest(b, url, secret, id, body, time.Now()))
					if err != nil {
						b.Error(err)
						return
					}
					resp.Body.Close()
				}
			}()
		}
		wg.Wait()
	}
	var direct, relayed time.Duration
	total := 0
	b.ResetTimer()
	for round := range b.N {
		start := time.Now()
		send(a.URL, appSecret, 2*round)
		total += burst
		a.waitFor(b, total)
		direct += time.Since(start)

		start = time.Now()
		send(r.URL+"/webhooks/openai", openaiSecret, 2*round+1)
		total += burst
		a.waitFor(b, total)
		relayed += time.Since(start)
	}
	b.StopTimer()
	events := float64(burst * b.N)
	b.ReportMetric(events/direct.Seconds(), "direct-events/s")
	b.ReportMetric(events/relayed.Seconds(), "relayed-events/s")
	b.ReportMetric(float64(relayed)/float64(direct), "relayed/direct")
}
