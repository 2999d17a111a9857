package provider

import (
	"context"
	"log/slog"
	"time"
)

// follow is the one shape of the provider's loops that follow the chain:
// act on hints from a subscription (chain events, which may drop), also
// act on a tick every interval (the tick is what makes a dropped hint
// harmless), and resubscribe at the next tick when the stream ends or
// could not be opened.
type follow[T any] struct {
	name      string
	every     time.Duration
	subscribe func(ctx context.Context) (<-chan T, error)
	hint      func(ctx context.Context, h T)
	tick      func(ctx context.Context)
	tickFirst bool // tick once at start, before the first interval
	// ticker makes the ticks (default time.NewTicker); tests step it.
	ticker func(d time.Duration) (<-chan time.Time, func())
}

func realTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// run follows until ctx ends.
func (f follow[T]) run(ctx context.Context, log *slog.Logger) {
	var hints <-chan T
	subscribe := func() {
		ch, err := f.subscribe(ctx)
		if err != nil {
			log.Debug("subscribing", "loop", f.name, "err", err)
			return
		}
		hints = ch
	}
	subscribe()
	newTicker := f.ticker
	if newTicker == nil {
		newTicker = realTicker
	}
	ticks, stop := newTicker(f.every)
	defer stop()
	if f.tickFirst {
		f.tick(ctx)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case h, ok := <-hints:
			if !ok {
				hints = nil // ended: resubscribe at the next tick
				continue
			}
			f.hint(ctx, h)
		case <-ticks:
			if hints != nil { // a stream that ended as the tick came is seen now, not an interval later
				select {
				case h, ok := <-hints:
					if !ok {
						hints = nil
					} else {
						f.hint(ctx, h)
					}
				default:
				}
			}
			if hints == nil {
				subscribe()
			}
			if ctx.Err() != nil {
				return
			}
			f.tick(ctx)
		}
	}
}
