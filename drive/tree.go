package drive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providers"
)

// maxNodeBlob bounds a manifest or directory node read from a provider.
const maxNodeBlob = 16 << 20

// rootOf returns the drive's current root CID: the pending root this client
// wrote and has not yet checkpointed, or the root on chain.
func (c *Client) rootOf(d wire.Drive) string {
	if pr, ok := c.cp.PendingRootOf(d.Bucket); ok && pr.Drive == d.ID {
		return pr.RootCID
	}
	return d.RootCID
}

// readBlob fetches a blob by CID from the bucket's providers (healthiest
// first), verifying its hash, and returns its bytes. Only for small blobs
// (nodes, manifests); file data streams through Download.
func (c *Client) readBlob(ctx context.Context, bucket core.BucketID, id string) ([]byte, error) {
	c.mu.Lock()
	b, ok := c.nodes[id]
	c.mu.Unlock()
	if ok {
		return b, nil
	}
	var buf bytes.Buffer
	if err := c.fetch(ctx, bucket, id, maxNodeBlob, &buf); err != nil {
		return nil, err
	}
	b = buf.Bytes()
	c.mu.Lock()
	if len(c.nodes) > 4096 {
		clear(c.nodes)
	}
	c.nodes[id] = b
	c.mu.Unlock()
	return b, nil
}

// fetch writes the blob named by id into w, trying each provider in turn
// (healthiest first, ReadTimeout each) until one serves bytes whose
// SHA-256 matches. Each attempt is buffered (blobs are at most one chunk
// or one node, so memory stays bounded) and reaches w only once verified,
// so a lying provider never corrupts the output.
func (c *Client) fetch(ctx context.Context, bucket core.BucketID, id string, limit int64, w io.Writer) error {
	b, err := c.fetchBlob(ctx, bucket, id, limit, 0, nil)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// fetchBlob returns the verified bytes of the blob named by id. Providers
// are tried healthiest first by the pool's one record per provider, which
// every read feeds: after one slow, hung or corrupt answer, the rest of a
// download does not wait for that provider again. spread rotates the
// order among the providers in good health (healthy, or not yet known),
// so the chunks of a download in flight at once go to several of them.
// With dst, the blob is exactly len(dst) bytes, read into dst; without,
// at most limit bytes, into a new buffer.
func (c *Client) fetchBlob(ctx context.Context, bucket core.BucketID, id string, limit int64, spread int, dst []byte) ([]byte, error) {
	const op = "drive.read"
	want, err := ParseCID(id)
	if err != nil {
		return nil, err
	}
	ps, err := c.pool.ByHealth(ctx, bucket)
	if err != nil {
		return nil, core.E(op, core.KindOf(err), err)
	}
	good := 0
	for good < len(ps) {
		if s := ps[good].History.Status(); s != providers.StatusHealthy && s != providers.StatusUnknown {
			break
		}
		good++
	}
	if good > 1 {
		k := spread % good
		rotated := append(append([]providers.Ranked{}, ps[k:good]...), ps[:k]...)
		copy(ps, rotated)
	}
	var last error = core.Errorf(op, core.Unavailable, "bucket %s has no provider", bucket)
	for _, p := range ps {
		if p.URL == "" {
			continue
		}
		st, err := c.storage(p.URL)
		if err != nil {
			last = err
			continue
		}
		start := time.Now()
		b, err := c.fetchFrom(ctx, st, bucket, want, id, limit, dst)
		if err == nil {
			c.pool.Record(p.Account, time.Since(start), nil)
			return b, nil
		}
		if ctx.Err() != nil {
			return nil, core.E(op, core.Unavailable, ctx.Err())
		}
		c.pool.Record(p.Account, time.Since(start), err)
		c.log.Warn("blob read failed; trying the next provider", "bucket", bucket, "provider", p.Account.Short(), "cid", id, "err", err)
		last = err
	}
	return nil, core.E(op, core.KindOf(last), last)
}

// fetchFrom reads one blob from one provider, into dst if set (exactly
// len(dst) bytes), else into a new buffer (at most limit bytes). The
// provider must start answering within FirstByteTimeout (a hung provider
// costs that, not ReadTimeout) and finish within ReadTimeout. Storage.Blob
// verifies the bytes against want (one hash per byte); fetchFrom checks the
// length.
func (c *Client) fetchFrom(ctx context.Context, st Storage, bucket core.BucketID, want core.H256, id string, limit int64, dst []byte) ([]byte, error) {
	const op = "drive.read"
	ctx, cancel := context.WithTimeout(ctx, c.cfg.ReadTimeout)
	defer cancel()
	hctx, hcancel := context.WithCancel(ctx)
	defer hcancel()
	slow := time.AfterFunc(c.cfg.FirstByteTimeout, hcancel)
	rc, err := st.Blob(hctx, bucket, want)
	if !slow.Stop() { // fired: the answer came too late, or not at all
		if err == nil {
			rc.Close()
		}
		return nil, core.Errorf(op, core.Unavailable, "no answer within %s", c.cfg.FirstByteTimeout)
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if dst == nil {
		var buf bytes.Buffer
		n, err := io.Copy(&buf, io.LimitReader(rc, limit+1))
		if err != nil {
			return nil, readError(op, err)
		}
		if n > limit {
			return nil, core.Errorf(op, core.Corrupt, "blob %s larger than %d bytes", id, limit)
		}
		return buf.Bytes(), nil
	}
	if _, err := io.ReadFull(rc, dst); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, core.Errorf(op, core.Corrupt, "blob %s is shorter than the %d bytes the manifest says", id, len(dst))
		}
		return nil, readError(op, err)
	}
	// The end of the stream is where the reader checks the hash.
	var extra [1]byte
	if n, err := io.ReadFull(rc, extra[:]); n > 0 {
		return nil, core.Errorf(op, core.Corrupt, "blob %s is longer than the %d bytes the manifest says", id, len(dst))
	} else if !errors.Is(err, io.EOF) {
		return nil, readError(op, err)
	}
	return dst, nil
}

// readError keeps the kind of a reader's error (Corrupt when the bytes did
// not match their hash); others are the transport's: Unavailable.
func readError(op string, err error) error {
	if k := core.KindOf(err); k != core.Other {
		return core.E(op, k, err)
	}
	return core.E(op, core.Unavailable, err)
}

func (c *Client) loadDir(ctx context.Context, bucket core.BucketID, id string) (*DirectoryNode, error) {
	if id == "" {
		return &DirectoryNode{Version: 1}, nil
	}
	b, err := c.readBlob(ctx, bucket, id)
	if err != nil {
		return nil, err
	}
	return decodeDir(b)
}

func (c *Client) loadManifest(ctx context.Context, bucket core.BucketID, id string) (*FileManifest, error) {
	b, err := c.readBlob(ctx, bucket, id)
	if err != nil {
		return nil, err
	}
	return decodeManifest(b)
}

// tree is a copy-on-write view of a drive's directories: directories are
// loaded as a path reaches them, changed in memory, and written back
// bottom-up by flush.
type tree struct {
	c      *Client
	bucket core.BucketID
	root   *tnode
	now    time.Time
}

type tnode struct {
	dir      *DirectoryNode
	children map[string]*tnode
	dirty    bool
}

func (c *Client) openTree(ctx context.Context, d wire.Drive) (*tree, error) {
	return c.openTreeAt(ctx, d.Bucket, c.rootOf(d))
}

// openTreeAt opens the tree whose root directory is the blob root ("": an
// empty drive).
func (c *Client) openTreeAt(ctx context.Context, bucket core.BucketID, root string) (*tree, error) {
	dir, err := c.loadDir(ctx, bucket, root)
	if err != nil {
		return nil, err
	}
	return &tree{c: c, bucket: bucket, root: &tnode{dir: dir}, now: time.Now().UTC().Truncate(time.Millisecond)}, nil
}

// dir walks to the directory at elems. With create, missing directories
// are made on the way.
func (t *tree) dir(ctx context.Context, op string, elems []string, create bool) (*tnode, error) {
	n := t.root
	for i, name := range elems {
		if child, ok := n.children[name]; ok {
			n = child
			continue
		}
		idx, ok := n.dir.find(name)
		var child *tnode
		switch {
		case ok && n.dir.Entries[idx].Kind != KindDir:
			return nil, perr(op, JoinPath(elems[:i+1]), ErrNotDir, "")
		case ok:
			d, err := t.c.loadDir(ctx, t.bucket, n.dir.Entries[idx].CID)
			if err != nil {
				return nil, err
			}
			child = &tnode{dir: d}
		case create:
			child = &tnode{dir: &DirectoryNode{Version: 1}, dirty: true}
			n.dir.put(DirectoryEntry{Name: name, Kind: KindDir, Modified: t.now})
			n.dirty = true
		default:
			return nil, perr(op, JoinPath(elems[:i+1]), ErrNotFound, "")
		}
		if n.children == nil {
			n.children = map[string]*tnode{}
		}
		n.children[name] = child
		n = child
	}
	return n, nil
}

// markPath marks every directory from the root to elems dirty.
func (t *tree) markPath(ctx context.Context, elems []string) error {
	t.root.dirty = true
	n := t.root
	for _, name := range elems {
		n = n.children[name]
		if n == nil {
			return core.Errorf("drive.tree", core.Internal, "path not loaded")
		}
		n.dirty = true
	}
	return nil
}

// lookup returns the entry at elems (which must not be the root).
func (t *tree) lookup(ctx context.Context, op string, elems []string) (DirectoryEntry, error) {
	parent, err := t.dir(ctx, op, elems[:len(elems)-1], false)
	if err != nil {
		return DirectoryEntry{}, err
	}
	i, ok := parent.dir.find(elems[len(elems)-1])
	if !ok {
		return DirectoryEntry{}, perr(op, JoinPath(elems), ErrNotFound, "")
	}
	return parent.dir.Entries[i], nil
}

// flush writes every dirty directory, children before parents, and returns
// the new root's CID and leaf (the last write of the session).
func (t *tree) flush(s *session) (string, core.Leaf, error) {
	id, leaf, _, err := t.flushNode(s, t.root)
	return id, leaf, err
}

func (t *tree) flushNode(s *session, n *tnode) (string, core.Leaf, uint64, error) {
	for name, child := range n.children {
		if !child.dirty {
			continue
		}
		id, _, size, err := t.flushNode(s, child)
		if err != nil {
			return "", core.Leaf{}, 0, err
		}
		i, ok := n.dir.find(name)
		if !ok {
			continue // removed after it was loaded
		}
		e := n.dir.Entries[i]
		e.CID, e.Size, e.Modified = id, size, t.now
		n.dir.Entries[i] = e
	}
	b, err := encodeNode(n.dir)
	if err != nil {
		return "", core.Leaf{}, 0, err
	}
	leaf, err := s.put(b)
	if err != nil {
		return "", core.Leaf{}, 0, err
	}
	id := CIDOf(leaf.ContentHash, false)
	t.c.mu.Lock()
	t.c.nodes[id] = b
	t.c.mu.Unlock()
	return id, leaf, n.dir.size(), nil
}
