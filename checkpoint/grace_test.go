package checkpoint

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providers"
)

// graceClock is a clock that stands still and records every wait asked
// of it; each wait ends at once. Tests assert which waits were asked (a
// grace of GraceWindow, a timeout), never how long anything took.
type graceClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (c *graceClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *graceClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func (c *graceClock) asked() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.waits)
}

func TestGraceAdapts(t *testing.T) {
	cfg := DefaultConfig() // half the quorum's time, 10 ms to 200 ms
	for _, tt := range []struct {
		took, want time.Duration
	}{
		{0, 10 * time.Millisecond},
		{4 * time.Millisecond, 10 * time.Millisecond},
		{60 * time.Millisecond, 30 * time.Millisecond},
		{300 * time.Millisecond, 150 * time.Millisecond},
		{2 * time.Second, 200 * time.Millisecond},
	} {
		if got := cfg.grace(tt.took); got != tt.want {
			t.Errorf("quorum took %s: grace %s, want %s", tt.took, got, tt.want)
		}
	}
}

func TestGraceConfigValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(*Config)
		ok   bool
	}{
		{"defaults", func(*Config) {}, true},
		{"fixed grace: floor = cap", func(c *Config) { c.GraceFloor = c.GraceWindow }, true},
		{"no grace", func(c *Config) { c.GraceFloor, c.GraceWindow, c.GraceFactor = 0, 0, 0 }, true},
		{"floor above the cap", func(c *Config) { c.GraceFloor = c.GraceWindow + 1 }, false},
		{"negative floor", func(c *Config) { c.GraceFloor = -1 }, false},
		{"negative factor", func(c *Config) { c.GraceFactor = -0.5 }, false},
		{"NaN factor", func(c *Config) { c.GraceFactor = float64(zero) / float64(zero) }, false},
		{"no probe timeout", func(c *Config) { c.ProbeTimeout = 0 }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			if (err == nil) != tt.ok || (err != nil && core.KindOf(err) != core.Invalid) {
				t.Fatalf("validate: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

var zero = 0.0

// With one of five hung and nothing known about it, collection returns
// once the others agree, after the adaptive grace (the floor here: the
// clock stands still, so the quorum took no time), never GraceWindow.
func TestEarlyQuorumWaitsAdaptiveGrace(t *testing.T) {
	ps := cluster(5, 4)
	ps[4].hang.Store(true)
	clk := &graceClock{now: time.Unix(1000, 0)}
	cfg := testConfig()
	cfg.ProviderTimeout = time.Hour
	cfg.GraceWindow = time.Hour // what a fixed grace would wait
	m := newManager(t, newFakeChain(ps...), cfg, WithClock(clk))

	coll, err := m.CollectCommitments(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	if got := clk.asked(); !slices.Equal(got, []time.Duration{cfg.GraceFloor}) {
		t.Fatalf("waits asked %v, want one grace of %s", got, cfg.GraceFloor)
	}
	hung := ps[4].key.Account()
	if !coll.Reached || len(coll.Agreeing) < coll.Required || !slices.Contains(coll.Cancelled, hung) || len(coll.Probed) != 0 {
		t.Fatalf("reached %v, agreeing %d of %d, cancelled %v, probed %v", coll.Reached, len(coll.Agreeing), coll.Required, coll.Cancelled, coll.Probed)
	}
}

// errNoAnswer is what a request that got no answer records.
var errNoAnswer = fmt.Errorf("no answer: %w", context.DeadlineExceeded)

// A provider whose persisted record says it does not answer is sent one
// probe and not waited for when the others agree, in a later run (a new
// pool over the same health file) too; once it answers a probe it is put
// back, healthy, and asked in full again.
func TestUnresponsiveProviderNotWaitedThenPutBack(t *testing.T) {
	ps := cluster(5, 4)
	hung := ps[4].key.Account()
	ch := newFakeChain(ps...)
	file := filepath.Join(t.TempDir(), "alice.health.json")

	// An earlier run: 30 answers, then 5 requests without one.
	earlier, err := providers.New(ch, providers.DefaultConfig(), providers.WithHealthFile(file))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		earlier.Record(hung, time.Millisecond, nil)
	}
	for i := 0; i < 5; i++ {
		earlier.Record(hung, time.Second, errNoAnswer)
	}
	if err := earlier.Save(); err != nil {
		t.Fatal(err)
	}

	// This run: the provider is still hung, held until wake is closed.
	ps[4].wake = make(chan struct{})
	ps[4].hang.Store(true)
	pool, err := providers.New(ch, providers.DefaultConfig(), providers.WithHealthFile(file))
	if err != nil {
		t.Fatal(err)
	}
	clk := &graceClock{now: time.Unix(1000, 0)}
	cfg := testConfig()
	cfg.ProviderTimeout = time.Hour
	cfg.ProbeTimeout = time.Hour // the probe ends only when the provider answers
	cfg.GraceWindow = time.Hour
	m := newManager(t, ch, cfg, WithClock(clk), WithPool(pool))

	for round := 1; round <= 2; round++ {
		coll, err := m.CollectCommitments(context.Background(), bucket)
		if err != nil {
			t.Fatal(err)
		}
		// Returned while the probe is still held: nothing waited on it.
		if !coll.Reached || slices.Contains(coll.Agreeing, hung) || !slices.Equal(coll.Probed, []core.AccountID{hung}) || !slices.Contains(coll.Cancelled, hung) {
			t.Fatalf("round %d: reached %v, agreeing %v, probed %v, cancelled %v", round, coll.Reached, coll.Agreeing, coll.Probed, coll.Cancelled)
		}
		if coll.Total != 5 || coll.Required != 3 {
			t.Fatalf("round %d: threshold %d of %d, want 3 of all 5", round, coll.Required, coll.Total)
		}
		if n := ps[4].calls.Load(); n > int64(round) {
			t.Fatalf("round %d: the unresponsive provider was asked %d times, want one probe per round", round, n)
		}
		for _, d := range clk.asked() {
			if d >= cfg.ProbeTimeout || d >= cfg.GraceWindow {
				t.Fatalf("round %d: waited %s (asked %v)", round, d, clk.asked())
			}
		}
	}

	// It answers: the held probes get their commitments, and it is back.
	ps[4].hang.Store(false)
	close(ps[4].wake)
	m.WaitProbes()
	if n := ps[4].calls.Load(); n != 2 {
		t.Fatalf("the unresponsive provider was asked %d times in two rounds, want one probe per round", n)
	}
	h, _ := m.HealthHistory(hung)
	if h.Unresponsive() || h.Status() != providers.StatusHealthy || h.ConsecutiveFailures != 0 || h.ConsecutiveTimeouts != 0 {
		t.Fatalf("after answering a probe: %s, %+v", h.Status(), h)
	}
	calls := ps[4].calls.Load()
	coll, err := m.CollectCommitments(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	if len(coll.Probed) != 0 || ps[4].calls.Load() != calls+1 {
		t.Fatalf("put back: probed %v, asked %d times", coll.Probed, ps[4].calls.Load()-calls)
	}
}

// When the others cannot reach the threshold without it, a provider known
// not to answer is asked in full like any other.
func TestUnresponsiveAskedWhenQuorumNeedsIt(t *testing.T) {
	ps := cluster(3, 4)
	m := newManager(t, newFakeChain(ps...), testConfig())
	for _, p := range ps[:2] { // two of three: the last alone is below 2 of 3
		for i := 0; i < 5; i++ {
			m.Pool().Record(p.key.Account(), time.Second, errNoAnswer)
		}
	}
	coll, err := m.CollectCommitments(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	if len(coll.Probed) != 0 || !coll.Reached || len(coll.Agreeing) < 2 {
		t.Fatalf("probed %v, reached %v, agreeing %v", coll.Probed, coll.Reached, coll.Agreeing)
	}
}

// A probe that gets no answer within ProbeTimeout is recorded as a
// timeout, so the provider stays known as unresponsive.
func TestProbeTimeoutRecorded(t *testing.T) {
	ps := cluster(5, 4)
	ps[4].hang.Store(true)
	hung := ps[4].key.Account()
	cfg := testConfig()
	cfg.ProbeTimeout = time.Millisecond
	m := newManager(t, newFakeChain(ps...), cfg)
	for i := 0; i < 5; i++ {
		m.Pool().Record(hung, time.Second, errNoAnswer)
	}
	if _, err := m.CollectCommitments(context.Background(), bucket); err != nil {
		t.Fatal(err)
	}
	m.WaitProbes()
	if n := ps[4].calls.Load(); n != 1 {
		t.Fatalf("the unresponsive provider was asked %d times, want one probe", n)
	}
	h, _ := m.HealthHistory(hung)
	if h.TotalRequests != 6 || h.ConsecutiveTimeouts != 6 || !h.Unresponsive() {
		t.Fatalf("after a probe without answer: %+v", h)
	}
}

// A hung provider nothing is known about is cancelled by early quorum
// without a failure on its record, but each round the grace runs out on it
// is a miss; after providers.MissesUnresponsive of them it is only probed,
// in a later run too.
func TestMissedGracesMakeUnresponsive(t *testing.T) {
	ps := cluster(5, 4)
	hung := ps[4].key.Account()
	ps[4].hang.Store(true)
	ch := newFakeChain(ps...)
	file := filepath.Join(t.TempDir(), "alice.health.json")
	cfg := testConfig()
	cfg.ProviderTimeout = time.Hour
	cfg.ProbeTimeout = time.Millisecond
	run := func() *Manager {
		pool, err := providers.New(ch, providers.DefaultConfig(), providers.WithHealthFile(file))
		if err != nil {
			t.Fatal(err)
		}
		return newManager(t, ch, cfg, WithClock(&graceClock{now: time.Unix(1000, 0)}), WithPool(pool))
	}
	m := run()
	for round := 1; round <= providers.MissesUnresponsive; round++ {
		coll, err := m.CollectCommitments(context.Background(), bucket)
		if err != nil {
			t.Fatal(err)
		}
		if len(coll.Probed) != 0 || !slices.Contains(coll.Cancelled, hung) {
			t.Fatalf("round %d: probed %v, cancelled %v", round, coll.Probed, coll.Cancelled)
		}
		h, _ := m.HealthHistory(hung)
		if h.TotalRequests != 0 || h.ConsecutiveFailures != 0 || h.ConsecutiveMisses != round {
			t.Fatalf("round %d: a cancelled straggler's record %+v, want %d misses and no failure", round, h, round)
		}
	}
	if err := m.Pool().Save(); err != nil {
		t.Fatal(err)
	}
	later := run() // the next CLI run, from the health file
	coll, err := later.CollectCommitments(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	// (A healthy provider the immediate grace cut off in every round may be
	// probed too; its probe answers and puts it back.)
	if !slices.Contains(coll.Probed, hung) || !coll.Reached {
		t.Fatalf("after %d misses: probed %v, reached %v, want the hung provider probed", providers.MissesUnresponsive, coll.Probed, coll.Reached)
	}
	later.WaitProbes()
	if n := ps[4].calls.Load(); n != providers.MissesUnresponsive+1 {
		t.Fatalf("the hung provider was asked %d times, want once a round", n)
	}
}
