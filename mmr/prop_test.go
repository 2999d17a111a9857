package mmr_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/cairn-storage/cairn/mmr"
	"pgregory.net/rapid"
)

// minChecks is how many cases each property must run: rapid's -rapid.checks,
// raised from rapid's default of 100 to 1000 unless set on the command line
// or in RAPID_CHECKS.
var minChecks int

func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if _, env := os.LookupEnv("RAPID_CHECKS"); !set && !env {
		if err := flag.Set("rapid.checks", "1000"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	minChecks, _ = strconv.Atoi(flag.Lookup("rapid.checks").Value.String())
	if testing.Short() {
		minChecks /= 5 // as rapid does
	}
	os.Exit(m.Run())
}

// check runs prop with rapid and fails unless it ran at least minChecks cases.
func check(t *testing.T, prop func(*rapid.T)) {
	t.Helper()
	cases := 0
	rapid.Check(t, func(rt *rapid.T) {
		cases++
		prop(rt)
	})
	if cases < minChecks {
		t.Fatalf("rapid ran %d cases, want at least %d", cases, minChecks)
	}
}

const maxLeaves = 300

// hashes derives n distinct hashes from seed.
func hashes(seed uint64, n int) []mmr.Hash {
	hs := make([]mmr.Hash, n)
	for i := range hs {
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], seed)
		binary.BigEndian.PutUint64(b[8:], uint64(i))
		hs[i] = sha256.Sum256(b[:])
	}
	return hs
}

func wantInvalid(t *rapid.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, mmr.ErrInvalidProof) {
		t.Fatalf("%s: err = %v, want ErrInvalidProof", what, err)
	}
}

// Every leaf of every prefix has a proof that verifies, against the same root
// a from-scratch reference computes.
func TestPropInclusionEveryLeaf(t *testing.T) {
	check(t, func(t *rapid.T) {
		seed := rapid.Uint64().Draw(t, "seed")
		n := rapid.Uint64Range(1, maxLeaves).Draw(t, "n")
		count := rapid.Uint64Range(1, n).Draw(t, "count")
		m := build(t, seed, n)
		root := mustRoot(t, m, count)
		if want := refRoot(refLeaves(seed, count)); root != want {
			t.Fatalf("RootAt(%d) = %s, reference %s", count, root, want)
		}
		for i := range count {
			p, err := m.Proof(i, count)
			if err != nil {
				t.Fatal(err)
			}
			if err := mmr.VerifyInclusion(root, count, i, mmr.LeafHash(leafData(seed, i)), p); err != nil {
				t.Fatalf("leaf %d of %d: %v", i, count, err)
			}
		}
	})
}

// A proof fails after any bit of the leaf, a sibling, a peak or the root
// flips, after any change of index or count, and with a hash added or removed.
func TestPropInclusionTamper(t *testing.T) {
	check(t, func(t *rapid.T) {
		seed := rapid.Uint64().Draw(t, "seed")
		n := rapid.Uint64Range(1, maxLeaves).Draw(t, "n")
		count := rapid.Uint64Range(1, n).Draw(t, "count")
		i := rapid.Uint64Range(0, count-1).Draw(t, "index")
		m := build(t, seed, n)
		root := mustRoot(t, m, count)
		leaf := mmr.LeafHash(leafData(seed, i))
		p, err := m.Proof(i, count)
		if err != nil {
			t.Fatal(err)
		}
		if err := mmr.VerifyInclusion(root, count, i, leaf, p); err != nil {
			t.Fatal(err)
		}
		q := *p
		q.Siblings, q.Peaks = slices.Clone(p.Siblings), slices.Clone(p.Peaks)
		claimIndex, claimCount := i, count
		switch kind := rapid.IntRange(0, 6).Draw(t, "kind"); kind {
		case 0: // flip a bit of one hash: leaf, root, a sibling or a peak
			targets := []*mmr.Hash{&leaf, &root}
			for k := range q.Siblings {
				targets = append(targets, &q.Siblings[k])
			}
			for k := range q.Peaks {
				targets = append(targets, &q.Peaks[k])
			}
			h := targets[rapid.IntRange(0, len(targets)-1).Draw(t, "target")]
			*h = flipBit(*h, rapid.IntRange(0, 255).Draw(t, "bit"))
		case 1: // the proof names another index than the one claimed
			q.LeafIndex = rapid.Uint64().Filter(func(v uint64) bool { return v != i }).Draw(t, "proof index")
		case 2: // the proof names another count than the one claimed
			q.LeafCount = rapid.Uint64().Filter(func(v uint64) bool { return v != count }).Draw(t, "proof count")
		case 3: // the proof is replayed for another index
			claimIndex = rapid.Uint64Range(0, n).Filter(func(v uint64) bool { return v != i }).Draw(t, "claim index")
			q.LeafIndex = claimIndex
		case 4: // the proof is replayed for another count, with that count's true root
			claimCount = rapid.Uint64Range(i+1, n).Filter(func(v uint64) bool { return v != count }).Draw(t, "claim count")
			q.LeafCount = claimCount
			root = mustRoot(t, m, claimCount)
		case 5: // a hash added
			extra := mmr.LeafHash(leafData(seed, n))
			if rapid.Bool().Draw(t, "to siblings") {
				q.Siblings = slices.Insert(q.Siblings, rapid.IntRange(0, len(q.Siblings)).Draw(t, "at"), extra)
			} else {
				q.Peaks = slices.Insert(q.Peaks, rapid.IntRange(0, len(q.Peaks)).Draw(t, "at"), extra)
			}
		case 6: // a hash removed
			if len(q.Siblings)+len(q.Peaks) == 0 {
				q.Siblings = nil
				claimIndex++ // nothing to remove: tamper with the claim instead
			} else if k := rapid.IntRange(0, len(q.Siblings)+len(q.Peaks)-1).Draw(t, "remove"); k < len(q.Siblings) {
				q.Siblings = slices.Delete(q.Siblings, k, k+1)
			} else {
				q.Peaks = slices.Delete(q.Peaks, k-len(q.Siblings), k-len(q.Siblings)+1)
			}
		}
		wantInvalid(t, "tampered proof", mmr.VerifyInclusion(root, claimCount, claimIndex, leaf, &q))
	})
}

// Every prefix pair old <= new is consistent, and the proof survives both
// encodings.
func TestPropConsistency(t *testing.T) {
	check(t, func(t *rapid.T) {
		seed := rapid.Uint64().Draw(t, "seed")
		n := rapid.Uint64Range(0, maxLeaves).Draw(t, "n")
		newCount := rapid.Uint64Range(0, n).Draw(t, "new")
		oldCount := rapid.Uint64Range(0, newCount).Draw(t, "old")
		m := build(t, seed, n)
		oldRoot, newRoot := mustRoot(t, m, oldCount), mustRoot(t, m, newCount)
		p, err := m.ConsistencyProof(oldCount, newCount)
		if err != nil {
			t.Fatal(err)
		}
		if err := mmr.VerifyConsistency(oldRoot, oldCount, newRoot, newCount, p); err != nil {
			t.Fatal(err)
		}
		bin, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var q mmr.ConsistencyProof
		if err := q.UnmarshalBinary(bin); err != nil {
			t.Fatal(err)
		}
		if err := mmr.VerifyConsistency(oldRoot, oldCount, newRoot, newCount, &q); err != nil {
			t.Fatalf("after binary round trip: %v", err)
		}
	})
}

// Two histories that share a prefix and then differ in one leaf: the later
// one is consistent with the earlier one's prefixes up to that leaf, and
// with none that holds it, whichever side makes the proof.
func TestPropConsistencyDiverged(t *testing.T) {
	check(t, func(t *rapid.T) {
		seed := rapid.Uint64().Draw(t, "seed")
		newCount := rapid.Uint64Range(1, maxLeaves).Draw(t, "new")
		oldCount := rapid.Uint64Range(1, newCount).Draw(t, "old")
		changed := rapid.Uint64Range(0, newCount-1).Draw(t, "changed leaf")
		a := build(t, seed, newCount)
		b, err := mmr.New(mmr.NewMemStore())
		if err != nil {
			t.Fatal(err)
		}
		for i := range newCount {
			data := leafData(seed, i)
			if i == changed {
				data = leafData(^seed, i)
			}
			if _, err := b.Append(data); err != nil {
				t.Fatal(err)
			}
		}
		aOld, bOld := mustRoot(t, a, oldCount), mustRoot(t, b, oldCount)
		aNew, bNew := mustRoot(t, a, newCount), mustRoot(t, b, newCount)
		pa, err := a.ConsistencyProof(oldCount, newCount)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := b.ConsistencyProof(oldCount, newCount)
		if err != nil {
			t.Fatal(err)
		}
		if changed >= oldCount { // b is a's old prefix plus other new leaves
			if err := mmr.VerifyConsistency(aOld, oldCount, bNew, newCount, pb); err != nil {
				t.Fatalf("b extends a's prefix of %d, yet: %v", oldCount, err)
			}
			return
		}
		wantInvalid(t, "b's proof from a's old root", mmr.VerifyConsistency(aOld, oldCount, bNew, newCount, pb))
		wantInvalid(t, "a's proof to b's new root", mmr.VerifyConsistency(aOld, oldCount, bNew, newCount, pa))
		wantInvalid(t, "b's proof to a's new root", mmr.VerifyConsistency(bOld, oldCount, aNew, newCount, pb))
		wantInvalid(t, "a's proof from b's old root", mmr.VerifyConsistency(bOld, oldCount, aNew, newCount, pa))
	})
}

// A consistency proof fails after any bit of a root or of a proof hash
// flips, after any change of a count, and with a hash added or removed.
func TestPropConsistencyTamper(t *testing.T) {
	check(t, func(t *rapid.T) {
		seed := rapid.Uint64().Draw(t, "seed")
		n := rapid.Uint64Range(1, maxLeaves).Draw(t, "n")
		newCount := rapid.Uint64Range(0, n).Draw(t, "new")
		oldCount := rapid.Uint64Range(0, newCount).Draw(t, "old")
		m := build(t, seed, n)
		oldRoot, newRoot := mustRoot(t, m, oldCount), mustRoot(t, m, newCount)
		p, err := m.ConsistencyProof(oldCount, newCount)
		if err != nil {
			t.Fatal(err)
		}
		q := *p
		q.OldPeaks, q.Path, q.RightPeaks = slices.Clone(p.OldPeaks), slices.Clone(p.Path), slices.Clone(p.RightPeaks)
		claimOld, claimNew := oldCount, newCount
		lists := []*[]mmr.Hash{&q.OldPeaks, &q.Path, &q.RightPeaks}
		switch kind := rapid.IntRange(0, 5).Draw(t, "kind"); kind {
		case 0: // flip a bit of one hash
			targets := []*mmr.Hash{&oldRoot, &newRoot}
			for _, l := range lists {
				for k := range *l {
					targets = append(targets, &(*l)[k])
				}
			}
			h := targets[rapid.IntRange(0, len(targets)-1).Draw(t, "target")]
			*h = flipBit(*h, rapid.IntRange(0, 255).Draw(t, "bit"))
		case 1: // the proof names other counts than those claimed
			if rapid.Bool().Draw(t, "old") {
				q.OldCount = rapid.Uint64().Filter(func(v uint64) bool { return v != oldCount }).Draw(t, "proof old")
			} else {
				q.NewCount = rapid.Uint64().Filter(func(v uint64) bool { return v != newCount }).Draw(t, "proof new")
			}
		case 2: // replayed for another old count, with its true root
			claimOld = rapid.Uint64Range(0, newCount).Filter(func(v uint64) bool { return v != oldCount }).Draw(t, "claim old")
			q.OldCount, oldRoot = claimOld, mustRoot(t, m, claimOld)
		case 3: // replayed for another new count, with its true root
			claimNew = rapid.Uint64Range(oldCount, n).Filter(func(v uint64) bool { return v != newCount }).Draw(t, "claim new")
			q.NewCount, newRoot = claimNew, mustRoot(t, m, claimNew)
		case 4: // a hash added
			l := lists[rapid.IntRange(0, 2).Draw(t, "list")]
			*l = slices.Insert(*l, rapid.IntRange(0, len(*l)).Draw(t, "at"), mmr.LeafHash(leafData(seed, n)))
		case 5: // a hash removed
			var nonEmpty []*[]mmr.Hash
			for _, l := range lists {
				if len(*l) > 0 {
					nonEmpty = append(nonEmpty, l)
				}
			}
			if len(nonEmpty) == 0 { // 0 -> 0: nothing to remove; claim a wrong count instead
				claimNew++
				break
			}
			l := nonEmpty[rapid.IntRange(0, len(nonEmpty)-1).Draw(t, "list")]
			k := rapid.IntRange(0, len(*l)-1).Draw(t, "remove")
			*l = slices.Delete(*l, k, k+1)
		}
		wantInvalid(t, "tampered proof", mmr.VerifyConsistency(oldRoot, claimOld, newRoot, claimNew, &q))
	})
}

// Any proof with lists of at most 64 hashes survives both encodings
// unchanged. One list of each proof may be long, the others have at most 4
// hashes (JSON is slow under -race).
func TestPropEncodingRoundTrip(t *testing.T) {
	list := func(t *rapid.T, name string, long bool) []mmr.Hash {
		maxLen := 4
		if long {
			maxLen = 64
		}
		return hashes(rapid.Uint64().Draw(t, name+" seed"), rapid.IntRange(0, maxLen).Draw(t, name))
	}
	check(t, func(t *rapid.T) {
		long := rapid.IntRange(0, 1).Draw(t, "long inclusion list")
		ip := &mmr.InclusionProof{
			LeafIndex: rapid.Uint64().Draw(t, "leaf index"),
			LeafCount: rapid.Uint64().Draw(t, "leaf count"),
			Siblings:  list(t, "siblings", long == 0),
			Peaks:     list(t, "peaks", long == 1),
		}
		long = rapid.IntRange(0, 2).Draw(t, "long consistency list")
		cp := &mmr.ConsistencyProof{
			OldCount:   rapid.Uint64().Draw(t, "old count"),
			NewCount:   rapid.Uint64().Draw(t, "new count"),
			OldPeaks:   list(t, "old peaks", long == 0),
			Path:       list(t, "path", long == 1),
			RightPeaks: list(t, "right peaks", long == 2),
		}
		var ip2, ip3 mmr.InclusionProof
		var cp2, cp3 mmr.ConsistencyProof
		roundTrip(t, ip, &ip2, &ip3, inclusionEqual)
		roundTrip(t, cp, &cp2, &cp3, consistencyEqual)
	})
}

type proof interface {
	MarshalBinary() ([]byte, error)
	UnmarshalBinary([]byte) error
}

// roundTrip decodes p's binary form into bin and its JSON form into js, and
// checks both equal p.
func roundTrip[P proof](t *rapid.T, p, bin, js P, equal func(a, b P) bool) {
	t.Helper()
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := bin.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !equal(p, bin) {
		t.Fatalf("binary round trip: %+v, want %+v", bin, p)
	}
	j, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(j, js); err != nil {
		t.Fatal(err)
	}
	if !equal(p, js) {
		t.Fatalf("JSON round trip: %+v, want %+v", js, p)
	}
}

// inclusionEqual and consistencyEqual compare proofs field by field
// (reflect.DeepEqual is slow under -race).
func inclusionEqual(a, b *mmr.InclusionProof) bool {
	return a.LeafIndex == b.LeafIndex && a.LeafCount == b.LeafCount &&
		slices.Equal(a.Siblings, b.Siblings) && slices.Equal(a.Peaks, b.Peaks)
}

func consistencyEqual(a, b *mmr.ConsistencyProof) bool {
	return a.OldCount == b.OldCount && a.NewCount == b.NewCount &&
		slices.Equal(a.OldPeaks, b.OldPeaks) && slices.Equal(a.Path, b.Path) && slices.Equal(a.RightPeaks, b.RightPeaks)
}
