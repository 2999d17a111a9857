//go:build linux

package e2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	largeSize   = 200 << 20 // bytes
	maxClientKB = 100 << 10 // peak RSS of one put or get, KiB
	largeLimit  = 3 * time.Minute
)

// TestLargeFileRoundTrip puts a 200 MiB file and gets it back through
// the CLI: the bytes come back the same, and neither client process ever
// holds more than 100 MiB, because both stream. The same put into a drive
// without room for it is refused before any byte is sent (issue 10).
func TestLargeFileRoundTrip(t *testing.T) {
	t.Parallel()
	n := startNetwork(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "big.bin")
	want := writeRandomFile(t, src, largeSize, 42)
	d := n.createDrive(t, "big", "manual")

	r := n.cairnWithin(t, largeLimit, "put", src, d.ref()+":/big.bin", "--json").ok(t)
	op := decode[opJSON](t, r)
	if op.Size != largeSize || op.Chunks != largeSize/(1<<20) { // a large file: 1 MiB chunks (drive.Config.LargeChunkSize)
		t.Errorf("put: %d bytes in %d chunks, want %d bytes in %d 1 MiB chunks", op.Size, op.Chunks, largeSize, largeSize/(1<<20))
	}
	t.Logf("put 200 MiB: %s, peak RSS %d MiB", r.took.Round(time.Millisecond), r.maxRSSKiB>>10)
	if r.maxRSSKiB > maxClientKB {
		t.Errorf("put of 200 MiB peaked at %d MiB RSS, want under %d MiB", r.maxRSSKiB>>10, maxClientKB>>10)
	}
	res := decode[resultJSON](t, n.cairn(t, "commit", d.ref(), "--json").ok(t))
	if res.DriveRoot != op.RootCID {
		t.Errorf("commit: %+v, want root %s", res, op.RootCID)
	}

	out := filepath.Join(dir, "back.bin")
	r = n.cairnWithin(t, largeLimit, "get", d.ref()+":/big.bin", out, "--json").ok(t)
	t.Logf("get 200 MiB: %s, peak RSS %d MiB", r.took.Round(time.Millisecond), r.maxRSSKiB>>10)
	if r.maxRSSKiB > maxClientKB {
		t.Errorf("get of 200 MiB peaked at %d MiB RSS, want under %d MiB", r.maxRSSKiB>>10, maxClientKB>>10)
	}
	if g := decode[getJSON](t, r); g.Bytes != largeSize {
		t.Errorf("get reported %d bytes, want %d", g.Bytes, largeSize)
	}
	if got := sha256File(t, out); got != want {
		t.Fatalf("the file came back different: sha256 %s, want %s", got, want)
	}
	if es, _ := os.ReadDir(dir); len(es) != 2 {
		t.Errorf("after get, %s holds %d entries, want big.bin and back.bin only (no partial file)", dir, len(es))
	}

	// The same file into a drive whose quota is the file's size (the
	// manifest does not fit): refused with the quota's exit status before
	// any byte is sent, so no provider's log of that bucket holds a leaf.
	full := decode[driveJSON](t, n.cairn(t, "drive", "create", "--name", "full", "--strategy", "manual", "--capacity", fmt.Sprint(largeSize), "--json").ok(t))
	r = n.cairn(t, "put", src, full.ref()+":/big.bin", "--json").exit(t, 10)
	if e := r.errorJSON(t); e.Error.Kind != "invalid" || !strings.Contains(e.Error.Message, "quota") {
		t.Errorf("over-quota put: %+v, want kind invalid about the quota", e.Error)
	}
	for _, p := range n.m.Providers {
		if c := n.commitment(t, p, full.Bucket); c.Commitment.LeafCount != 0 {
			t.Errorf("after a refused over-quota put, %s holds %d leaves of bucket %d, want none", p.Name, c.Commitment.LeafCount, full.Bucket)
		}
	}
}

// writeRandomFile writes size pseudo-random bytes (incompressible, from
// seed) to path a buffer at a time and returns their SHA-256 in hex.
func writeRandomFile(t *testing.T, path string, size int64, seed byte) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	if _, err := io.CopyN(w, rand.NewChaCha8([32]byte{seed}), size); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
