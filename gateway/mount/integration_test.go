package mount_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/devnet/devnettest"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/gateway/mount"
)

// needFUSE skips the test where FUSE cannot work (no /dev/fuse or no
// fusermount3), and fails it instead under CAIRN_CI.
func needFUSE(t *testing.T) {
	t.Helper()
	_, err := os.Stat("/dev/fuse")
	if err == nil {
		_, err = exec.LookPath("fusermount3")
	}
	if err == nil {
		return
	}
	if os.Getenv("CAIRN_CI") != "" {
		t.Fatalf("CAIRN_CI is set and FUSE is not usable: %v", err)
	}
	t.Skipf("FUSE is not usable here: %v", err)
}

var randomBytes = devnettest.RandomBytes

// mounted mounts a new manual drive of a fresh network and returns the
// client, the drive's name and the folder; it unmounts when the test ends.
func mounted(t *testing.T) (*drive.Client, string, string) {
	t.Helper()
	needFUSE(t)
	n := devnettest.Start(t, 3)
	c, _ := devnettest.DriveClient(t, n, devnettest.ClientOptions{})
	if _, err := c.CreateDrive(t.Context(), drive.CreateDriveOptions{Name: "m", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	srv, err := mount.Mount(t.Context(), c, "m", dir, mount.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	return c, "m", dir
}

func readDrive(t *testing.T, c *drive.Client, ref, p string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := c.DownloadFile(t.Context(), ref, p, &buf); err != nil {
		t.Fatalf("drive read %s: %v", p, err)
	}
	return buf.Bytes()
}

// TestMountFileOperations drives the folder with the os package's calls
// (what cp, mv, rm, mkdir and ls make) and checks each against the drive.
func TestMountFileOperations(t *testing.T) {
	c, ref, dir := mounted(t)
	f := folder{t: t, c: c, ref: ref, dir: dir, data: randomBytes(1, 700_000)} // several chunks, several FUSE writes
	// In order: each step starts from what the one before left.
	for _, step := range []struct {
		name string
		run  func(folder)
	}{
		{"write and read", folder.writeAndRead},
		{"read at offsets", folder.readAtOffsets},
		{"rename", folder.renames},
		{"errno", folder.errnos},
		{"two descriptors", folder.twoDescriptors},
		{"empty file, truncation, removal", folder.emptyAndRemovals},
	} {
		if !t.Run(step.name, func(t *testing.T) { f.t = t; step.run(f) }) {
			return
		}
	}
}

// folder is a mounted drive and what the steps of
// TestMountFileOperations share.
type folder struct {
	t    *testing.T
	c    *drive.Client
	ref  string
	dir  string
	data []byte
}

// A written file is in the drive once closed, and reads back through
// the folder.
func (f folder) writeAndRead() {
	t, c, ref, dir, data := f.t, f.c, f.ref, f.dir, f.data
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	f1 := f.one()
	if err := os.WriteFile(f1, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := readDrive(t, c, ref, "/a/b/one.bin"); !bytes.Equal(got, data) {
		t.Fatalf("drive holds %d bytes, differing from the %d written", len(got), len(data))
	}
	if got, err := os.ReadFile(f1); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back through the folder: %d bytes, err %v", len(got), err)
	}
	if st, err := os.Stat(f1); err != nil || st.Size() != int64(len(data)) || st.IsDir() {
		t.Fatalf("stat: %v %v", st, err)
	}
}

// Reads at offsets: behind the stream, and far ahead of it.
func (f folder) readAtOffsets() {
	t, data := f.t, f.data
	r, err := os.Open(f.one())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, off := range []int64{600_000, 10, 300_000, 0} {
		buf := make([]byte, 5000)
		if _, err := r.ReadAt(buf, off); err != nil || !bytes.Equal(buf, data[off:off+5000]) {
			t.Errorf("read at %d: err %v, bytes equal %v", off, err, bytes.Equal(buf, data[off:off+5000]))
		}
	}
}

// one is the file writeAndRead writes.
func (f folder) one() string { return filepath.Join(f.dir, "a", "b", "one.bin") }

// names lists a directory of the folder.
func (f folder) names(p string) []string {
	es, err := os.ReadDir(p)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// Rename, onto a new name and onto an existing file.
func (f folder) renames() {
	t, c, ref, dir := f.t, f.c, f.ref, f.dir
	f2 := filepath.Join(dir, "two.bin")
	if err := os.WriteFile(f2, []byte("small"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(f.one(), filepath.Join(dir, "a", "moved.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(f2, filepath.Join(dir, "a", "moved.bin")); err != nil {
		t.Fatalf("rename onto an existing file: %v", err)
	}
	if got := readDrive(t, c, ref, "/a/moved.bin"); string(got) != "small" {
		t.Fatalf("after renaming over it, the file holds %q", got)
	}
	if got := f.names(filepath.Join(dir, "a")); !slices.Equal(got, []string{"b", "moved.bin"}) {
		t.Fatalf("ls a: %v", got)
	}
}

// errno: rmdir of a non-empty directory, unlink of a directory,
// opening what is not there, a write out of order.
func (f folder) errnos() {
	t, c, ref, dir := f.t, f.c, f.ref, f.dir
	if err := syscall.Rmdir(filepath.Join(dir, "a")); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Errorf("rmdir of a non-empty directory: %v, want ENOTEMPTY", err)
	}
	if err := syscall.Unlink(filepath.Join(dir, "a", "b")); !errors.Is(err, syscall.EISDIR) {
		t.Errorf("unlink of a directory: %v, want EISDIR", err)
	}
	if _, err := os.Open(filepath.Join(dir, "nope")); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("open of a missing file: %v, want ENOENT", err)
	}
	w, err := os.Create(filepath.Join(dir, "holes.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteAt([]byte("x"), 1000); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("a write at 1000 of an empty file: %v, want EINVAL", err)
	}
	w.Close()
	if _, err := c.Stat(t.Context(), ref, "/holes.bin"); err == nil {
		t.Error("a file refused a write out of order was stored")
	}
}

// A file open through two descriptors, as a shell's redirection or
// `{ a; b; } > f` leaves it: each close(2) stores what was written so
// far, and writes after it go on from there.
func (f folder) twoDescriptors() {
	t, c, ref, dir := f.t, f.c, f.ref, f.dir
	fd, err := syscall.Open(filepath.Join(dir, "multi.txt"), syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fd2, err := syscall.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Close(fd); err != nil { // a flush before any write
		t.Fatal(err)
	}
	for _, part := range []string{"one\n", "two\n"} {
		if _, err := syscall.Write(fd2, []byte(part)); err != nil {
			t.Fatal(err)
		}
		fd3, err := syscall.Dup(fd2)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Close(fd3); err != nil { // a flush between writes
			t.Fatal(err)
		}
	}
	if _, err := syscall.Write(fd2, []byte("three\n")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Close(fd2); err != nil {
		t.Fatal(err)
	}
	if got := readDrive(t, c, ref, "/multi.txt"); string(got) != "one\ntwo\nthree\n" {
		t.Fatalf("a file written between flushes holds %q", got)
	}
}

// An empty file, truncation, removal.
func (f folder) emptyAndRemovals() {
	t, c, ref, dir := f.t, f.c, f.ref, f.dir
	if err := os.WriteFile(filepath.Join(dir, "empty"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if e, err := c.Stat(t.Context(), ref, "/empty"); err != nil || e.Size != 0 || e.Kind != drive.KindFile {
		t.Fatalf("empty file: %+v %v", e, err)
	}
	if err := os.Truncate(filepath.Join(dir, "a", "moved.bin"), 0); err != nil {
		t.Fatal(err)
	}
	if got := readDrive(t, c, ref, "/a/moved.bin"); len(got) != 0 {
		t.Fatalf("truncated file holds %d bytes", len(got))
	}
	if err := os.Remove(filepath.Join(dir, "a", "moved.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	if got := f.names(dir); !slices.Equal(got, []string{"empty", "multi.txt"}) {
		t.Fatalf("ls after removals: %v", got)
	}
	if es, err := c.List(t.Context(), ref, "/"); err != nil || len(es) != 2 || es[0].Name != "empty" {
		t.Fatalf("drive after removals: %+v %v", es, err)
	}
}

// TestMountStreamsLargeFiles copies a file much larger than the write and
// download windows in and out of the folder with io.Copy.
func TestMountStreamsLargeFiles(t *testing.T) {
	c, ref, dir := mounted(t)
	data := randomBytes(2, 24<<20)
	f, err := os.Create(filepath.Join(dir, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close (the upload's outcome): %v", err)
	}
	if e, err := c.Stat(t.Context(), ref, "/big.bin"); err != nil || e.Size != uint64(len(data)) {
		t.Fatalf("drive: %+v %v", e, err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "big.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes (err %v), equal %v", len(got), err, bytes.Equal(got, data))
	}
}
