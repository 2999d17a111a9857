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
