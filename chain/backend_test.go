package chain_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cairn-storage/cairn/chain"
	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/chainnode/chaintest"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/internal/poll"
)

// backend runs transactions and queries either against the application
// directly (fast, no consensus) or through a real in-process CometBFT node
// and chainclient. The scenarios run against both.
type backend interface {
	chainID() string
	// submit signs call with k (next nonce) and returns once committed;
	// a refused or failed tx gives an error whose kind is the code's and
	// whose cause is a *wire.TxError.
	submit(t testing.TB, k core.PrivateKey, call wire.Call) (*wire.TxResult, error)
	submitRaw(t testing.TB, tx []byte) (*wire.TxResult, error)
	query(t testing.TB, path string, out any) error
	height(t testing.TB) int64
	// waitBlocks waits until n more blocks are committed.
	waitBlocks(t testing.TB, n int64)
}

// testParams charge no fees, so the scenarios check each call's own
// arithmetic exactly; fees_test.go runs with fees.
var testParams = wire.Params{
	ChallengeDeadline:   40,
	SlashFractionBps:    1000,
	ChallengerRewardBps: 5000,
	MinProviderStake:    1_000_000,
	MinChallengeDeposit: 1_000,
}

func testGenesis() chain.Genesis {
	g := chain.DevGenesis()
	g.Params = testParams
	return g
}

// direct drives chain.App as CometBFT would: CheckTx, then a block of one
// transaction (FinalizeBlock, Commit).
type direct struct {
	mu  sync.Mutex
	app *chain.App
	h   int64
	id  string
}

func newDirect(t testing.TB, dir string) *direct { return newDirectGenesis(t, dir, testGenesis()) }

// newDirectGenesis is newDirect with genesis g.
func newDirectGenesis(t testing.TB, dir string, g chain.Genesis) *direct {
	app, err := chain.New(chain.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	d := &direct{app: app, id: "cairn-direct"}
	gj, _ := g.JSON()
	if _, err := app.InitChain(context.Background(), &abci.RequestInitChain{ChainId: d.id, InitialHeight: 1, AppStateBytes: gj}); err != nil {
		t.Fatal(err)
	}
	d.block(t)
	return d
}

func (d *direct) chainID() string { return d.id }

// block runs one block of txs; the caller holds d.mu or is alone.
func (d *direct) block(t testing.TB, txs ...[]byte) *abci.ResponseFinalizeBlock {
	d.h++
	res, err := d.app.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: d.h, Txs: txs, Time: time.Unix(d.h, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.app.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
	return res
}

func (d *direct) submit(t testing.TB, k core.PrivateKey, call wire.Call) (*wire.TxResult, error) {
	var n wire.NextNonce
	if err := d.query(t, wire.PathNonce(k.Account()), &n); err != nil {
		t.Fatal(err)
	}
	tx, err := wire.EncodeTx(k, d.id, n.Next, call)
	if err != nil {
		return nil, err
	}
	return d.submitRaw(t, tx)
}

func (d *direct) submitRaw(t testing.TB, tx []byte) (*wire.TxResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	hash := wire.TxHash(tx)
	ct, err := d.app.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: tx, Type: abci.CheckTxType_New})
	if err != nil {
		t.Fatal(err)
	}
	if ct.Code != wire.CodeOK {
		return nil, core.E("direct.submit", wire.CodeToKind(ct.Code), &wire.TxError{Code: ct.Code, Log: ct.Log, Hash: hash})
	}
	res := d.block(t, tx)
	r := res.TxResults[0]
	out := &wire.TxResult{Hash: hash, Height: d.h, Code: r.Code, Log: r.Log, GasUsed: r.GasUsed}
	for _, e := range r.Events {
		m := map[string]string{}
		for _, a := range e.Attributes {
			m[a.Key] = a.Value
		}
		out.Events = append(out.Events, wire.Event{Type: e.Type, Attributes: m, Height: d.h, TxHash: hash})
	}
	if r.Code != wire.CodeOK {
		return out, core.E("direct.submit", wire.CodeToKind(r.Code), &wire.TxError{Code: r.Code, Log: r.Log, Hash: hash, Height: d.h})
	}
	return out, nil
}

func (d *direct) query(t testing.TB, path string, out any) error {
	res, err := d.app.Query(context.Background(), &abci.RequestQuery{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != wire.CodeOK {
		return core.E("direct.query", wire.CodeToKind(res.Code), errors.New(res.Log))
	}
	return json.Unmarshal(res.Value, out)
}

func (d *direct) height(testing.TB) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.h
}

func (d *direct) waitBlocks(t testing.TB, n int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for range n {
		d.block(t)
	}
}

// viaNode is a real single-validator CometBFT node and a chainclient.
type viaNode struct {
	c  *chainclient.Client
	id string
}

func newViaNode(t testing.TB) *viaNode { return newViaNodeGenesis(t, testGenesis()) }

// newViaNodeGenesis is newViaNode with genesis g.
func newViaNodeGenesis(t testing.TB, g chain.Genesis) *viaNode {
	n := chaintest.Start(t, chaintest.Options{ChainID: "cairn-node-test", Genesis: &g})
	return &viaNode{c: chaintest.Client(t, n), id: n.ChainID()}
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func (v *viaNode) chainID() string { return v.id }

func (v *viaNode) submit(t testing.TB, k core.PrivateKey, call wire.Call) (*wire.TxResult, error) {
	return v.c.Submit(ctx(t), k, call)
}

func (v *viaNode) submitRaw(t testing.TB, tx []byte) (*wire.TxResult, error) {
	return v.c.SubmitRaw(ctx(t), tx)
}

func (v *viaNode) query(t testing.TB, path string, out any) error {
	// Through the typed client method of the path's route, so each is
	// exercised; the answer is re-encoded into out. A path the route
	// table refuses is refused with the kind the chain gives it.
	p, err := wire.ParseQueryPath(path)
	if err != nil {
		return err
	}
	var v2 any
	c := ctx(t)
	switch p.Route {
	case wire.RouteAccount:
		v2, err = v.c.Account(c, p.Account)
	case wire.RouteNonce:
		v2, err = v.c.NextNonce(c, p.Account)
	case wire.RouteProvider:
		v2, err = v.c.Provider(c, p.Account)
	case wire.RouteProviders:
		v2, err = v.c.Providers(c)
	case wire.RouteProviderAgreements:
		v2, err = v.c.ProviderAgreements(c, p.Account)
	case wire.RouteBucket:
		v2, err = v.c.Bucket(c, p.Bucket)
	case wire.RouteAgreements:
		v2, err = v.c.BucketAgreements(c, p.Bucket)
	case wire.RouteCheckpoint:
		v2, err = v.c.LatestCheckpoint(c, p.Bucket)
	case wire.RouteCheckpoints:
		v2, err = v.c.CheckpointHistory(c, p.Bucket)
	case wire.RouteEquivocations:
		v2, err = v.c.Equivocations(c, p.Bucket)
	case wire.RouteChallenge:
		v2, err = v.c.Challenge(c, p.Challenge)
	case wire.RouteChallenges:
		v2, err = v.c.Challenges(c, p.Filter)
	case wire.RouteDrive:
		v2, err = v.c.Drive(c, p.Drive)
	case wire.RouteDrives:
		v2, err = v.c.DrivesByOwner(c, p.Account)
	case wire.RouteValidators:
		v2, err = v.c.Validators(c)
	case wire.RouteParams:
		v2, err = v.c.Params(c)
	case wire.RouteStatus:
		v2, err = v.c.Status(c)
	default:
		t.Fatalf("no client method for %s", path)
	}
	if err != nil {
		return err
	}
	b, _ := json.Marshal(v2)
	return json.Unmarshal(b, out)
}

func (v *viaNode) height(t testing.TB) int64 {
	h, err := v.c.Height(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (v *viaNode) waitBlocks(t testing.TB, n int64) {
	target := v.height(t) + n
	poll.True(t, time.Minute, fmt.Sprintf("height %d", target), func() bool { return v.height(t) >= target })
}
