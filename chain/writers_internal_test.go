package chain

import (
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// A bucket has at most maxEverWriters accounts that are or were writers:
// past that a new writer is refused, while removing one, or giving a
// former writer the role back, still works.
func TestEverWritersBounded(t *testing.T) {
	owner := core.AccountID{0xff}
	b := &wire.Bucket{ID: 1, Owner: owner, Quorum: 1, Members: []wire.Member{{Account: owner, Role: wire.Admin}}}
	acct := func(i int) core.AccountID { return core.AccountID{byte(i >> 8), byte(i), 1} }
	// The owner plus maxEverWriters-1 writers, each added then removed.
	for i := range maxEverWriters - 1 {
		if err := setBucketMember("t", b, wire.Member{Account: acct(i), Role: wire.Writer}); err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
		if err := setBucketMember("t", b, wire.Member{Account: acct(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if len(b.FormerWriters) != maxEverWriters-1 {
		t.Fatalf("%d former writers", len(b.FormerWriters))
	}
	next := acct(maxEverWriters)
	if err := setBucketMember("t", b, wire.Member{Account: next, Role: wire.Writer}); core.KindOf(err) != core.Invalid {
		t.Fatalf("writer beyond the bound: %v", err)
	}
	if err := setBucketMember("t", b, wire.Member{Account: next, Role: wire.Reader}); err != nil {
		t.Fatalf("a reader is not bounded: %v", err)
	}
	if err := setBucketMember("t", b, wire.Member{Account: acct(3), Role: wire.Writer}); err != nil {
		t.Fatalf("a former writer back: %v", err)
	}
	if err := setBucketMember("t", b, wire.Member{Account: acct(3)}); err != nil || len(b.FormerWriters) != maxEverWriters-1 {
		t.Fatalf("removing it again: %v, %d former writers", err, len(b.FormerWriters))
	}
}

// A provider holds at most maxProviderAgreements active agreements; an
// expired one frees its slot.
func TestProviderAgreementsBounded(t *testing.T) {
	s := &state{o: newOverlay(mapReader{}), height: 10, chainID: "c", params: wire.DefaultParams()}
	p, payer := core.AccountID{1}, core.AccountID{2}
	s.putJSON(acctKey(pProvider, p), providerRecord{Endpoint: "http://p", Capacity: 1 << 40, Terms: wire.ProviderTerms{Accepting: true}})
	// maxProviderAgreements-1 agreements in the index, one of them
	// expiring at the next height; then one made the ordinary way.
	var idx provIndex
	for i := range maxProviderAgreements - 1 {
		expiry := int64(1000)
		if i == 0 {
			expiry = 11
		}
		idx.add(provIdxEntry{Bucket: core.BucketID(i + 1), ExpiryHeight: expiry})
	}
	s.putProvIndex(p, idx)
	if err := s.newAgreement("t", payer, maxProviderAgreements, p, wire.Replica, 0, 1000, 0); err != nil {
		t.Fatalf("the last agreement within the bound: %v", err)
	}
	if err := s.newAgreement("t", payer, maxProviderAgreements+1, p, wire.Replica, 0, 1000, 0); core.KindOf(err) != core.Conflict {
		t.Fatalf("agreement beyond the bound: %v", err)
	}
	s.height += 1 // bucket 1's agreement has expired
	if err := s.newAgreement("t", payer, maxProviderAgreements+1, p, wire.Replica, 0, 1000, 0); err != nil {
		t.Fatalf("after an expiry: %v", err)
	}
}

type mapReader struct{}

func (mapReader) get(string) ([]byte, bool) { return nil, false }
