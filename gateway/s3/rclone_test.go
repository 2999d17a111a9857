package s3_test

import (
	"bytes"
	"context"
	"maps"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/devnet/devnettest"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/gateway/webdav"
)

// rcloneBin finds rclone (Debian package rclone); missing, it skips the
// test, or fails it under CAIRN_CI.
func rcloneBin(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("rclone")
	if err != nil {
		if os.Getenv("CAIRN_CI") != "" {
			t.Fatal("rclone is not installed (Debian package rclone); CAIRN_CI requires it")
		}
		t.Skip("rclone is not installed (apt-get install rclone); skipping the rclone tests")
	}
	return bin
}

// cleanEnv is the environment without AWS_* settings (a CA bundle set
// for the machine's proxies makes rclone's s3 backend refuse to start).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "RCLONE_") {
			env = append(env, kv)
		}
	}
	return env
}

// writeTree writes files (path -> content) under dir.
func writeTree(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// rcloneRun runs rclone with env (remotes configured by environment
// variables only) and fails t unless it exits 0.
type rcloneRun func(t *testing.T, args ...string) string

// TestRclone drives rclone (copy, check, sync) through both its webdav
// backend, against the WebDAV gateway, and its s3 backend, against the S3
// gateway, each on a drive of its own. After the files arrive a commit
// checkpoints them and a fresh drive client reads them from the root on
// chain. Remotes are configured by environment variables only.
func TestRclone(t *testing.T) {
	bin := rcloneBin(t)
	g := gateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, name := range []string{"viadav", "vias3"} {
		if _, err := g.c.CreateDrive(ctx, drive.CreateDriveOptions{Name: name, Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
			t.Fatal(err)
		}
	}
	dav := httptest.NewServer(webdav.NewHandler(g.c, nil))
	t.Cleanup(dav.Close)

	env := append(cleanEnv(),
		"RCLONE_CONFIG="+filepath.Join(t.TempDir(), "none.conf"),
		"RCLONE_CONFIG_CDAV_TYPE=webdav", "RCLONE_CONFIG_CDAV_URL="+dav.URL+"/dav/viadav/", "RCLONE_CONFIG_CDAV_VENDOR=other",
		"RCLONE_CONFIG_CS3_TYPE=s3", "RCLONE_CONFIG_CS3_PROVIDER=Other", "RCLONE_CONFIG_CS3_ENDPOINT="+g.url,
		"RCLONE_CONFIG_CS3_ACCESS_KEY_ID="+accessKey, "RCLONE_CONFIG_CS3_SECRET_ACCESS_KEY="+secretKey,
		"RCLONE_CONFIG_CS3_REGION=us-east-1", "RCLONE_CONFIG_CS3_FORCE_PATH_STYLE=true",
		// Files past 5 MiB go in 5 MiB parts, so rclone's multipart
		// path (and its md5chksum metadata) is taken too.
		"RCLONE_CONFIG_CS3_UPLOAD_CUTOFF=5M", "RCLONE_CONFIG_CS3_CHUNK_SIZE=5M")
	rclone := func(t *testing.T, args ...string) string {
		t.Helper()
		// rclone's own retries stay on, as users run it: its parallel
		// MKCOLs of one folder meet x/net/webdav's short locks (423) and
		// are retried. Four transfers at once, rclone's default.
		cmd := exec.CommandContext(ctx, bin, append(args, "--transfers", "4")...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("rclone %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	for _, r := range []struct{ remote, drive string }{{"cdav:", "viadav"}, {"cs3:vias3", "vias3"}} {
		t.Run(r.drive, func(t *testing.T) { rcloneRoundTrip(t, g, rclone, r.remote, r.drive) })
	}
	if n := opCount(t, g.reg, "UploadPart", "200"); n < 3 {
		t.Errorf("rclone sent %v parts, want the 11 MiB file in at least 3: its multipart path was not taken", n)
	}
}

// rcloneRoundTrip copies a small tree to remote (the drive named drv),
// checks it, changes the source (a file rewritten, one removed, one
// added), syncs and checks again, then commits and reads every file back
// with a fresh drive client.
func rcloneRoundTrip(t *testing.T, g testGateway, rclone rcloneRun, remote, drv string) {
	ctx := context.Background()
	src := t.TempDir()
	files := map[string][]byte{
		"notes.txt":        []byte("a small note\n"),
		"photos/a.jpg":     randomBytes(3, 200_000),
		"photos/b.jpg":     randomBytes(4, 70_000),
		"photos/raw/c.raw": randomBytes(5, 300_000),
		"docs/empty.txt":   {},
		"docs/readme.md":   []byte("# readme\n"),
		"video/clip.mp4":   randomBytes(7, 11<<20),
	}
	writeTree(t, src, files)
	rclone(t, "copy", src, remote)
	out := rclone(t, "check", src, remote)
	t.Logf("rclone check after copy (%s):\n%s", remote, out)
	if strings.HasPrefix(remote, "cs3:") && strings.Contains(out, "hashes could not be checked") {
		t.Errorf("rclone could not check MD5s through S3:\n%s", out)
	}

	if err := os.Remove(filepath.Join(src, "photos", "b.jpg")); err != nil {
		t.Fatal(err)
	}
	delete(files, "photos/b.jpg")
	changed := map[string][]byte{"notes.txt": []byte("a longer note, rewritten\n"), "docs/new.bin": randomBytes(6, 90_000)}
	writeTree(t, src, changed)
	maps.Copy(files, changed)
	rclone(t, "sync", src, remote)
	out = rclone(t, "check", src, remote)
	t.Logf("rclone check after sync (%s):\n%s", remote, out)

	cr, err := g.c.CommitChanges(ctx, drv)
	if err != nil || cr.Err() != nil {
		t.Fatalf("commit: %v %v", err, cr)
	}
	fresh, _ := devnettest.DriveClient(t, g.net, devnettest.ClientOptions{})
	for p, want := range files {
		var buf bytes.Buffer
		if _, err := fresh.DownloadFile(ctx, drv, "/"+p, &buf); err != nil || !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s read back: %d bytes (want %d), %v", p, buf.Len(), len(want), err)
		}
	}
	if _, err := fresh.Stat(ctx, drv, "/photos/b.jpg"); core.KindOf(err) != core.NotFound {
		t.Errorf("photos/b.jpg: removed from the source, still in the drive after sync (%v)", err)
	}
}
