package webdav

import (
	"net/http"
	"strconv"
	"time"

	"github.com/cairn-storage/cairn/internal/httpconn"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts a gateway's requests by method and status, times them
// and counts those in flight.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight *prometheus.GaugeVec
}

// NewMetrics registers the gateway's metrics (cairn_gateway_*) with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_gateway_requests_total", Help: "Gateway requests by protocol, method and status code.",
		}, []string{"protocol", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cairn_gateway_request_seconds", Help: "Gateway request durations by protocol and method.",
			Buckets: prometheus.ExponentialBuckets(0.005, 4, 9),
		}, []string{"protocol", "method"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cairn_gateway_requests_in_flight", Help: "Gateway requests being served, by protocol.",
		}, []string{"protocol"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.inFlight} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Wrap counts and times next's requests under protocol.
func (m *Metrics) Wrap(protocol string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		g := m.inFlight.WithLabelValues(protocol)
		g.Inc()
		defer g.Dec()
		sw := httpconn.NewStatusWriter(w)
		next.ServeHTTP(sw, r)
		method := knownMethod(r.Method)
		m.requests.WithLabelValues(protocol, method, strconv.Itoa(sw.Status())).Inc()
		m.duration.WithLabelValues(protocol, method).Observe(time.Since(start).Seconds())
	})
}

// knownMethod keeps the method label's values few, whatever clients send.
func knownMethod(m string) string {
	switch m {
	case "GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK":
		return m
	}
	return "other"
}
