package chainclient_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainnode/chaintest"
	"github.com/cairn-storage/cairn/core"
)

// BenchmarkSubmitLatency: Submit to committed on a real validator with the
// dev block time (200 ms), in blocks (committed height minus the height
// when Submit was called) and wall time; sequential, and with 16
// concurrent submitters of one signer.
func BenchmarkSubmitLatency(b *testing.B) {
	for _, workers := range []int{1, 16} {
		b.Run(fmt.Sprintf("submitters=%d", workers), func(b *testing.B) {
			n := chaintest.Start(b, chaintest.Options{TimeoutCommit: 200 * time.Millisecond})
			c := chaintest.Client(b, n)
			ctx := context.Background()
			alice, _ := core.DevKey("alice")
			bob, _ := core.DevKey("bob")
			var mu sync.Mutex
			var blocks, wall float64
			var count int
			b.ResetTimer()
			var wg sync.WaitGroup
			per := (b.N + workers - 1) / workers
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range per {
						h0 := n.Height()
						start := time.Now()
						res, err := c.Submit(ctx, alice, wire.Transfer{To: bob.Account(), Amount: 1})
						if err != nil {
							b.Error(err)
							return
						}
						mu.Lock()
						blocks += float64(res.Height - h0)
						wall += time.Since(start).Seconds()
						count++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(blocks/float64(count), "blocks/op")
			b.ReportMetric(1000*wall/float64(count), "ms/op")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkBlockInterval: the time between blocks of a lone dev validator
// (timeout_commit 200 ms).
func BenchmarkBlockInterval(b *testing.B) {
	n := chaintest.Start(b, chaintest.Options{TimeoutCommit: 200 * time.Millisecond})
	ctx := context.Background()
	h0 := n.Height()
	b.ResetTimer()
	start := time.Now()
	if err := n.WaitForHeight(ctx, h0+int64(b.N)); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/block")
	b.ReportMetric(0, "ns/op")
}
