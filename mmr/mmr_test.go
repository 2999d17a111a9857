package mmr_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-storage/cairn/mmr"
)

func mustParse(t *testing.T, s string) mmr.Hash {
	t.Helper()
	h, err := mmr.ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Vectors computed by hand (Python hashlib) from the definitions in doc.go.
const (
	vecLeafA  = "022a6979e6dab7aa5ae4c3e5e45f7e977112a7e63593820dbec1ec738a24f93c" // SHA256(00 'a')
	vecLeafB  = "57eb35615d47f34ec714cacdf5fd74608a5e8e102724e80b24b287c0c27b6a31" // SHA256(00 'b')
	vecLeafC  = "597fcb31282d34654c200d3418fca5705c648ebf326ec73d8ddef11841f876d8" // SHA256(00 'c')
	vecNodeAB = "b137985ff484fb600db93107c77b0365c80d78f5b429ded0fd97361d077999eb" // SHA256(01 La Lb)
	vecRoot0  = "4322fd2bc0a137d1375b37b3b2e2b4715b3d3dd7ca9682438d4fea0f8437fad3" // SHA256(02 u64(0))
	vecRoot1  = "a94fe96b1c38a1bdfb72939d6cd46bc31a31bfe1ad0d960804189a287b6558a0" // SHA256(02 u64(1) La)
	vecRoot2  = "4c18b87ee623a3dfbcfefc3b002d3334c0554f545f9ef9dadec271daec0b399b" // SHA256(02 u64(2) Nab)
	vecRoot3  = "6069e91588393b7164a3182ad5e503ff24385317b33820aabe77179c8d7d181b" // SHA256(02 u64(3) Nab Lc)
)

func TestHashVectors(t *testing.T) {
	la, lb, lc := mmr.LeafHash([]byte("a")), mmr.LeafHash([]byte("b")), mmr.LeafHash([]byte("c"))
	tests := []struct {
		name string
		got  mmr.Hash
		want string
	}{
		{"LeafHash(a)", la, vecLeafA},
		{"LeafHash(b)", lb, vecLeafB},
		{"LeafHash(c)", lc, vecLeafC},
		{"NodeHash(a,b)", mmr.NodeHash(la, lb), vecNodeAB},
		{"BagPeaks(0)", mmr.BagPeaks(0, nil), vecRoot0},
		{"BagPeaks(1)", mmr.BagPeaks(1, []mmr.Hash{la}), vecRoot1},
		{"BagPeaks(2)", mmr.BagPeaks(2, []mmr.Hash{mmr.NodeHash(la, lb)}), vecRoot2},
		{"BagPeaks(3)", mmr.BagPeaks(3, []mmr.Hash{mmr.NodeHash(la, lb), lc}), vecRoot3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.got.String(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// Long leaves and long peak lists take another code path than short ones.
func TestHashLongInputs(t *testing.T) {
	for _, n := range []int{0, 1, 255, 256, 257, 1000, 1 << 16} {
		data := []byte(strings.Repeat("x", n))
		if got, want := mmr.LeafHash(data), refLeaf(data); got != want {
			t.Errorf("LeafHash(%d bytes) = %s, want %s", n, got, want)
		}
	}
	for _, n := range []int{0, 1, 63, 64, 65, 200} {
		peaks := make([]mmr.Hash, n)
		for i := range peaks {
			peaks[i] = mmr.LeafHash([]byte{byte(i)})
		}
		if got, want := mmr.BagPeaks(uint64(n), peaks), refBag(uint64(n), peaks); got != want {
			t.Errorf("BagPeaks(%d peaks) = %s, want %s", n, got, want)
		}
	}
}

func TestKnownRoots(t *testing.T) {
	want := []string{vecRoot0, vecRoot1, vecRoot2, vecRoot3}
	m, err := mmr.New(mmr.NewMemStore())
	if err != nil {
		t.Fatal(err)
	}
	for n, data := range []string{"", "a", "b", "c"} {
		if n > 0 {
			i, err := m.Append([]byte(data))
			if err != nil || i != uint64(n-1) {
				t.Fatalf("Append(%q) = %d, %v; want %d, nil", data, i, err, n-1)
			}
		}
		root, err := m.Root()
		if err != nil {
			t.Fatal(err)
		}
		if root.String() != want[n] {
			t.Errorf("root of %d leaves = %s, want %s", n, root, want[n])
		}
	}
	for n := range want {
		if got := mustRoot(t, m, uint64(n)); got.String() != want[n] {
			t.Errorf("RootAt(%d) = %s, want %s", n, got, want[n])
		}
	}
	peaks, err := m.Peaks(3)
	if err != nil {
		t.Fatal(err)
	}
	if len(peaks) != 2 || peaks[0].String() != vecNodeAB || peaks[1].String() != vecLeafC {
		t.Errorf("Peaks(3) = %v, want [%s %s]", peaks, vecNodeAB, vecLeafC)
	}
}

func TestHashText(t *testing.T) {
	h := mmr.LeafHash([]byte("a"))
	if got := mustParse(t, h.String()); got != h {
		t.Errorf("ParseHash(String()) = %s, want %s", got, h)
	}
	text, err := h.MarshalText()
	if err != nil || string(text) != vecLeafA {
		t.Errorf("MarshalText = %q, %v", text, err)
	}
	bad := []string{
		"",
		vecLeafA[:63],
		vecLeafA + "0",
		strings.ToUpper(vecLeafA),
		"g" + vecLeafA[1:],
		" " + vecLeafA[1:],
	}
	for _, s := range bad {
		if _, err := mmr.ParseHash(s); err == nil {
			t.Errorf("ParseHash(%q) succeeded", s)
		}
	}
}

func TestSizes(t *testing.T) {
	// Leaf positions of the classic picture:
	//        6          14
	//      2   5     9     13
	//     0 1 3 4   7 8  10 11  15 ...
	leafPos := []uint64{0, 1, 3, 4, 7, 8, 10, 11, 15, 16, 18}
	for i, want := range leafPos {
		if got := mmr.PosOfLeaf(uint64(i)); got != want {
			t.Errorf("PosOfLeaf(%d) = %d, want %d", i, got, want)
		}
	}
	sizes := []uint64{0, 1, 3, 4, 7, 8, 10, 11, 15, 16, 18}
	for n, want := range sizes {
		if got := mmr.SizeOfLeafCount(uint64(n)); got != want {
			t.Errorf("SizeOfLeafCount(%d) = %d, want %d", n, got, want)
		}
	}
	// Every size up to 5000 is either the size of exactly one leaf count or refused.
	valid := map[uint64]uint64{}
	for n := uint64(0); mmr.SizeOfLeafCount(n) <= 5000; n++ {
		valid[mmr.SizeOfLeafCount(n)] = n
	}
	for size := uint64(0); size <= 5000; size++ {
		n, ok := mmr.LeafCountOfSize(size)
		want, wantOK := valid[size]
		if ok != wantOK || (ok && n != want) {
			t.Errorf("LeafCountOfSize(%d) = %d, %v; want %d, %v", size, n, ok, want, wantOK)
		}
	}
	big := []struct {
		size uint64
		n    uint64
		ok   bool
	}{
		{mmr.SizeOfLeafCount(mmr.MaxLeafCount), mmr.MaxLeafCount, true},
		{mmr.SizeOfLeafCount(1 << 40), 1 << 40, true},
		{mmr.SizeOfLeafCount(1<<40) + 2, 0, false},
		{math.MaxUint64, 0, false},     // 2^63 leaves: above MaxLeafCount
		{math.MaxUint64 - 1, 0, false}, // no MMR
	}
	for _, tt := range big {
		n, ok := mmr.LeafCountOfSize(tt.size)
		if ok != tt.ok || (ok && n != tt.n) {
			t.Errorf("LeafCountOfSize(%d) = %d, %v; want %d, %v", tt.size, n, ok, tt.n, tt.ok)
		}
	}
}

func TestMatchesReference(t *testing.T) {
	const n = 130
	m := build(t, 1, n)
	leaves := refLeaves(1, n)
	if m.LeafCount() != n || m.Size() != mmr.SizeOfLeafCount(n) {
		t.Fatalf("LeafCount, Size = %d, %d; want %d, %d", m.LeafCount(), m.Size(), n, mmr.SizeOfLeafCount(n))
	}
	for k := uint64(0); k <= n; k++ {
		if got, want := mustRoot(t, m, k), refRoot(leaves[:k]); got != want {
			t.Errorf("RootAt(%d) = %s, want %s", k, got, want)
		}
		peaks, err := m.Peaks(k)
		if err != nil {
			t.Fatal(err)
		}
		if want := refPeaks(leaves[:k]); !slices.Equal(peaks, want) {
			t.Errorf("Peaks(%d) = %v, want %v", k, peaks, want)
		}
	}
}

func TestReopen(t *testing.T) {
	for _, n := range []uint64{0, 1, 2, 7, 8, 77} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := mmr.NewMemStore()
			a, err := mmr.New(s)
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				if _, err := a.Append(leafData(2, i)); err != nil {
					t.Fatal(err)
				}
			}
			b, err := mmr.New(s)
			if err != nil {
				t.Fatal(err)
			}
			if b.LeafCount() != n || b.Size() != a.Size() || mustRoot(t, b, n) != mustRoot(t, a, n) {
				t.Fatalf("reopened: %d leaves, size %d, root %s; want %d, %d, %s",
					b.LeafCount(), b.Size(), mustRoot(t, b, n), n, a.Size(), mustRoot(t, a, n))
			}
			// The reopened MMR carries on as if never closed.
			for i := n; i < n+20; i++ {
				if _, err := b.Append(leafData(2, i)); err != nil {
					t.Fatal(err)
				}
			}
			if got, want := mustRoot(t, b, n+20), refRoot(refLeaves(2, n+20)); got != want {
				t.Errorf("root after reopen and append = %s, want %s", got, want)
			}
		})
	}
}

func TestNewRejectsInvalidSize(t *testing.T) {
	for size := range 20 {
		s := mmr.NewMemStore()
		if err := s.Append(make([]mmr.Hash, size)); err != nil {
			t.Fatal(err)
		}
		_, err := mmr.New(s)
		_, valid := mmr.LeafCountOfSize(uint64(size))
		switch {
		case valid && err != nil:
			t.Errorf("size %d: %v", size, err)
		case !valid && !errors.Is(err, mmr.ErrCorrupt):
			t.Errorf("size %d: err = %v, want ErrCorrupt", size, err)
		}
	}
	s := &flakyStore{MemStore: mmr.NewMemStore(), failGet: true}
	if err := s.MemStore.Append(make([]mmr.Hash, 4)); err != nil {
		t.Fatal(err)
	}
	if _, err := mmr.New(s); !errors.Is(err, errInjected) {
		t.Errorf("New over failing store: err = %v, want the store's error", err)
	}
	if _, err := mmr.New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
}

func TestOutOfRange(t *testing.T) {
	m := build(t, 3, 5)
	calls := map[string]func() error{
		"RootAt(6)":             func() error { _, err := m.RootAt(6); return err },
		"Peaks(6)":              func() error { _, err := m.Peaks(6); return err },
		"Proof(5,5)":            func() error { _, err := m.Proof(5, 5); return err },
		"Proof(0,0)":            func() error { _, err := m.Proof(0, 0); return err },
		"Proof(0,6)":            func() error { _, err := m.Proof(0, 6); return err },
		"ConsistencyProof(3,2)": func() error { _, err := m.ConsistencyProof(3, 2); return err },
		"ConsistencyProof(0,6)": func() error { _, err := m.ConsistencyProof(0, 6); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, mmr.ErrOutOfRange) {
			t.Errorf("%s: err = %v, want ErrOutOfRange", name, err)
		}
	}
	s := mmr.NewMemStore()
	if _, err := s.Get(0); !errors.Is(err, mmr.ErrNotFound) {
		t.Errorf("MemStore.Get past the end: err = %v, want ErrNotFound", err)
	}
}

func TestAppendStoreFailure(t *testing.T) {
	s := &flakyStore{MemStore: mmr.NewMemStore()}
	m, err := mmr.New(s)
	if err != nil {
		t.Fatal(err)
	}
	for i := range uint64(3) {
		if _, err := m.Append(leafData(4, i)); err != nil {
			t.Fatal(err)
		}
	}
	before := mustRoot(t, m, 3)
	s.failAppend = true
	if _, err := m.Append(leafData(4, 3)); !errors.Is(err, errInjected) {
		t.Fatalf("Append over failing store: err = %v, want the store's error", err)
	}
	if m.LeafCount() != 3 || m.Size() != 4 || mustRoot(t, m, 3) != before {
		t.Fatal("a failed Append changed the MMR")
	}
	s.failAppend = false
	for i := uint64(3); i < 9; i++ {
		if _, err := m.Append(leafData(4, i)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := mustRoot(t, m, 9), refRoot(refLeaves(4, 9)); got != want {
		t.Errorf("root after a failed Append = %s, want %s", got, want)
	}
	s.failGet = true
	if _, err := m.Proof(0, 9); !errors.Is(err, errInjected) {
		t.Errorf("Proof over failing store: err = %v", err)
	}
	if _, err := m.ConsistencyProof(1, 9); !errors.Is(err, errInjected) {
		t.Errorf("ConsistencyProof over failing store: err = %v", err)
	}
	if _, err := m.RootAt(5); !errors.Is(err, errInjected) {
		t.Errorf("RootAt over failing store: err = %v", err)
	}
}

func TestVerifyInclusionBinding(t *testing.T) {
	m := build(t, 5, 7)
	root := mustRoot(t, m, 7)
	leaf := mmr.LeafHash(leafData(5, 3))
	genuine, err := m.Proof(3, 7)
	if err != nil {
		t.Fatal(err)
	}
	if err := mmr.VerifyInclusion(root, 7, 3, leaf, genuine); err != nil {
		t.Fatalf("genuine proof: %v", err)
	}
	edit := func(f func(p *mmr.InclusionProof)) *mmr.InclusionProof {
		p := *genuine
		p.Siblings = slices.Clone(p.Siblings)
		p.Peaks = slices.Clone(p.Peaks)
		f(&p)
		return &p
	}
	tests := []struct {
		name         string
		root         mmr.Hash
		count, index uint64
		leaf         mmr.Hash
		proof        *mmr.InclusionProof
	}{
		{"nil proof", root, 7, 3, leaf, nil},
		{"claimed other index", root, 7, 2, leaf, genuine},
		{"proof names other index", root, 7, 3, leaf, edit(func(p *mmr.InclusionProof) { p.LeafIndex = 2 })},
		{"claimed other count", root, 6, 3, leaf, genuine},
		{"proof names other count", root, 7, 3, leaf, edit(func(p *mmr.InclusionProof) { p.LeafCount = 8 })},
		{"index past count", root, 7, 7, leaf, edit(func(p *mmr.InclusionProof) { p.LeafIndex = 7 })},
		{"count above max", root, math.MaxUint64, 3, leaf, edit(func(p *mmr.InclusionProof) { p.LeafCount = math.MaxUint64 })},
		{"extra sibling", root, 7, 3, leaf, edit(func(p *mmr.InclusionProof) { p.Siblings = append(p.Siblings, leaf) })},
		{"missing sibling", root, 7, 3, leaf, edit(func(p *mmr.InclusionProof) { p.Siblings = p.Siblings[1:] })},
		{"missing peak", root, 7, 3, leaf, edit(func(p *mmr.InclusionProof) { p.Peaks = p.Peaks[1:] })},
		{"all peaks", root, 7, 3, leaf, edit(func(p *mmr.InclusionProof) { p.Peaks = append(p.Peaks, leaf) })},
		{"swapped peaks", root, 7, 3, leaf, edit(func(p *mmr.InclusionProof) { p.Peaks[0], p.Peaks[1] = p.Peaks[1], p.Peaks[0] })},
		{"wrong leaf", root, 7, 3, mmr.LeafHash(leafData(5, 4)), genuine},
		{"root of other count", mustRoot(t, m, 6), 7, 3, leaf, genuine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mmr.VerifyInclusion(tt.root, tt.count, tt.index, tt.leaf, tt.proof)
			if !errors.Is(err, mmr.ErrInvalidProof) {
				t.Errorf("err = %v, want ErrInvalidProof", err)
			}
		})
	}
}

// Every pair of prefixes of MMRs up to 64 leaves, exhaustively.
func TestConsistencyAllPairs(t *testing.T) {
	const n = 64
	m := build(t, 6, n)
	roots := make([]mmr.Hash, n+1)
	for k := range roots {
		roots[k] = mustRoot(t, m, uint64(k))
	}
	for newCount := uint64(0); newCount <= n; newCount++ {
		for oldCount := uint64(0); oldCount <= newCount; oldCount++ {
			p, err := m.ConsistencyProof(oldCount, newCount)
			if err != nil {
				t.Fatal(err)
			}
			if err := mmr.VerifyConsistency(roots[oldCount], oldCount, roots[newCount], newCount, p); err != nil {
				t.Errorf("%d -> %d: %v", oldCount, newCount, err)
			}
			if newCount > 0 { // a proof for one pair holds for no other
				other := (oldCount + 1) % (newCount + 1)
				if err := mmr.VerifyConsistency(roots[other], other, roots[newCount], newCount, p); err == nil {
					t.Errorf("%d -> %d proof verified for %d -> %d", oldCount, newCount, other, newCount)
				}
			}
		}
	}
}

func TestConsistencyEdgeCases(t *testing.T) {
	m := build(t, 7, 10)
	empty := mmr.BagPeaks(0, nil)
	r5, r10 := mustRoot(t, m, 5), mustRoot(t, m, 10)
	proof := func(o, n uint64) *mmr.ConsistencyProof {
		p, err := m.ConsistencyProof(o, n)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name     string
		oldRoot  mmr.Hash
		oldCount uint64
		newRoot  mmr.Hash
		newCount uint64
		p        *mmr.ConsistencyProof
		ok       bool
	}{
		{"empty extends to 10", empty, 0, r10, 10, proof(0, 10), true},
		{"empty to empty", empty, 0, empty, 0, proof(0, 0), true},
		{"empty with a non-empty old root", r5, 0, r10, 10, proof(0, 10), false},
		{"empty with wrong new root", empty, 0, r5, 10, proof(0, 10), false},
		{"equal counts, equal roots", r10, 10, r10, 10, proof(10, 10), true},
		{"equal counts, different roots", r10, 10, r5, 10, proof(10, 10), false},
		{"5 to 10", r5, 5, r10, 10, proof(5, 10), true},
		{"5 to 10, roots swapped", r10, 5, r5, 10, proof(5, 10), false},
		{"old count above new count", r10, 10, r5, 5, &mmr.ConsistencyProof{OldCount: 10, NewCount: 5}, false},
		{"nil proof", r5, 5, r10, 10, nil, false},
		{"proof for other counts", r5, 5, r10, 10, proof(4, 10), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mmr.VerifyConsistency(tt.oldRoot, tt.oldCount, tt.newRoot, tt.newCount, tt.p)
			if tt.ok && err != nil {
				t.Errorf("err = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, mmr.ErrInvalidProof) {
				t.Errorf("err = %v, want ErrInvalidProof", err)
			}
		})
	}
}

// A provider that is behind verifies as extended-by the newer history; one
// whose history diverged (a leaf changed) does not.
func TestConsistencyBehindVersusDiverged(t *testing.T) {
	const n = 40
	a := build(t, 8, n)
	for changed := range uint64(n) {
		b, err := mmr.New(mmr.NewMemStore())
		if err != nil {
			t.Fatal(err)
		}
		for i := range uint64(n) {
			data := leafData(8, i)
			if i == changed {
				data = []byte("tampered")
			}
			if _, err := b.Append(data); err != nil {
				t.Fatal(err)
			}
		}
		for _, oldCount := range []uint64{1, 13, 16, 31, 32, 39} {
			p, err := b.ConsistencyProof(oldCount, n)
			if err != nil {
				t.Fatal(err)
			}
			err = mmr.VerifyConsistency(mustRoot(t, a, oldCount), oldCount, mustRoot(t, b, n), n, p)
			if diverged := changed < oldCount; diverged != (err != nil) {
				t.Errorf("leaf %d changed, old count %d: err = %v", changed, oldCount, err)
			}
		}
	}
}

func TestConcurrentReadersOneWriter(t *testing.T) {
	m := build(t, 9, 1)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				n := m.LeafCount()
				root, err := m.RootAt(n)
				if err != nil {
					t.Error(err)
					return
				}
				p, err := m.Proof(n-1, n)
				if err != nil {
					t.Error(err)
					return
				}
				if err := mmr.VerifyInclusion(root, n, n-1, mmr.LeafHash(leafData(9, n-1)), p); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := uint64(1); i < 300; i++ {
		if _, err := m.Append(leafData(9, i)); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
}

// MemStore spreads nodes over chunks; appends of every length cross their
// boundaries.
func TestMemStore(t *testing.T) {
	s := mmr.NewMemStore()
	var want []mmr.Hash
	for k := range 200 {
		batch := make([]mmr.Hash, k*k%97)
		for i := range batch {
			batch[i] = mmr.LeafHash(leafData(10, uint64(len(want)+i)))
		}
		if err := s.Append(batch); err != nil {
			t.Fatal(err)
		}
		want = append(want, batch...)
	}
	if err := s.Append(nil); err != nil {
		t.Fatal(err)
	}
	if s.Size() != uint64(len(want)) {
		t.Fatalf("Size = %d, want %d", s.Size(), len(want))
	}
	for pos, w := range want {
		if got, err := s.Get(uint64(pos)); err != nil || got != w {
			t.Fatalf("Get(%d) = %s, %v; want %s", pos, got, err, w)
		}
	}
	if _, err := s.Get(uint64(len(want))); !errors.Is(err, mmr.ErrNotFound) {
		t.Errorf("Get past the end: err = %v, want ErrNotFound", err)
	}
}
