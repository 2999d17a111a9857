package drive_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/internal/faultnet"
	"github.com/cairn-storage/cairn/providerclient"
)

// writes are the requests that send blob bytes to a provider.
func writes(r *http.Request) bool {
	return r.Method != http.MethodGet && strings.Contains(r.URL.Path, "/writes/")
}

// Five providers, one hung (its every request hangs, write timeouts are an
// hour) and one dead: a put and a commit both succeed with the three
// others, which is the bucket's threshold. Finishing at all proves the put
// did not wait for the hung provider's writes.
func TestHungAndDeadProvidersLeaveAPutAndACommitSucceeding(t *testing.T) {
	n := startNetN(t, 5)
	ht := faultnet.New(nil, 1)
	c := newClient(t, n, clientOpts{transport: ht, cfg: func(c *drive.Config) {
		c.WriteTimeout, c.ReadTimeout, c.ProviderCount = time.Hour, time.Hour, 5
	}})
	ctx := context.Background()
	info, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "d", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}})
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Providers) != 5 {
		t.Fatalf("drive on %d providers, want 5", len(info.Providers))
	}
	ps := n.Manifest().Providers
	ht.Set(hostOf(ps[1].URL), faultnet.Fault{Hang: true})
	if err := n.StopProvider(3); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for i, size := range []int{300_000, 1 << 20} {
		data := randomBytes(uint64(10+i), size)
		p := "/f" + string(rune('a'+i))
		if _, err := c.UploadFile(tctx, "d", p, bytes.NewReader(data), drive.UploadOptions{}); err != nil {
			t.Fatalf("put %d with one provider hung and one dead: %v", i, err)
		}
		r, err := c.CommitChanges(tctx, "d")
		if err != nil || r.Kind != checkpoint.Submitted || len(r.Signers) < 3 {
			t.Fatalf("commit %d with one provider hung and one dead: %+v (%v)", i, r, err)
		}
		if got := download(t, c, "d", p); !bytes.Equal(got, data) {
			t.Fatalf("put %d: the bytes read back differ", i)
		}
	}
	if root := chainRoot(t, n, info.ID); root == "" {
		t.Fatal("no root on chain after the commits")
	}
}

// A provider that hung for a few puts is known to be unresponsive (the
// pool's health record): the next put gives it no write at all, at most
// the one commitment request that probes it (not waited for), and still
// succeeds. Once it answers, here the Checkpoint Manager's commitment
// request at a commit, it gets writes again. The assertions are on
// requests seen, never on time.
func TestPutNeverWritesToAProviderKnownUnresponsive(t *testing.T) {
	n := startNet(t)
	// ht hangs; writes, in front of it, counts the write requests.
	ht := faultnet.New(nil, 2)
	writesSeen := faultnet.New(ht, 3)
	c, mgr := newClientWithManager(t, n, clientOpts{transport: writesSeen, cfg: func(c *drive.Config) { c.WriteTimeout = time.Hour }})
	ctx := context.Background()
	if _, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "d", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	hung := n.Manifest().Providers[1]
	host := hostOf(hung.URL)
	ht.Set(host, faultnet.Fault{Hang: true})
	put := func(p string) {
		t.Helper()
		if _, err := c.UploadFile(ctx, "d", p, strings.NewReader("x "+p), drive.UploadOptions{}); err != nil {
			t.Fatalf("put %s: %v", p, err)
		}
	}
	// Each put leaves the hung provider behind once the quorum holds the
	// write, and its record counts a miss (it took no write: a failure
	// if it had); a few in a row make it unresponsive to the drive.
	for i := 0; i < 10; i++ {
		if h, _ := mgr.Pool().Health(hung.Account); h.Unresponsive() {
			break
		}
		put("/warm" + string(rune('a'+i)))
	}
	if h, _ := mgr.Pool().Health(hung.Account); !h.Unresponsive() {
		t.Fatalf("hung provider's record after ten puts: %+v, want it unresponsive (3 misses in a row)", h)
	}
	ht.Set(host, faultnet.Fault{Hang: true}) // restarts its counts
	for _, p := range n.Manifest().Providers {
		writesSeen.Set(hostOf(p.URL), faultnet.Fault{Match: writes}) // counts writes, changes nothing
	}
	for _, p := range []string{"/skipped1", "/skipped2"} {
		put(p)
	}
	if _, w := writesSeen.Requests(host); w != 0 {
		t.Fatalf("puts sent %d writes to a provider known to be unresponsive", w)
	}
	if seen, _ := ht.Requests(host); seen > 2 {
		t.Fatalf("two puts sent %d requests to a provider known to be unresponsive, want at most one probe each", seen)
	}
	for i, p := range n.Manifest().Providers {
		if _, w := writesSeen.Requests(hostOf(p.URL)); i != 1 && w == 0 {
			t.Fatalf("provider %d got no write: the puts went nowhere", i)
		}
	}

	// It answers again: the manager's commit asks every primary, the
	// record clears, and the next put writes to it.
	ht.Clear(host)
	if r, _ := c.CommitChanges(ctx, "d"); r.Err() != nil {
		t.Fatalf("commit: %v", r.Err())
	}
	mgr.WaitProbes() // the manager probes a provider it knows does not answer
	if h, _ := mgr.Pool().Health(hung.Account); h.ConsecutiveFailures != 0 || h.Unresponsive() {
		t.Fatalf("record after the provider answered the manager: %+v", h)
	}
	put("/back")
	if _, w := writesSeen.Requests(host); w == 0 {
		t.Fatal("the provider that answered again was given no write")
	}
}

// A drive whose agreements allow 256 KiB: a 1 MiB put is refused with a
// quota error (kind invalid, a *drive.QuotaError) before any write
// request reaches a provider, and the drive is as it was.
func TestOverQuotaPutIsRefusedBeforeAnyByteIsSent(t *testing.T) {
	n := startNet(t)
	ft := faultnet.New(nil, 3)
	c := newClient(t, n, clientOpts{transport: ft})
	ctx := context.Background()
	if _, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "small", Capacity: 256 << 10, Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	before, err := c.UploadFile(ctx, "small", "/fits.txt", strings.NewReader("this fits"), drive.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ps := n.Manifest().Providers
	for _, p := range ps {
		ft.Set(hostOf(p.URL), faultnet.Fault{Match: writes}) // counts writes, changes nothing
	}
	for _, tc := range []struct {
		name string
		r    func() (int, *bytes.Reader)
	}{
		{"a 1 MiB file", func() (int, *bytes.Reader) { return 1 << 20, bytes.NewReader(randomBytes(4, 1<<20)) }},
		{"just past the room", func() (int, *bytes.Reader) { return 256 << 10, bytes.NewReader(randomBytes(5, 256<<10)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, r := tc.r()
			_, err := c.UploadFile(ctx, "small", "/big.bin", r, drive.UploadOptions{})
			var qe *drive.QuotaError
			if !errors.As(err, &qe) || !errors.Is(err, core.Invalid) {
				t.Fatalf("over-quota put: %v, want a *drive.QuotaError of kind invalid", err)
			}
			for i, p := range ps {
				if _, hit := ft.Requests(hostOf(p.URL)); hit != 0 {
					t.Fatalf("provider %d got %d write requests from a refused put", i, hit)
				}
			}
		})
	}
	info, _ := c.DriveInfo(ctx, "small")
	if info.PendingRoot != before.RootCID {
		t.Fatalf("the root moved after refused puts: %s, want %s", info.PendingRoot, before.RootCID)
	}
	// What fits still goes in, from a fresh client (no cached room) too.
	for _, cl := range []*drive.Client{c, newClient(t, n, clientOpts{})} {
		if _, err := cl.UploadFile(ctx, "small", "/small.bin", bytes.NewReader(randomBytes(6, 64<<10)), drive.UploadOptions{}); err != nil {
			t.Fatalf("a put that fits: %v", err)
		}
	}
}

// A download fetching several chunks at once returns the right bytes, in
// order, with one provider corrupting every blob it serves and another
// hanging on every blob read.
func TestParallelDownloadPastACorruptAndAHungProvider(t *testing.T) {
	n := startNet(t)
	ctx := context.Background()
	writer := newClient(t, n, clientOpts{})
	if _, err := writer.CreateDrive(ctx, drive.CreateDriveOptions{Name: "p", Strategy: wire.CommitStrategy{Kind: wire.StrategyImmediate}}); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(7, 2<<20+12345) // 33 chunks of 64 KiB, the last one short
	if _, err := writer.UploadFile(ctx, "p", "/f", bytes.NewReader(data), drive.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	ps := n.Manifest().Providers
	ft := faultnet.New(nil, 8)
	ft.Set(hostOf(ps[0].URL), faultnet.Fault{Corrupt: true, Match: blobReads})
	ft.Set(hostOf(ps[1].URL), faultnet.Fault{Hang: true, Match: blobReads})
	reader := newClient(t, n, clientOpts{transport: ft, cfg: func(c *drive.Config) {
		c.DownloadWindow, c.FirstByteTimeout, c.ReadTimeout = 8, 10*time.Second, time.Hour // a loaded -race run can take seconds to start an answer
	}})
	if got := download(t, reader, "p", "/f"); !bytes.Equal(got, data) {
		t.Fatal("parallel download with one corrupt and one hung provider returned other bytes")
	}
	if _, hit := ft.Requests(hostOf(ps[2].URL)); hit != 0 {
		t.Fatalf("faults hit the honest provider %d times", hit)
	}
	if seen, _ := ft.Requests(hostOf(ps[2].URL)); seen < 34 {
		t.Fatalf("the honest provider served %d requests, want every chunk and the manifest", seen)
	}
}

// An upload that failed short of quorum left blobs in one provider's log;
// retrying the same file writes those blobs at their own seqs (the
// provider answers the repeat, the others store them), so the log, and
// the quota, end as if the first attempt had never failed.
func TestRetriedUploadReusesTheOrphansOfTheFailedOne(t *testing.T) {
	n := startNet(t)
	ft := faultnet.New(nil, 4)
	c := newClient(t, n, clientOpts{transport: ft, cfg: func(c *drive.Config) { c.WriteTimeout = time.Second }})
	ctx := context.Background()
	info, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "r", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadFile(ctx, "r", "/first.txt", strings.NewReader("first"), drive.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	committed := func() uint64 {
		t.Helper()
		if r, _ := c.CommitChanges(ctx, "r"); r.Err() != nil {
			t.Fatal(r.Err())
		}
		b, err := n.Chain().Bucket(ctx, info.Bucket)
		if err != nil || b.Latest == nil {
			t.Fatalf("bucket %+v (%v)", b, err)
		}
		return b.Latest.StartSeq + b.Latest.LeafCount
	}
	clean := committed()
	ps := n.Manifest().Providers
	for _, i := range []int{1, 2} {
		ft.Set(hostOf(ps[i].URL), faultnet.Fault{Hang: true, Match: writes})
	}
	data := randomBytes(12, 1<<20) // 16 chunks of 64 KiB
	if _, err := c.UploadFile(ctx, "r", "/big.bin", bytes.NewReader(data), drive.UploadOptions{}); !errors.Is(err, core.NoQuorum) {
		t.Fatalf("upload with two of three providers hung on writes: %v, want no_quorum", err)
	}
	pc, err := providerclient.New(ps[0].URL, providerclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := pc.Commitment(ctx, info.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	if sc.StartSeq+sc.LeafCount <= clean {
		t.Fatalf("provider 0 took no blob of the failed upload (log ends at %d): the test proves nothing", sc.StartSeq+sc.LeafCount)
	}
	for _, i := range []int{1, 2} {
		ft.Clear(hostOf(ps[i].URL))
	}
	res, err := c.UploadFile(ctx, "r", "/big.bin", bytes.NewReader(data), drive.UploadOptions{})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	const blobs = 16 + 2 // the chunks, the manifest, the root directory
	if res.Writes != blobs {
		t.Fatalf("retry wrote %d blobs, want %d", res.Writes, blobs)
	}
	if end := committed(); end != clean+blobs {
		t.Fatalf("log ends at %d after the retry, want %d: the %d orphans were not reused", end, clean+blobs, sc.StartSeq+sc.LeafCount-clean)
	}
	if !bytes.Equal(download(t, c, "r", "/big.bin"), data) {
		t.Fatal("round trip differs")
	}
}
