package drive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/cairn-storage/cairn/core"
)

// MaxSkip is how far ahead of its running download a File's Read may
// start and still be served by reading on (discarding the bytes between)
// rather than by a new download from its offset.
const MaxSkip = 4 << 20

// File is an open drive file: an io.ReadSeekCloser and io.ReaderAt over
// the version of the file Open found (later writes to its path are not
// seen). Sequential Reads stream from one running download; a Read at an
// offset behind it, or more than MaxSkip ahead, ends it and starts one at
// that offset, which fetches only the chunks from there on. Nothing is
// downloaded until the first Read.
//
// Read, Seek and Close must not be called concurrently; ReadAt may be, and
// does not move the offset. Close ends and waits for the download
// goroutine; the context given to Open bounds every download.
type File struct {
	c      *Client
	ctx    context.Context
	bucket core.BucketID
	m      *FileManifest
	path   string

	off    int64   // offset of the next Read
	s      *stream // nil: none running
	closed bool
}

// stream is one download from an offset to the end of the file, written
// into a pipe by a goroutine the File owns.
type stream struct {
	r      *io.PipeReader
	off    int64 // offset of the next byte r gives
	cancel context.CancelFunc
	done   chan struct{}
}

var (
	_ io.ReadSeekCloser = (*File)(nil)
	_ io.ReaderAt       = (*File)(nil)
)

// Open opens the file at p for reading. ctx bounds the File's downloads,
// so it should live as long as the File (not only the call to Open).
func (c *Client) Open(ctx context.Context, ref, p string) (*File, error) {
	bucket, m, err := c.fileManifest(ctx, "drive.Open", ref, p)
	if err != nil {
		return nil, err
	}
	return &File{c: c, ctx: ctx, bucket: bucket, m: m, path: p}, nil
}

// Size is the file's size in bytes.
func (f *File) Size() int64 { return int64(min(f.m.Size, math.MaxInt64)) }

// Read reads from the current offset, streaming from the running download
// when the offset is on it or a little ahead of it.
func (f *File) Read(p []byte) (int, error) {
	if f.closed {
		return 0, os.ErrClosed
	}
	if f.off >= f.Size() {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if f.s != nil && (f.off < f.s.off || f.off > f.s.off+MaxSkip) {
		f.stop()
	}
	if f.s == nil {
		f.start()
	}
	if gap := f.off - f.s.off; gap > 0 {
		n, err := io.CopyN(io.Discard, f.s.r, gap)
		f.s.off += n
		if err != nil {
			f.stop()
			return 0, unexpected(err)
		}
	}
	n, err := f.s.r.Read(p)
	f.s.off += int64(n)
	f.off += int64(n)
	if err != nil {
		f.stop() // done, or failed: the next Read starts again
		if f.off < f.Size() {
			err = unexpected(err)
		}
	}
	return n, err
}

// unexpected turns an end of the stream before the end of the file into
// io.ErrUnexpectedEOF, and passes any other error on.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// start runs a download from f.off to the end of the file into a pipe.
// The goroutine ends when the download does, when stop closes the pipe,
// or when f.ctx ends, whichever is first.
func (f *File) start() {
	ctx, cancel := context.WithCancel(f.ctx)
	pr, pw := io.Pipe()
	s := &stream{r: pr, off: f.off, cancel: cancel, done: make(chan struct{})}
	sp, rerr := rangeOf(f.m, f.off, -1)
	go func() {
		defer close(s.done)
		// A cancelled context also frees a download blocked on a pipe
		// nobody reads.
		unhook := context.AfterFunc(ctx, func() { pr.CloseWithError(context.Cause(ctx)) })
		defer unhook()
		err := rerr
		if err == nil {
			_, err = f.c.download(ctx, f.bucket, sp, pw)
		}
		pw.CloseWithError(err) // nil: EOF
	}()
	f.s = s
}

// stop ends the running download, if any, and waits for its goroutine.
func (f *File) stop() {
	if f.s == nil {
		return
	}
	f.s.cancel()
	f.s.r.CloseWithError(context.Canceled)
	<-f.s.done
	f.s = nil
}

// Seek sets the offset of the next Read. It starts nothing: the Read
// decides whether the running download serves the new offset.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	off, err := SeekOffset(f.off, f.Size(), offset, whence)
	if err != nil {
		return f.off, core.E("drive.Seek", core.Invalid, fmt.Errorf("%q: %w", f.path, err))
	}
	f.off = off
	return off, nil
}

// SeekOffset is the offset io.Seeker's Seek(offset, whence) gives from cur
// in a file of size bytes, for a reader that keeps its own offset before
// it opens a File. A negative offset or an unknown whence is Invalid; an
// offset past the end is allowed (a Read there gives io.EOF).
func SeekOffset(cur, size, offset int64, whence int) (int64, error) {
	var off int64
	switch whence {
	case io.SeekStart:
		off = offset
	case io.SeekCurrent:
		off = cur + offset
	case io.SeekEnd:
		off = size + offset
	default:
		return cur, core.Errorf("drive.Seek", core.Invalid, "whence %d", whence)
	}
	if off < 0 {
		return cur, core.Errorf("drive.Seek", core.Invalid, "negative offset %d", off)
	}
	return off, nil
}

// ReadAt reads len(p) bytes from off with a download of its own, which
// fetches only the chunks the range overlaps; it neither uses nor moves
// the stream of Read. Fewer bytes come back only at the end of the file,
// with io.EOF.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, core.Errorf("drive.ReadAt", core.Invalid, "%q: negative offset %d", f.path, off)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= f.Size() {
		return 0, io.EOF
	}
	want := min(int64(len(p)), f.Size()-off)
	sp, err := rangeOf(f.m, off, want)
	if err != nil {
		return 0, err
	}
	w := &sliceWriter{b: p[:want]}
	if _, err := f.c.download(f.ctx, f.bucket, sp, w); err != nil {
		return w.n, err
	}
	if want < int64(len(p)) {
		return w.n, io.EOF
	}
	return w.n, nil
}

// sliceWriter fills b and refuses a byte more.
type sliceWriter struct {
	b []byte
	n int
}

func (w *sliceWriter) Write(p []byte) (int, error) {
	if len(p) > len(w.b)-w.n {
		return 0, fmt.Errorf("drive: %d bytes for a buffer with room for %d", len(p), len(w.b)-w.n)
	}
	w.n += copy(w.b[w.n:], p)
	return len(p), nil
}

// Close ends the running download and waits for it. Reads after Close
// fail; Close again does nothing.
func (f *File) Close() error {
	f.stop()
	f.closed = true
	return nil
}
