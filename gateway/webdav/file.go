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

// readFile streams a drive file through a drive.File, opened at the first
// Read: sequential reads stream from one download, and a Seek elsewhere
// makes the next Read fetch only the chunks from its offset on.
type readFile struct {
	props
	ctx  context.Context
	info *fileInfo

	off  int64
	file *drive.File // nil until the first Read
}

var _ webdav.DeadPropsHolder = (*readFile)(nil)

func (f *readFile) Read(p []byte) (int, error) {
	if f.off >= f.info.Size() {
		return 0, io.EOF
	}
	if f.file == nil {
		file, err := f.fs.c.Open(f.ctx, f.fs.ref, f.path)
		if err != nil {
			return 0, osError("read", f.path, err)
		}
		f.file = file
	}
	if _, err := f.file.Seek(f.off, io.SeekStart); err != nil {
		return 0, err
	}
	n, err := f.file.Read(p)
	f.off += int64(n)
	return n, err
}

func (f *readFile) Seek(offset int64, whence int) (int64, error) {
	off, err := drive.SeekOffset(f.off, f.info.Size(), offset, whence)
	if err != nil {
		return f.off, &os.PathError{Op: "seek", Path: f.path, Err: os.ErrInvalid}
	}
	f.off = off
	return off, nil
}

func (f *readFile) Close() error {
	if f.file == nil {
		return nil
	}
	return f.file.Close()
}
func (f *readFile) Stat() (fs.FileInfo, error)         { return f.info, nil }
func (f *readFile) Readdir(int) ([]fs.FileInfo, error) { return nil, drive.ErrNotDir }
func (f *readFile) Write([]byte) (int, error)          { return 0, errReadOnly }
func (f *readFile) ReadFrom(io.Reader) (int64, error)  { return 0, errReadOnly }
func (f *readFile) String() string                     { return "webdav read " + f.path }

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
