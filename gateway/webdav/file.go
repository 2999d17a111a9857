package webdav

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
	"time"

	"golang.org/x/net/webdav"

	"github.com/cairn-storage/cairn/drive"
)

var errReadOnly = errors.New("webdav: a drive file is replaced whole; open it with O_TRUNC to write")

// props is the dead-property half of every file type.
type props struct {
	fs   *FileSystem
	path string
}

func (p props) DeadProps() (map[xmlName]webdav.Property, error) { return p.fs.props.get(p.path), nil }
func (p props) Patch(patches []webdav.Proppatch) ([]webdav.Propstat, error) {
	return p.fs.props.patch(p.path, patches), nil
}

// readFile streams a drive file. Nothing is downloaded until the first
// Read; a Seek to another offset ends the current download and the next
// Read starts one that skips to the offset.
type readFile struct {
	props
	ctx  context.Context
	info *fileInfo

	off    int64
	stream *download
}

var _ webdav.DeadPropsHolder = (*readFile)(nil)

// download is one DownloadFile into a pipe, owned by a readFile.
type download struct {
	r      *io.PipeReader
	cancel context.CancelFunc
	done   chan struct{}
}

func (f *readFile) start() {
	ctx, cancel := context.WithCancel(f.ctx)
	pr, pw := io.Pipe()
	d := &download{r: pr, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(d.done)
		_, err := f.fs.c.DownloadFile(ctx, f.fs.ref, f.path, &skipWriter{w: pw, skip: f.off})
		pw.CloseWithError(err) // nil: EOF
	}()
	f.stream = d
}

func (f *readFile) stop() {
	if f.stream == nil {
		return
	}
	f.stream.cancel()
	f.stream.r.CloseWithError(context.Canceled)
	<-f.stream.done
	f.stream = nil
}

func (f *readFile) Read(p []byte) (int, error) {
	if f.off >= f.info.Size() {
		return 0, io.EOF
	}
	if f.stream == nil {
		f.start()
	}
	n, err := f.stream.r.Read(p)
	f.off += int64(n)
	return n, err
}

func (f *readFile) Seek(offset int64, whence int) (int64, error) {
	var off int64
	switch whence {
	case io.SeekStart:
		off = offset
	case io.SeekCurrent:
		off = f.off + offset
	case io.SeekEnd:
		off = f.info.Size() + offset
	default:
		return f.off, &os.PathError{Op: "seek", Path: f.path, Err: os.ErrInvalid}
	}
	if off < 0 {
		return f.off, &os.PathError{Op: "seek", Path: f.path, Err: os.ErrInvalid}
	}
	if off != f.off {
		f.stop()
		f.off = off
	}
	return off, nil
}

func (f *readFile) Close() error                       { f.stop(); return nil }
func (f *readFile) Stat() (fs.FileInfo, error)         { return f.info, nil }
func (f *readFile) Readdir(int) ([]fs.FileInfo, error) { return nil, drive.ErrNotDir }
func (f *readFile) Write([]byte) (int, error)          { return 0, errReadOnly }
func (f *readFile) ReadFrom(io.Reader) (int64, error)  { return 0, errReadOnly }
func (f *readFile) String() string                     { return "webdav read " + f.path }

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

// writeFile streams its writes into UploadFile through a pipe; Close ends
// the upload and returns its error, so a PUT answers only once a quorum
// holds the file and the drive's tree names it.
type writeFile struct {
	props
	ctx     context.Context
	pw      *io.PipeWriter
	written int64
	start   time.Time

	once sync.Once
	done chan struct{}
	err  error
}

var _ webdav.DeadPropsHolder = (*writeFile)(nil)

func (f *FileSystem) create(ctx context.Context, p string) *writeFile {
	pr, pw := io.Pipe()
	w := &writeFile{props: props{fs: f, path: p}, ctx: ctx, pw: pw, start: time.Now(), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		_, err := f.c.UploadFile(ctx, f.ref, p, pr, drive.UploadOptions{})
		w.err = err
		pr.CloseWithError(errUploadEnded(err)) // a Write after the upload ended fails
	}()
	return w
}

func errUploadEnded(err error) error {
	if err != nil {
		return err
	}
	return io.ErrClosedPipe
}

func (w *writeFile) Write(p []byte) (int, error) {
	n, err := w.pw.Write(p)
	w.written += int64(n)
	return n, err
}

// Close ends the file and waits for the upload to finish.
func (w *writeFile) Close() error {
	w.once.Do(func() {
		// A request body that failed (a client gone mid-PUT) aborts the
		// upload rather than storing the bytes that came before.
		w.pw.CloseWithError(bodyError(w.ctx))
		<-w.done
	})
	if w.err != nil {
		return &os.PathError{Op: "write", Path: w.path, Err: w.err}
	}
	return nil
}

func (w *writeFile) Stat() (fs.FileInfo, error) {
	return &fileInfo{e: drive.DirectoryEntry{Name: path.Base(w.path), Kind: drive.KindFile, Size: uint64(w.written), Modified: w.start}}, nil
}
func (w *writeFile) Read([]byte) (int, error)           { return 0, errWriteOnly }
func (w *writeFile) Seek(int64, int) (int64, error)     { return 0, errWriteOnly }
func (w *writeFile) Readdir(int) ([]fs.FileInfo, error) { return nil, drive.ErrNotDir }

var errWriteOnly = errors.New("webdav: file open for writing")

// dirFile lists a directory.
type dirFile struct {
	props
	ctx  context.Context
	info *fileInfo

	entries []fs.FileInfo
	loaded  bool
	pos     int
}

var _ webdav.DeadPropsHolder = (*dirFile)(nil)

// Readdir lists the entries with their sizes and modification times, all
// of them for count <= 0, else the next count (io.EOF at the end).
func (d *dirFile) Readdir(count int) ([]fs.FileInfo, error) {
	if !d.loaded {
		es, err := d.fs.c.List(d.ctx, d.fs.ref, d.path)
		if err != nil {
			return nil, osError("readdir", d.path, err)
		}
		d.entries = make([]fs.FileInfo, len(es))
		for i, e := range es {
			d.entries[i] = &fileInfo{e: e}
		}
		d.loaded = true
	}
	rest := d.entries[d.pos:]
	if count <= 0 {
		d.pos = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n := min(count, len(rest))
	d.pos += n
	return rest[:n], nil
}

func (d *dirFile) Close() error                   { return nil }
func (d *dirFile) Stat() (fs.FileInfo, error)     { return d.info, nil }
func (d *dirFile) Read([]byte) (int, error)       { return 0, drive.ErrIsDir }
func (d *dirFile) Seek(int64, int) (int64, error) { return 0, drive.ErrIsDir }
func (d *dirFile) Write([]byte) (int, error)      { return 0, drive.ErrIsDir }
