package faultnet

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// DeadlineProbe is a transport that records the deadline of the last
// request it is given and fails the request, so a client's timeout rule
// is tested with no server behind it.
type DeadlineProbe struct {
	mu       sync.Mutex
	deadline time.Time
	has      bool
}

// ErrProbe is the error every request through a DeadlineProbe gets.
var ErrProbe = errors.New("faultnet: deadline probe, no server")

func (p *DeadlineProbe) RoundTrip(r *http.Request) (*http.Response, error) {
	p.mu.Lock()
	p.deadline, p.has = r.Context().Deadline()
	p.mu.Unlock()
	return nil, ErrProbe
}

// Check reports how the recorded deadline differs from want after start
// (want 0: no deadline); a deadline up to 5 s later than want passes, for
// the time between start and the request.
func (p *DeadlineProbe) Check(start time.Time, want time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	got := p.deadline.Sub(start)
	switch {
	case want == 0 && p.has:
		return fmt.Errorf("request deadline in %v, want none", got)
	case want != 0 && !p.has:
		return fmt.Errorf("request has no deadline, want one in %v", want)
	case want != 0 && (got < want || got > want+5*time.Second):
		return fmt.Errorf("request deadline in %v, want %v", got, want)
	}
	return nil
}
