package chain_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/cairn-storage/cairn/chain"
	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// scenarioTerms: an agreement binds a provider only if it meets the terms
// the provider published; each unmet term is refused (unauthorized), a
// met one accepted.
func scenarioTerms(e env) {
	owner := e.newAccount(1_000_000)
	bucket := func() core.BucketID {
		return e.createBucket(owner, wire.CreateBucket{Quorum: 1})
	}
	// Invalid terms are refused at registration and update.
	p := e.newAccount(providerStake + 1_000_000)
	for _, bad := range []wire.ProviderTerms{
		{Accepting: true, Roles: []wire.Role{"boss"}},
		{Accepting: true, Roles: []wire.Role{wire.Primary, wire.Primary}},
		{Accepting: true, MaxDuration: -1},
	} {
		e.fail(p, wire.RegisterProvider{Endpoint: "http://p", Stake: providerStake, Capacity: 1, Terms: bad}, core.Invalid, 0)
	}
	// A provider that published nothing is bound by nothing.
	silent := e.newProviderTerms(wire.ProviderTerms{})
	e.fail(owner, wire.CreateAgreement{Bucket: bucket(), Provider: silent.Account(), Role: wire.Primary, Duration: 10}, core.Unauthorized, 0)
	e.fail(owner, wire.CreateDrive{Name: "d", Providers: []core.AccountID{silent.Account()}, Duration: 10,
		Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}, core.Unauthorized, 0)

	const gib = 1 << 30
	terms := wire.ProviderTerms{Accepting: true, PricePerGiBBlock: 3, MaxDuration: 100, Roles: []wire.Role{wire.Primary}}
	p = e.newAccount(providerStake + 1_000_000)
	e.ok(p, wire.RegisterProvider{Endpoint: "http://p", Stake: providerStake, Capacity: 2 * gib, Terms: terms})
	var got wire.Provider
	e.q(wire.PathProvider(p.Account()), &got)
	if !reflect.DeepEqual(got.Terms, terms) {
		e.t.Fatalf("published terms %+v, want %+v", got.Terms, terms)
	}
	ag := func(b core.BucketID, role wire.Role, maxBytes uint64, duration int64, payment uint64) wire.CreateAgreement {
		return wire.CreateAgreement{Bucket: b, Provider: p.Account(), Role: role, MaxBytes: maxBytes, Duration: duration, Payment: payment}
	}
	b1, b2, b3 := bucket(), bucket(), bucket()
	for _, c := range []struct {
		name string
		call wire.CreateAgreement
	}{
		{"role not taken", ag(b1, wire.Replica, gib, 10, 30)},
		{"duration above max", ag(b1, wire.Primary, gib, 101, 1000)},
		{"payment below price", ag(b1, wire.Primary, gib, 10, 29)},
		{"payment rounds up", ag(b1, wire.Primary, gib+1, 10, 30)}, // needs ceil(30 + 30/2^30) = 31
		{"huge max_bytes", ag(b1, wire.Primary, math.MaxUint64, 100, math.MaxUint64)},
		{"beyond capacity", ag(b1, wire.Primary, 2*gib+1, 10, 1000)},
	} {
		e.t.Run(c.name, func(t *testing.T) {
			env{t, e.b}.fail(owner, c.call, core.Unauthorized, 0)
		})
	}
	e.ok(owner, ag(b1, wire.Primary, gib+1, 10, 31))
	e.ok(owner, ag(b2, wire.Primary, gib-1, 100, 300))
	// Capacity left is now 0: one more byte is refused, until an
	// agreement ends and releases its bytes.
	e.fail(owner, ag(b3, wire.Primary, 1, 10, 1), core.Unauthorized, 0)
	e.ok(owner, wire.EndAgreement{Bucket: b2, Provider: p.Account()})
	e.ok(owner, ag(b3, wire.Primary, gib-1, 10, 30))
	// A provider that stops accepting is bound by nothing new.
	e.ok(p, wire.UpdateProvider{Endpoint: "http://p", Capacity: 4 * gib, Terms: wire.ProviderTerms{}})
	e.fail(owner, ag(b2, wire.Primary, 1, 10, 1), core.Unauthorized, 0)
}

// An expired agreement's bytes are released when the provider's index is
// pruned by its next agreement.
func TestTermsCapacityReleasedOnExpiry(t *testing.T) {
	e := env{t, newDirect(t, "")}
	owner := e.newAccount(1_000)
	p := e.newAccount(providerStake + 1_000_000)
	e.ok(p, wire.RegisterProvider{Endpoint: "http://p", Stake: providerStake, Capacity: 100, Terms: openTerms})
	var ids []core.BucketID
	for range 2 {
		ids = append(ids, e.createBucket(owner, wire.CreateBucket{Quorum: 1}))
	}
	e.ok(owner, wire.CreateAgreement{Bucket: ids[0], Provider: p.Account(), Role: wire.Primary, MaxBytes: 100, Duration: 2})
	e.fail(owner, wire.CreateAgreement{Bucket: ids[1], Provider: p.Account(), Role: wire.Primary, MaxBytes: 1, Duration: 10}, core.Unauthorized, 0)
	e.b.waitBlocks(t, 2)
	e.ok(owner, wire.CreateAgreement{Bucket: ids[1], Provider: p.Account(), Role: wire.Primary, MaxBytes: 100, Duration: 10})
	// Renewing the expired one on ids[0] counts it once, not twice.
	e.fail(owner, wire.CreateAgreement{Bucket: ids[0], Provider: p.Account(), Role: wire.Primary, MaxBytes: 1, Duration: 10}, core.Unauthorized, 0)
}

func TestMinPayment(t *testing.T) {
	for _, c := range []struct {
		maxBytes uint64
		duration int64
		price    uint64
		want     uint64
		ok       bool
	}{
		{0, 10, 5, 0, true},
		{1 << 30, 1, 1, 1, true},
		{1, 1, 1, 1, true}, // rounds up
		{1 << 30, 10, 3, 30, true},
		{1<<30 + 1, 10, 3, 31, true},
		{math.MaxUint64, math.MaxInt64, math.MaxUint64, 0, false},
		{math.MaxUint64, 1 << 30, 1, math.MaxUint64, true},
	} {
		got, ok := chain.MinPayment(c.maxBytes, c.duration, c.price)
		if got != c.want || ok != c.ok {
			t.Errorf("MinPayment(%d, %d, %d) = %d, %v; want %d, %v", c.maxBytes, c.duration, c.price, got, ok, c.want, c.ok)
		}
	}
}
