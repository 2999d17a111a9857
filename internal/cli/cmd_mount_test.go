package cli

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestMountRefusesBadArguments: bad flags and a mount point that is not a
// directory are usage errors (exit 2), found before any connection.
func TestMountRefusesBadArguments(t *testing.T) {
	dir := t.TempDir()
	file := writeTestFile(t, dir)
	valid := MountOptions{EntryTimeout: time.Second, AttrTimeout: time.Second}
	for _, tc := range []struct {
		name string
		edit func(*MountOptions)
		dir  string
	}{
		{"negative entry timeout", func(o *MountOptions) { o.EntryTimeout = -time.Second }, dir},
		{"negative attr timeout", func(o *MountOptions) { o.AttrTimeout = -time.Second }, dir},
		{"missing mount point", func(*MountOptions) {}, filepath.Join(dir, "nope")},
		{"a file as mount point", func(*MountOptions) {}, file},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := valid
			tc.edit(&o)
			// A chain nobody serves: reaching it would fail with exit 5.
			g := &Globals{Chain: "http://127.0.0.1:1", Home: t.TempDir(), Stdout: io.Discard, Stderr: io.Discard}
			err := runMount(t.Context(), g, o, "d", tc.dir)
			if code := ExitCode(err); code != ExitUsage {
				t.Errorf("runMount: %v (exit %d), want a usage error (exit %d)", err, code, ExitUsage)
			}
		})
	}
}

func writeTestFile(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "file")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
