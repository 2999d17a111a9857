package mount

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/cairn-storage/cairn/drive"
)

var errEOF = io.EOF

// maxSkip is how far ahead of its download a read may start and still be
// served by reading on (and discarding the bytes between) rather than by
// a new download.
const maxSkip = 4 << 20

// reader streams an open file. Reads are served in order from one
// download into a pipe; a read behind it, or more than maxSkip ahead,
// starts a new download at its offset. Memory: one FUSE request and the
// pipe (no buffer of its own) beside the download's window.
type reader struct {
	m    *mountFS
	path string
	size int64

	mu     sync.Mutex
	off    int64 // offset of the next byte the stream gives
	stream *download
}

var (
	_ fs.FileReader   = (*reader)(nil)
	_ fs.FileReleaser = (*reader)(nil)
)

// download is one DownloadFile into a pipe, owned by a reader.
type download struct {
	r      *io.PipeReader
	cancel context.CancelFunc
	done   chan struct{}
}

func newReader(m *mountFS, p string, size int64) *reader {
	return &reader{m: m, path: p, size: size}
}

func (r *reader) start(off int64) {
	ctx, cancel := context.WithCancel(r.m.ctx)
	pr, pw := io.Pipe()
	d := &download{r: pr, cancel: cancel, done: make(chan struct{})}
	r.m.transfers.Add(1)
	go func() {
		defer r.m.transfers.Done()
		defer close(d.done)
		_, err := r.m.c.DownloadFile(ctx, r.m.ref, r.path, &skipWriter{w: pw, skip: off})
		pw.CloseWithError(err) // nil: EOF
	}()
	r.stream, r.off = d, off
}

func (r *reader) stop() {
	if r.stream == nil {
		return
	}
	r.stream.cancel()
	r.stream.r.CloseWithError(context.Canceled)
	<-r.stream.done
	r.stream = nil
}

func (r *reader) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if off >= r.size {
		return fuse.ReadResultData(nil), 0
	}
	if r.stream != nil && (off < r.off || off > r.off+maxSkip) {
		r.stop()
	}
	if r.stream == nil {
		r.start(off)
	}
	if off > r.off {
		n, err := io.CopyN(io.Discard, r.stream.r, off-r.off)
		r.off += n
		if err != nil {
			r.stop()
			return nil, r.failed(err)
		}
	}
	n, err := io.ReadFull(r.stream.r, dest[:min(int64(len(dest)), r.size-off)])
	r.off += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		r.stop()
		return nil, r.failed(err)
	}
	return fuse.ReadResultData(dest[:n]), 0
}

func (r *reader) failed(err error) syscall.Errno {
	return errno(r.m.log, "read", r.path, err)
}

func (r *reader) Release(ctx context.Context) syscall.Errno {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stop()
	return 0
}

// skipWriter drops the first skip bytes written to it.
type skipWriter struct {
	w    io.Writer
	skip int64
}

func (s *skipWriter) Write(p []byte) (int, error) {
	n := len(p)
	if s.skip >= int64(n) {
		s.skip -= int64(n)
		return n, nil
	}
	p = p[s.skip:]
	s.skip = 0
	if _, err := s.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}

// writer is a file open for writing: its writes stream through a pipe
// into one UploadFile, which replaces the file whole when the file is
// closed (Flush). Writes must come in order from offset 0; any other
// write is EINVAL and the file is not stored. Nothing is uploaded for a
// file opened without O_TRUNC and never written.
type writer struct {
	m    *mountFS
	n    *node
	path string
	// store: upload even if nothing is written (a created or truncated
	// file exists, empty, once closed).
	store   bool
	started time.Time

	mu      sync.Mutex
	pw      *io.PipeWriter
	done    chan struct{} // closed when the upload ended
	err     error         // the upload's error, once done
	written atomic.Int64  // bytes taken so far (read without mu by attr)
	ended   bool          // flushed: later writes are refused
	broken  error         // a refused write: the file is not stored
}

var (
	_ fs.FileWriter   = (*writer)(nil)
	_ fs.FileFlusher  = (*writer)(nil)
	_ fs.FileFsyncer  = (*writer)(nil)
	_ fs.FileReleaser = (*writer)(nil)
	_ fs.FileReader   = (*writer)(nil)
)

var errNotSequential = errors.New("mount: a write not at the end of what was written (files are stored whole, written from offset 0 in order)")

func newWriter(m *mountFS, n *node, p string, store bool) *writer {
	return &writer{m: m, n: n, path: p, store: store, started: time.Now()}
}

// attr describes the file as written so far.
func (w *writer) attr(a *fuse.Attr) {
	fill(a, drive.DirectoryEntry{Size: uint64(w.written.Load()), Modified: w.started}, false)
}

// upload starts the UploadFile the writes stream into. Callers hold w.mu.
func (w *writer) upload() {
	pr, pw := io.Pipe()
	w.pw, w.done = pw, make(chan struct{})
	w.m.transfers.Add(1)
	go func() {
		defer w.m.transfers.Done()
		defer close(w.done)
		_, err := w.m.c.UploadFile(w.m.ctx, w.m.ref, w.path, pr, drive.UploadOptions{})
		w.err = err
		if err == nil {
			err = io.ErrClosedPipe // a write after the upload ended fails
		}
		pr.CloseWithError(err)
	}()
}

func (w *writer) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.ended || w.broken != nil:
		return 0, syscall.EIO
	case off != w.written.Load():
		w.abort(errNotSequential)
		w.m.log.Info("mount: refused a write out of order; the file will not be stored", "path", w.path, "offset", off, "written", w.written.Load())
		return 0, syscall.EINVAL
	}
	if w.pw == nil {
		w.upload()
	}
	n, err := w.pw.Write(data) // waits while the upload takes the bytes
	w.written.Add(int64(n))
	if err != nil {
		<-w.done
		return uint32(n), errno(w.m.log, "write", w.path, w.err)
	}
	return uint32(n), 0
}

// abort ends a started upload with err, so nothing is stored. Callers
// hold w.mu.
func (w *writer) abort(err error) {
	w.broken = err
	if w.pw != nil {
		w.pw.CloseWithError(err)
		<-w.done
	}
}

// truncate accepts a size change that leaves the file as written: to the
// size written so far, or to 0 before anything is written (which makes
// sure an empty file is stored).
func (w *writer) truncate(size uint64) syscall.Errno {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case int64(size) == w.written.Load():
		if size == 0 {
			w.store = true
		}
		return 0
	default:
		w.m.log.Info("mount: refused a truncate of a file being written", "path", w.path, "size", size, "written", w.written.Load())
		return syscall.EINVAL
	}
}

// Flush ends the upload when the file is closed and returns its outcome,
// so close(2) fails if the file was not stored.
func (w *writer) Flush(ctx context.Context) syscall.Errno {
	return w.finish()
}

// Fsync stores the file as written so far only at close: before that it
// is a no-op (the bytes are on their way; there is nothing to sync to).
func (w *writer) Fsync(ctx context.Context, flags uint32) syscall.Errno { return 0 }

func (w *writer) Release(ctx context.Context) syscall.Errno {
	errno := w.finish()
	w.n.doneWriting(w)
	return errno
}

func (w *writer) finish() syscall.Errno {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.broken != nil {
		return syscall.EIO
	}
	if !w.ended {
		w.ended = true
		if w.pw == nil && !w.store {
			return 0 // opened for writing, never written: the file stays as it was
		}
		if w.pw == nil {
			w.upload()
		}
		w.pw.Close()
		<-w.done
		w.n.doneWriting(w)
	}
	return errno(w.m.log, "close", w.path, w.err)
}

// Read on a file open for writing is refused: the drive holds the old
// content until the new one is closed.
func (w *writer) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	return nil, syscall.EBADF
}
