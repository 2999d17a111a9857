package drive

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/cairn-storage/cairn/core"
)

// Entry kinds.
const (
	KindFile = "file"
	KindDir  = "dir"
)

// ChunkRef is one chunk of a file.
type ChunkRef struct {
	CID  string `json:"cid"`
	Size uint64 `json:"size"`
}

// FileManifest lists a file's chunks in order.
type FileManifest struct {
	Version  int        `json:"version"` // 1
	Size     uint64     `json:"size"`
	MIME     string     `json:"mime,omitempty"`
	Chunks   []ChunkRef `json:"chunks"`
	Modified time.Time  `json:"modified"`
}

// DirectoryEntry is one name in a directory.
type DirectoryEntry struct {
	Name     string    `json:"name"`
	Kind     string    `json:"kind"` // file | dir
	CID      string    `json:"cid"`  // the manifest or directory node
	Size     uint64    `json:"size"` // file bytes; for a directory, the sum below it
	Modified time.Time `json:"modified"`
}

// DirectoryNode is a directory: entries sorted by name, unique names.
type DirectoryNode struct {
	Version int              `json:"version"` // 1
	Entries []DirectoryEntry `json:"entries"`
}

func (d *DirectoryNode) find(name string) (int, bool) {
	i := sort.Search(len(d.Entries), func(i int) bool { return d.Entries[i].Name >= name })
	return i, i < len(d.Entries) && d.Entries[i].Name == name
}

func (d *DirectoryNode) put(e DirectoryEntry) {
	i, ok := d.find(e.Name)
	if ok {
		d.Entries[i] = e
		return
	}
	d.Entries = append(d.Entries, DirectoryEntry{})
	copy(d.Entries[i+1:], d.Entries[i:])
	d.Entries[i] = e
}

func (d *DirectoryNode) remove(name string) bool {
	i, ok := d.find(name)
	if ok {
		d.Entries = append(d.Entries[:i], d.Entries[i+1:]...)
	}
	return ok
}

func (d *DirectoryNode) size() uint64 {
	var n uint64
	for _, e := range d.Entries {
		n += e.Size
	}
	return n
}

// encodeNode is the canonical encoding of manifests and directories:
// compact JSON (encoding/json's field order is fixed by the struct, and
// entries are sorted), so the same tree always has the same CID.
func encodeNode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, core.E("drive.encode", core.Internal, err)
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func decodeDir(b []byte) (*DirectoryNode, error) {
	var d DirectoryNode
	if err := json.Unmarshal(b, &d); err != nil || d.Version != 1 {
		return nil, core.Errorf("drive.decodeDir", core.Corrupt, "not a directory node (version 1): %v", err)
	}
	if len(d.Entries) > MaxDirEntries {
		return nil, core.Errorf("drive.decodeDir", core.Corrupt, "directory has %d entries, more than %d", len(d.Entries), MaxDirEntries)
	}
	for i, e := range d.Entries {
		if checkName(e.Name) != nil || (e.Kind != KindFile && e.Kind != KindDir) || (i > 0 && d.Entries[i-1].Name >= e.Name) {
			return nil, core.Errorf("drive.decodeDir", core.Corrupt, "directory entry %d (%q) is malformed or out of order", i, e.Name)
		}
		if _, err := ParseCID(e.CID); err != nil {
			return nil, core.Errorf("drive.decodeDir", core.Corrupt, "entry %q: %v", e.Name, err)
		}
	}
	return &d, nil
}

func decodeManifest(b []byte) (*FileManifest, error) {
	var m FileManifest
	if err := json.Unmarshal(b, &m); err != nil || m.Version != 1 {
		return nil, core.Errorf("drive.decodeManifest", core.Corrupt, "not a file manifest (version 1): %v", err)
	}
	var sum uint64
	for i, c := range m.Chunks {
		if _, err := ParseCID(c.CID); err != nil {
			return nil, core.Errorf("drive.decodeManifest", core.Corrupt, "chunk %d: %v", i, err)
		}
		if c.Size > maxChunk {
			return nil, core.Errorf("drive.decodeManifest", core.Corrupt, "chunk %d is %d bytes, over the largest a provider stores (%d)", i, c.Size, maxChunk)
		}
		sum += c.Size
	}
	if sum != m.Size {
		return nil, core.Errorf("drive.decodeManifest", core.Corrupt, "chunks add up to %d bytes, manifest says %d", sum, m.Size)
	}
	return &m, nil
}

// CIDOf returns the CIDv1 of a blob with the given SHA-256: codec raw for
// file chunks, dag-json for manifests and directory nodes.
func CIDOf(hash core.H256, raw bool) string {
	mh, _ := multihash.Encode(hash[:], multihash.SHA2_256)
	codec := uint64(cid.DagJSON)
	if raw {
		codec = cid.Raw
	}
	return cid.NewCidV1(codec, mh).String()
}

// ParseCID returns the SHA-256 digest a CIDv1/sha2-256 names.
func ParseCID(s string) (core.H256, error) {
	var h core.H256
	c, err := cid.Decode(s)
	if err != nil {
		return h, core.Errorf("drive.ParseCID", core.Invalid, "bad CID %q: %v", s, err)
	}
	d, err := multihash.Decode(c.Hash())
	if err != nil || d.Code != multihash.SHA2_256 || len(d.Digest) != 32 {
		return h, core.Errorf("drive.ParseCID", core.Invalid, "CID %q is not sha2-256", s)
	}
	copy(h[:], d.Digest)
	return h, nil
}

func (e DirectoryEntry) String() string {
	return fmt.Sprintf("%s %s %d %s", e.Kind, e.Name, e.Size, e.CID)
}
