package ui

import (
	"time"

	"github.com/cairn-storage/cairn/core"
)

// Config bounds the dashboard's work and its clients.
type Config struct {
	// MaxClients is how many /api/events streams may be open at once;
	// one more is refused with 503.
	MaxClients int
	// ClientBuffer is how many events may wait for one stream; a client
	// that falls further behind is dropped (its page reconnects).
	ClientBuffer int
	// WriteTimeout bounds one write to an event stream; a client that
	// does not read is dropped.
	WriteTimeout time.Duration
	// ProbeEvery is how many blocks pass between two probes of the
	// providers (health check and signed commitments).
	ProbeEvery int64
	// History is how many of a bucket's latest checkpoints the timeline
	// and the plot show, and of its latest closed challenges (every open
	// one is shown).
	History int
	// RefreshTimeout bounds one refresh from the chain and one probe.
	RefreshTimeout time.Duration
}

// DefaultConfig is the dashboard's default: 16 streams, a probe every 10
// blocks (about 2 s on a dev chain), the last 60 checkpoints.
func DefaultConfig() Config {
	return Config{
		MaxClients:     16,
		ClientBuffer:   32,
		WriteTimeout:   10 * time.Second,
		ProbeEvery:     10,
		History:        60,
		RefreshTimeout: 30 * time.Second,
	}
}

// Validate refuses limits that are zero or negative.
func (c Config) Validate() error {
	const op = "ui.Config"
	switch {
	case c.MaxClients <= 0 || c.ClientBuffer <= 0:
		return core.Errorf(op, core.Invalid, "MaxClients and ClientBuffer must be positive")
	case c.WriteTimeout <= 0 || c.RefreshTimeout <= 0:
		return core.Errorf(op, core.Invalid, "WriteTimeout and RefreshTimeout must be positive")
	case c.ProbeEvery <= 0 || c.History <= 0:
		return core.Errorf(op, core.Invalid, "ProbeEvery and History must be positive")
	}
	return nil
}
