package backoff

import (
	"context"
	"math"
	"time"

	"github.com/cairn-storage/cairn/core"
)

// Policy is how often and how patiently to retry.
type Policy struct {
	// Retries is the number of retries after the first attempt.
	Retries int
	// Initial is the delay before the first retry; it doubles after each.
	Initial time.Duration
	// Max caps the delay (0: no cap).
	Max time.Duration
}

// Delay is the wait before retry n (1 for the first retry): Initial
// doubled n-1 times, capped at Max. It never overflows.
func (p Policy) Delay(n int) time.Duration {
	d := p.Initial
	for i := 1; i < n && d > 0; i++ {
		if p.Max > 0 && d >= p.Max {
			break
		}
		if d > math.MaxInt64/2 {
			break
		}
		d *= 2
	}
	if p.Max > 0 && d > p.Max {
		d = p.Max
	}
	return d
}

// After is time.After, injectable: a channel that fires once after d.
type After func(d time.Duration) <-chan time.Time

// Retry calls try (attempt 0, 1, ...) until it succeeds, fails with an error
// whose kind is not retryable (only core.Unavailable is), the policy's
// retries are spent, or ctx ends. It returns nil or the last error; ctx's
// error if ctx ended while waiting. A nil after is time.After.
func Retry(ctx context.Context, p Policy, after After, try func(attempt int) error) error {
	if after == nil {
		after = time.After
	}
	var last error
	for attempt := 0; attempt <= p.Retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-after(p.Delay(attempt)):
			}
		}
		last = try(attempt)
		if last == nil || !core.KindOf(last).Retryable() {
			return last
		}
	}
	return last
}
