package drive

import (
	"context"
	"io"
	"mime"
	"path"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
)

// OpResult is what a change to a drive did.
type OpResult struct {
	Drive   core.DriveID `json:"drive"`
	Path    string       `json:"path"`
	CID     string       `json:"cid,omitempty"`  // the file's manifest, for uploads
	Size    uint64       `json:"size,omitempty"` // file bytes, for uploads
	Chunks  int          `json:"chunks,omitempty"`
	RootCID string       `json:"root_cid"` // the drive's new root (pending until checkpointed)
	Writes  uint64       `json:"writes"`   // blobs appended to the log
	// Checkpoint is set for drives with the Immediate strategy: the
	// checkpoint that followed the change. A failed checkpoint does not
	// undo the change; it stays pending and is retried.
	Checkpoint *checkpoint.Result `json:"checkpoint,omitempty"`
}

// UploadOptions tunes an upload.
type UploadOptions struct {
	MIME string
	// Size, when above zero, is the file's size, for the quota check before
	// any byte is sent; a reader that knows its length (a *bytes.Reader, a
	// *strings.Reader, an *os.File) gives it by itself. Without it an upload
	// past the quota is refused at the first chunk that does not fit.
	Size int64
	// Progress, when set, is called with the bytes acknowledged so far.
	Progress func(done uint64)
}

// change runs f against the drive's tree inside one write session, then
// writes the changed directories, records the new root as pending and,
// for Immediate drives, checkpoints.
func (c *Client) change(ctx context.Context, ref, op, p string, f func(ctx context.Context, d wire.Drive, s *session, t *tree, res *OpResult) error) (*OpResult, error) {
	d, err := c.ResolveDrive(ctx, ref)
	if err != nil {
		return nil, err
	}
	l, err := c.lockWriters(ctx, d.Bucket)
	if err != nil {
		return nil, err
	}
	defer l.release()
	if d, err = c.freshDrive(ctx, d); err != nil {
		return nil, err
	}
	t, err := c.openTreeAt(ctx, d.Bucket, d.RootCID)
	if err != nil {
		return nil, err
	}
	s, err := c.newSession(ctx, d.Bucket)
	if err != nil {
		return nil, err
	}
	res := &OpResult{Drive: d.ID, Path: p}
	if err := f(ctx, d, s, t, res); err != nil {
		s.close()
		c.forgetSeq(d.Bucket)
		return nil, lostRace(op, d.Bucket, err)
	}
	root, leaf, err := t.flush(s)
	if err == nil {
		err = s.finish()
	} else {
		s.close()
		c.forgetSeq(d.Bucket)
	}
	if err != nil {
		if isLostRace(err) {
			return nil, lostRace(op, d.Bucket, err)
		}
		return nil, core.E(op, core.KindOf(err), err)
	}
	res.RootCID, res.Writes = root, s.puts
	if err := c.cp.SetPendingRoot(d.Bucket, checkpoint.PendingRoot{Drive: d.ID, RootCID: root, Leaf: leaf}); err != nil {
		return nil, err
	}
	if d.Strategy.Kind == wire.StrategyImmediate && c.cfg.SubmitImmediate {
		res.Checkpoint = c.cp.SubmitCheckpoint(ctx, d.Bucket)
	}
	return res, nil
}

// UploadFile streams r into the drive at path p, creating parent
// directories and replacing an existing file. Memory stays bounded by the
// write window whatever the file's size.
func (c *Client) UploadFile(ctx context.Context, ref, p string, r io.Reader, o UploadOptions) (*OpResult, error) {
	const op = "drive.UploadFile"
	elems, err := CleanPath(p)
	if err != nil {
		return nil, err
	}
	if len(elems) == 0 {
		return nil, perr(op, p, ErrIsDir, "cannot write to the root directory")
	}
	return c.change(ctx, ref, op, JoinPath(elems), func(ctx context.Context, d wire.Drive, s *session, t *tree, res *OpResult) error {
		parent, err := t.dir(ctx, op, elems[:len(elems)-1], true)
		if err != nil {
			return err
		}
		name := elems[len(elems)-1]
		if i, ok := parent.dir.find(name); ok && parent.dir.Entries[i].Kind == KindDir {
			return perr(op, JoinPath(elems), ErrIsDir, "")
		}
		s.progress = o.Progress
		size := sizeOf(r, o.Size)
		if size >= 0 {
			// Refused here, nothing is sent: the chunks, the manifest and
			// at least the directories on the path must fit.
			// Orphans of a failed upload of the same file need no room.
			need := uint64(size) + manifestBytes(uint64(size), c.cfg.ChunkSize)
			if err := s.reserve(need - min(need, s.orphans.bytes())); err != nil {
				return err
			}
		}
		m := &FileManifest{Version: 1, MIME: o.MIME, Modified: t.now}
		if m.MIME == "" {
			m.MIME = mime.TypeByExtension(path.Ext(name))
		}
		if err := s.putChunks(c.newChunker(r, size, s.bufs), m); err != nil {
			return err
		}
		b, err := encodeNode(m)
		if err != nil {
			return err
		}
		leaf, err := s.put(b)
		if err != nil {
			return err
		}
		id := CIDOf(leaf.ContentHash, false)
		parent.dir.put(DirectoryEntry{Name: name, Kind: KindFile, CID: id, Size: m.Size, Modified: t.now})
		res.CID, res.Size, res.Chunks = id, m.Size, len(m.Chunks)
		return t.markPath(ctx, elems[:len(elems)-1])
	})
}

// CreateDirectory makes the directory at p and any missing parents. It is
// an error if p exists.
func (c *Client) CreateDirectory(ctx context.Context, ref, p string) (*OpResult, error) {
	const op = "drive.CreateDirectory"
	elems, err := CleanPath(p)
	if err != nil {
		return nil, err
	}
	if len(elems) == 0 {
		return nil, perr(op, p, ErrExists, "the root always exists")
	}
	return c.change(ctx, ref, op, JoinPath(elems), func(ctx context.Context, d wire.Drive, s *session, t *tree, res *OpResult) error {
		parent, err := t.dir(ctx, op, elems[:len(elems)-1], true)
		if err != nil {
			return err
		}
		if _, ok := parent.dir.find(elems[len(elems)-1]); ok {
			return perr(op, JoinPath(elems), ErrExists, "")
		}
		if _, err := t.dir(ctx, op, elems, true); err != nil {
			return err
		}
		return t.markPath(ctx, elems)
	})
}

// RemoveOptions tunes Remove.
type RemoveOptions struct {
	Recursive bool // remove a non-empty directory
}

// Remove deletes the file or directory at p from the drive's tree. (The
// blobs stay in the append-only log; the next checkpoint's root no longer
// names them.)
func (c *Client) Remove(ctx context.Context, ref, p string, o RemoveOptions) (*OpResult, error) {
	const op = "drive.Remove"
	elems, err := CleanPath(p)
	if err != nil {
		return nil, err
	}
	if len(elems) == 0 {
		return nil, perr(op, p, ErrInvalidPath, "cannot remove the root")
	}
	return c.change(ctx, ref, op, JoinPath(elems), func(ctx context.Context, d wire.Drive, s *session, t *tree, res *OpResult) error {
		e, err := t.lookup(ctx, op, elems)
		if err != nil {
			return err
		}
		if e.Kind == KindDir && !o.Recursive {
			dir, err := t.dir(ctx, op, elems, false)
			if err != nil {
				return err
			}
			if len(dir.dir.Entries) > 0 {
				return perr(op, JoinPath(elems), ErrNotEmpty, "use recursive removal")
			}
		}
		parent, _ := t.dir(ctx, op, elems[:len(elems)-1], false)
		parent.dir.remove(elems[len(elems)-1])
		delete(parent.children, elems[len(elems)-1])
		return t.markPath(ctx, elems[:len(elems)-1])
	})
}

// Move renames src to dst. dst must not exist, and a directory cannot move
// into itself.
func (c *Client) Move(ctx context.Context, ref, src, dst string) (*OpResult, error) {
	const op = "drive.Move"
	from, err := CleanPath(src)
	if err != nil {
		return nil, err
	}
	to, err := CleanPath(dst)
	if err != nil {
		return nil, err
	}
	if len(from) == 0 || len(to) == 0 {
		return nil, perr(op, src, ErrInvalidPath, "cannot move the root")
	}
	if len(to) >= len(from) && JoinPath(to[:len(from)]) == JoinPath(from) {
		return nil, perr(op, dst, ErrInvalidPath, "cannot move a path into itself")
	}
	return c.change(ctx, ref, op, JoinPath(to), func(ctx context.Context, d wire.Drive, s *session, t *tree, res *OpResult) error {
		e, err := t.lookup(ctx, op, from)
		if err != nil {
			return err
		}
		srcParent, _ := t.dir(ctx, op, from[:len(from)-1], false)
		moved := srcParent.children[from[len(from)-1]]
		dstParent, err := t.dir(ctx, op, to[:len(to)-1], true)
		if err != nil {
			return err
		}
		if _, ok := dstParent.dir.find(to[len(to)-1]); ok {
			return perr(op, JoinPath(to), ErrExists, "")
		}
		srcParent.dir.remove(from[len(from)-1])
		delete(srcParent.children, from[len(from)-1])
		e.Name, e.Modified = to[len(to)-1], t.now
		dstParent.dir.put(e)
		if moved != nil {
			if dstParent.children == nil {
				dstParent.children = map[string]*tnode{}
			}
			dstParent.children[e.Name] = moved
		}
		if err := t.markPath(ctx, from[:len(from)-1]); err != nil {
			return err
		}
		return t.markPath(ctx, to[:len(to)-1])
	})
}

// Stat describes the entry at p ("/" describes the root).
func (c *Client) Stat(ctx context.Context, ref, p string) (DirectoryEntry, error) {
	const op = "drive.Stat"
	elems, err := CleanPath(p)
	if err != nil {
		return DirectoryEntry{}, err
	}
	d, err := c.ResolveDrive(ctx, ref)
	if err != nil {
		return DirectoryEntry{}, err
	}
	t, err := c.openTree(ctx, d)
	if err != nil {
		return DirectoryEntry{}, err
	}
	if len(elems) == 0 {
		return DirectoryEntry{Name: "/", Kind: KindDir, CID: c.rootOf(d), Size: t.root.dir.size()}, nil
	}
	return t.lookup(ctx, op, elems)
}

// List returns the entries of the directory at p, sorted by name.
func (c *Client) List(ctx context.Context, ref, p string) ([]DirectoryEntry, error) {
	const op = "drive.List"
	elems, err := CleanPath(p)
	if err != nil {
		return nil, err
	}
	d, err := c.ResolveDrive(ctx, ref)
	if err != nil {
		return nil, err
	}
	t, err := c.openTree(ctx, d)
	if err != nil {
		return nil, err
	}
	n, err := t.dir(ctx, op, elems, false)
	if err != nil {
		return nil, err
	}
	return append([]DirectoryEntry{}, n.dir.Entries...), nil
}

// DownloadFile streams the file at p into w, verifying every chunk against
// its hash before writing it. It returns the bytes written.
func (c *Client) DownloadFile(ctx context.Context, ref, p string, w io.Writer) (uint64, error) {
	n, err := c.DownloadRange(ctx, ref, p, 0, -1, w)
	return uint64(n), err
}
