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

// reader serves an open file's reads from a drive.File, opened at the
// first read and closed at Release: reads in order stream from one
// download; a read behind it, or more than drive.MaxSkip ahead, starts a
// new download at its offset that fetches only the chunks from there on.
// Memory: one FUSE request and the File's pipe (no buffer of its own)
// beside the download's window. An open File counts as a transfer, so the
// server's Close waits for its Release.
type reader struct {
	m    *mountFS
	path string
	size int64

	mu   sync.Mutex
	file *drive.File // nil until the first read
}

var (
	_ fs.FileReader   = (*reader)(nil)
	_ fs.FileReleaser = (*reader)(nil)
)

func newReader(m *mountFS, p string, size int64) *reader {
	return &reader{m: m, path: p, size: size}
}

func (r *reader) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if off >= r.size {
		return fuse.ReadResultData(nil), 0
	}
	if r.file == nil {
		f, err := r.m.c.Open(r.m.ctx, r.m.ref, r.path)
		if err != nil {
			return nil, r.failed(err)
		}
		r.m.transfers.Add(1) // until close
		r.file = f
	}
	if _, err := r.file.Seek(off, io.SeekStart); err != nil {
		return nil, r.failed(err)
	}
	n, err := io.ReadFull(r.file, dest[:min(int64(len(dest)), r.size-off)])
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
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
	if r.file != nil {
		r.file.Close() // never fails
		r.file = nil
		r.m.transfers.Done()
	}
	return 0
}

// writer is a file open for writing: its writes stream through a pipe
// into an UploadFile that replaces the file whole. Writes must come in
// order from offset 0; any other write is EINVAL and the file is not
// stored (nor anything after it).
//
// A flush (every close(2) of a descriptor of the file) ends the upload
// and returns its outcome, so close fails if the file was not stored. The
// file may still be open through another descriptor (a shell's
// redirection closes its first descriptor after dup2; `{ a; b; } > f`
// closes one per command): a write after a flush starts a new upload that
// first replays the file as stored, then takes the new bytes. A file
// created or truncated is stored, empty, at its first flush if nothing
// was written by then. The last close (Release) ends what is left.
// Nothing is uploaded for a file opened without O_TRUNC and never
// written.
type writer struct {
	m    *mountFS
	n    *node
	path string
	// store: upload even if nothing is written (a created or truncated
	// file exists, empty, once closed).
	store   bool
	started time.Time

	mu      sync.Mutex
	pw      *io.PipeWriter // the running upload's pipe; nil between uploads
	done    chan struct{}  // closed when the running upload ended
	err     error          // the running upload's error, once done
	written atomic.Int64   // bytes taken so far (read without mu by attr)
	stored  bool           // an upload ended well: the drive holds the first `written` bytes
	broken  bool           // a write was refused or an upload failed: nothing more is stored
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

// upload starts the UploadFile the writes stream into; with replay, it
// first streams the file as the last upload stored it. Callers hold w.mu.
func (w *writer) upload(replay bool) {
	pr, pw := io.Pipe()
	w.pw, w.done, w.err = pw, make(chan struct{}), nil
	w.m.transfers.Add(1)
	go func() {
		defer w.m.transfers.Done()
		defer close(w.done)
		ctx, cancel := context.WithCancel(w.m.ctx)
		defer cancel()
		var r io.Reader = pr
		if replay {
			stored := w.replay(ctx)
			defer stored.CloseWithError(context.Canceled) // an upload that ends early stops the replay
			r = io.MultiReader(stored, pr)
		}
		_, err := w.m.c.UploadFile(ctx, w.m.ref, w.path, r, drive.UploadOptions{})
		w.err = err
		if err == nil {
			err = io.ErrClosedPipe // a write after the upload ended fails
		}
		pr.CloseWithError(err)
	}()
}

// replay streams the file as stored, from a download that ends with ctx.
func (w *writer) replay(ctx context.Context) *io.PipeReader {
	pr, pw := io.Pipe()
	w.m.transfers.Add(1) // the upload that calls this is counted: Close is not past Wait
	go func() {
		defer w.m.transfers.Done()
		_, err := w.m.c.DownloadFile(ctx, w.m.ref, w.path, pw)
		pw.CloseWithError(err)
	}()
	return pr
}

// end ends the running upload, if any, and waits for its outcome. Callers
// hold w.mu.
func (w *writer) end(abort error) {
	if w.pw == nil {
		return
	}
	if abort != nil {
		w.pw.CloseWithError(abort)
	} else {
		w.pw.Close()
	}
	<-w.done
	w.pw = nil
	switch {
	case abort != nil:
		w.broken = true
	case w.err != nil:
		w.broken = true
		errno(w.m.log, "close", w.path, w.err) // logged once, here, if it is an EIO
	default:
		w.stored = true
	}
}

func (w *writer) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.broken:
		return 0, syscall.EIO
	case off != w.written.Load():
		w.end(errNotSequential)
		w.broken = true
		w.m.log.Info("mount: refused a write out of order; the file will not be stored", "path", w.path, "offset", off, "written", w.written.Load())
		return 0, syscall.EINVAL
	}
	if w.pw == nil {
		w.upload(w.written.Load() > 0)
	}
	n, err := w.pw.Write(data) // waits while the upload takes the bytes
	w.written.Add(int64(n))
	if err != nil {
		w.end(nil)
		return uint32(n), w.outcome()
	}
	return uint32(n), 0
}

// outcome is the errno of the last upload. Callers hold w.mu.
func (w *writer) outcome() syscall.Errno {
	if !w.broken {
		return 0
	}
	if e, ok := errnoOf(w.err); ok {
		return e
	}
	return syscall.EIO
}

// truncate accepts a size change that leaves the file as written: to the
// size written so far, or to 0 before anything is written (which makes
// sure an empty file is stored).
func (w *writer) truncate(size uint64) syscall.Errno {
	w.mu.Lock()
	defer w.mu.Unlock()
	if int64(size) != w.written.Load() {
		w.m.log.Info("mount: refused a truncate of a file being written", "path", w.path, "size", size, "written", w.written.Load())
		return syscall.EINVAL
	}
	if size == 0 {
		w.store = true
	}
	return 0
}

// Flush (each close(2)) stores what was written so far, or the empty
// file a create or truncate made, and returns the outcome, so close fails
// if the file was not stored.
func (w *writer) Flush(ctx context.Context) syscall.Errno {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.storeAll()
	return w.outcome()
}

// storeAll ends the running upload, or stores the empty file that a
// create or truncate made and nothing has stored yet. Callers hold w.mu.
func (w *writer) storeAll() {
	w.end(nil)
	if w.store && !w.stored && !w.broken {
		w.upload(false)
		w.end(nil)
	}
}

// Fsync is a no-op: the bytes are stored when the file is closed.
func (w *writer) Fsync(ctx context.Context, flags uint32) syscall.Errno { return 0 }

// Release (the last close) stores what no flush did: the rest of an
// upload, or an empty file that was created or truncated.
func (w *writer) Release(ctx context.Context) syscall.Errno {
	w.mu.Lock()
	w.storeAll()
	errno := w.outcome()
	w.mu.Unlock()
	w.n.doneWriting(w)
	return errno
}

// Read on a file open for writing is refused: the drive holds the old
// content until the new one is closed.
func (w *writer) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	return nil, syscall.EBADF
}
