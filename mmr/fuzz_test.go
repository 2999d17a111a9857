package mmr_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairn-storage/cairn/mmr"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed corpora in testdata/fuzz")

// The fuzz targets work on one fixed MMR.
const (
	fuzzSeed   = 0xCA1F
	fuzzLeaves = 37
)

// Seed corpus: genuine proofs from the fuzz MMR, as (leaf index, leaf count)
// and (old count, new count).
var (
	corpusInclusion   = [][2]uint64{{0, 1}, {1, 3}, {5, 37}, {20, 32}, {36, 37}}
	corpusConsistency = [][2]uint64{{0, 0}, {0, 5}, {1, 3}, {5, 37}, {16, 32}, {37, 37}}
)

// corpus returns the seed corpus files of every fuzz target, by path under
// testdata/fuzz, in the format of go test fuzz v1.
func corpus(t testing.TB) map[string]string {
	m := build(t, fuzzSeed, fuzzLeaves)
	files := map[string]string{}
	for _, ic := range corpusInclusion {
		p, err := m.Proof(ic[0], ic[1])
		if err != nil {
			t.Fatal(err)
		}
		enc, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("leaf%d-of-%d", ic[0], ic[1])
		files["FuzzUnmarshalInclusionProof/"+name] = fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", enc)
		files["FuzzVerifyInclusion/"+name] = fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nuint64(%d)\nuint64(%d)\n[]byte(%q)\n",
			enc, ic[0], ic[1], leafData(fuzzSeed, ic[0]))
	}
	for _, on := range corpusConsistency {
		p, err := m.ConsistencyProof(on[0], on[1])
		if err != nil {
			t.Fatal(err)
		}
		enc, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("from%d-to-%d", on[0], on[1])
		files["FuzzUnmarshalConsistencyProof/"+name] = fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", enc)
		files["FuzzVerifyConsistency/"+name] = fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nuint64(%d)\nuint64(%d)\n", enc, on[0], on[1])
	}
	return files
}

// The seed corpora hold genuine proofs of the current encoding; run with
// -update-corpus to rewrite them.
func TestFuzzCorpus(t *testing.T) {
	for path, want := range corpus(t) {
		path = filepath.Join("testdata", "fuzz", path)
		if *updateCorpus {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestFuzzCorpus -update-corpus)", err)
		}
		if string(got) != want {
			t.Errorf("%s is stale (run go test -run TestFuzzCorpus -update-corpus)", path)
		}
	}
}

func FuzzUnmarshalInclusionProof(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var p mmr.InclusionProof
		if err := p.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, mmr.ErrInvalidProof) {
				t.Fatalf("err = %v, want ErrInvalidProof", err)
			}
			return
		}
		enc, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, data) {
			t.Fatalf("re-encoded %x, decoded %x", enc, data)
		}
		js, err := json.Marshal(&p)
		if err != nil {
			t.Fatal(err)
		}
		var q mmr.InclusionProof
		if err := json.Unmarshal(js, &q); err != nil {
			t.Fatal(err)
		}
		if !inclusionEqual(&p, &q) {
			t.Fatalf("JSON round trip: %+v, want %+v", q, p)
		}
	})
}

func FuzzUnmarshalConsistencyProof(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var p mmr.ConsistencyProof
		if err := p.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, mmr.ErrInvalidProof) {
				t.Fatalf("err = %v, want ErrInvalidProof", err)
			}
			return
		}
		enc, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, data) {
			t.Fatalf("re-encoded %x, decoded %x", enc, data)
		}
		js, err := json.Marshal(&p)
		if err != nil {
			t.Fatal(err)
		}
		var q mmr.ConsistencyProof
		if err := json.Unmarshal(js, &q); err != nil {
			t.Fatal(err)
		}
		if !consistencyEqual(&p, &q) {
			t.Fatalf("JSON round trip: %+v, want %+v", q, p)
		}
	})
}

// rootFor is the fuzz MMR's root at count leaves, or its full root past that.
func rootFor(t *testing.T, m *mmr.MMR, count uint64) mmr.Hash {
	return mustRoot(t, m, min(count, fuzzLeaves))
}

// Against the fuzz MMR's true roots, the only proof that verifies is the
// genuine proof of the genuine leaf.
func FuzzVerifyInclusion(f *testing.F) {
	m := build(f, fuzzSeed, fuzzLeaves)
	f.Fuzz(func(t *testing.T, enc []byte, index, count uint64, data []byte) {
		var p mmr.InclusionProof
		if p.UnmarshalBinary(enc) != nil {
			return
		}
		err := mmr.VerifyInclusion(rootFor(t, m, count), count, index, mmr.LeafHash(data), &p)
		if err != nil {
			if !errors.Is(err, mmr.ErrInvalidProof) {
				t.Fatalf("err = %v, want ErrInvalidProof", err)
			}
			return
		}
		if count > fuzzLeaves || index >= count || !bytes.Equal(data, leafData(fuzzSeed, index)) {
			t.Fatalf("verified leaf %d of %d with data %x", index, count, data)
		}
		genuine, err := m.Proof(index, count)
		if err != nil {
			t.Fatal(err)
		}
		if !inclusionEqual(&p, genuine) {
			t.Fatalf("verified %+v, genuine %+v", p, genuine)
		}
	})
}

// Against the fuzz MMR's true roots, the only consistency proof that
// verifies is the genuine one.
func FuzzVerifyConsistency(f *testing.F) {
	m := build(f, fuzzSeed, fuzzLeaves)
	f.Fuzz(func(t *testing.T, enc []byte, oldCount, newCount uint64) {
		var p mmr.ConsistencyProof
		if p.UnmarshalBinary(enc) != nil {
			return
		}
		err := mmr.VerifyConsistency(rootFor(t, m, oldCount), oldCount, rootFor(t, m, newCount), newCount, &p)
		if err != nil {
			if !errors.Is(err, mmr.ErrInvalidProof) {
				t.Fatalf("err = %v, want ErrInvalidProof", err)
			}
			return
		}
		if newCount > fuzzLeaves || oldCount > newCount {
			t.Fatalf("verified %d -> %d", oldCount, newCount)
		}
		genuine, err := m.ConsistencyProof(oldCount, newCount)
		if err != nil {
			t.Fatal(err)
		}
		if !consistencyEqual(&p, genuine) {
			t.Fatalf("verified %+v, genuine %+v", p, genuine)
		}
	})
}
