package providers

import (
	"context"
	"sort"
	"time"

	"github.com/cairn-storage/cairn/core"
)

// saveEvery is the least time between two saves of the health file that
// Record makes by itself; Save writes at once.
const saveEvery = 5 * time.Second

// Record adds one request's outcome to the provider's health record and
// returns its status after it. Every user of the pool records here (the
// manager's commitment requests and health checks, the drive's reads), so
// there is one record per provider.
func (p *Pool) Record(a core.AccountID, latency time.Duration, err error) Status {
	now := p.now()
	p.mu.Lock()
	h := p.health[a]
	if h == nil {
		h = &Health{}
		p.health[a] = h
	}
	h.Record(now, latency, err)
	st := h.Status()
	p.dirty[a] = true
	due := p.file != nil && now.Sub(p.saved) >= saveEvery
	p.mu.Unlock()
	if due {
		_ = p.Save() // best effort; Save at the end reports
	}
	return st
}

// Miss notes that the provider had not answered when the others had and
// the wait for stragglers ended. It is not a failure (the status stays);
// MissesUnresponsive of them in a row make the provider Unresponsive,
// and its next answer resets them.
func (p *Pool) Miss(a core.AccountID) {
	p.mu.Lock()
	h := p.health[a]
	if h == nil {
		h = &Health{}
		p.health[a] = h
	}
	h.ConsecutiveMisses++
	p.dirty[a] = true
	p.mu.Unlock()
}

// Health returns a copy of the provider's record.
func (p *Pool) Health(a core.AccountID) (Health, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.health[a]
	if h == nil {
		return Health{}, false
	}
	return h.Clone(), true
}

// ByHealth returns the bucket's providers, healthiest first: healthy,
// unknown, degraded, unreachable; then by success rate and latency.
func (p *Pool) ByHealth(ctx context.Context, bucket core.BucketID) ([]Ranked, error) {
	ps, err := p.Providers(ctx, bucket)
	if err != nil {
		return nil, err
	}
	out := make([]Ranked, len(ps))
	for i, info := range ps {
		h, _ := p.Health(info.Account)
		out[i] = Ranked{Info: info, History: h}
	}
	Rank(out)
	return out, nil
}

// Rank sorts providers healthiest first: healthy, unknown, degraded,
// unreachable; then by success rate and latency. The sort is stable.
func Rank(rs []Ranked) {
	rank := map[Status]int{StatusHealthy: 0, StatusUnknown: 1, StatusDegraded: 2, StatusUnreachable: 3}
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if ra, rb := rank[a.History.Status()], rank[b.History.Status()]; ra != rb {
			return ra < rb
		}
		if sa, sb := a.History.SuccessRate(), b.History.SuccessRate(); sa != sb {
			return sa > sb
		}
		return a.History.AvgLatency < b.History.AvgLatency
	})
}

// Unresponsive reports whether the provider's record says it does not
// answer (Health.Unresponsive); a provider with no record is not.
func (p *Pool) Unresponsive(a core.AccountID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.health[a]
	return h != nil && h.Unresponsive()
}

// HasEnoughHealthy reports whether the providers that are healthy or not
// yet known to be otherwise could reach the threshold.
func (p *Pool) HasEnoughHealthy(ctx context.Context, bucket core.BucketID) (bool, error) {
	_, required, err := p.Threshold(ctx, bucket)
	if err != nil {
		return false, err
	}
	ps, err := p.ByHealth(ctx, bucket)
	if err != nil {
		return false, err
	}
	n := 0
	for _, r := range ps {
		if s := r.History.Status(); s == StatusHealthy || s == StatusUnknown {
			n++
		}
	}
	return len(ps) > 0 && n >= required, nil
}

// Save writes the records changed since the last save to the health file
// (a no-op without one). Records another process saved meanwhile for
// other providers are kept.
func (p *Pool) Save() error {
	if p.file == nil {
		return nil
	}
	p.mu.Lock()
	changed := map[core.AccountID]Health{}
	for a := range p.dirty {
		changed[a] = p.health[a].Clone()
	}
	clear(p.dirty)
	p.saved = p.now()
	p.mu.Unlock()
	if len(changed) == 0 {
		return nil
	}
	merged, err := p.file.merge(changed)
	if err != nil {
		p.mu.Lock()
		for a := range changed {
			p.dirty[a] = true // try again next time
		}
		p.mu.Unlock()
		return err
	}
	p.mu.Lock()
	for a, h := range merged {
		if _, ours := changed[a]; !ours && !p.dirty[a] {
			p.health[a] = &h // another process's record of a provider we did not touch
		}
	}
	p.mu.Unlock()
	return nil
}
