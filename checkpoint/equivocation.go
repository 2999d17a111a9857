package checkpoint

import (
	"context"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// Equivocation is a writer's two signed leaves at one seq of a bucket, as
// this manager reported it on chain (or found it already reported). It is
// the writer's fault: the provider whose log held the other leaf is not
// challenged for it.
type Equivocation struct {
	Bucket   core.BucketID  `json:"bucket"`
	Seq      uint64         `json:"seq"`
	A        core.Leaf      `json:"a"` // the majority's leaf
	B        core.Leaf      `json:"b"` // the divergent provider's leaf
	WriterA  core.AccountID `json:"writer_a"`
	WriterB  core.AccountID `json:"writer_b"`
	Provider core.AccountID `json:"provider"` // the provider that held B
	TxHash   string         `json:"tx_hash,omitempty"`
	Height   int64          `json:"height,omitempty"`
}

// Equivocations lists the equivocations this manager recorded (persisted).
func (m *Manager) Equivocations() []Equivocation {
	var out []Equivocation
	m.state.read(func(p *persisted) { out = append(out, p.Equivocations...) })
	return out
}

// reportEquivocation sends report_equivocation for the two writer-signed
// leaves a (the majority's) and b (provider's) at one seq, records it,
// forgets the divergences recorded against provider (explained: it holds
// what a writer signed) and emits EventEquivocation. A seq the chain
// already has on record (kind exists) is recorded too.
func (m *Manager) reportEquivocation(ctx context.Context, bucket core.BucketID, provider core.AccountID, a, b core.SignedLeaf) error {
	const op = "checkpoint.reportEquivocation"
	seen := false
	m.state.read(func(p *persisted) {
		for _, e := range p.Equivocations {
			seen = seen || (e.Bucket == bucket && e.Seq == a.Seq)
		}
	})
	if seen {
		return nil
	}
	rec := Equivocation{Bucket: bucket, Seq: a.Seq, A: a.Leaf, B: b.Leaf, WriterA: a.Writer, WriterB: b.Writer, Provider: provider}
	tx, err := m.submitTx(ctx, &wire.ReportEquivocation{Bucket: bucket, A: a, B: b})
	switch {
	case err == nil:
		rec.TxHash, rec.Height = tx.Hash.String(), tx.Height
	case core.KindOf(err) == core.Exists:
		// already on record
	default:
		return core.E(op, core.KindOf(err), err)
	}
	m.metrics.equivocations.Inc()
	m.log.Warn("writer equivocation reported", "bucket", bucket, "seq", a.Seq, "writer", a.Writer.Short(), "provider", provider.Short())
	m.events.emit(Event{Kind: EventEquivocation, Bucket: bucket, Time: m.clock.Now(), Provider: provider, Leaf: a.Seq,
		Reason: "writer " + a.Writer.Short() + " signed two leaves at one seq"})
	return m.state.updateGlobal(func(p *persisted) {
		p.Equivocations = append(p.Equivocations, rec)
		delete(p.Conflicts, provider)
	})
}
