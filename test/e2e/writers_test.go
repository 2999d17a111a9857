//go:build linux

package e2e

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// TestParallelPuts runs four `cairn put` processes against one drive at
// once, as `xargs -P4` or rclone's four transfers do: every one exits 0
// (they take turns through the writer lock in the client home), and after
// a commit a client with an empty home, which sees only the root on
// chain, gets every file back.
func TestParallelPuts(t *testing.T) {
	t.Parallel()
	n := startNetwork(t)
	binary(t) // before the goroutines: it may fail the test
	dir := t.TempDir()
	for _, strategy := range []string{"immediate", "manual"} {
		t.Run(strategy, func(t *testing.T) {
			d := n.createDrive(t, "par-"+strategy, strategy)
			const puts = 4
			sums := make([]string, puts)
			results := make([]result, puts)
			for i := range puts {
				sums[i] = writeRandomFile(t, filepath.Join(dir, fmt.Sprintf("%s-%d.bin", strategy, i)), int64(300_000+i*200_000), byte(i+1))
			}
			var wg sync.WaitGroup
			for i := range puts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					src := filepath.Join(dir, fmt.Sprintf("%s-%d.bin", strategy, i))
					results[i] = n.cairnCtx(t, t.Context(), "put", src, fmt.Sprintf("%s:/in/f%d.bin", d.ref(), i), "--json")
				}()
			}
			wg.Wait()
			for _, r := range results {
				if r.code != 0 {
					t.Errorf("a parallel put failed:\n%s", r)
				}
			}
			if t.Failed() {
				t.FailNow()
			}
			n.cairn(t, "commit", d.ref()).ok(t)
			fresh := filepath.Join(t.TempDir(), "fresh-home")
			for i := range puts {
				out := filepath.Join(t.TempDir(), "back.bin")
				runCairn(t, t.Context(), "--chain", n.chain, "--home", fresh, "get", fmt.Sprintf("%s:/in/f%d.bin", d.ref(), i), out).ok(t)
				if got := sha256File(t, out); got != sums[i] {
					t.Errorf("f%d.bin came back different from the chain's root", i)
				}
			}
		})
	}
}
