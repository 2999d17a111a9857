//go:build linux

package s3_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	tm "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/devnet/devnettest"
	"github.com/cairn-storage/cairn/drive"
)

var (
	long      = flag.Bool("long", false, "run TestS3LargeMultipart (1 GiB through `cairn serve --s3`)")
	largeSize = flag.Int64("s3-large-bytes", 1<<30, "bytes TestS3LargeMultipart sends")
)

// maxServeRSSKiB is the bound on the serving process's peak RSS.
const maxServeRSSKiB = 100 << 10

// TestS3LargeMultipart (with -long) builds cairn, runs `cairn serve --s3`
// as a process of its own against a devnet, sends a 1 GiB object through
// the SDK's transfer manager and reads it back whole: the bytes
// come back the same and the serving process's peak RSS (VmHWM) stays
// at most 100 MiB, because parts go to disk and the drive streams.
func TestS3LargeMultipart(t *testing.T) {
	if !*long {
		t.Skip("1 GiB through S3: run with -long (bench/s3.sh does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	n := devnettest.Start(t, 3)
	c, _ := devnettest.DriveClient(t, n, devnettest.ClientOptions{})
	if _, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "large", Capacity: 4 << 30, Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "cairn")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/cairn").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	serve := exec.Command(bin, "--chain", n.ChainURL(), "--signer", "alice", "--home", filepath.Join(dir, "home"), "--json",
		"serve", "--listen", "127.0.0.1:0", "--s3", "127.0.0.1:0", "--s3-access-key", accessKey, "--s3-secret-key", secretKey,
		"--s3-temp-dir", filepath.Join(dir, "parts"))
	serve.Env = cleanEnv()
	serve.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	serve.Stderr = os.Stderr
	stdout, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		serve.Process.Signal(os.Interrupt)
		serve.Wait()
	})
	var ready struct {
		S3 string `json:"s3"`
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || json.Unmarshal([]byte(line), &ready) != nil || ready.S3 == "" {
		t.Fatalf("ready line %q: %v", line, err)
	}
	cl := newS3Client(ready.S3, accessKey, secretKey)

	src := sha256.New()
	body := io.TeeReader(io.LimitReader(rand.NewChaCha8([32]byte{7}), *largeSize), src)
	up := tm.New(cl, func(o *tm.Options) { o.PartSizeBytes, o.MultipartUploadThreshold = 16<<20, 16<<20; o.Concurrency = 4 })
	start := time.Now()
	if _, err := up.UploadObject(ctx, &tm.UploadObjectInput{Bucket: aws.String("large"), Key: aws.String("big.bin"), Body: body}); err != nil {
		t.Fatal(err)
	}
	put := time.Since(start)
	putRSS := devnettest.PeakKiB(t, serve.Process.Pid)

	start = time.Now()
	res, err := cl.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("large"), Key: aws.String("big.bin")})
	if err != nil {
		t.Fatal(err)
	}
	back := sha256.New()
	got, err := io.Copy(back, res.Body)
	res.Body.Close()
	if err != nil || got != *largeSize || hex.EncodeToString(back.Sum(nil)) != hex.EncodeToString(src.Sum(nil)) {
		t.Fatalf("read back %d bytes (want %d), same bytes %v, %v", got, *largeSize, hex.EncodeToString(back.Sum(nil)) == hex.EncodeToString(src.Sum(nil)), err)
	}
	get := time.Since(start)
	rss := devnettest.PeakKiB(t, serve.Process.Pid)
	mib := float64(*largeSize) / (1 << 20)
	t.Logf("s3 multipart put %.0f MiB: %s (%.1f MiB/s), serve peak RSS %d MiB", mib, put.Round(time.Millisecond), mib/put.Seconds(), putRSS>>10)
	t.Logf("s3 get %.0f MiB: %s (%.1f MiB/s), serve peak RSS %d MiB", mib, get.Round(time.Millisecond), mib/get.Seconds(), rss>>10)
	if rss > maxServeRSSKiB {
		t.Errorf("cairn serve peaked at %d MiB RSS, want at most %d MiB", rss>>10, maxServeRSSKiB>>10)
	}
	if es, _ := os.ReadDir(filepath.Join(dir, "parts")); len(es) != 1 {
		t.Errorf("the parts area holds %d entries after the upload, want only the process's own (empty) directory", len(es))
	}
}
