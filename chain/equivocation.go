package chain

import (
	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// reportEquivocation records two different leaves at one seq of a bucket's
// log, each signed for this chain and bucket by an account that is or was
// a writer of it: the writers' fault, on record, so that providers whose
// logs differ at that seq are not held to blame for it. Anyone may report;
// a seq is recorded once.
func (s *state) reportEquivocation(signer core.AccountID, c wire.ReportEquivocation) error {
	const op = "report_equivocation"
	b, ok := s.bucket(c.Bucket)
	if !ok {
		return core.Errorf(op, core.NotFound, "no bucket %s", c.Bucket)
	}
	switch {
	case c.A.Seq != c.B.Seq:
		return core.Errorf(op, core.Invalid, "the leaves are at seqs %d and %d, not one seq", c.A.Seq, c.B.Seq)
	case c.A.Leaf == c.B.Leaf:
		return core.Errorf(op, core.Invalid, "the two leaves at seq %d are the same leaf", c.A.Seq)
	}
	key := pEquivoc + u64(uint64(c.Bucket)) + u64(c.A.Seq)
	if _, ok := s.o.get(key); ok {
		return core.Errorf(op, core.Exists, "an equivocation at seq %d of bucket %s is recorded already", c.A.Seq, c.Bucket)
	}
	for _, l := range []core.SignedLeaf{c.A, c.B} {
		if !b.LeafSigner(l.Writer) {
			return core.Errorf(op, core.Unauthorized, "%s is not and never was a writer of bucket %s", l.Writer.Short(), c.Bucket)
		}
		if err := l.Verify(s.chainID, c.Bucket); err != nil {
			return core.E(op, core.Corrupt, err)
		}
	}
	s.putJSON(key, wire.Equivocation{Bucket: c.Bucket, Seq: c.A.Seq, A: c.A, B: c.B, Reporter: signer, Height: s.height})
	s.emit(wire.EventWriterEquivocated, "bucket", c.Bucket.String(), "seq", itoa(c.A.Seq), "writer_a", c.A.Writer.String(),
		"writer_b", c.B.Writer.String(), "reporter", signer.String())
	return nil
}
