package checkpoint

import (
	"fmt"
	"time"

	"github.com/cairn-storage/cairn/backoff"
	"github.com/cairn-storage/cairn/core"
)

// Config is the Checkpoint Manager's configuration. DefaultConfig gives the
// reference implementation's defaults, so results stay comparable.
type Config struct {
	// ProviderTimeout bounds one commitment request to one provider.
	ProviderTimeout time.Duration
	// HealthTimeout bounds one GET /health in CheckHealth.
	HealthTimeout time.Duration
	// MaxRetries is the number of retries after the first attempt.
	MaxRetries int
	// RetryDelay is the first back-off; it doubles after each retry
	// (2 s, 4 s, 8 s with the defaults).
	RetryDelay time.Duration
	// ThresholdPercent of all the bucket's primaries must agree:
	// required = ceil(total × ThresholdPercent / 100).
	ThresholdPercent int
	// AutoSubmit lets the background loop and Immediate drives submit on
	// their own; when false only explicit SubmitCheckpoint calls submit.
	AutoSubmit bool
	// ProviderCacheTTL is how long discovered providers are trusted before
	// the chain is asked again (a failed checkpoint also refreshes).
	ProviderCacheTTL time.Duration
	// GraceWindow caps how long collection waits for stragglers once the
	// threshold is reached, before cancelling them. The wait adapts to
	// what was observed: GraceFactor times how long the quorum took, at
	// least GraceFloor, at most GraceWindow. Ignored with WaitForAll.
	GraceWindow time.Duration
	// GraceFactor is the straggler wait as a fraction of the time the
	// quorum took (0.5: half as long again).
	GraceFactor float64
	// GraceFloor is the least straggler wait (at most GraceWindow).
	GraceFloor time.Duration
	// ProbeTimeout bounds the one request sent to a provider whose health
	// record says it does not answer (providers.Health.Unresponsive):
	// collection does not wait on it once the others reach the threshold,
	// and its answer, if any, puts it back.
	ProbeTimeout time.Duration
	// WaitForAll reproduces the reference behaviour: wait for every
	// provider (or its final timeout) before deciding. For comparison only.
	WaitForAll bool
	// SyncWaits is how many times a WaitForSync resolution is waited out
	// (collecting again after the estimated blocks) before escalating.
	SyncWaits int
	// SyncLeavesPerBlock estimates how fast a lagging provider catches up,
	// for WaitForSync's estimated blocks.
	SyncLeavesPerBlock uint64
	// MaxSyncWaitBlocks caps one WaitForSync wait.
	MaxSyncWaitBlocks uint64
	// BlockPoll is how often the chain height is polled while waiting for
	// blocks.
	BlockPoll time.Duration
	// AutoChallenge challenges providers whose data provably diverged.
	AutoChallenge AutoChallengeConfig
	// Audit samples random leaves of the last checkpoint between
	// checkpoints.
	Audit AuditConfig
}

// AutoChallengeConfig controls automatic challenges. Off by default.
type AutoChallengeConfig struct {
	Enabled bool
	// MinConflicts is how many recorded divergences of one provider it
	// takes before it is challenged (reference default 3).
	MinConflicts int
	// Cooldown is the least time between two challenges of one provider.
	Cooldown time.Duration
	// MaxPerPeriod bounds challenges opened by this manager per Period.
	MaxPerPeriod int
	Period       time.Duration
	// Deposit is the stake put into each challenge.
	Deposit uint64
}

// AuditConfig controls random audits. Off when EveryBlocks is 0.
type AuditConfig struct {
	// EveryBlocks: the loop audits each bucket it manages this often.
	EveryBlocks uint64
	// Samples is the number of (provider, leaf) pairs checked per audit.
	Samples int
}

// DefaultConfig returns the reference defaults: 30 s timeout, 3 retries
// from 2 s doubling, 51 %, auto-submit on, 300 s provider cache, plus our
// early-quorum grace for stragglers (half the time the quorum took, 10 ms
// to 200 ms) and a 2 s probe of providers known not to answer. Auto-challenge and audits are off.
func DefaultConfig() Config {
	return Config{
		ProviderTimeout:    30 * time.Second,
		HealthTimeout:      5 * time.Second,
		MaxRetries:         3,
		RetryDelay:         2 * time.Second,
		ThresholdPercent:   51,
		AutoSubmit:         true,
		ProviderCacheTTL:   300 * time.Second,
		GraceWindow:        200 * time.Millisecond,
		GraceFactor:        0.5,
		GraceFloor:         10 * time.Millisecond,
		ProbeTimeout:       2 * time.Second,
		SyncWaits:          3,
		SyncLeavesPerBlock: 100,
		MaxSyncWaitBlocks:  20,
		BlockPoll:          100 * time.Millisecond,
		AutoChallenge: AutoChallengeConfig{
			MinConflicts: 3,
			Cooldown:     10 * time.Minute,
			MaxPerPeriod: 10,
			Period:       time.Hour,
			Deposit:      1_000,
		},
		Audit: AuditConfig{Samples: 1},
	}
}

// retryPolicy is the back-off of commitment requests and submissions.
func (c Config) retryPolicy() backoff.Policy {
	return backoff.Policy{Retries: c.MaxRetries, Initial: c.RetryDelay}
}

// grace is how long to wait for stragglers after the quorum took took:
// GraceFactor x took, within [GraceFloor, GraceWindow].
func (c Config) grace(took time.Duration) time.Duration {
	g := time.Duration(float64(took) * c.GraceFactor)
	return min(max(g, c.GraceFloor), c.GraceWindow)
}

// Validate reports the first unusable setting.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return core.Errorf("checkpoint.Config", core.Invalid, format, args...)
	}
	switch {
	case c.ProviderTimeout <= 0 || c.HealthTimeout <= 0 || c.ProbeTimeout <= 0:
		return bad("provider, health and probe timeouts must be positive")
	case c.MaxRetries < 0:
		return bad("max retries must be >= 0")
	case c.RetryDelay < 0:
		return bad("retry delay must be >= 0")
	case c.ThresholdPercent < 1 || c.ThresholdPercent > 100:
		return bad("threshold must be 1..100 percent, got %d", c.ThresholdPercent)
	case c.ProviderCacheTTL < 0 || c.GraceWindow < 0:
		return bad("cache TTL and grace window must be >= 0")
	case c.GraceFloor < 0 || c.GraceFloor > c.GraceWindow:
		return bad("grace floor must be 0..grace window (%s), got %s", c.GraceWindow, c.GraceFloor)
	case !(c.GraceFactor >= 0 && c.GraceFactor <= 100):
		return bad("grace factor must be 0..100, got %v", c.GraceFactor)
	case c.SyncWaits < 0:
		return bad("sync waits must be >= 0")
	case c.BlockPoll <= 0:
		return bad("block poll must be positive")
	case c.AutoChallenge.Enabled && c.AutoChallenge.MinConflicts < 1:
		return bad("auto-challenge needs min conflicts >= 1")
	case c.AutoChallenge.Enabled && (c.AutoChallenge.MaxPerPeriod < 1 || c.AutoChallenge.Period <= 0):
		return bad("auto-challenge needs a positive rate limit")
	}
	return nil
}

// LoopConfig is the reference's BatchedCheckpointConfig.
type LoopConfig struct {
	// IntervalBlocks: checkpoint dirty buckets every this many blocks.
	IntervalBlocks uint64
	// IntervalDuration: or every this long (used when IntervalBlocks is 0).
	IntervalDuration time.Duration
	// SubmitOnEmpty checkpoints buckets with no recorded changes too.
	SubmitOnEmpty bool
	// MaxConsecutiveFailures pauses the loop (auto-pause) after this many
	// failed rounds in a row.
	MaxConsecutiveFailures int
	// FailureRetryDelay is the least time between a failed attempt on a
	// bucket and the next.
	FailureRetryDelay time.Duration
}

// DefaultLoopConfig: every 100 blocks, only when dirty, pause after 5
// consecutive failures, 30 s failure back-off.
func DefaultLoopConfig() LoopConfig {
	return LoopConfig{IntervalBlocks: 100, MaxConsecutiveFailures: 5, FailureRetryDelay: 30 * time.Second}
}

// Validate reports the first unusable setting.
func (c LoopConfig) Validate() error {
	if c.IntervalBlocks == 0 && c.IntervalDuration <= 0 {
		return core.Errorf("checkpoint.LoopConfig", core.Invalid, "an interval in blocks or as a duration is required")
	}
	if c.MaxConsecutiveFailures < 1 {
		return core.Errorf("checkpoint.LoopConfig", core.Invalid, "max consecutive failures must be >= 1")
	}
	return nil
}

func (c LoopConfig) String() string {
	if c.IntervalBlocks > 0 {
		return fmt.Sprintf("every %d blocks", c.IntervalBlocks)
	}
	return fmt.Sprintf("every %s", c.IntervalDuration)
}
