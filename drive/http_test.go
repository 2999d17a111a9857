package drive

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/provider/wire"
)

// TestHTTPStorageBehind checks that a provider's "behind" answer reaches
// the upload session as the one *core.BehindError, with its leaf count,
// and that other conflicts do not.
func TestHTTPStorageBehind(t *testing.T) {
	for _, tc := range []struct {
		name       string
		err        error
		wantBehind bool
		wantCount  uint64
	}{
		{"behind", core.E("provider.write", core.Conflict, &core.BehindError{Seq: 9, LeafCount: 4}), true, 4},
		{"other conflict", core.Errorf("provider.write", core.Conflict, "seq 3 holds another blob"), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				wire.WriteError(w, tc.err)
			}))
			defer srv.Close()
			key, err := core.GenerateKey(nil)
			if err != nil {
				t.Fatal(err)
			}
			st, err := HTTPStorage(key, "cairn-test")(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			data := []byte("x")
			leaf, err := core.SignLeaf(key, "cairn-test", 1, core.Leaf{Seq: 9, ContentHash: core.Sum256(data), Size: 1})
			if err != nil {
				t.Fatal(err)
			}
			_, err = st.Write(context.Background(), 1, leaf, data)
			var behind *core.BehindError
			if got := errors.As(err, &behind); got != tc.wantBehind || core.KindOf(err) != core.Conflict {
				t.Fatalf("err %v: behind %v kind %v, want behind %v kind conflict", err, got, core.KindOf(err), tc.wantBehind)
			}
			if tc.wantBehind && behind.LeafCount != tc.wantCount {
				t.Fatalf("leaf count %d, want %d", behind.LeafCount, tc.wantCount)
			}
		})
	}
}

// TestHTTPStorageUsedAsksOneBucket checks that the quota check learns a
// bucket's bytes from GET /usage, as a signed read, and never reads the
// provider's /health (which names no bucket).
func TestHTTPStorageUsedAsksOneBucket(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		if r.URL.Path != wire.PathUsage || r.Header.Get(wire.HeaderSignature) == "" || r.URL.Query().Get("bucket_id") != "7" {
			wire.WriteError(w, core.Errorf("test", core.NotFound, "unexpected %s", r.URL))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(wire.Usage{Bucket: 7, LeafCount: 3, Bytes: 1234})
	}))
	defer srv.Close()
	key, err := core.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := HTTPStorage(key, "cairn-test")(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	used, err := st.Used(context.Background(), 7)
	if err != nil || used != 1234 {
		t.Fatalf("used %d, %v; want 1234", used, err)
	}
	if len(paths) != 1 || paths[0] != wire.PathUsage {
		t.Fatalf("requests %v, want one %s", paths, wire.PathUsage)
	}
}
