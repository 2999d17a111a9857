package chain_test

import (
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// scenarioProviderAgreements: "/provider/{hex}/agreements" lists the
// provider's agreements from its index, by bucket; an ended one leaves it,
// an expired one shows inactive until the provider's next agreement
// prunes it.
func scenarioProviderAgreements(e env) {
	owner := e.newAccount(1_000)
	p := e.newProvider()
	other := e.newProvider()
	list := func() []wire.Agreement {
		e.t.Helper()
		var ags []wire.Agreement
		e.q(wire.PathProviderAgreements(p.Account()), &ags)
		return ags
	}
	if got := list(); got == nil || len(got) != 0 {
		e.t.Fatalf("fresh provider: %#v", got)
	}
	var ids []core.BucketID
	for range 3 {
		ids = append(ids, e.createBucket(owner, wire.CreateBucket{Quorum: 1}))
	}
	// Made out of bucket order: the answer is by bucket all the same.
	e.ok(owner, wire.CreateAgreement{Bucket: ids[2], Provider: p.Account(), Role: wire.Primary, MaxBytes: 30, Duration: 1000})
	e.ok(owner, wire.CreateAgreement{Bucket: ids[0], Provider: p.Account(), Role: wire.Replica, MaxBytes: 10, Duration: 1000})
	e.ok(owner, wire.CreateAgreement{Bucket: ids[1], Provider: p.Account(), Role: wire.Primary, MaxBytes: 20, Duration: 2})
	e.ok(owner, wire.CreateAgreement{Bucket: ids[1], Provider: other.Account(), Role: wire.Primary, MaxBytes: 20, Duration: 1000})
	got := list()
	if len(got) != 3 || got[0].Bucket != ids[0] || got[1].Bucket != ids[1] || got[2].Bucket != ids[2] ||
		got[0].Role != wire.Replica || got[0].MaxBytes != 10 || got[2].MaxBytes != 30 || got[0].Provider != p.Account() {
		e.t.Fatalf("agreements %+v", got)
	}
	e.b.waitBlocks(e.t, 2)
	got = list()
	if len(got) != 3 || got[1].Active || !got[0].Active || !got[2].Active {
		e.t.Fatalf("after ids[1] expired: %+v", got)
	}
	e.ok(owner, wire.EndAgreement{Bucket: ids[2], Provider: p.Account()})
	if got = list(); len(got) != 2 || got[0].Bucket != ids[0] || got[1].Bucket != ids[1] {
		e.t.Fatalf("after ending ids[2]: %+v", got)
	}
	// The next agreement prunes the expired one from the index.
	e.ok(owner, wire.CreateAgreement{Bucket: ids[2], Provider: p.Account(), Role: wire.Primary, MaxBytes: 5, Duration: 1000})
	if got = list(); len(got) != 2 || got[0].Bucket != ids[0] || got[1].Bucket != ids[2] || got[1].MaxBytes != 5 {
		e.t.Fatalf("after a new agreement: %+v", got)
	}
	var others []wire.Agreement
	e.q(wire.PathProviderAgreements(other.Account()), &others)
	if len(others) != 1 || others[0].Bucket != ids[1] {
		e.t.Fatalf("other provider: %+v", others)
	}
}

func TestProviderAgreementsBadAccount(t *testing.T) {
	d := newDirect(t, "")
	var v any
	if err := d.query(t, "/provider/zz/agreements", &v); err == nil {
		t.Fatal("bad account accepted")
	}
}
