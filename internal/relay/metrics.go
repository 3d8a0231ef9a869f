package relay

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// outcome says what became of one webhook request; it labels metrics and logs.
type outcome string

// Webhook outcomes.
const (
	outcomeStored          outcome = "stored"            // committed
	outcomeDuplicate       outcome = "duplicate"         // webhook-id already stored
	outcomeBadHeaders      outcome = "bad_headers"       // signature headers missing or malformed
	outcomeBadSignature    outcome = "bad_signature"     // no signature matched, or stale timestamp
	outcomeNotObject       outcome = "not_json_object"   // signed body is not a JSON object
	outcomeTooLarge        outcome = "too_large"         // body over MaxBody
	outcomeHeadersTooLarge outcome = "headers_too_large" // event would not fit a wire message
	outcomeBadBody         outcome = "unreadable_body"   // body could not be read
	outcomeStoreError      outcome = "store_error"       // the store failed; OpenAI retries
	outcomeUnknownChannel  outcome = "unknown_channel"   // no such channel
	outcomeBadMethod       outcome = "bad_method"        // not a POST
)

// metrics are the relay's Prometheus collectors. Labels carry only channel
// names and outcomes, never a secret or token.
type metrics struct {
	webhooks      *prometheus.CounterVec // by channel and outcome
	stored        *prometheus.CounterVec // by channel
	agents        *prometheus.GaugeVec   // by channel
	pushed        *prometheus.CounterVec // by channel
	windowStalls  *prometheus.CounterVec // by channel
	commitSeconds prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, channels []string) (*metrics, error) {
	m := &metrics{
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookrelay_webhooks_total",
			Help: "Webhook requests received, by channel and outcome.",
		}, []string{"channel", "outcome"}),
		stored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookrelay_events_stored_total",
			Help: "Events newly committed to the store, by channel.",
		}, []string{"channel"}),
		agents: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hookrelay_agents_connected",
			Help: "Agents connected to this instance, by channel.",
		}, []string{"channel"}),
		pushed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookrelay_events_pushed_total",
			Help: "Events sent to agents, by channel.",
		}, []string{"channel"}),
		windowStalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookrelay_agent_window_full_total",
			Help: "Times an agent's stream paused until the agent acknowledged events.",
		}, []string{"channel"}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hookrelay_store_commit_seconds",
			Help:    "Time to commit a webhook to the store.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	m.init(channels)
	return m, nil
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		m.webhooks, m.stored, m.agents, m.pushed, m.windowStalls, m.commitSeconds,
	}
}

// init creates the series of every channel so that they read 0 before the
// first event.
func (m *metrics) init(channels []string) {
	for _, c := range channels {
		m.webhooks.WithLabelValues(c, string(outcomeStored))
		m.stored.WithLabelValues(c)
		m.agents.WithLabelValues(c)
		m.pushed.WithLabelValues(c)
		m.windowStalls.WithLabelValues(c)
	}
}
