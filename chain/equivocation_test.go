package chain_test

import (
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// scenarioEquivocation: two different writer-signed leaves at one seq are
// recorded once, with an event and a query; anything less is refused.
func scenarioEquivocation(e env) {
	owner := e.newAccount(1_000)
	w, former, r := e.newAccount(0), e.newAccount(0), e.newAccount(0)
	reporter := e.newAccount(1_000)
	id := e.createBucket(owner, wire.CreateBucket{Quorum: 1, Members: []wire.Member{
		{Account: w.Account(), Role: wire.Writer}, {Account: former.Account(), Role: wire.Writer}, {Account: r.Account(), Role: wire.Reader}}})
	e.ok(owner, wire.SetMember{Bucket: id, Member: wire.Member{Account: former.Account()}})
	chainID := e.b.chainID()
	leaf := func(seq uint64, data string) core.Leaf {
		return core.Leaf{Seq: seq, ContentHash: core.Sum256([]byte(data)), Size: uint64(len(data))}
	}
	sign := func(k core.PrivateKey, bucket core.BucketID, l core.Leaf) core.SignedLeaf {
		sl, err := core.SignLeaf(k, chainID, bucket, l)
		if err != nil {
			e.t.Fatal(err)
		}
		return sl
	}
	a, b := sign(w, id, leaf(7, "x")), sign(w, id, leaf(7, "y"))
	forged := b
	forged.Signature[0] ^= 1
	for _, c := range []struct {
		name string
		call wire.ReportEquivocation
		kind core.Kind
	}{
		{"no bucket", wire.ReportEquivocation{Bucket: id + 1000, A: a, B: b}, core.NotFound},
		{"different seqs", wire.ReportEquivocation{Bucket: id, A: a, B: sign(w, id, leaf(8, "y"))}, core.Invalid},
		{"same leaf", wire.ReportEquivocation{Bucket: id, A: a, B: sign(owner, id, leaf(7, "x"))}, core.Invalid},
		{"bad signature", wire.ReportEquivocation{Bucket: id, A: a, B: forged}, core.Corrupt},
		{"signed for another bucket", wire.ReportEquivocation{Bucket: id, A: a, B: sign(w, id+1, leaf(7, "y"))}, core.Corrupt},
		{"a reader's leaf", wire.ReportEquivocation{Bucket: id, A: a, B: sign(r, id, leaf(7, "y"))}, core.Unauthorized},
	} {
		e.t.Run(c.name, func(t *testing.T) {
			env{t, e.b}.fail(reporter, c.call, c.kind, 0)
		})
	}
	// Two writers (one of them former) at one seq: recorded.
	res7 := e.ok(reporter, wire.ReportEquivocation{Bucket: id, A: a, B: sign(former, id, leaf(7, "z"))})
	ev := event(e.t, res7, wire.EventWriterEquivocated)
	if ev["bucket"] != id.String() || ev["seq"] != "7" || ev["writer_a"] != w.Account().String() ||
		ev["writer_b"] != former.Account().String() || ev["reporter"] != reporter.Account().String() {
		e.t.Errorf("event %v", ev)
	}
	e.fail(reporter, wire.ReportEquivocation{Bucket: id, A: a, B: b}, core.Exists, 0) // seq 7 recorded
	e.ok(reporter, wire.ReportEquivocation{Bucket: id, A: sign(w, id, leaf(3, "p")), B: sign(w, id, leaf(3, "q"))})
	var got []wire.Equivocation
	e.q(wire.PathEquivocations(id), &got)
	if len(got) != 2 || got[0].Seq != 3 || got[1].Seq != 7 || got[1].A != a || got[1].B.Writer != former.Account() ||
		got[1].Reporter != reporter.Account() || got[1].Height != res7.Height {
		e.t.Fatalf("equivocations %+v", got)
	}
	e.notFound(wire.PathEquivocations(id + 1000))
}
