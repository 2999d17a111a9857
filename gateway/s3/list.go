package s3

import (
	"context"
	"encoding/hex"
	"path"
	"sort"
	"strings"

	"github.com/rclone/gofakes3"

	"github.com/cairn-storage/cairn/drive"
)

// ListBucket lists the drive's files as keys in S3's order (UTF-8 byte
// order of the keys), with S3's prefix, delimiter and marker rules. The
// tree is walked depth first with each directory's entries ordered by
// their key ("name/" for a directory), which is the keys' order; subtrees
// that cannot hold a key after the marker and under the prefix are not
// read. With the delimiter "/", a directory under the prefix is a common
// prefix without being read, so an empty directory is listed as one.
func (b *Backend) ListBucket(ctx context.Context, bucket string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	ref, err := b.drive(ctx, bucket)
	if err != nil {
		return nil, err
	}
	l := &lister{b: b, ref: ref, out: gofakes3.NewObjectList(), max: page.MaxKeys, marker: page.Marker}
	if prefix != nil {
		l.prefix, l.delim = prefix.Prefix, prefix.Delimiter
	}
	if err := l.walk(ctx, "/", ""); err != nil {
		return nil, err
	}
	return l.out, nil
}

type lister struct {
	b                     *Backend
	ref                   string
	prefix, delim, marker string
	max                   int64 // <= 0: no limit

	out     *gofakes3.ObjectList
	count   int64
	last    string // the last key or common prefix listed
	lastCP  string
	stopped bool
}

// walk lists the directory at p, whose keys start with kp.
func (l *lister) walk(ctx context.Context, p, kp string) error {
	es, err := l.b.c.List(ctx, l.ref, p)
	if err != nil {
		return s3Error(err, kp)
	}
	sort.SliceStable(es, func(i, j int) bool { return sortKey(es[i]) < sortKey(es[j]) })
	for _, e := range es {
		if l.stopped {
			return nil
		}
		k := kp + e.Name
		if e.Kind == drive.KindDir {
			k += "/"
			switch {
			case !strings.HasPrefix(k, l.prefix) && !strings.HasPrefix(l.prefix, k):
			case k < l.marker && !strings.HasPrefix(l.marker, k):
			case l.delim == "/" && len(k) > len(l.prefix) && strings.HasPrefix(k, l.prefix):
				l.commonPrefix(k)
			default:
				if err := l.walk(ctx, path.Join(p, e.Name), k); err != nil {
					return err
				}
			}
			continue
		}
		if !strings.HasPrefix(k, l.prefix) || k <= l.marker {
			continue
		}
		if l.delim != "" {
			if i := strings.Index(k[len(l.prefix):], l.delim); i >= 0 {
				l.commonPrefix(k[:len(l.prefix)+i+len(l.delim)])
				continue
			}
		}
		l.content(e, k)
	}
	return nil
}

func sortKey(e drive.DirectoryEntry) string {
	if e.Kind == drive.KindDir {
		return e.Name + "/"
	}
	return e.Name
}

// full reports, when the page is full, that more is to come.
func (l *lister) full() bool {
	if l.max > 0 && l.count >= l.max {
		l.out.IsTruncated, l.out.NextMarker, l.stopped = true, l.last, true
		return true
	}
	return false
}

func (l *lister) commonPrefix(cp string) {
	if cp == l.lastCP || cp <= l.marker || strings.HasPrefix(l.marker, cp) || l.full() {
		return
	}
	l.out.AddPrefix(cp)
	l.count++
	l.last, l.lastCP = cp, cp
}

func (l *lister) content(e drive.DirectoryEntry, k string) {
	if l.full() {
		return
	}
	o := l.b.object(target{key: k}, e)
	l.out.Add(&gofakes3.Content{Key: k, LastModified: gofakes3.NewContentTime(e.Modified), ETag: `"` + hex.EncodeToString(o.Hash) + `"`, Size: o.Size})
	l.count++
	l.last = k
}
