//go:build linux

package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/devnet/devnettest"
)

// long runs the long variants: a 1 GiB copy through the mount.
var long = flag.Bool("long", false, "run the long variants of the tests (a 1 GiB copy through cairn mount)")

const (
	mountReadyTimeout = time.Minute
	maxMountKB        = 100 << 10 // peak RSS of the mount process, KiB
)

// needFUSE fails the test (under CAIRN_CI) or skips it (elsewhere) unless
// /dev/fuse and fusermount3 are there.
func needFUSE(t *testing.T) {
	t.Helper()
	need(t, "fusermount3")
	if _, err := os.Stat("/dev/fuse"); err != nil {
		if os.Getenv("CAIRN_CI") != "" {
			t.Fatalf("CAIRN_CI is set and /dev/fuse is missing: %v", err)
		}
		t.Skipf("no /dev/fuse: %v", err)
	}
}

// mountDrive runs `cairn mount DRIVE DIR` in the background (stopped by
// SIGINT when the test ends, if still running) and waits for its ready
// line.
func (n *network) mountDrive(t *testing.T, ref, dir string) *background {
	t.Helper()
	b := startBackground(t, "--chain", n.chain, "--home", n.home, "mount", ref, dir)
	waitLine(t, b.lines, mountReadyTimeout, "mounted drive")
	return b
}

// sh runs a plain command (cp, mv, ls...) and returns its stdout; it
// fails the test unless the command exits 0.
func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), name, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

// mounted reports whether dir is a mount point now.
func mounted(t *testing.T, dir string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

// TestMount mounts a drive and uses it with plain cp, mkdir, mv, rm, ls
// and diff; after the unmount, `cairn commit` checkpoints what they did
// and `cairn get` (from a client home that sees only the chain's root)
// reads the files back.
func TestMount(t *testing.T) {
	t.Parallel()
	needFUSE(t)
	n := startNetwork(t)
	d := n.createDrive(t, "folder", "manual")
	local, dir := t.TempDir(), t.TempDir()
	big := filepath.Join(local, "big.bin")
	bigSum := writeRandomFile(t, big, 5<<20, 7)
	note := writeFile(t, local, "note.txt", "written through FUSE\n")
	gone := writeFile(t, local, "gone.txt", "removed\n")

	m := n.mountDrive(t, d.ref(), dir)
	sh(t, "mkdir", filepath.Join(dir, "sub"))
	sh(t, "cp", big, filepath.Join(dir, "sub", "big.bin"))
	sh(t, "cp", note, filepath.Join(dir, "note.txt"))
	sh(t, "cp", gone, filepath.Join(dir, "gone.txt"))
	sh(t, "diff", big, filepath.Join(dir, "sub", "big.bin"))
	sh(t, "mv", filepath.Join(dir, "note.txt"), filepath.Join(dir, "sub", "renamed.txt"))
	sh(t, "rm", filepath.Join(dir, "gone.txt"))
	// A shell redirection flushes before it writes, and each command of a
	// group closes its own descriptor.
	sh(t, "sh", "-c", "{ echo one; /bin/echo two; echo three; } > "+filepath.Join(dir, "sub", "group.txt"))
	if got := sh(t, "ls", dir); got != "sub\n" {
		t.Errorf("ls of the folder: %q, want sub only", got)
	}
	if got := sh(t, "ls", filepath.Join(dir, "sub")); got != "big.bin\ngroup.txt\nrenamed.txt\n" {
		t.Errorf("ls sub: %q, want big.bin, group.txt and renamed.txt", got)
	}
	if got := sh(t, "cat", filepath.Join(dir, "sub", "group.txt")); got != "one\ntwo\nthree\n" {
		t.Errorf("group.txt holds %q", got)
	}
	sh(t, "diff", note, filepath.Join(dir, "sub", "renamed.txt"))
	if err := exec.Command("cat", filepath.Join(dir, "gone.txt")).Run(); err == nil {
		t.Error("cat of a removed file succeeded")
	}

	if code := m.interrupt(); code != 0 {
		t.Fatalf("cairn mount exited %d after SIGINT, want 0:\n%s", code, m.log.String())
	}
	if mounted(t, dir) {
		t.Fatalf("%s is still mounted after cairn mount stopped", dir)
	}
	n.cairn(t, "commit", d.ref()).ok(t)
	fresh := filepath.Join(t.TempDir(), "fresh-home")
	back := filepath.Join(t.TempDir(), "back.bin")
	runCairn(t, t.Context(), "--chain", n.chain, "--home", fresh, "get", d.ref()+":/sub/big.bin", back).ok(t)
	if got := sha256File(t, back); got != bigSum {
		t.Error("big.bin came back from the chain's root different")
	}
	r := runCairn(t, t.Context(), "--chain", n.chain, "--home", fresh, "get", d.ref()+":/sub/renamed.txt", "-").ok(t)
	if r.stdout != "written through FUSE\n" {
		t.Errorf("renamed.txt holds %q", r.stdout)
	}
	runCairn(t, t.Context(), "--chain", n.chain, "--home", fresh, "stat", d.ref()+":/gone.txt").exit(t, 3)
}

// TestMountLargeCopy copies a large file into the mount and back out with
// cp and checks the mount process's peak resident set (VmHWM) stays under
// 100 MiB: both directions stream. 64 MiB normally, 1 GiB with -long
// (bench/mount.sh).
func TestMountLargeCopy(t *testing.T) {
	t.Parallel()
	needFUSE(t)
	size := int64(64 << 20)
	if *long {
		size = 1 << 30
	}
	n := startNetwork(t)
	// Room for the file and its manifest and directories (the default
	// capacity is 1 GiB: a 1 GiB file does not fit, and fails with ENOSPC).
	d := decode[driveJSON](t, n.cairn(t, "drive", "create", "--name", "large", "--strategy", "manual",
		"--capacity", fmt.Sprint(2*size), "--json").ok(t))
	local, dir := t.TempDir(), t.TempDir()
	src := filepath.Join(local, "src.bin")
	sum := writeRandomFile(t, src, size, 9)
	m := n.mountDrive(t, d.ref(), dir)

	start := time.Now()
	sh(t, "cp", src, filepath.Join(dir, "big.bin"))
	in := time.Since(start)
	back := filepath.Join(local, "back.bin")
	start = time.Now()
	sh(t, "cp", filepath.Join(dir, "big.bin"), back)
	out := time.Since(start)
	hwm := devnettest.PeakKiB(t, m.cmd.Process.Pid)
	t.Logf("cp of %d MiB into the mount: %s (%.1f MiB/s); out of it: %s (%.1f MiB/s); mount process peak RSS (VmHWM) %d MiB",
		size>>20, in.Round(time.Millisecond), float64(size>>20)/in.Seconds(), out.Round(time.Millisecond), float64(size>>20)/out.Seconds(), hwm>>10)
	if got := sha256File(t, back); got != sum {
		t.Fatal("the file copied out of the mount differs from the one copied in")
	}
	if hwm > maxMountKB {
		t.Errorf("the mount process peaked at %d MiB RSS copying %d MiB, want at most %d MiB", hwm>>10, size>>20, maxMountKB>>10)
	}
}

// TestMountStops: `cairn mount` unmounts however it is told to stop, and
// leaves nothing mounted even when a file in the folder is still open.
func TestMountStops(t *testing.T) {
	t.Parallel()
	needFUSE(t)
	n := startNetwork(t)
	d := n.createDrive(t, "stops", "manual")
	tests := []struct {
		name string
		stop func(t *testing.T, m *background, dir string)
		code int
	}{
		{"SIGINT", func(t *testing.T, m *background, _ string) { m.cmd.Process.Signal(os.Interrupt) }, 0},
		{"SIGTERM", func(t *testing.T, m *background, _ string) { m.cmd.Process.Signal(syscall.SIGTERM) }, 0},
		{"fusermount3 -u from outside", func(t *testing.T, _ *background, dir string) { sh(t, "fusermount3", "-u", dir) }, 0},
		{"SIGINT with a file open", func(t *testing.T, m *background, dir string) {
			f, err := os.Open(filepath.Join(dir, "kept.txt"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			m.cmd.Process.Signal(os.Interrupt)
		}, 5}, // unavailable: unmounted lazily
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			m := n.mountDrive(t, d.ref(), dir)
			sh(t, "cp", writeFile(t, t.TempDir(), "kept.txt", "kept\n"), filepath.Join(dir, "kept.txt"))
			tc.stop(t, m, dir)
			select {
			case <-m.done:
			case <-time.After(stopTimeout):
				t.Fatalf("cairn mount did not stop within %s:\n%s", stopTimeout, m.log.String())
			}
			if code := m.cmd.ProcessState.ExitCode(); code != tc.code {
				t.Errorf("cairn mount exited %d, want %d:\n%s", code, tc.code, m.log.String())
			}
			if mounted(t, dir) {
				t.Errorf("%s is still mounted after cairn mount stopped", dir)
			}
		})
	}
}
