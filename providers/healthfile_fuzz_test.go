package providers

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cairn-storage/cairn/core"
)

// FuzzHealthFile feeds arbitrary bytes as the health file: loading never
// panics, fails only as Corrupt, and whatever loads saves and loads back
// the same records.
func FuzzHealthFile(f *testing.F) {
	f.Add([]byte(`{"version":1,"health":{}}`))
	f.Add([]byte(`{"version":2,"health":{}}`))
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "h.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		hf := &healthFile{path: path}
		hs, err := hf.load()
		if err != nil {
			if core.KindOf(err) != core.Corrupt {
				t.Fatalf("load failed with kind %v: %v", core.KindOf(err), err)
			}
			return
		}
		if _, err := hf.merge(nil); err != nil {
			t.Fatalf("saving what loaded: %v", err)
		}
		again, err := hf.load()
		if err != nil || len(again) != len(hs) {
			t.Fatalf("reloaded %d records (%v), want %d", len(again), err, len(hs))
		}
		for a, h := range hs {
			if g := again[a]; g.TotalRequests != h.TotalRequests || g.Status() != h.Status() {
				t.Fatalf("record of %s changed on a round trip: %+v, want %+v", a.Short(), g, h)
			}
		}
	})
}
