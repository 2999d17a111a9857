package checkpoint

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/core"
)

// writeV1State writes a version-1 state file (the whole-file JSON format)
// holding n buckets, each dirty with a pending root and a last result, as
// a client owning n drives keeps it.
func writeV1State(tb testing.TB, path string, n int) {
	tb.Helper()
	p := newState()
	signers := []core.AccountID{{1}, {2}, {3}}
	for i := 1; i <= n; i++ {
		b := core.BucketID(i)
		p.Dirty[b] = uint64(i)
		p.PendingRoot[b] = PendingRoot{Drive: core.DriveID(i), RootCID: fmt.Sprintf("bafy-root-%d", i), Leaf: core.Leaf{Seq: uint64(i)}}
		p.LastResult[b] = &Result{Kind: Submitted, Bucket: b, TxHash: "ab12", Height: int64(i), Signers: signers,
			LeafCount: uint64(i), DriveRoot: fmt.Sprintf("bafy-root-%d", i), Attempt: time.Unix(1700000000, 0).UTC()}
	}
	b, err := json.MarshalIndent(&p, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkStateUpdate is one bucket's persisted state change (a drive's
// new pending root, as every put makes it) with 10 or 1,000 buckets in
// the state file: the cost must not grow with the number of buckets
// (docs/benchmarks.md, "## scale"). It asserts only that each update
// succeeded.
func BenchmarkStateUpdate(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("buckets=%d", n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "state.json")
			writeV1State(b, path, n)
			st, err := openState(path)
			if err != nil {
				b.Fatal(err)
			}
			pr := PendingRoot{Drive: 1, RootCID: "bafy-new-root"}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				pr.Leaf.Seq = uint64(i)
				if err := st.updateBucket(1, func(p *persisted) { p.PendingRoot[1] = pr; p.Dirty[1]++ }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
