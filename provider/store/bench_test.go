package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/provider/store"
	"github.com/cairn-storage/cairn/provider/store/storetest"
)

// BenchmarkAppend1MiB appends 1 MiB blobs to one bucket of a Pebble store:
// one append at a time with and without fsync, and with a window of 8
// appends in flight (writers take consecutive seqs; a write that arrives
// before the one it follows is staged waits for it, within the store's
// HoldAhead, or is refused with a seq gap and sent again), where group
// commit lets concurrent appends share a sync. The window's retries are
// reported as gap-retries/op (0 since appends are held: hold.go).
func BenchmarkAppend1MiB(b *testing.B) {
	for _, c := range []struct {
		name   string
		sync   bool
		window int
	}{{"fsync", true, 1}, {"nosync", false, 1}, {"fsync-window8", true, 8}} {
		b.Run(c.name, func(b *testing.B) {
			s, err := store.OpenPebble(b.TempDir(), store.Options{NoSync: !c.sync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			writes := make(chan uint64)
			var retries atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, c.window)
			b.SetBytes(1 << 20)
			b.ResetTimer()
			for w := range c.window {
				data := storetest.Blob(w, 1<<20) // one buffer per writer
				wg.Add(1)
				go func() {
					defer wg.Done()
					for seq := range writes {
						data[0], data[1], data[2] = byte(seq), byte(seq>>8), byte(seq>>16)
						wr := store.Write{Leaf: core.SignedLeaf{Leaf: core.Leaf{Seq: seq, ContentHash: core.Sum256(data), Size: uint64(len(data))}}, MaxBytes: storetest.Unlimited}
						for {
							wr.Data = bytes.NewReader(data)
							_, err := s.Append(1, wr)
							var gap *core.BehindError
							if errors.As(err, &gap) {
								retries.Add(1)
								runtime.Gosched()
								continue
							}
							if err != nil {
								errs <- fmt.Errorf("seq %d: %w", seq, err)
								return
							}
							break
						}
					}
				}()
			}
			for i := 0; i < b.N; i++ {
				writes <- uint64(i)
			}
			close(writes)
			wg.Wait()
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			if c.window > 1 {
				b.ReportMetric(float64(retries.Load())/float64(b.N), "gap-retries/op")
			}
		})
	}
}
