// Package devnettest starts a real network (an embedded validator and
// providers over Pebble, on loopback ports) for a test and wires drive
// clients to it as the CLI does, so tests of the drive, checkpoint and
// gateway packages share one setup instead of each writing its own.
package devnettest

import (
	"context"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/devnet"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/providerclient"
	"github.com/cairn-storage/cairn/providers"
)

// Start starts a network of the given number of providers with a fast
// block time and stops it when the test ends.
func Start(t testing.TB, providerCount int) *devnet.Network {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := devnet.Start(ctx, devnet.Config{Dir: t.TempDir(), Providers: providerCount, RPCListen: "127.0.0.1:0", TimeoutCommit: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Errorf("stopping devnet: %v", err)
		}
	})
	return n
}

// ClientOptions tune DriveClient; the zero value is alice with test
// timeouts and 64 KiB chunks.
type ClientOptions struct {
	Signer    string            // a dev account name; "" is alice
	Transport http.RoundTripper // for the storage API (uploads, downloads); nil is the default
	Config    func(*drive.Config)
	StateFile string // the manager's state file; "" is a fresh one
	// Chain is the chain client (e.g. one whose transport counts
	// requests); nil is the network's own.
	Chain *chainclient.Client
}

// DriveClient wires a provider pool, a Checkpoint Manager and a drive
// client to n as the CLI does, and returns the client and its manager.
func DriveClient(t testing.TB, n *devnet.Network, o ClientOptions) (*drive.Client, *checkpoint.Manager) {
	t.Helper()
	if o.Signer == "" {
		o.Signer = "alice"
	}
	if o.StateFile == "" {
		o.StateFile = t.TempDir() + "/state.json"
	}
	key, ok := core.DevKey(o.Signer)
	if !ok {
		t.Fatalf("devnettest: no dev account %q", o.Signer)
	}
	cc := n.Chain()
	if o.Chain != nil {
		cc = o.Chain
	}
	ccfg := checkpoint.DefaultConfig()
	ccfg.ProviderTimeout = 5 * time.Second
	ccfg.RetryDelay = 20 * time.Millisecond
	ccfg.MaxRetries = 1
	pool, err := providers.New(cc, providers.DefaultConfig(), providers.WithResolver(providerclient.BaseURL))
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := checkpoint.New(cc, checkpoint.HTTPDialer(key, n.ChainID()), key, ccfg,
		checkpoint.WithStateFile(o.StateFile), checkpoint.WithPool(pool))
	if err != nil {
		t.Fatal(err)
	}
	cfg := drive.DefaultConfig()
	cfg.ChunkSize = 64 << 10
	cfg.FinishGrace = 300 * time.Millisecond
	cfg.WriteTimeout = 10 * time.Second
	if o.Config != nil {
		o.Config(&cfg)
	}
	var hc *http.Client
	if o.Transport != nil {
		hc = &http.Client{Transport: o.Transport}
	}
	c, err := drive.New(cc, pool, drive.HTTPStorageWith(key, n.ChainID(), hc), mgr, key, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, mgr
}

// PeakKiB is the peak resident set so far (VmHWM) of the live process
// pid, in KiB; it fails the test if it cannot be read.
func PeakKiB(t testing.TB, pid int) int64 {
	t.Helper()
	m, err := devnet.ReadProcMemory(pid)
	if err != nil {
		t.Fatal(err)
	}
	return m.Peak
}

// RandomBytes is n bytes of a seeded pseudo-random stream: file contents
// a test can make again from the seed.
func RandomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}
