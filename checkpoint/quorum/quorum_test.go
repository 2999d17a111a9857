package quorum

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/cairn-storage/cairn/core"
)

func TestRequired(t *testing.T) {
	tests := []struct{ total, pct, want int }{
		{0, 51, 0}, {1, 51, 1}, {2, 51, 2}, {3, 51, 2}, {4, 51, 3}, {5, 51, 3},
		{10, 51, 6}, {100, 51, 51}, {3, 100, 3}, {3, 1, 1}, {3, 0, 1}, {3, 150, 3}, {7, 67, 5},
	}
	for _, tt := range tests {
		if got := Required(tt.total, tt.pct); got != tt.want {
			t.Errorf("Required(%d, %d) = %d, want %d", tt.total, tt.pct, got, tt.want)
		}
	}
}

// The bucket's on-chain quorum raises the client's threshold, never lowers
// it (the chain refuses fewer distinct signers than its quorum).
func TestThreshold(t *testing.T) {
	tests := []struct {
		total, pct int
		onChain    uint32
		want       int
	}{
		{0, 51, 3, 0}, // no providers: nothing to decide
		{3, 51, 0, 2}, // no on-chain quorum recorded: the 51 % rule
		{3, 51, 1, 2}, // a lower on-chain quorum never lowers the rule
		{3, 51, 2, 2}, // equal
		{3, 51, 3, 3}, // 3 of 3 on chain: all three must sign
		{5, 51, 4, 4}, // 80 % on chain beats 51 %
		{4, 51, 3, 3}, // 75 % on chain equals ceil(4 x 51 %)
		{2, 51, 3, 3}, // above the providers: unreachable, and said so
		{10, 100, 6, 10},
	}
	for _, tt := range tests {
		if got := Threshold(tt.total, tt.pct, tt.onChain); got != tt.want {
			t.Errorf("Threshold(%d, %d, %d) = %d, want %d", tt.total, tt.pct, tt.onChain, got, tt.want)
		}
	}
}

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
		a := Decide(total, 51, in)
		perm := rapid.Permutation(in).Draw(t, "perm")
		dup := append(append([]core.SignedCommitment{}, perm...), perm...)
		b := Decide(total, 51, dup)
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
		if a.Reached != (a.Majority != nil && a.Majority.Size() >= Required(total, 51)) {
			t.Fatalf("reached inconsistent")
		}
	})
}
