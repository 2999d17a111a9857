package mount

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

// node is a file or directory of the drive. Its path is its place in
// go-fuse's inode tree (which follows renames), so nothing but the kind
// and an open upload is kept here; attributes are asked of the drive.
type node struct {
	fs.Inode
	m   *mountFS
	dir bool

	mu sync.Mutex
	w  *writer // the upload writing this file, while one is open
}

var (
	_ fs.NodeLookuper  = (*node)(nil)
	_ fs.NodeGetattrer = (*node)(nil)
	_ fs.NodeSetattrer = (*node)(nil)
	_ fs.NodeReaddirer = (*node)(nil)
	_ fs.NodeMkdirer   = (*node)(nil)
	_ fs.NodeCreater   = (*node)(nil)
	_ fs.NodeOpener    = (*node)(nil)
	_ fs.NodeUnlinker  = (*node)(nil)
	_ fs.NodeRmdirer   = (*node)(nil)
	_ fs.NodeRenamer   = (*node)(nil)
)

// path is the node's drive path ("/" for the root).
func (n *node) path() string { return "/" + n.Path(nil) }

// childPath is the drive path of the entry name of n. It is joined, not
// cleaned: a name such as ".." reaches drive.CleanPath, which refuses it,
// instead of being resolved here.
func (n *node) childPath(name string) string {
	dir := n.path()
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// writing returns the upload open on this file, if any.
func (n *node) writing() *writer {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.w
}

func (n *node) setWriter(w *writer) {
	n.mu.Lock()
	n.w = w
	n.mu.Unlock()
}

// doneWriting forgets w once its upload ended (if a newer one has not
// taken its place).
func (n *node) doneWriting(w *writer) {
	n.mu.Lock()
	if n.w == w {
		n.w = nil
	}
	n.mu.Unlock()
}

// fill sets the attributes of a drive entry.
func fill(a *fuse.Attr, e drive.DirectoryEntry, dir bool) {
	if dir {
		a.Mode, a.Nlink, a.Size = fuse.S_IFDIR|0o755, 2, 4096
	} else {
		a.Mode, a.Nlink, a.Size = fuse.S_IFREG|0o644, 1, e.Size
	}
	a.Blocks = (a.Size + 511) / 512
	a.Blksize = 128 << 10
	t := e.Modified
	a.SetTimes(&t, &t, &t)
}

// child returns the inode for the entry name of n, reusing the one the
// kernel already knows when its kind still matches.
func (n *node) child(ctx context.Context, name string, e drive.DirectoryEntry, a *fuse.Attr) *fs.Inode {
	dir := e.Kind == drive.KindDir
	fill(a, e, dir)
	if ch := n.GetChild(name); ch != nil {
		if cn, ok := ch.Operations().(*node); ok && cn.dir == dir {
			return ch
		}
	}
	mode := uint32(fuse.S_IFREG)
	if dir {
		mode = fuse.S_IFDIR
	}
	return n.NewInode(ctx, &node{m: n.m, dir: dir}, fs.StableAttr{Mode: mode})
}

func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	p := n.childPath(name)
	e, err := n.m.c.Stat(ctx, n.m.ref, p)
	if errors.Is(err, core.NotFound) {
		// A file being written is not in the drive until it is closed.
		if ch := n.GetChild(name); ch != nil {
			if cn, ok := ch.Operations().(*node); ok {
				if w := cn.writing(); w != nil {
					w.attr(&out.Attr)
					return ch, 0
				}
			}
		}
	}
	if err != nil {
		return nil, errno(n.m.log, "lookup", p, err)
	}
	return n.child(ctx, name, e, &out.Attr), 0
}

func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if w := n.writing(); w != nil {
		w.attr(&out.Attr)
		return 0
	}
	p := n.path()
	e, err := n.m.c.Stat(ctx, n.m.ref, p)
	if err != nil {
		return errno(n.m.log, "getattr", p, err)
	}
	fill(&out.Attr, e, e.Kind == drive.KindDir)
	return 0
}

// Setattr accepts what a copy or touch sets (times, mode, owner: the
// drive keeps none of them, so they are ignored) and the one size change
// a whole-file store can make: truncating to zero (an empty file), or to
// the size the file already has. Any other size is EINVAL.
func (n *node) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if size, ok := in.GetSize(); ok && !n.dir {
		w, _ := f.(*writer)
		if w == nil {
			w = n.writing()
		}
		if errno := n.truncate(ctx, w, size); errno != 0 {
			return errno
		}
	}
	return n.Getattr(ctx, f, out)
}

func (n *node) truncate(ctx context.Context, w *writer, size uint64) syscall.Errno {
	if w != nil {
		return w.truncate(size)
	}
	p := n.path()
	e, err := n.m.c.Stat(ctx, n.m.ref, p)
	switch {
	case err != nil:
		return errno(n.m.log, "truncate", p, err)
	case size == e.Size:
		return 0
	case size != 0:
		n.m.log.Info("mount: refused a truncate to a size other than 0 (files are stored whole)", "path", p, "size", size)
		return syscall.EINVAL
	}
	_, err = n.m.c.UploadFile(ctx, n.m.ref, p, emptyReader{}, drive.UploadOptions{})
	return errno(n.m.log, "truncate", p, err)
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, errEOF }

func (n *node) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	p := n.path()
	es, err := n.m.c.List(ctx, n.m.ref, p)
	if err != nil {
		return nil, errno(n.m.log, "readdir", p, err)
	}
	out := make([]fuse.DirEntry, 0, len(es))
	for _, e := range es {
		mode := uint32(fuse.S_IFREG)
		if e.Kind == drive.KindDir {
			mode = fuse.S_IFDIR
		}
		out = append(out, fuse.DirEntry{Name: e.Name, Mode: mode})
	}
	return fs.NewListDirStream(out), 0
}

func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	p := n.childPath(name)
	if _, err := n.m.c.CreateDirectory(ctx, n.m.ref, p); err != nil {
		return nil, errno(n.m.log, "mkdir", p, err)
	}
	e := drive.DirectoryEntry{Name: name, Kind: drive.KindDir, Modified: time.Now()}
	return n.child(ctx, name, e, &out.Attr), 0
}

// Create makes a file: it exists in the drive once it is closed (an
// empty one if nothing was written).
func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	// O_APPEND is fine here: appending to a new file writes from 0 on.
	p := n.childPath(name)
	ch := n.child(ctx, name, drive.DirectoryEntry{Name: name, Kind: drive.KindFile, Modified: time.Now()}, &out.Attr)
	cn := ch.Operations().(*node)
	w := newWriter(n.m, cn, p, true)
	cn.setWriter(w)
	return ch, w, 0, 0
}

// Open opens a file for reading (a streaming download) or for writing
// (an upload replacing the file whole; see the package comment).
func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	p := n.path()
	if n.dir {
		return nil, 0, syscall.EISDIR
	}
	if flags&syscall.O_ACCMODE == syscall.O_RDONLY {
		e, err := n.m.c.Stat(ctx, n.m.ref, p)
		if err != nil {
			return nil, 0, errno(n.m.log, "open", p, err)
		}
		return newReader(n.m, p, int64(e.Size)), 0, 0
	}
	if flags&syscall.O_APPEND != 0 {
		n.m.log.Info("mount: refused an append (files are stored whole; rewrite the file instead)", "path", p)
		return nil, 0, syscall.EINVAL
	}
	w := newWriter(n.m, n, p, flags&syscall.O_TRUNC != 0)
	n.setWriter(w)
	// The kernel must not keep pages of the old content for this file.
	return w, fuse.FOPEN_DIRECT_IO, 0
}

func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	return n.remove(ctx, "unlink", name, false)
}

func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	return n.remove(ctx, "rmdir", name, true)
}

// remove deletes the file (dir false) or empty directory (dir true) name.
func (n *node) remove(ctx context.Context, op, name string, dir bool) syscall.Errno {
	p := n.childPath(name)
	e, err := n.m.c.Stat(ctx, n.m.ref, p)
	if err != nil {
		return errno(n.m.log, op, p, err)
	}
	switch isDir := e.Kind == drive.KindDir; {
	case isDir && !dir:
		return syscall.EISDIR
	case !isDir && dir:
		return syscall.ENOTDIR
	}
	_, err = n.m.c.Remove(ctx, n.m.ref, p, drive.RemoveOptions{})
	return errno(n.m.log, op, p, err)
}

// Rename moves name to newName in newParent. As rename(2) does, it
// replaces an existing file with a file, or an empty directory with a
// directory, unless RENAME_NOREPLACE; here in two changes (remove, then
// move), not atomically. RENAME_EXCHANGE is not supported (EINVAL).
func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	np, ok := newParent.(*node)
	if !ok || flags&^unix.RENAME_NOREPLACE != 0 {
		return syscall.EINVAL
	}
	src, dst := n.childPath(name), np.childPath(newName)
	if src == dst {
		return 0
	}
	_, err := n.m.c.Move(ctx, n.m.ref, src, dst)
	if errors.Is(err, core.Exists) && flags&unix.RENAME_NOREPLACE == 0 {
		if errno := n.replaceable(ctx, src, dst); errno != 0 {
			return errno
		}
		if _, err = n.m.c.Remove(ctx, n.m.ref, dst, drive.RemoveOptions{}); err == nil {
			_, err = n.m.c.Move(ctx, n.m.ref, src, dst)
		}
	}
	return errno(n.m.log, "rename", src, err)
}

// replaceable reports, as rename(2) would, whether src may replace dst.
func (n *node) replaceable(ctx context.Context, src, dst string) syscall.Errno {
	from, err := n.m.c.Stat(ctx, n.m.ref, src)
	if err != nil {
		return errno(n.m.log, "rename", src, err)
	}
	to, err := n.m.c.Stat(ctx, n.m.ref, dst)
	if err != nil {
		return errno(n.m.log, "rename", dst, err)
	}
	switch fromDir, toDir := from.Kind == drive.KindDir, to.Kind == drive.KindDir; {
	case fromDir && !toDir:
		return syscall.ENOTDIR
	case !fromDir && toDir:
		return syscall.EISDIR
	case toDir:
		es, err := n.m.c.List(ctx, n.m.ref, dst)
		if err != nil {
			return errno(n.m.log, "rename", dst, err)
		}
		if len(es) > 0 {
			return syscall.ENOTEMPTY
		}
	}
	return 0
}
