package drive

import (
	"context"
	"io"
	"sync"

	"github.com/cairn-storage/cairn/core"
)

// download writes the chunks to w in order, fetching up to DownloadWindow
// of them at once, spread over the bucket's providers in good health.
// Each chunk is verified against its CID before it reaches w, and a
// provider that is slow, hung or corrupt is passed over for the next one
// (fetchBlob). Memory is bounded by the window: at most DownloadWindow
// chunks are held, fetched or waiting for their turn, whatever the size
// of the file. It returns the bytes written.
func (c *Client) download(ctx context.Context, bucket core.BucketID, chunks []ChunkRef, w io.Writer) (uint64, error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel: no fetch outlives the download
	defer cancel()
	type result struct {
		b   []byte
		err error
	}
	window := c.cfg.DownloadWindow
	slots := make([]chan result, len(chunks))
	start := func(i int) {
		ch := make(chan result, 1) // never blocks: the fetch never outlives its send
		slots[i] = ch
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := c.fetchBlob(ctx, bucket, chunks[i].CID, int64(chunks[i].Size), i)
			ch <- result{b, err}
		}()
	}
	for i := range min(window, len(chunks)) {
		start(i)
	}
	var n uint64
	for i, ch := range chunks {
		r := <-slots[i]
		slots[i] = nil
		if r.err != nil && core.KindOf(r.err) == core.Unavailable && ctx.Err() == nil {
			// Every provider failed this chunk, one at least by not
			// answering in time: with several chunks in flight a busy
			// provider may start late. One more pass, alone, in the order
			// the records now give.
			r.b, r.err = c.fetchBlob(ctx, bucket, ch.CID, int64(ch.Size), i)
		}
		if r.err != nil {
			return n, r.err // cancel stops the fetches still running
		}
		if uint64(len(r.b)) != ch.Size {
			return n, core.Errorf("drive.read", core.Corrupt, "chunk %d is %d bytes, the manifest says %d", i, len(r.b), ch.Size)
		}
		if next := i + window; next < len(chunks) {
			start(next)
		}
		if _, err := w.Write(r.b); err != nil {
			return n, core.E("drive.read", core.Internal, err)
		}
		n += ch.Size
	}
	return n, nil
}
