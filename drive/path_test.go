package drive

import (
	"errors"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

func TestCleanPath(t *testing.T) {
	good := map[string]string{
		"/":            "/",
		"/a":           "/a",
		"//a///b/":     "/a/b",
		"/héllo/wörld": "/héllo/wörld",
		"/a b/c.txt":   "/a b/c.txt",
		"/...":         "/...",
		"/.hidden":     "/.hidden",
	}
	for in, want := range good {
		e, err := CleanPath(in)
		if err != nil || JoinPath(e) != want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", in, JoinPath(e), err, want)
		}
	}
	bad := []string{"", "a/b", "/a/../b", "/..", "/a/.", "/./a", "/a\x00b", "/a\nb", "/a\\b", "/\xff",
		"/" + strings.Repeat("x", 256), "/" + strings.Repeat("a/", 65), "/" + strings.Repeat("x", 5000)}
	for _, in := range bad {
		_, err := CleanPath(in)
		if !errors.Is(err, ErrInvalidPath) || !errors.Is(err, core.Invalid) {
			t.Errorf("CleanPath(%q) err %v, want ErrInvalidPath", in, err)
		}
	}
}

func TestDirectoryNodeEncoding(t *testing.T) {
	h := core.Sum256([]byte("x"))
	d := &DirectoryNode{Version: 1}
	for _, n := range []string{"zeta", "alpha", "mid", "alpha"} {
		d.put(DirectoryEntry{Name: n, Kind: KindFile, CID: CIDOf(h, false), Size: 1})
	}
	if len(d.Entries) != 3 || d.Entries[0].Name != "alpha" || d.Entries[2].Name != "zeta" {
		t.Fatalf("entries %v", d.Entries)
	}
	b, err := encodeNode(d)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeDir(b)
	if err != nil || len(back.Entries) != 3 {
		t.Fatalf("decode: %v", err)
	}
	b2, _ := encodeNode(back)
	if string(b) != string(b2) {
		t.Fatal("encoding is not canonical")
	}
	if !d.remove("mid") || d.remove("mid") || d.size() != 2 {
		t.Fatal("remove")
	}
	for name, raw := range map[string]string{
		"not json":    "{",
		"version":     `{"version":2,"entries":[]}`,
		"unsorted":    `{"version":1,"entries":[{"name":"b","kind":"file","cid":"` + CIDOf(h, true) + `"},{"name":"a","kind":"file","cid":"` + CIDOf(h, true) + `"}]}`,
		"dotdot name": `{"version":1,"entries":[{"name":"..","kind":"dir","cid":"` + CIDOf(h, false) + `"}]}`,
		"bad kind":    `{"version":1,"entries":[{"name":"a","kind":"link","cid":"` + CIDOf(h, false) + `"}]}`,
		"bad cid":     `{"version":1,"entries":[{"name":"a","kind":"file","cid":"nope"}]}`,
	} {
		if _, err := decodeDir([]byte(raw)); !errors.Is(err, core.Corrupt) {
			t.Errorf("%s: %v, want Corrupt", name, err)
		}
	}
}

func TestManifestSizeChecked(t *testing.T) {
	h := core.Sum256([]byte("x"))
	m := FileManifest{Version: 1, Size: 3, Chunks: []ChunkRef{{CID: CIDOf(h, true), Size: 2}}}
	b, _ := encodeNode(m)
	if _, err := decodeManifest(b); !errors.Is(err, core.Corrupt) {
		t.Fatalf("size mismatch accepted: %v", err)
	}
	m.Size = 2
	b, _ = encodeNode(m)
	if _, err := decodeManifest(b); err != nil {
		t.Fatal(err)
	}
}

func TestCID(t *testing.T) {
	h := core.Sum256([]byte("hello"))
	for _, raw := range []bool{true, false} {
		s := CIDOf(h, raw)
		if !strings.HasPrefix(s, "ba") {
			t.Errorf("CIDv1 base32 expected, got %s", s)
		}
		got, err := ParseCID(s)
		if err != nil || got != h {
			t.Errorf("ParseCID(%s) = %v %v", s, got, err)
		}
	}
	if CIDOf(h, true) == CIDOf(h, false) {
		t.Error("raw and dag-json CIDs must differ")
	}
	// CIDv0 (sha2-256 too) decodes; other hashes do not.
	if _, err := ParseCID("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"); err != nil {
		t.Errorf("CIDv0: %v", err)
	}
	if _, err := ParseCID("bafkr4ihkr4ld3m4gqkjf4reryxsy2s5tkbxprqkow6fin2iiyvreuzzab4"); err == nil {
		t.Error("blake3 CID accepted")
	}
}

func TestParseStrategy(t *testing.T) {
	for in, want := range map[string]wire.CommitStrategy{
		"immediate":  {Kind: "immediate"},
		"manual":     {Kind: "manual"},
		"batched:10": {Kind: "batched", Interval: 10},
	} {
		got, err := ParseStrategy(in)
		if err != nil || got != want || StrategyString(got) != in {
			t.Errorf("ParseStrategy(%q) = %+v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "batched", "batched:0", "batched:x", "manual:3", "weekly"} {
		if _, err := ParseStrategy(bad); !errors.Is(err, core.Invalid) {
			t.Errorf("ParseStrategy(%q) err %v", bad, err)
		}
	}
}

func FuzzDecodeNodes(f *testing.F) {
	h := core.Sum256([]byte("x"))
	d, _ := encodeNode(&DirectoryNode{Version: 1, Entries: []DirectoryEntry{{Name: "a", Kind: KindFile, CID: CIDOf(h, true)}}})
	m, _ := encodeNode(&FileManifest{Version: 1, Size: 1, Chunks: []ChunkRef{{CID: CIDOf(h, true), Size: 1}}})
	f.Add(d)
	f.Add(m)
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if dir, err := decodeDir(b); err == nil {
			again, err := encodeNode(dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := decodeDir(again); err != nil {
				t.Fatalf("re-encoded directory does not decode: %v", err)
			}
		}
		if man, err := decodeManifest(b); err == nil {
			var sum uint64
			for _, c := range man.Chunks {
				if c.Size > maxChunk {
					t.Fatalf("accepted a chunk of %d bytes: a download would allocate it", c.Size)
				}
				sum += c.Size
			}
			if sum != man.Size {
				t.Fatal("accepted a manifest whose chunks do not add up")
			}
		}
	})
}

func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "/a/../b", "a", "/\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		e, err := CleanPath(p)
		if err != nil {
			return
		}
		for _, x := range e {
			if x == "" || x == "." || x == ".." || strings.Contains(x, "/") {
				t.Fatalf("CleanPath(%q) gave element %q", p, x)
			}
		}
		again, err := CleanPath(JoinPath(e))
		if err != nil || JoinPath(again) != JoinPath(e) {
			t.Fatalf("not idempotent: %q -> %q", p, JoinPath(e))
		}
	})
}
