package providers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// Status is a provider's health as seen from this client.
type Status int

const (
	StatusUnknown     Status = iota // no requests recorded yet
	StatusHealthy                   // success rate > 80 % and < 3 consecutive failures
	StatusDegraded                  // in between
	StatusUnreachable               // 5 or more consecutive failures
)

func (s Status) String() string {
	switch s {
	case StatusHealthy:
		return "healthy"
	case StatusDegraded:
		return "degraded"
	case StatusUnreachable:
		return "unreachable"
	}
	return "unknown"
}

// MarshalText gives the wire name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses the wire name.
func (k *Status) UnmarshalText(b []byte) error {
	for c := StatusUnknown; c <= StatusUnreachable; c++ {
		if c.String() == string(b) {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("unknown Status %q", b)
}

// historyLen is how many recent outcomes a Health keeps.
const historyLen = 10

// Health is the record of one provider's answers to this client.
type Health struct {
	TotalRequests       uint64 `json:"total_requests"`
	Successes           uint64 `json:"successes"`
	ConsecutiveFailures int    `json:"consecutive_failures"`
	// ConsecutiveTimeouts counts the failures in a row that were timeouts
	// (no answer at all); any answer or another failure resets it.
	ConsecutiveTimeouts int `json:"consecutive_timeouts,omitempty"`
	// ConsecutiveMisses counts the rounds in a row in which the provider
	// had not answered when the others had and the wait for stragglers
	// ended (Pool.Miss). A miss is not a failure: it leaves the status
	// alone. Any answer resets it.
	ConsecutiveMisses int           `json:"consecutive_misses,omitempty"`
	LastLatency       time.Duration `json:"last_latency_ns"`
	AvgLatency        time.Duration `json:"avg_latency_ns"` // exponentially weighted, α = 0.2
	LastError         string        `json:"last_error,omitempty"`
	LastSuccess       time.Time     `json:"last_success,omitempty"`
	UnreachableSince  time.Time     `json:"unreachable_since,omitempty"`
	Recent            []Status      `json:"recent"` // the status after each of the last 10 requests
}

// SuccessRate is successes / requests (0 with no requests).
func (h *Health) SuccessRate() float64 {
	if h.TotalRequests == 0 {
		return 0
	}
	return float64(h.Successes) / float64(h.TotalRequests)
}

// Status classifies the history: unknown with no requests, unreachable
// from 5 consecutive failures, healthy when the success rate is above 80 %
// and there are fewer than 3 consecutive failures, degraded otherwise.
func (h *Health) Status() Status {
	switch {
	case h.TotalRequests == 0:
		return StatusUnknown
	case h.ConsecutiveFailures >= 5:
		return StatusUnreachable
	case h.SuccessRate() > 0.8 && h.ConsecutiveFailures < 3:
		return StatusHealthy
	}
	return StatusDegraded
}

// MissesUnresponsive is how many straggler waits in a row a provider may
// miss before it counts as unresponsive.
const MissesUnresponsive = 3

// Unresponsive reports whether the provider is known not to answer:
// unreachable, degraded with its latest failures all timeouts, or missing
// the wait for stragglers MissesUnresponsive times in a row. Callers
// do not wait on such a provider beyond what they need from it; they probe
// it with a short timeout, and one answer puts it back.
func (h *Health) Unresponsive() bool {
	if h.ConsecutiveMisses >= MissesUnresponsive {
		return true
	}
	switch h.Status() {
	case StatusUnreachable:
		return true
	case StatusDegraded:
		return h.ConsecutiveTimeouts > 0
	}
	return false
}

// IsTimeout reports whether err is a request that got no answer in time:
// a context deadline or a network timeout anywhere in its chain.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// IsHealthy reports Status() == StatusHealthy.
func (h *Health) IsHealthy() bool { return h.Status() == StatusHealthy }

// Record adds one request's outcome.
func (h *Health) Record(now time.Time, latency time.Duration, err error) {
	h.TotalRequests++
	h.LastLatency = latency
	if h.AvgLatency == 0 {
		h.AvgLatency = latency
	} else {
		h.AvgLatency = (h.AvgLatency*4 + latency) / 5
	}
	if err == nil {
		h.Successes++
		h.ConsecutiveFailures = 0
		h.LastError = ""
		h.LastSuccess = now
		h.UnreachableSince = time.Time{}
		h.ConsecutiveTimeouts = 0
		h.ConsecutiveMisses = 0
	} else {
		h.ConsecutiveFailures++
		if IsTimeout(err) {
			h.ConsecutiveTimeouts++
		} else {
			h.ConsecutiveTimeouts = 0
		}
		h.LastError = err.Error()
	}
	st := h.Status()
	if st == StatusUnreachable && h.UnreachableSince.IsZero() {
		h.UnreachableSince = now
	}
	h.Recent = append(h.Recent, st)
	if len(h.Recent) > historyLen {
		h.Recent = append(h.Recent[:0], h.Recent[len(h.Recent)-historyLen:]...)
	}
}

// Clone is a copy that shares nothing with h.
func (h *Health) Clone() Health {
	c := *h
	c.Recent = append([]Status(nil), h.Recent...)
	return c
}
