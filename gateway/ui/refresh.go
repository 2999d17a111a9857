package ui

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providers"
)

// Refresh rebuilds the snapshot from the chain and the last probes, and
// pushes what changed to the event streams. On failure the last good
// snapshot stays, with Error set.
func (s *Server) Refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RefreshTimeout)
	defer cancel()
	next, err := s.build(ctx)
	s.mu.Lock()
	prev := s.snap
	if err != nil {
		if prev != nil {
			failed := *prev
			failed.Error = err.Error()
			s.snap = &failed
		}
		s.mu.Unlock()
		return err
	}
	s.snap = next
	s.buckets = s.buckets[:0]
	for _, d := range next.Drives {
		s.buckets = append(s.buckets, d.Bucket)
	}
	s.mu.Unlock()
	for _, e := range changes(prev, next) {
		s.hub.publish(e)
	}
	return nil
}

// build reads the chain and assembles a snapshot.
func (s *Server) build(ctx context.Context) (*Snapshot, error) {
	const op = "ui.Refresh"
	height, err := s.src.Blocks.Height(ctx)
	if err != nil {
		return nil, core.E(op, core.KindOf(err), err)
	}
	drives, err := s.src.Drives.DrivesByOwner(ctx, s.src.Owner)
	if err != nil {
		return nil, core.E(op, core.KindOf(err), err)
	}
	reg, err := s.registry(ctx, height)
	if err != nil {
		return nil, core.E(op, core.KindOf(err), err)
	}
	snap := &Snapshot{Height: height, Updated: time.Now().UTC(), Owner: s.src.Owner.String(), Drives: []DriveView{}}
	for _, d := range drives {
		v, err := s.buildDrive(ctx, d, reg, height)
		if err != nil {
			return nil, core.E(op, core.KindOf(err), fmt.Errorf("drive %s: %w", d.Name, err))
		}
		snap.Drives = append(snap.Drives, v)
	}
	return snap, nil
}

// buildDrive assembles one drive's view.
func (s *Server) buildDrive(ctx context.Context, d wire.Drive, reg map[core.AccountID]wire.Provider, height int64) (DriveView, error) {
	b, err := s.src.Buckets.Bucket(ctx, d.Bucket)
	if err != nil {
		return DriveView{}, err
	}
	ags, err := s.src.Buckets.BucketAgreements(ctx, d.Bucket)
	if err != nil {
		return DriveView{}, err
	}
	hist, err := s.history(ctx, b)
	if err != nil {
		return DriveView{}, err
	}
	chs, err := s.src.Chain.Challenges(ctx, wire.ChallengeFilter{Bucket: d.Bucket})
	if err != nil {
		return DriveView{}, err
	}
	res, _ := s.src.Status.LastResult(d.Bucket)
	s.noteResult(res)
	s.mu.Lock()
	p := s.probes[d.Bucket]
	quorum := maps.Clone(s.quorum[d.Bucket])
	s.mu.Unlock()

	v := DriveView{ID: d.ID.String(), Name: d.Name, Bucket: d.Bucket, Strategy: d.Strategy, RootCID: d.RootCID,
		Quorum: b.Quorum, Pending: s.src.Status.IsDirty(d.Bucket)}
	if b.Latest != nil {
		cv := checkpointView(*b.Latest, quorum)
		v.Latest = &cv
	}
	if res != nil {
		v.LastResult = res.Kind.String()
		if err := res.Err(); err != nil {
			v.LastError = err.Error()
		}
	}
	if p != nil {
		v.Probed = p.height
	}
	v.Providers = providerViews(ags, reg, p, b.Latest, chs, height)
	for _, pv := range v.Providers {
		if pv.AtRisk {
			v.AtRisk++
		}
	}
	v.Checkpoints = checkpointViews(hist, quorum, s.cfg.History)
	v.Conflicts = conflictViews(v.Providers, p)
	v.Challenges = challengeViews(chs, height, s.cfg.History)
	return v, nil
}

// registry returns the registered providers by account, read from the
// chain at most once every cfg.ProbeEvery blocks (the chain answers all of
// them): endpoints and stakes shown lag the chain by as much.
func (s *Server) registry(ctx context.Context, height int64) (map[core.AccountID]wire.Provider, error) {
	s.mu.Lock()
	reg, read := s.reg, s.regHeight
	s.mu.Unlock()
	if reg != nil && height >= read && height-read < s.cfg.ProbeEvery {
		return reg, nil
	}
	registered, err := s.src.Chain.Providers(ctx)
	if err != nil {
		return nil, err
	}
	reg = make(map[core.AccountID]wire.Provider, len(registered))
	for _, p := range registered {
		reg[p.Account] = p
	}
	s.mu.Lock()
	s.reg, s.regHeight = reg, height
	s.mu.Unlock()
	return reg, nil
}

// history returns the bucket's last cfg.History checkpoints, read from
// the chain only when its latest checkpoint moved (the chain answers the
// whole history, which only grows).
func (s *Server) history(ctx context.Context, b wire.Bucket) ([]wire.Checkpoint, error) {
	var latest int64
	if b.Latest != nil {
		latest = b.Latest.Height
	}
	s.mu.Lock()
	c, ok := s.histories[b.ID]
	s.mu.Unlock()
	if ok && c.latest == latest {
		return c.checkpoints, nil
	}
	hist, err := s.src.Buckets.CheckpointHistory(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	if len(hist) > s.cfg.History {
		hist = slices.Clone(hist[len(hist)-s.cfg.History:])
	}
	s.mu.Lock()
	s.histories[b.ID] = cachedHistory{latest: latest, checkpoints: hist}
	s.mu.Unlock()
	return hist, nil
}

// Probe asks the primaries of every drive's bucket (as of the last
// refresh) for their health and signed commitments.
func (s *Server) Probe(ctx context.Context) {
	s.mu.Lock()
	buckets := slices.Clone(s.buckets)
	var height int64
	if s.snap != nil {
		height = s.snap.Height
	}
	s.mu.Unlock()
	for _, b := range buckets {
		p := s.probeBucket(ctx, b, height)
		if p.err != nil && ctx.Err() == nil {
			s.log.Warn("dashboard probe failed", "op", "ui.Probe", "bucket", b, "err", p.err)
		}
		s.mu.Lock()
		s.probes[b] = p
		s.mu.Unlock()
	}
}

func (s *Server) probeBucket(ctx context.Context, b core.BucketID, height int64) *probe {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RefreshTimeout)
	defer cancel()
	p := &probe{height: height, health: map[core.AccountID]providers.Health{}}
	p.coll, p.conflict, p.err = s.src.Probe.ObserveConflicts(ctx, b)
	ranked, err := s.src.Probe.CheckHealth(ctx, b)
	if err != nil && p.err == nil {
		p.err = err
	}
	for _, r := range ranked {
		p.health[r.Account] = r.History
	}
	return p
}

// changes lists the events that lead from prev to next: a new height, a
// new checkpoint, a change of a provider's health, class or risk, or of a
// challenge.
func changes(prev, next *Snapshot) []Event {
	var out []Event
	if prev == nil || prev.Height != next.Height {
		out = append(out, Event{Kind: EventBlock, Height: next.Height})
	}
	old := map[string]DriveView{}
	if prev != nil {
		for _, d := range prev.Drives {
			old[d.ID] = d
		}
	}
	for _, d := range next.Drives {
		o, seen := old[d.ID]
		if !seen || latestHeight(o) != latestHeight(d) || o.Pending != d.Pending {
			out = append(out, Event{Kind: EventCheckpoint, Height: next.Height, Drive: d.Name})
		}
		if !seen || healthKey(o) != healthKey(d) {
			out = append(out, Event{Kind: EventHealth, Height: next.Height, Drive: d.Name})
		}
		if !seen || challengeKey(o) != challengeKey(d) {
			out = append(out, Event{Kind: EventChallenge, Height: next.Height, Drive: d.Name})
		}
	}
	return out
}

func latestHeight(d DriveView) int64 {
	if d.Latest == nil {
		return 0
	}
	return d.Latest.Height
}

func healthKey(d DriveView) string {
	var b strings.Builder
	for _, p := range d.Providers {
		fmt.Fprintf(&b, "%s %s %s %v %v;", p.Account, p.Status, p.Class, p.AtRisk, p.Leaves != nil && p.Lag != nil && *p.Lag != 0)
		for _, r := range p.Risks {
			b.WriteString(r.Reason)
		}
	}
	return b.String()
}

func challengeKey(d DriveView) string {
	var b strings.Builder
	for _, c := range d.Challenges {
		fmt.Fprintf(&b, "%d %s;", c.ID, c.State)
	}
	return b.String()
}
