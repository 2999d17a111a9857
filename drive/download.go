package drive

import (
	"context"
	"io"
	"sync"

	"github.com/cairn-storage/cairn/core"
)

// maxChunk bounds a chunk a manifest may list: no provider stores a blob
// larger (provider.MaxBlobLimit is below it), and a download allocates a
// chunk's buffer before its bytes arrive.
const maxChunk = 4 << 20

// span is the part of a file a download writes: the chunks that overlap
// it, the bytes of the first chunk before it, and how many bytes it holds.
// Every chunk is still fetched and verified whole; only the bytes of the
// span reach the writer.
type span struct {
	chunks []ChunkRef
	skip   uint64 // bytes of chunks[0] before the span
	n      uint64 // bytes written in all
}

// download writes the span's bytes to w in order, fetching several at once,
// spread over the bucket's providers in good health: up to DownloadWindow
// chunks and DownloadWindowBytes bytes (at least one chunk) are fetched or
// waiting for their turn. Each chunk is verified against its CID before it
// reaches w, and a provider that is slow, hung or corrupt is passed over for
// the next one (fetchBlob). Memory is bounded by the window, whatever the
// size of the file: chunk buffers are reused once written. It returns the
// bytes written.
func (c *Client) download(ctx context.Context, bucket core.BucketID, s span, w io.Writer) (uint64, error) {
	chunks, skip, left := s.chunks, s.skip, s.n
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel: no fetch outlives the download
	defer cancel()
	type result struct {
		b   []byte
		err error
	}
	pool := newBufPool(c.cfg.DownloadWindowBytes)
	slots := make([]chan result, len(chunks))
	start := func(i int) {
		ch := make(chan result, 1) // never blocks: the fetch never outlives its send
		slots[i] = ch
		buf := pool.get(int(chunks[i].Size)) // at most maxChunk (decodeManifest)
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := c.fetchBlob(ctx, bucket, chunks[i].CID, int64(len(buf)), i, buf)
			ch <- result{b, err}
		}()
	}
	next, held := 0, int64(0) // next chunk to start; bytes of those started and not written
	fill := func(written int) {
		for next < len(chunks) && next-written < c.cfg.DownloadWindow &&
			(next == written || held+int64(chunks[next].Size) <= c.cfg.DownloadWindowBytes) {
			start(next)
			held += int64(chunks[next].Size)
			next++
		}
	}
	fill(0)
	var n uint64
	for i, ch := range chunks {
		r := <-slots[i]
		slots[i] = nil
		if r.err != nil && core.KindOf(r.err) == core.Unavailable && ctx.Err() == nil {
			// Every provider failed this chunk, one at least by not
			// answering in time: with several chunks in flight a busy
			// provider may start late. One more pass, alone, in the order
			// the records now give.
			r.b, r.err = c.fetchBlob(ctx, bucket, ch.CID, int64(ch.Size), i, make([]byte, ch.Size))
		}
		if r.err != nil {
			return n, r.err // cancel stops the fetches still running
		}
		b := r.b[min(skip, uint64(len(r.b))):]
		b = b[:min(left, uint64(len(b)))]
		if _, err := w.Write(b); err != nil {
			return n, core.E("drive.read", core.Internal, err)
		}
		n += uint64(len(b))
		skip, left = 0, left-uint64(len(b))
		pool.put(r.b) // read synchronously, by fetchFrom alone: free now
		held -= int64(ch.Size)
		fill(i + 1)
	}
	return n, nil
}
