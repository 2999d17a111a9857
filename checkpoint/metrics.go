package checkpoint

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are recorded inside the manager, so no caller can forget to.
type metrics struct {
	latency         *prometheus.HistogramVec
	results         *prometheus.CounterVec
	providerHealth  *prometheus.GaugeVec
	providerLatency *prometheus.HistogramVec
	conflicts       *prometheus.CounterVec
	challenges      prometheus.Counter
	equivocations   prometheus.Counter
	audits          *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "cairn", Subsystem: "checkpoint", Name: "duration_seconds",
			Help:    "Time from the start of collection to the checkpoint's outcome.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}, []string{"result"}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "cairn", Subsystem: "checkpoint", Name: "results_total",
			Help: "Checkpoint attempts by result.",
		}, []string{"result"}),
		providerHealth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "cairn", Subsystem: "checkpoint", Name: "provider_status",
			Help: "Provider health as seen by this client: 0 unknown, 1 healthy, 2 degraded, 3 unreachable.",
		}, []string{"provider"}),
		providerLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "cairn", Subsystem: "checkpoint", Name: "provider_request_seconds",
			Help:    "Latency of commitment requests by outcome.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"outcome"}),
		conflicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "cairn", Subsystem: "checkpoint", Name: "conflicts_total",
			Help: "Disagreeing providers by conflict kind.",
		}, []string{"kind"}),
		challenges: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "cairn", Subsystem: "checkpoint", Name: "challenges_opened_total",
			Help: "Challenges this manager opened.",
		}),
		equivocations: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "cairn", Subsystem: "checkpoint", Name: "equivocations_reported_total",
			Help: "Writer equivocations (two writer-signed leaves at one seq) this manager reported.",
		}),
		audits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "cairn", Subsystem: "checkpoint", Name: "audits_total",
			Help: "Random audits by outcome.",
		}, []string{"outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.latency, m.results, m.providerHealth, m.providerLatency, m.conflicts, m.challenges, m.equivocations, m.audits)
	}
	return m
}
