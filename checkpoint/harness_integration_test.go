package checkpoint_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/devnet"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/internal/poll"
	"github.com/cairn-storage/cairn/providerclient"
)

// The integration tests run the Checkpoint Manager against a real network
// from devnet: one CometBFT validator in-process with 50 ms blocks, and
// provider servers on 127.0.0.1 over Pebble, each funded, staked and
// registered. Alice owns a drive on all of them with a file uploaded
// through drive. Faults are injected where they happen: an http.RoundTripper
// between the manager and each provider (hang, fail, corrupt), or the
// processes themselves (stop a provider, stop the chain, lose a blob).

// fault is what the RoundTripper does to one provider's requests.
type fault struct {
	// hang blocks every request until the caller gives up on it: a
	// provider that accepted the connection and never answers.
	hang bool
	// failFirst fails this many /commitment requests (a reset
	// connection) before letting the rest through.
	failFirst int
	// corruptSig flips a bit of the signature in /commitment answers.
	corruptSig bool
	// failProofs fails every /proof request.
	failProofs bool
}

// faults is an http.RoundTripper that applies a fault per provider, by
// URL host, and records when each host was asked for a commitment.
type faults struct {
	base *http.Transport

	mu          sync.Mutex
	byHost      map[string]fault
	commitments map[string][]time.Time
}

func newFaults() *faults {
	return &faults{base: http.DefaultTransport.(*http.Transport).Clone(),
		byHost: map[string]fault{}, commitments: map[string][]time.Time{}}
}

func (f *faults) set(host string, ft fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byHost[host] = ft
	delete(f.commitments, host) // count from the fault on
}

// commitmentRequests returns when host was asked for a commitment.
func (f *faults) commitmentRequests(host string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.commitments[host]...)
}

func (f *faults) RoundTrip(req *http.Request) (*http.Response, error) {
	host, isCommit := req.URL.Host, req.URL.Path == "/commitment"
	f.mu.Lock()
	ft := f.byHost[host]
	fail := false
	if isCommit {
		f.commitments[host] = append(f.commitments[host], time.Now())
		if ft.failFirst > 0 {
			fail = true
			left := ft
			left.failFirst--
			f.byHost[host] = left
		}
	}
	f.mu.Unlock()
	switch {
	case ft.hang:
		<-req.Context().Done()
		return nil, req.Context().Err()
	case fail, ft.failProofs && req.URL.Path == "/proof":
		return nil, errors.New("injected fault: connection reset by peer")
	}
	resp, err := f.base.RoundTrip(req)
	if err != nil || !ft.corruptSig || !isCommit || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var sc core.SignedCommitment
	if err := json.Unmarshal(body, &sc); err != nil {
		return nil, fmt.Errorf("injected fault: cannot corrupt %q: %w", body, err)
	}
	sc.Signature[7] ^= 0x10
	if body, err = json.Marshal(sc); err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp, nil
}

// testnet is one test's network, alice's drive on it, and her first
// upload, still waiting for a checkpoint.
type testnet struct {
	t       testing.TB
	ctx     context.Context
	net     *devnet.Network
	chain   *chainclient.Client
	chainID string
	alice   core.PrivateKey
	faults  *faults
	plain   *http.Transport // for raw provider requests, without faults

	accounts []core.AccountID // provider i's account
	hosts    []string         // provider i's host:port
	raw      []*providerclient.Client
	drive    wire.Drive
	// pending is the drive root left by the setup's upload (zero with
	// noUpload); managers from manager() start out owing it.
	pending checkpoint.PendingRoot
	data    []byte // the uploaded file's bytes
}

type netOptions struct {
	providers int // default 3
	noUpload  bool
	strategy  string // of the drive; default manual
}

// startNet starts a network and creates alice's drive "docs" (strategy
// manual unless told) on every provider, and uploads /hello.txt unless
// noUpload.
func startNet(t testing.TB, o netOptions) *testnet {
	t.Helper()
	if o.providers == 0 {
		o.providers = 3
	}
	if o.strategy == "" {
		o.strategy = wire.StrategyManual
	}
	limit := 2 * time.Minute
	if _, bench := t.(*testing.B); bench {
		limit = 15 * time.Minute // every sub-benchmark of one run shares the network, WaitForAll's hung case for seconds per op
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	n, err := devnet.Start(ctx, devnet.Config{Dir: t.TempDir(), Providers: o.providers, RPCListen: "127.0.0.1:0", TimeoutCommit: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("devnet: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Logf("stopping the devnet: %v", err)
		}
	})
	alice, _ := core.DevKey("alice")
	tn := &testnet{t: t, ctx: ctx, net: n, chain: n.Chain(), chainID: n.ChainID(), alice: alice, faults: newFaults(),
		plain: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(tn.faults.base.CloseIdleConnections)
	t.Cleanup(tn.plain.CloseIdleConnections)
	for _, p := range n.Manifest().Providers {
		u, err := url.Parse(p.URL)
		if err != nil {
			t.Fatal(err)
		}
		c, err := providerclient.New(p.URL, providerclient.Options{HTTPClient: &http.Client{Transport: tn.plain}, Signer: alice, ChainID: tn.chainID})
		if err != nil {
			t.Fatal(err)
		}
		tn.accounts = append(tn.accounts, p.Account)
		tn.hosts = append(tn.hosts, u.Host)
		tn.raw = append(tn.raw, c)
	}

	setup := tn.newManager(fastConfig())
	fsc := tn.fsFor(setup)
	info, err := fsc.CreateDrive(ctx, drive.CreateDriveOptions{Name: "docs", Providers: tn.accounts, Strategy: wire.CommitStrategy{Kind: o.strategy}})
	if err != nil {
		t.Fatalf("creating the drive: %v", err)
	}
	tn.drive = info.Drive
	// A provider caches "no such bucket" from its startup scan for a few
	// seconds, until the agreement event reaches it: wait until each
	// serves the new bucket.
	for i := range tn.raw {
		tn.eventually(30*time.Second, "a provider never served the new bucket", func() bool {
			_, err := tn.raw[i].Commitment(ctx, tn.drive.Bucket)
			return err == nil
		})
	}
	if !o.noUpload {
		tn.data = bytes.Repeat([]byte("cairn checkpoint integration "), 100)
		if _, err := fsc.UploadFile(ctx, "docs", "/hello.txt", bytes.NewReader(tn.data), drive.UploadOptions{}); err != nil {
			t.Fatalf("upload: %v", err)
		}
		pr, ok := setup.PendingRootOf(tn.drive.Bucket)
		if !ok {
			t.Fatal("the upload left no pending root")
		}
		tn.pending = pr
	}
	return tn
}

// fastConfig is the manager's configuration for tests: short timeouts and
// back-off, quick block polling, and a grace window long enough that a
// healthy provider slowed by a loaded machine still signs (a round where
// every provider answers ends without waiting it out).
func fastConfig() checkpoint.Config {
	c := checkpoint.DefaultConfig()
	c.ProviderTimeout = 2 * time.Second
	c.MaxRetries = 2
	c.RetryDelay = 20 * time.Millisecond
	c.BlockPoll = 10 * time.Millisecond
	c.GraceWindow = 5 * time.Second
	c.GraceFloor = c.GraceWindow // every healthy provider signs, however loaded the machine
	return c
}

// dialer reaches providers through the fault injector.
func (tn *testnet) dialer() checkpoint.Dialer {
	hc := &http.Client{Transport: tn.faults}
	return func(baseURL string) (checkpoint.Provider, error) {
		c, err := providerclient.New(baseURL, providerclient.Options{HTTPClient: hc, Signer: tn.alice, ChainID: tn.chainID, Timeout: time.Hour})
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

// newManager is alice's manager, wired as the CLI wires it but for the
// fault injector; it owes nothing yet.
func (tn *testnet) newManager(cfg checkpoint.Config, opts ...checkpoint.Option) *checkpoint.Manager {
	tn.t.Helper()
	opts = append([]checkpoint.Option{checkpoint.WithEndpointResolver(providerclient.BaseURL)}, opts...)
	m, err := checkpoint.New(tn.chain, tn.dialer(), tn.alice, cfg, opts...)
	if err != nil {
		tn.t.Fatal(err)
	}
	return m
}

// manager is a new manager that owes the checkpoint of the setup's
// upload, as the client that uploaded would.
func (tn *testnet) manager(cfg checkpoint.Config, opts ...checkpoint.Option) *checkpoint.Manager {
	tn.t.Helper()
	m := tn.newManager(cfg, opts...)
	if tn.pending.RootCID != "" {
		if err := m.SetPendingRoot(tn.drive.Bucket, tn.pending); err != nil {
			tn.t.Fatal(err)
		}
	}
	return m
}

// fsFor is alice's file system client over mgr (writes go straight to the
// providers, without faults).
func (tn *testnet) fsFor(mgr *checkpoint.Manager) *drive.Client {
	tn.t.Helper()
	c, err := drive.New(tn.chain, mgr.Pool(), drive.HTTPStorage(tn.alice, tn.chainID), mgr, tn.alice, drive.DefaultConfig(), nil)
	if err != nil {
		tn.t.Fatal(err)
	}
	return c
}

func (tn *testnet) bucket() core.BucketID { return tn.drive.Bucket }

// accountsOf returns the accounts of providers is, sorted as the manager
// and the chain sort them.
func (tn *testnet) accountsOf(is ...int) []core.AccountID {
	var out []core.AccountID
	for _, i := range is {
		out = append(out, tn.accounts[i])
	}
	sortAccounts(out)
	return out
}

func sortAccounts(a []core.AccountID) {
	slices.SortFunc(a, func(x, y core.AccountID) int { return bytes.Compare(x[:], y[:]) })
}

// commitment is provider i's signed commitment to the drive's bucket,
// asked directly.
func (tn *testnet) commitment(i int) core.SignedCommitment {
	tn.t.Helper()
	sc, err := tn.raw[i].Commitment(tn.ctx, tn.bucket())
	if err != nil {
		tn.t.Fatalf("commitment of provider %d: %v", i, err)
	}
	return sc
}

// nextSeq is the next free seq of the bucket's log on provider i.
func (tn *testnet) nextSeq(i int) uint64 {
	sc := tn.commitment(i)
	return sc.StartSeq + sc.LeafCount
}

// write appends data at seq to the log of each provider in is, signed by
// alice, in parallel; it returns each provider's error.
func (tn *testnet) write(seq uint64, data []byte, is ...int) []error {
	errs := make([]error, len(is))
	leaf, err := core.SignLeaf(tn.alice, tn.chainID, tn.bucket(), core.Leaf{Seq: seq, ContentHash: core.Sum256(data), Size: uint64(len(data))})
	if err != nil {
		tn.t.Fatal(err)
	}
	var wg sync.WaitGroup
	for k, i := range is {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[k] = tn.raw[i].Write(tn.ctx, tn.bucket(), leaf, bytes.NewReader(data), tn.alice)
		}()
	}
	wg.Wait()
	return errs
}

// mustWrite is write, failing the test on any error.
func (tn *testnet) mustWrite(seq uint64, data []byte, is ...int) {
	tn.t.Helper()
	for k, err := range tn.write(seq, data, is...) {
		if err != nil {
			tn.t.Fatalf("writing seq %d to provider %d: %v", seq, is[k], err)
		}
	}
}

// eventually polls cond until it holds or timeout passes (internal/poll).
func (tn *testnet) eventually(timeout time.Duration, what string, cond func() bool) {
	tn.t.Helper()
	poll.True(tn.t, timeout, what, cond)
}

// converged waits until providers is all commit to the same state.
func (tn *testnet) converged(is ...int) core.SignedCommitment {
	tn.t.Helper()
	var first core.SignedCommitment
	tn.eventually(30*time.Second, "providers never converged", func() bool {
		first = tn.commitment(is[0])
		for _, i := range is[1:] {
			if c := tn.commitment(i); c.MMRRoot != first.MMRRoot || c.LeafCount != first.LeafCount {
				return false
			}
		}
		return true
	})
	return first
}

// height is the chain's height.
func (tn *testnet) height() int64 {
	tn.t.Helper()
	h, err := tn.chain.Height(tn.ctx)
	if err != nil {
		tn.t.Fatal(err)
	}
	return h
}

func (tn *testnet) onChainDrive() wire.Drive {
	tn.t.Helper()
	d, err := tn.chain.Drive(tn.ctx, tn.drive.ID)
	if err != nil {
		tn.t.Fatal(err)
	}
	return d
}

func (tn *testnet) latestCheckpoint() wire.Checkpoint {
	tn.t.Helper()
	cp, err := tn.chain.LatestCheckpoint(tn.ctx, tn.bucket())
	if err != nil {
		tn.t.Fatal(err)
	}
	return cp
}

func (tn *testnet) stake(a core.AccountID) uint64 {
	tn.t.Helper()
	acc, err := tn.chain.Account(tn.ctx, a)
	if err != nil {
		tn.t.Fatal(err)
	}
	return acc.Stake
}

// resolveWhenExpired calls mgr.ResolveExpiredChallenges until the
// challenge is closed on chain, and returns it.
func (tn *testnet) resolveWhenExpired(mgr *checkpoint.Manager, id core.ChallengeID) wire.Challenge {
	tn.t.Helper()
	var ch wire.Challenge
	tn.eventually(30*time.Second, "the challenge was never resolved", func() bool {
		if err := mgr.ResolveExpiredChallenges(tn.ctx); err != nil {
			tn.t.Logf("resolving: %v", err)
		}
		var err error
		if ch, err = tn.chain.Challenge(tn.ctx, id); err != nil {
			tn.t.Fatal(err)
		}
		return ch.State != wire.ChallengeOpen
	})
	return ch
}

// subscribe returns the manager's events, unsubscribed when the test ends.
func subscribe(t testing.TB, m *checkpoint.Manager) <-chan checkpoint.Event {
	ch, cancel := m.Subscribe(256)
	t.Cleanup(cancel)
	return ch
}

// waitEvent returns the first event that satisfies pred, skipping others.
func waitEvent(t testing.TB, ch <-chan checkpoint.Event, timeout time.Duration, what string, pred func(checkpoint.Event) bool) checkpoint.Event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("event stream closed waiting for %s", what)
			}
			if pred(e) {
				return e
			}
			t.Logf("event %s (waiting for %s)", e.Kind, what)
		case <-deadline:
			t.Fatalf("no %s within %s", what, timeout)
		}
	}
}

// drain returns the events already delivered.
func drain(ch <-chan checkpoint.Event) []checkpoint.Event {
	var out []checkpoint.Event
	for {
		select {
		case e := <-ch:
			out = append(out, e)
		default:
			return out
		}
	}
}

func equalAccounts(a, b []core.AccountID) bool { return slices.Equal(a, b) }

// checkSubmitted fails the test unless r is Submitted by exactly signers,
// carrying the drive root wantRoot (when not empty), and the chain agrees.
func (tn *testnet) checkSubmitted(r *checkpoint.Result, signers []core.AccountID, wantRoot string) {
	tn.t.Helper()
	if r.Kind != checkpoint.Submitted {
		tn.t.Fatalf("result %s (%v), want submitted", r.Kind, r.Err())
	}
	if !equalAccounts(r.Signers, signers) {
		tn.t.Fatalf("signers %v, want %v", r.Signers, signers)
	}
	cp := tn.latestCheckpoint()
	if cp.MMRRoot != r.MMRRoot || cp.LeafCount != r.LeafCount || cp.StartSeq != r.StartSeq || cp.Height != r.Height || !equalAccounts(cp.Signers, signers) {
		tn.t.Fatalf("on chain %+v, result %+v", cp, r)
	}
	if wantRoot != "" {
		if r.DriveRoot != wantRoot {
			tn.t.Fatalf("the checkpoint carried drive root %q, want %q", r.DriveRoot, wantRoot)
		}
		if got := tn.onChainDrive().RootCID; got != wantRoot {
			tn.t.Fatalf("drive root on chain %q, want %q", got, wantRoot)
		}
	}
}
