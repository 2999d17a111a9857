package mmr_test

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/cairn-storage/cairn/mmr"
)

var benchSizes = []uint64{1_000, 1_000_000}

// benchMMRs holds the MMRs benchmarks read, built once per process.
var benchMMRs = map[uint64]*mmr.MMR{}

func benchMMR(b *testing.B, n uint64) *mmr.MMR {
	if m, ok := benchMMRs[n]; ok {
		return m
	}
	m := build(b, 12, n)
	benchMMRs[n] = m
	return m
}

// spread maps k to a leaf index in [0, n) that jumps around the MMR.
func spread(k, n uint64) uint64 { return k * 0x9E3779B97F4A7C15 % n }

func BenchmarkAppend(b *testing.B) {
	m, err := mmr.New(mmr.NewMemStore())
	if err != nil {
		b.Fatal(err)
	}
	appendLoop(b, m, 0)
}

// appendLoop times appends of 32-byte leaves numbered from first on.
func appendLoop(b *testing.B, m *mmr.MMR, first uint64) {
	var data [32]byte
	i := first
	b.ReportAllocs()
	for b.Loop() {
		binary.BigEndian.PutUint64(data[:], i)
		if _, err := m.Append(data[:]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "leaves/s")
}

// BenchmarkAppendOnto appends to MMRs that already hold 10^3 and 10^6
// leaves (built outside the timer), the "append at 10^6 leaves" figure.
// Each gets its own MMR: appending to the shared ones would change what
// the other benchmarks measure.
func BenchmarkAppendOnto(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("leaves=%d", n), func(b *testing.B) {
			appendLoop(b, build(b, 12, n), n)
		})
	}
}

func BenchmarkAppendHash(b *testing.B) {
	m, err := mmr.New(mmr.NewMemStore())
	if err != nil {
		b.Fatal(err)
	}
	leaf := mmr.LeafHash(nil)
	b.ReportAllocs()
	for b.Loop() {
		leaf[0]++
		if _, err := m.AppendHash(leaf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "leaves/s")
}

func BenchmarkRoot(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("leaves=%d", n), func(b *testing.B) {
			m := benchMMR(b, n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Root(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRootAt(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("leaves=%d", n), func(b *testing.B) {
			m := benchMMR(b, n)
			var k uint64
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.RootAt(spread(k, n) + 1); err != nil {
					b.Fatal(err)
				}
				k++
			}
		})
	}
}

func BenchmarkProof(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("leaves=%d", n), func(b *testing.B) {
			m := benchMMR(b, n)
			var k uint64
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Proof(spread(k, n), n); err != nil {
					b.Fatal(err)
				}
				k++
			}
		})
	}
}

func BenchmarkVerifyInclusion(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("leaves=%d", n), func(b *testing.B) {
			m := benchMMR(b, n)
			root := mustRoot(b, m, n)
			type item struct {
				index uint64
				leaf  mmr.Hash
				proof *mmr.InclusionProof
			}
			items := make([]item, 256)
			for k := range items {
				i := spread(uint64(k), n)
				p, err := m.Proof(i, n)
				if err != nil {
					b.Fatal(err)
				}
				items[k] = item{i, mmr.LeafHash(leafData(12, i)), p}
			}
			var k int
			b.ReportAllocs()
			for b.Loop() {
				it := items[k%len(items)]
				if err := mmr.VerifyInclusion(root, n, it.index, it.leaf, it.proof); err != nil {
					b.Fatal(err)
				}
				k++
			}
		})
	}
}

func BenchmarkConsistencyProof(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("leaves=%d", n), func(b *testing.B) {
			m := benchMMR(b, n)
			var k uint64
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.ConsistencyProof(spread(k, n)+1, n); err != nil {
					b.Fatal(err)
				}
				k++
			}
		})
	}
}

func BenchmarkVerifyConsistency(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("leaves=%d", n), func(b *testing.B) {
			m := benchMMR(b, n)
			newRoot := mustRoot(b, m, n)
			type item struct {
				old     uint64
				oldRoot mmr.Hash
				proof   *mmr.ConsistencyProof
			}
			items := make([]item, 256)
			for k := range items {
				old := spread(uint64(k), n) + 1
				p, err := m.ConsistencyProof(old, n)
				if err != nil {
					b.Fatal(err)
				}
				items[k] = item{old, mustRoot(b, m, old), p}
			}
			var k int
			b.ReportAllocs()
			for b.Loop() {
				it := items[k%len(items)]
				if err := mmr.VerifyConsistency(it.oldRoot, it.old, newRoot, n, it.proof); err != nil {
					b.Fatal(err)
				}
				k++
			}
		})
	}
}
