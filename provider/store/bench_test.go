package store_test

import (
	"bytes"
	"testing"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/provider/store"
	"github.com/cairn-storage/cairn/provider/store/storetest"
)

// BenchmarkAppend1MiB appends 1 MiB blobs to one bucket of a Pebble store.
func BenchmarkAppend1MiB(b *testing.B) {
	for _, sync := range []bool{true, false} {
		b.Run(map[bool]string{true: "fsync", false: "nosync"}[sync], func(b *testing.B) {
			s, err := store.OpenPebble(b.TempDir(), store.Options{NoSync: !sync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			data := storetest.Blob(1, 1<<20)
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				data[0], data[1], data[2] = byte(i), byte(i>>8), byte(i>>16)
				w := store.Write{Leaf: core.SignedLeaf{Leaf: core.Leaf{Seq: uint64(i), ContentHash: core.Sum256(data), Size: uint64(len(data))}}, Data: bytes.NewReader(data), MaxBytes: storetest.Unlimited}
				if _, err := s.Append(1, w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
