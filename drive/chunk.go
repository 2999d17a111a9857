package drive

import (
	"errors"
	"io"
	"sync"
)

// chunker cuts a file into chunks: Config.ChunkSize bytes each while the
// file is small, Config.LargeChunkSize bytes each once it is large (its
// known size is at least Config.LargeFileSize, or, size unknown, that many
// bytes have been read), so a large file costs a quarter of the requests,
// signatures and syncs per byte. The cut depends only on the bytes and the
// size, so an upload retried after a failure makes the same chunks (and
// reuses the orphans the failed one left). A manifest lists each chunk's
// size, so readers need no rule: manifests of either cut read the same.
//
// Chunk bodies come from a bounded pool (bufPool) and go back once every
// provider took them (pendingWrite.release).
type chunker struct {
	r     io.Reader
	small int
	large int
	at    int64 // bytes read from which chunks are large
	read  int64
	pool  *bufPool
}

func (c *Client) newChunker(r io.Reader, size int64, pool *bufPool) *chunker {
	at := c.cfg.LargeFileSize // size unknown: large from there on
	if size >= 0 && size < c.cfg.LargeFileSize {
		at = size + 1 // never
	} else if size >= 0 {
		at = 0
	}
	return &chunker{r: r, small: c.cfg.ChunkSize, large: c.cfg.LargeChunkSize, at: at, pool: pool}
}

// next returns the next chunk, in a buffer of the pool, and io.EOF after
// the last. A read error that is not the end is returned as it is.
func (k *chunker) next() ([]byte, error) {
	size := k.small
	if k.read >= k.at {
		size = k.large
	}
	buf := k.pool.get(size)
	n, err := io.ReadFull(k.r, buf)
	k.read += int64(n)
	if err == nil || (n > 0 && errors.Is(err, io.ErrUnexpectedEOF)) {
		return buf[:n], nil
	}
	k.pool.put(buf)
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	return nil, err
}

// bufPool keeps the chunk buffers of one transfer for reuse, by capacity
// (a file has at most two chunk sizes), up to keep bytes of them. The
// transfer's windows bound how many are in use at once, so a large file
// allocates about a window of buffers instead of one per chunk.
type bufPool struct {
	keep int64
	mu   sync.Mutex
	kept int64
	free map[int][][]byte
}

func newBufPool(keep int64) *bufPool { return &bufPool{keep: keep, free: map[int][][]byte{}} }

// get returns a buffer of len size (the caller bounds size).
func (p *bufPool) get(size int) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if fs := p.free[size]; len(fs) > 0 {
		b := fs[len(fs)-1]
		p.free[size] = fs[:len(fs)-1]
		p.kept -= int64(cap(b))
		return b[:size]
	}
	return make([]byte, size)
}

// put gives b back for reuse. Nothing may read or write b afterwards.
func (p *bufPool) put(b []byte) {
	b = b[:cap(b)]
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.kept+int64(len(b)) <= p.keep {
		p.free[len(b)] = append(p.free[len(b)], b)
		p.kept += int64(len(b))
	}
}
