package quorum

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providers"
)

// Decide must not depend on input order (the original followed hash-map
// order) and a provider repeated in the input must count once.
func TestDecideOrderAndDuplicatesProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 12).Draw(t, "n")
		roots := rapid.IntRange(1, 3).Draw(t, "roots")
		var in []core.SignedCommitment
		for i := 0; i < n; i++ {
			r := rapid.IntRange(0, roots-1).Draw(t, "root")
			c := core.SignedCommitment{Provider: core.AccountID(core.Sum256([]byte{byte(i)}))}
			c.MMRRoot = core.Sum256([]byte{byte(r)})
			c.LeafCount = uint64(10 + r%2)
			in = append(in, c)
		}
		total := n + rapid.IntRange(0, 3).Draw(t, "unreachable")
		a := DecideAt(total, providers.Required(total, 51), in)
		perm := rapid.Permutation(in).Draw(t, "perm")
		dup := append(append([]core.SignedCommitment{}, perm...), perm...)
		b := DecideAt(total, providers.Required(total, 51), dup)
		if (a.Majority == nil) != (b.Majority == nil) {
			t.Fatalf("majority presence differs")
		}
		if a.Majority != nil {
			if a.Majority.State != b.Majority.State || a.Majority.Size() != b.Majority.Size() {
				t.Fatalf("majority %+v vs %+v", a.Majority.State, b.Majority.State)
			}
			for i, s := range a.Majority.Signers() {
				if b.Majority.Signers()[i] != s {
					t.Fatalf("signer order differs")
				}
			}
		}
		if a.Reached != b.Reached || len(a.Others) != len(b.Others) {
			t.Fatalf("decision differs: %v/%v %d/%d", a.Reached, b.Reached, len(a.Others), len(b.Others))
		}
		count := 0
		if a.Majority != nil {
			count = a.Majority.Size()
			for _, g := range a.Others {
				if g.Size() > count {
					t.Fatalf("a minority group is larger than the majority")
				}
				count += g.Size()
			}
		}
		if count != n {
			t.Fatalf("groups hold %d providers, want %d", count, n)
		}
		if a.Reached != (a.Majority != nil && a.Majority.Size() >= providers.Required(total, 51)) {
			t.Fatalf("reached inconsistent")
		}
	})
}
