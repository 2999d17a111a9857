package provider_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/chainnode/chaintest"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/provider"
	"github.com/cairn-storage/cairn/provider/store"
	"github.com/cairn-storage/cairn/providerclient"
)

// env is a real in-process chain and the providers of a test.
type env struct {
	t     *testing.T
	chain *chainclient.Client
	ctx   context.Context
}

func newEnv(t *testing.T) *env {
	t.Helper()
	n := chaintest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return &env{t: t, chain: chaintest.Client(t, n), ctx: ctx}
}

func devKey(name string) core.PrivateKey {
	k, ok := core.DevKey(name)
	if !ok {
		panic(name)
	}
	return k
}

func (e *env) submit(k core.PrivateKey, call chainwire.Call) *chainwire.TxResult {
	e.t.Helper()
	res, err := e.chain.Submit(e.ctx, k, call)
	if err != nil {
		e.t.Fatalf("%s: %v", call.CallName(), err)
	}
	return res
}

// bucket creates a bucket owned by owner, with members.
func (e *env) bucket(owner core.PrivateKey, members ...chainwire.Member) core.BucketID {
	e.t.Helper()
	res := e.submit(owner, chainwire.CreateBucket{Quorum: 1, MinProviders: 1, Members: members})
	for _, ev := range res.Events {
		if ev.Type == chainwire.EventBucketCreated {
			b, err := core.ParseBucketID(ev.Attributes["bucket"])
			if err != nil {
				e.t.Fatal(err)
			}
			return b
		}
	}
	e.t.Fatal("no bucket.created event")
	return 0
}

func (e *env) agree(owner core.PrivateKey, b core.BucketID, p *testProvider, role chainwire.Role, maxBytes uint64) {
	e.t.Helper()
	e.submit(owner, chainwire.CreateAgreement{Bucket: b, Provider: p.key.Account(), Role: role, MaxBytes: maxBytes, Duration: 1_000_000})
}

// testProvider is a provider server on 127.0.0.1:0 with a Pebble store.
type testProvider struct {
	srv    *provider.Server
	key    core.PrivateKey
	url    string
	st     store.Store
	client *providerclient.Client // unsigned client
}

// fastConfig makes the background loops quick enough for tests.
func fastConfig() provider.Config {
	cfg := provider.DefaultConfig()
	cfg.ChainCacheTTL = 50 * time.Millisecond
	cfg.SyncInterval = 150 * time.Millisecond
	cfg.DiscoveryInterval = 300 * time.Millisecond
	cfg.ChallengePollInterval = 150 * time.Millisecond
	cfg.PeerTimeout = 5 * time.Second
	return cfg
}

type providerOpts struct {
	cfg      *provider.Config
	noStart  bool // no background loops
	noRegist bool
	hc       *http.Client
}

// startProvider starts a provider whose key is the dev account name, and
// registers it on chain with a multiaddr endpoint.
func (e *env) startProvider(name string, o ...providerOpts) *testProvider {
	e.t.Helper()
	var opts providerOpts
	if len(o) > 0 {
		opts = o[0]
	}
	cfg := fastConfig()
	if opts.cfg != nil {
		cfg = *opts.cfg
	}
	st, err := store.OpenPebble(e.t.TempDir(), store.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	key := devKey(name)
	p := startServer(e.t, cfg, provider.Deps{Key: key, Store: st, Chain: e.chain, HTTPClient: opts.hc}, !opts.noStart)
	if !opts.noRegist {
		_, port, _ := net.SplitHostPort(p.url[len("http://"):])
		e.submit(key, chainwire.RegisterProvider{Endpoint: fmt.Sprintf("/ip4/127.0.0.1/tcp/%s/http", port), Stake: chainwire.DefaultParams().MinProviderStake, Capacity: 1 << 40,
			Terms: chainwire.ProviderTerms{Accepting: true}})
	}
	return p
}

func startServer(t testing.TB, cfg provider.Config, d provider.Deps, start bool) *testProvider {
	t.Helper()
	srv, err := provider.New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	if start {
		srv.Start()
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		d.Store.Close()
	})
	url := "http://" + l.Addr().String()
	c, err := providerclient.New(url, providerclient.Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &testProvider{srv: srv, key: d.Key, url: url, st: d.Store, client: c}
}

// clientAs returns a client of p that signs reads as k.
func (p *testProvider) clientAs(t *testing.T, k core.PrivateKey) *providerclient.Client {
	c, err := providerclient.New(p.url, providerclient.Options{Signer: k, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// put writes data at seq of bucket b through c, the leaf and the request
// both signed by k for the chain c is bound to.
func put(ctx context.Context, c *providerclient.Client, b core.BucketID, seq uint64, data []byte, k core.PrivateKey) (providerclient.WriteResult, error) {
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return providerclient.WriteResult{}, err
	}
	leaf, err := core.SignLeaf(k, chainID, b, core.Leaf{Seq: seq, ContentHash: core.Sum256(data), Size: uint64(len(data))})
	if err != nil {
		return providerclient.WriteResult{}, err
	}
	return c.Write(ctx, b, leaf, bytes.NewReader(data), k)
}
