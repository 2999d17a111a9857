package provider

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cairn-storage/cairn/core"
)

// metrics live in a registry of their own per server, so two servers in one
// process (tests, devnet) never share or collide.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec   // route, code
	latency  *prometheus.HistogramVec // route
	bytes    *prometheus.GaugeVec     // bucket
	leaves   *prometheus.GaugeVec     // bucket
	syncLag  *prometheus.GaugeVec     // bucket
	synced   prometheus.Counter
	// peerFailures counts failed syncs from peers (garbage, hangs, lies);
	// per peer they live in Server.peerFails, not in labels.
	peerFailures prometheus.Counter
	challenges   *prometheus.CounterVec // result
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_provider_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cairn_provider_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"route"}),
		bytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cairn_provider_bucket_bytes", Help: "Bytes in a bucket's log (sum of leaf sizes).",
		}, []string{"bucket"}),
		leaves: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cairn_provider_bucket_leaves", Help: "Leaves in a bucket's log.",
		}, []string{"bucket"}),
		syncLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cairn_provider_sync_lag_leaves", Help: "Leaves this provider is behind the most advanced peer of a bucket.",
		}, []string{"bucket"}),
		synced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_provider_sync_leaves_total", Help: "Leaves pulled from peers.",
		}),
		peerFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_provider_sync_peer_failures_total", Help: "Failed syncs from peers (bad answers, timeouts, refusals).",
		}),
		challenges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_provider_challenges_total", Help: "Challenge answers by result (answered, failed).",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.bytes, m.leaves, m.syncLag, m.synced, m.peerFailures, m.challenges,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) logSize(b core.BucketID, leaves, bytes uint64) {
	m.leaves.WithLabelValues(b.String()).Set(float64(leaves))
	m.bytes.WithLabelValues(b.String()).Set(float64(bytes))
}
