package webdav

import (
	"context"
	"mime"
	"os"
	"path"
	"time"

	"golang.org/x/net/webdav"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

// FileSystem is one drive as a webdav.FileSystem. Names are cleaned by
// drive.CleanPath, so "." and ".." elements, bad UTF-8 and control
// characters are refused (kind invalid), never resolved.
type FileSystem struct {
	c     *drive.Client
	ref   string // the drive, by decimal id
	props *deadProps
}

// NewFileSystem serves the drive ref (a name or decimal id) of c.
func NewFileSystem(c *drive.Client, ref string) *FileSystem {
	return &FileSystem{c: c, ref: ref, props: newDeadProps(DefaultMaxProps)}
}

var _ webdav.FileSystem = (*FileSystem)(nil)

// clean turns a WebDAV name ("" and trailing slashes allowed) into a drive
// path.
func clean(name string) (string, error) {
	if name == "" {
		name = "/"
	}
	elems, err := drive.CleanPath(name)
	if err != nil {
		return "", err
	}
	return drive.JoinPath(elems), nil
}

func (f *FileSystem) stat(ctx context.Context, p string) (*fileInfo, error) {
	e, err := f.c.Stat(ctx, f.ref, p)
	if err != nil {
		return nil, err
	}
	if p == "/" {
		e.Name = "/"
	}
	return &fileInfo{e: e}, nil
}

// parentIsDir reports as not-exist a missing parent or one that is a file:
// WebDAV wants 409 for PUT and MKCOL there, where the drive would create
// the parents.
func (f *FileSystem) parentIsDir(ctx context.Context, op, p string) error {
	fi, err := f.stat(ctx, path.Dir(p))
	if err != nil {
		return osError(op, p, err)
	}
	if !fi.IsDir() {
		return &os.PathError{Op: op, Path: p, Err: os.ErrNotExist}
	}
	return nil
}

// Mkdir creates one directory; its parent must exist.
func (f *FileSystem) Mkdir(ctx context.Context, name string, _ os.FileMode) error {
	p, err := clean(name)
	if err != nil {
		return osError("mkdir", name, err)
	}
	if p == "/" {
		return &os.PathError{Op: "mkdir", Path: name, Err: os.ErrExist}
	}
	if err := f.parentIsDir(ctx, "mkdir", p); err != nil {
		return err
	}
	_, err = f.c.CreateDirectory(ctx, f.ref, p)
	return osError("mkdir", p, err)
}

// OpenFile opens a directory for listing, a file for reading (streamed
// from the drive on the first Read), or, with O_TRUNC or O_CREATE on a
// missing file, a file whose writes stream into the drive until Close.
// A file opened for writing without O_TRUNC cannot be written (a drive
// file is replaced whole), but its dead properties can be.
func (f *FileSystem) OpenFile(ctx context.Context, name string, flag int, _ os.FileMode) (webdav.File, error) {
	p, err := clean(name)
	if err != nil {
		return nil, osError("open", name, err)
	}
	fi, err := f.stat(ctx, p)
	switch {
	case err == nil && fi.IsDir():
		if flag&(os.O_WRONLY|os.O_RDWR) != 0 && flag&os.O_TRUNC != 0 {
			return nil, &os.PathError{Op: "open", Path: p, Err: drive.ErrIsDir}
		}
		return &dirFile{props: props{fs: f, path: p}, ctx: ctx, info: fi}, nil
	case err == nil && flag&os.O_TRUNC == 0:
		return &readFile{props: props{fs: f, path: p}, ctx: ctx, info: fi}, nil
	case err == nil:
		return f.create(ctx, p), nil
	case core.KindOf(err) == core.NotFound && flag&os.O_CREATE != 0:
		if err := f.parentIsDir(ctx, "open", p); err != nil {
			return nil, err
		}
		return f.create(ctx, p), nil
	}
	return nil, osError("open", p, err)
}

// RemoveAll deletes a file or a directory with everything below it, and
// their dead properties. The root cannot be removed.
func (f *FileSystem) RemoveAll(ctx context.Context, name string) error {
	p, err := clean(name)
	if err != nil {
		return osError("remove", name, err)
	}
	if p == "/" {
		return &os.PathError{Op: "remove", Path: p, Err: os.ErrInvalid}
	}
	if _, err := f.c.Remove(ctx, f.ref, p, drive.RemoveOptions{Recursive: true}); err != nil {
		if core.KindOf(err) == core.NotFound {
			return nil // as os.RemoveAll
		}
		return osError("remove", p, err)
	}
	f.props.remove(p)
	return nil
}

// Rename moves a file or directory (and its dead properties); the
// destination must not exist (webdav deletes it first for Overwrite: T).
func (f *FileSystem) Rename(ctx context.Context, oldName, newName string) error {
	src, err := clean(oldName)
	if err != nil {
		return osError("rename", oldName, err)
	}
	dst, err := clean(newName)
	if err != nil {
		return osError("rename", newName, err)
	}
	if src == "/" || dst == "/" {
		return &os.PathError{Op: "rename", Path: src, Err: os.ErrInvalid}
	}
	if _, err := f.c.Move(ctx, f.ref, src, dst); err != nil {
		return osError("rename", src, err)
	}
	f.props.rename(src, dst)
	return nil
}

// Stat describes a file or directory.
func (f *FileSystem) Stat(ctx context.Context, name string) (os.FileInfo, error) {
	p, err := clean(name)
	if err != nil {
		return nil, osError("stat", name, err)
	}
	fi, err := f.stat(ctx, p)
	if err != nil {
		return nil, osError("stat", p, err)
	}
	return fi, nil
}

// fileInfo is a drive entry as an os.FileInfo; it also gives webdav the
// entry's ETag (its content id) and content type without reading the file.
type fileInfo struct{ e drive.DirectoryEntry }

func (i *fileInfo) Name() string       { return i.e.Name }
func (i *fileInfo) Size() int64        { return int64(min(i.e.Size, 1<<62)) }
func (i *fileInfo) ModTime() time.Time { return i.e.Modified }
func (i *fileInfo) IsDir() bool        { return i.e.Kind == drive.KindDir }
func (i *fileInfo) Sys() any           { return nil }
func (i *fileInfo) Mode() os.FileMode {
	if i.IsDir() {
		return os.ModeDir | 0o755
	}
	return 0o644
}

// ETag is the entry's content id: it changes exactly when the content does.
func (i *fileInfo) ETag(context.Context) (string, error) {
	if i.e.CID == "" {
		return "", webdav.ErrNotImplemented
	}
	return `"` + i.e.CID + `"`, nil
}

// ContentType is taken from the name's extension, so a PROPFIND never
// downloads a file to sniff it.
func (i *fileInfo) ContentType(context.Context) (string, error) {
	if t := mime.TypeByExtension(path.Ext(i.e.Name)); t != "" {
		return t, nil
	}
	return "application/octet-stream", nil
}
