package drive_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/devnet"
	"github.com/cairn-storage/cairn/devnet/devnettest"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/internal/faultnet"
)

// These tests run the file system against a real network: an embedded
// CometBFT validator and three provider HTTP servers over Pebble, on
// loopback ports.

func startNet(t testing.TB) *devnet.Network { t.Helper(); return startNetN(t, 3) }

// startNetN starts a network of providers providers.
func startNetN(t testing.TB, providers int) *devnet.Network {
	t.Helper()
	return devnettest.Start(t, providers)
}

type clientOpts struct {
	signer    string
	transport http.RoundTripper // for the storage API (uploads, downloads)
	cfg       func(*drive.Config)
}

func newClient(t testing.TB, n *devnet.Network, o clientOpts) *drive.Client {
	t.Helper()
	c, _ := newClientWithManager(t, n, o)
	return c
}

// newClientWithManager wires a pool, a manager and a drive client as the
// CLI does, and returns the manager too.
func newClientWithManager(t testing.TB, n *devnet.Network, o clientOpts) (*drive.Client, *checkpoint.Manager) {
	t.Helper()
	return devnettest.DriveClient(t, n, devnettest.ClientOptions{Signer: o.signer, Transport: o.transport, Config: o.cfg})
}

var randomBytes = devnettest.RandomBytes

func download(t *testing.T, c *drive.Client, drive, p string) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := c.DownloadFile(context.Background(), drive, p, &buf)
	if err != nil {
		t.Fatalf("download %s: %v", p, err)
	}
	if n != uint64(buf.Len()) {
		t.Fatalf("download %s: reported %d bytes, wrote %d", p, n, buf.Len())
	}
	return buf.Bytes()
}

func chainRoot(t *testing.T, n *devnet.Network, id core.DriveID) string {
	t.Helper()
	d, err := n.Chain().Drive(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d.RootCID
}

func TestCommitStrategies(t *testing.T) {
	n := startNet(t)
	c, mgr := newClientWithManager(t, n, clientOpts{})
	ctx := context.Background()

	t.Run("immediate", func(t *testing.T) {
		d, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "imm", Strategy: wire.CommitStrategy{Kind: wire.StrategyImmediate}})
		if err != nil {
			t.Fatal(err)
		}
		data := randomBytes(1, 200_000)
		res, err := c.UploadFile(ctx, "imm", "/a/b/file.bin", bytes.NewReader(data), drive.UploadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Checkpoint == nil || res.Checkpoint.Kind != checkpoint.Submitted || res.Checkpoint.DriveRoot != res.RootCID {
			t.Fatalf("immediate upload's checkpoint: %+v", res.Checkpoint)
		}
		if got := chainRoot(t, n, d.ID); got != res.RootCID {
			t.Fatalf("root on chain %s, want %s", got, res.RootCID)
		}
		if res.Chunks != 4 || res.Size != uint64(len(data)) {
			t.Fatalf("chunks %d size %d", res.Chunks, res.Size)
		}
		if !bytes.Equal(download(t, c, "imm", "/a/b/file.bin"), data) {
			t.Fatal("round trip differs")
		}
		if _, err := n.Chain().LatestCheckpoint(ctx, d.Bucket); err != nil || mgr.IsDirty(d.Bucket) {
			t.Fatalf("after an immediate upload: checkpoint %v, dirty %v", err, mgr.IsDirty(d.Bucket))
		}
	})

	t.Run("manual", func(t *testing.T) {
		d, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "man", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.UploadFile(ctx, "man", "/x.txt", strings.NewReader("manual"), drive.UploadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Checkpoint != nil || chainRoot(t, n, d.ID) != "" {
			t.Fatal("a manual drive checkpointed on its own")
		}
		if pr, ok := mgr.PendingRootOf(d.Bucket); !mgr.IsDirty(d.Bucket) || !ok || pr.RootCID != res.RootCID {
			t.Fatalf("pending not recorded: %+v %v", pr, ok)
		}
		// Reads see the pending root before it is committed.
		if got := download(t, c, "man", "/x.txt"); string(got) != "manual" {
			t.Fatalf("read %q", got)
		}
		cr, err := c.CommitChanges(ctx, d.ID.String())
		if err != nil || cr.Err() != nil {
			t.Fatalf("commit: %v %v", err, cr.Err())
		}
		if chainRoot(t, n, d.ID) != res.RootCID {
			t.Fatal("root did not move with the commit")
		}
	})

	t.Run("batched", func(t *testing.T) {
		d, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "bat", Strategy: wire.CommitStrategy{Kind: wire.StrategyBatched, Interval: 3}})
		if err != nil {
			t.Fatal(err)
		}
		events, unsub := mgr.Subscribe(64)
		defer unsub()
		lcfg := checkpoint.DefaultLoopConfig()
		lcfg.IntervalBlocks = d.Strategy.Interval
		h, err := mgr.StartLoop(ctx, lcfg, n.Chain(), d.Bucket)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Stop()
		var root string
		for i := 0; i < 3; i++ {
			res, err := c.UploadFile(ctx, "bat", "/f"+string(rune('0'+i)), strings.NewReader("batched"), drive.UploadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Checkpoint != nil {
				t.Fatal("a batched upload checkpointed inline")
			}
			root = res.RootCID
		}
		deadline := time.After(30 * time.Second)
		for chainRoot(t, n, d.ID) != root {
			select {
			case e := <-events:
				if e.Kind == checkpoint.EventFailed {
					t.Logf("loop: %s %v", e.Kind, e.Result.Err())
				}
			case <-deadline:
				t.Fatal("the batched loop did not move the root within 30 s")
			}
		}
	})
}

func hostOf(u string) string { return strings.TrimPrefix(u, "http://") }

func TestUploadDoesNotWaitForAHungProvider(t *testing.T) {
	n := startNet(t)
	ht := faultnet.New(nil, 1)
	c := newClient(t, n, clientOpts{transport: ht, cfg: func(c *drive.Config) { c.WriteTimeout, c.ReadTimeout = time.Hour, 3*time.Second }})
	ctx := context.Background()
	if _, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "d", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	ht.Set(hostOf(n.Manifest().Providers[1].URL), faultnet.Fault{Hang: true})
	data := randomBytes(2, 1<<20)
	// With write and read timeouts of an hour, finishing at all proves the
	// upload left the hung provider behind once the quorum held every
	// chunk, and reads moved on after FirstByteTimeout.
	tctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err := c.UploadFile(tctx, "d", "/big.bin", bytes.NewReader(data), drive.UploadOptions{})
	if err != nil {
		t.Fatalf("upload with one provider hung: %v", err)
	}
	if res.Chunks != 16 {
		t.Fatalf("chunks %d", res.Chunks)
	}
	if !bytes.Equal(download(t, c, "d", "/big.bin"), data) {
		t.Fatal("round trip differs")
	}
}

func TestUploadWithoutQuorumLeavesTheDriveAsItWas(t *testing.T) {
	n := startNet(t)
	c := newClient(t, n, clientOpts{})
	ctx := context.Background()
	if _, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "d", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	before, err := c.UploadFile(ctx, "d", "/keep.txt", strings.NewReader("kept"), drive.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{1, 2} {
		if err := n.StopProvider(i); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.UploadFile(ctx, "d", "/lost.txt", strings.NewReader("not enough providers"), drive.UploadOptions{})
	if !errors.Is(err, core.NoQuorum) {
		t.Fatalf("upload with 1 of 3 providers: %v, want NoQuorum", err)
	}
	info, _ := c.DriveInfo(ctx, "d")
	if info.PendingRoot != before.RootCID {
		t.Fatalf("root moved after a failed upload: %s, want %s", info.PendingRoot, before.RootCID)
	}
	for _, i := range []int{1, 2} {
		if err := n.StartProvider(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Stat(ctx, "d", "/lost.txt"); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("the failed upload's file exists: %v", err)
	}
	if _, err := c.UploadFile(ctx, "d", "/after.txt", strings.NewReader("back"), drive.UploadOptions{}); err != nil {
		t.Fatalf("upload after the providers returned: %v", err)
	}
	es, _ := c.List(ctx, "d", "/")
	if len(es) != 2 || es[0].Name != "after.txt" || es[1].Name != "keep.txt" {
		t.Fatalf("entries %v", es)
	}
	if cr, _ := c.CommitChanges(ctx, "d"); cr.Err() != nil {
		t.Fatalf("commit after recovery: %v", cr.Err())
	}
}

func TestTreeOperationsAndErrors(t *testing.T) {
	n := startNet(t)
	c := newClient(t, n, clientOpts{})
	ctx := context.Background()
	if _, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "t", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "t"}); !errors.Is(err, core.Exists) {
		t.Fatalf("duplicate drive name: %v", err)
	}
	put := func(p, s string) {
		t.Helper()
		if _, err := c.UploadFile(ctx, "t", p, strings.NewReader(s), drive.UploadOptions{}); err != nil {
			t.Fatalf("put %s: %v", p, err)
		}
	}
	put("/docs/a.txt", "a")
	put("/docs/sub/b.txt", "bb")
	if _, err := c.CreateDirectory(ctx, "t", "/empty"); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		err  error
		want error
	}{
		{"mkdir existing", second(c.CreateDirectory(ctx, "t", "/docs")), drive.ErrExists},
		{"rm non-empty dir", second(c.Remove(ctx, "t", "/docs", drive.RemoveOptions{})), drive.ErrNotEmpty},
		{"upload onto a dir", second(c.UploadFile(ctx, "t", "/docs", strings.NewReader("x"), drive.UploadOptions{})), drive.ErrIsDir},
		{"upload under a file", second(c.UploadFile(ctx, "t", "/docs/a.txt/x", strings.NewReader("x"), drive.UploadOptions{})), drive.ErrNotDir},
		{"download a dir", second(c.DownloadFile(ctx, "t", "/docs", io.Discard)), drive.ErrIsDir},
		{"list a file", second(c.List(ctx, "t", "/docs/a.txt")), drive.ErrNotDir},
		{"stat missing", second(c.Stat(ctx, "t", "/nope")), drive.ErrNotFound},
		{"dotdot", second(c.UploadFile(ctx, "t", "/docs/../etc/passwd", strings.NewReader("x"), drive.UploadOptions{})), drive.ErrInvalidPath},
		{"relative", second(c.Stat(ctx, "t", "docs")), drive.ErrInvalidPath},
		{"mv into itself", second(c.Move(ctx, "t", "/docs", "/docs/sub/docs")), drive.ErrInvalidPath},
		{"mv onto existing", second(c.Move(ctx, "t", "/docs/a.txt", "/docs/sub/b.txt")), drive.ErrExists},
		{"rm root", second(c.Remove(ctx, "t", "/", drive.RemoveOptions{})), drive.ErrInvalidPath},
		{"unknown drive", second(c.List(ctx, "no-such-drive", "/")), core.NotFound},
		{"unknown drive id", second(c.List(ctx, "999", "/")), core.NotFound},
	}
	for _, ch := range checks {
		if !errors.Is(ch.err, ch.want) {
			t.Errorf("%s: %v, want %v", ch.name, ch.err, ch.want)
		}
	}
	if _, err := c.Move(ctx, "t", "/docs/sub", "/moved/sub2"); err != nil {
		t.Fatal(err)
	}
	if got := download(t, c, "t", "/moved/sub2/b.txt"); string(got) != "bb" {
		t.Fatalf("moved file reads %q", got)
	}
	if _, err := c.Stat(ctx, "t", "/docs/sub"); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("old path still there: %v", err)
	}
	if _, err := c.Remove(ctx, "t", "/moved", drive.RemoveOptions{Recursive: true}); err != nil {
		t.Fatal(err)
	}
	es, _ := c.List(ctx, "t", "/")
	var names []string
	for _, e := range es {
		names = append(names, e.Name)
	}
	if strings.Join(names, ",") != "docs,empty" {
		t.Fatalf("root lists %v", names)
	}
	root, _ := c.Stat(ctx, "t", "/")
	if root.Kind != drive.KindDir || root.Size != 1 {
		t.Fatalf("root stat %+v (size should count /docs/a.txt only)", root)
	}
	// Everything survives a checkpoint and a fresh client (new process).
	if cr, _ := c.CommitChanges(ctx, "t"); cr.Err() != nil {
		t.Fatal(cr.Err())
	}
	fresh := newClient(t, n, clientOpts{})
	if got := download(t, fresh, "t", "/docs/a.txt"); string(got) != "a" {
		t.Fatalf("fresh client reads %q", got)
	}
}

func second[T any](_ T, err error) error { return err }

func TestNonOwnerCannotWrite(t *testing.T) {
	n := startNet(t)
	alice := newClient(t, n, clientOpts{})
	ctx := context.Background()
	d, err := alice.CreateDrive(ctx, drive.CreateDriveOptions{Name: "mine", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.UploadFile(ctx, "mine", "/secret.txt", strings.NewReader("alice's"), drive.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	bob := newClient(t, n, clientOpts{signer: "bob"})
	_, err = bob.UploadFile(ctx, d.ID.String(), "/bob.txt", strings.NewReader("bob's"), drive.UploadOptions{})
	if !errors.Is(err, core.Unauthorized) {
		t.Fatalf("bob wrote to alice's drive: %v, want unauthorized", err)
	}
	if !strings.Contains(err.Error(), "unauthorized") {
		t.Fatalf("the refusal does not say why: %v", err)
	}
	if _, err := bob.DownloadFile(ctx, d.ID.String(), "/secret.txt", io.Discard); err == nil {
		t.Fatal("bob read alice's private drive")
	}
	if err := bob.DeleteDrive(ctx, d.ID.String()); !errors.Is(err, core.Unauthorized) {
		t.Fatalf("bob deleted alice's drive: %v", err)
	}
}

// blobReads are the requests whose answers are blob bytes.
func blobReads(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/")
}

func TestDownloadSkipsAProviderServingWrongBytes(t *testing.T) {
	n := startNet(t)
	ctx := context.Background()
	writer := newClient(t, n, clientOpts{})
	if _, err := writer.CreateDrive(ctx, drive.CreateDriveOptions{Name: "v", Strategy: wire.CommitStrategy{Kind: wire.StrategyImmediate}}); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(3, 300_000)
	if _, err := writer.UploadFile(ctx, "v", "/f", bytes.NewReader(data), drive.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	// All providers but one corrupt every blob they serve: the reader must
	// still get the right bytes, never write a corrupt byte to its output,
	// and, as the pool's health record now says a corrupting provider
	// failed, not ask it again for the rest of the download: at most the
	// chunks fetched at once before its first failure was recorded (the
	// download window) went to it.
	const window = 2
	ps := n.Manifest().Providers
	exercised, asked := 0, 0
	for good := range ps {
		ft := faultnet.New(nil, uint64(good))
		for i, p := range ps {
			if i != good {
				ft.Set(hostOf(p.URL), faultnet.Fault{Corrupt: true, Match: blobReads})
			}
		}
		reader, mgr := newClientWithManager(t, n, clientOpts{transport: ft, cfg: func(c *drive.Config) { c.DownloadWindow = window }})
		got := download(t, reader, "v", "/f")
		if sha256.Sum256(got) != sha256.Sum256(data) {
			t.Fatalf("only provider %d honest: download differs", good)
		}
		hits := 0
		for i, p := range ps {
			if i == good {
				continue
			}
			_, hit := ft.Requests(hostOf(p.URL))
			hits += hit
			h, ok := mgr.Pool().Health(p.Account)
			if !ok || h.TotalRequests == 0 {
				continue // the others served every blob first
			}
			asked++
			if h.Successes != 0 || h.TotalRequests > window || h.LastError == "" {
				t.Errorf("provider %d corrupting: health %+v, want failed reads only, at most %d (the window)", i, h, window)
			}
		}
		if hits > 0 {
			exercised++
		}
	}
	if asked == 0 {
		t.Error("no corrupting provider was ever asked: the test proves nothing")
	}
	// A reader tries the providers in one order, so the honest one comes
	// first in at most one of the runs; in the others a corrupt blob
	// must have been served and passed over.
	if exercised < len(ps)-1 {
		t.Fatalf("a corrupt blob was served in %d of %d runs, want at least %d", exercised, len(ps), len(ps)-1)
	}
}

// TestPutSkipsAProviderKnownUnresponsive checks that once the pool's
// record says a provider is unresponsive (here: hung through three puts,
// each cutting it off), a put sends it nothing but the one background
// probe of the next-seq search: no write, no commitment request it waits
// for.
func TestPutSkipsAProviderKnownUnresponsive(t *testing.T) {
	n := startNet(t)
	ht := faultnet.New(nil, 1)
	c := newClient(t, n, clientOpts{transport: ht, cfg: func(c *drive.Config) {
		c.WriteTimeout, c.ReadTimeout, c.FirstByteTimeout = time.Hour, time.Hour, 200*time.Millisecond
	}})
	ctx := context.Background()
	if _, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "d", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	hung := hostOf(n.Manifest().Providers[1].URL)
	ht.Set(hung, faultnet.Fault{Hang: true})
	put := func(i int) {
		t.Helper()
		if _, err := c.UploadFile(ctx, "d", fmt.Sprintf("/f%d", i), bytes.NewReader(randomBytes(uint64(i), 1000)), drive.UploadOptions{}); err != nil {
			t.Fatalf("put %d with one provider hung: %v", i, err)
		}
		c.WaitProbes()
	}
	for i := range 3 { // each cuts the hung provider off: a failure on its record
		put(i)
	}
	// The next seq is cached from the last put that wrote to every
	// provider: no search, and nothing to the hung provider.
	before, _ := ht.Requests(hung)
	put(3)
	after, _ := ht.Requests(hung)
	if after != before {
		t.Fatalf("a put sent the provider known unresponsive %d requests, want none", after-before)
	}
	// A put that skipped a provider does not cache the seq, so the next
	// one searches, and probes the skipped provider in the background.
	put(4)
	if last, _ := ht.Requests(hung); last-after != 1 {
		t.Fatalf("the put after sent the provider known unresponsive %d requests, want 1 (the background probe)", last-after)
	}
}
