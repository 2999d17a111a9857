package s3_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/gateway/s3"
)

// TestMetaStores runs the same contract against both stores; DirMeta's
// records also survive a new store on the same directory, and a record
// grown past any real one is read as unknown, not loaded.
func TestMetaStores(t *testing.T) {
	dir := t.TempDir()
	dm, err := s3.NewDirMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]s3.MetaStore{"dir": dm, "mem": s3.NewMemMeta()} {
		t.Run(name, func(t *testing.T) {
			rec := s3.ObjectMeta{MD5: "5d41402abc4b2a76b9719d911017c592", Meta: map[string]string{"X-Amz-Meta-Colour": "green"}}
			for _, id := range []string{"bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy", "../../etc/passwd", ""} {
				if _, ok := st.Get(id); ok {
					t.Fatalf("Get(%q) before any Put found a record", id)
				}
				if err := st.Put(id, rec); err != nil {
					t.Fatal(err)
				}
				got, ok := st.Get(id)
				if !ok || got.MD5 != rec.MD5 || got.Meta["X-Amz-Meta-Colour"] != "green" {
					t.Fatalf("Get(%q) = %+v, %v", id, got, ok)
				}
			}
		})
	}
	again, err := s3.NewDirMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := again.Get("../../etc/passwd"); !ok {
		t.Error("a record did not survive a new store on the directory")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "..") || strings.HasPrefix(e.Name(), ".tmp") {
			t.Errorf("file %q in the store: ids must not reach the file system, temporaries must not stay", e.Name())
		}
	}
	const id = "bafkreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	if err := os.WriteFile(filepath.Join(dir, id+".json"), []byte(`{"md5":"`+strings.Repeat("a", 1<<20)+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := again.Get(id); ok {
		t.Error("an oversized record was loaded")
	}
}
