package faultnet

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// ErrDropped is the error a dropped request fails with, as a reset
// connection would.
var ErrDropped = errors.New("faultnet: connection dropped")

// Fault is what the transport does to the requests of one host. The zero
// Fault passes every request through untouched.
type Fault struct {
	// Drop fails the request with ErrDropped without sending it.
	Drop bool
	// Delay holds the request this long before sending it (less if the
	// request's context ends first).
	Delay time.Duration
	// Hang holds the request until its context ends, and fails it with
	// the context's error: a peer that accepted the connection and never
	// answers.
	Hang bool
	// Corrupt flips one byte, at a seeded offset, of the body of every
	// successful (2xx) answer with a non-empty body. The body is streamed,
	// never read whole.
	Corrupt bool
	// Chance is the probability that a matching request is hit, drawn
	// from the seeded rand; zero (or one) hits every matching request.
	Chance float64
	// Match narrows the fault to the requests it returns true for (a
	// path, a method); nil matches every request to the host.
	Match func(*http.Request) bool
}

// Transport is an http.RoundTripper applying a Fault per target host
// (the request URL's host:port). Its methods are safe for concurrent use.
type Transport struct {
	base http.RoundTripper

	mu     sync.Mutex
	rand   *rand.Rand
	faults map[string]Fault
	seen   map[string]int // requests per host
	hit    map[string]int // requests per host a fault applied to
}

// New returns a Transport sending through base (http.DefaultTransport if
// nil), with every random choice drawn from seed.
func New(base http.RoundTripper, seed uint64) *Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &Transport{base: base, rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		faults: map[string]Fault{}, seen: map[string]int{}, hit: map[string]int{}}
}

// Set makes f the fault of host (host:port), replacing any earlier one,
// and restarts host's counts.
func (t *Transport) Set(host string, f Fault) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults[host] = f
	delete(t.seen, host)
	delete(t.hit, host)
}

// Clear heals host: its requests pass through again.
func (t *Transport) Clear(host string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.faults, host)
}

// Requests returns how many requests to host the transport saw, and how
// many of them a fault hit, since host's fault was last Set.
func (t *Transport) Requests(host string) (seen, hit int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seen[host], t.hit[host]
}

// RoundTrip applies host's fault to req.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	f, hit, offset := t.decide(req)
	if !hit {
		return t.base.RoundTrip(req)
	}
	switch {
	case f.Drop:
		closeBody(req)
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL, ErrDropped)
	case f.Hang:
		closeBody(req)
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	if f.Delay > 0 {
		timer := time.NewTimer(f.Delay)
		select {
		case <-timer.C:
		case <-req.Context().Done():
			timer.Stop()
			closeBody(req)
			return nil, req.Context().Err()
		}
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil || !f.Corrupt || resp.StatusCode/100 != 2 || resp.Body == nil || resp.Body == http.NoBody {
		return resp, err
	}
	at := int64(0)
	if resp.ContentLength > 0 {
		at = int64(offset * float64(resp.ContentLength))
	}
	resp.Body = &corruptBody{ReadCloser: resp.Body, at: at, mask: 0x55}
	return resp, nil
}

// decide reports host's fault, whether it hits req, and a seeded
// fraction for the offset a corruption flips.
func (t *Transport) decide(req *http.Request) (Fault, bool, float64) {
	host := req.URL.Host
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seen[host]++
	f, ok := t.faults[host]
	if !ok || (f.Match != nil && !f.Match(req)) {
		return f, false, 0
	}
	if f.Chance > 0 && f.Chance < 1 && t.rand.Float64() >= f.Chance {
		return f, false, 0
	}
	t.hit[host]++
	return f, true, t.rand.Float64()
}

// closeBody closes a request body the transport will not send, as
// RoundTrip's contract asks.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// corruptBody flips the byte at offset at as it streams past; with an
// unknown length, at is 0.
type corruptBody struct {
	io.ReadCloser
	at   int64 // offset of the byte to flip
	read int64 // bytes read so far
	mask byte
}

func (c *corruptBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if c.at >= c.read && c.at < c.read+int64(n) {
		p[c.at-c.read] ^= c.mask
	}
	c.read += int64(n)
	return n, err
}
