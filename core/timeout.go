package core

import (
	"context"
	"time"
)

// NoTimeout, given as a client's request timeout (providerclient's
// Options.Timeout, chainclient's WithRequestTimeout), leaves each request
// bounded by the caller's context alone: for callers that set a deadline on
// every call themselves. Any negative duration means the same.
const NoTimeout time.Duration = -1

// RequestContext is the one rule by which Cairn's clients combine a
// caller's context with their own per-request timeout: the request ends at
// the earlier of ctx's deadline and timeout from now, or when ctx is
// cancelled. A timeout of NoTimeout (or 0) adds no bound of its own. A
// client resolves 0 in its options to its default before it gets here, so
// "0" in options always means "the default", never "none".
func RequestContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, timeout)
}
