package chain_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// env is a scenario's view of a backend.
type env struct {
	t *testing.T
	b backend
}

func dev(name string) core.PrivateKey {
	k, _ := core.DevKey(name)
	return k
}

func (e env) ok(k core.PrivateKey, call wire.Call) *wire.TxResult {
	e.t.Helper()
	res, err := e.b.submit(e.t, k, call)
	if err != nil {
		e.t.Fatalf("%s: %v", call.CallName(), err)
	}
	return res
}

// fail asserts the call is refused with the kind and, if code != 0, the
// specific code.
func (e env) fail(k core.PrivateKey, call wire.Call, kind core.Kind, code uint32) *wire.TxError {
	e.t.Helper()
	_, err := e.b.submit(e.t, k, call)
	return e.wantErr(call.CallName(), err, kind, code)
}

func (e env) wantErr(what string, err error, kind core.Kind, code uint32) *wire.TxError {
	e.t.Helper()
	if err == nil {
		e.t.Fatalf("%s: accepted, want %v", what, kind)
	}
	if !errors.Is(err, kind) {
		e.t.Fatalf("%s: %v (kind %v), want kind %v", what, err, core.KindOf(err), kind)
	}
	var te *wire.TxError
	if !errors.As(err, &te) {
		e.t.Fatalf("%s: %v has no TxError", what, err)
	}
	if code != 0 && te.Code != code {
		e.t.Fatalf("%s: code %d (%s), want %d (%s): %s", what, te.Code, wire.CodeName(te.Code), code, wire.CodeName(code), te.Log)
	}
	return te
}

func (e env) q(path string, out any) {
	e.t.Helper()
	if err := e.b.query(e.t, path, out); err != nil {
		e.t.Fatalf("query %s: %v", path, err)
	}
}

func (e env) account(a core.AccountID) wire.Account {
	e.t.Helper()
	var v wire.Account
	e.q(wire.PathAccount(a), &v)
	return v
}

func (e env) bucket(id core.BucketID) wire.Bucket {
	e.t.Helper()
	var v wire.Bucket
	e.q(wire.PathBucket(id), &v)
	return v
}

func (e env) drive(id core.DriveID) wire.Drive {
	e.t.Helper()
	var v wire.Drive
	e.q(wire.PathDrive(id), &v)
	return v
}

func (e env) challenge(id core.ChallengeID) wire.Challenge {
	e.t.Helper()
	var v wire.Challenge
	e.q(wire.PathChallenge(id), &v)
	return v
}

func (e env) notFound(path string) {
	e.t.Helper()
	var v any
	if err := e.b.query(e.t, path, &v); !errors.Is(err, core.NotFound) {
		e.t.Fatalf("query %s: %v, want NotFound", path, err)
	}
}

// newAccount makes a fresh key funded with balance by alice.
func (e env) newAccount(balance uint64) core.PrivateKey {
	e.t.Helper()
	k, err := core.GenerateKey(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if balance > 0 {
		e.ok(dev("alice"), wire.Transfer{To: k.Account(), Amount: balance})
	}
	return k
}

const providerStake = 10_000_000

// openTerms accept any agreement: free, any role, any duration.
var openTerms = wire.ProviderTerms{Accepting: true}

// newProvider makes a registered provider with providerStake staked that
// accepts any agreement (openTerms) up to 1 TiB.
func (e env) newProvider() core.PrivateKey {
	e.t.Helper()
	return e.newProviderTerms(openTerms)
}

// newProviderTerms makes a registered provider publishing terms.
func (e env) newProviderTerms(terms wire.ProviderTerms) core.PrivateKey {
	e.t.Helper()
	k := e.newAccount(providerStake + 1_000_000)
	e.ok(k, wire.RegisterProvider{Endpoint: "/ip4/127.0.0.1/tcp/4001/http", Stake: providerStake, Capacity: 1 << 40, Terms: terms})
	return k
}

// event returns the attributes of the first event of type typ.
func event(t *testing.T, res *wire.TxResult, typ string) map[string]string {
	t.Helper()
	for _, ev := range res.Events {
		if ev.Type == typ {
			return ev.Attributes
		}
	}
	t.Fatalf("no %s event in %+v", typ, res.Events)
	return nil
}

func attrID(t *testing.T, res *wire.TxResult, typ, key string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(event(t, res, typ)[key], 10, 64)
	if err != nil {
		t.Fatalf("%s.%s: %v", typ, key, err)
	}
	return v
}

// log is a bucket's write log as a provider keeps it: blobs, leaves, MMR.
type log struct {
	t      *testing.T
	start  uint64
	m      *mmr.MMR
	blobs  [][]byte
	leaves []core.Leaf
}

func newLog(t *testing.T, start uint64) *log {
	m, err := mmr.New(mmr.NewMemStore())
	if err != nil {
		t.Fatal(err)
	}
	return &log{t: t, start: start, m: m}
}

// write appends blobs and returns the new leaf count.
func (l *log) write(blobs ...[]byte) uint64 {
	for _, b := range blobs {
		leaf := core.Leaf{Seq: l.start + uint64(len(l.leaves)), ContentHash: core.Sum256(b), Size: uint64(len(b))}
		if _, err := l.m.Append(leaf.Bytes()); err != nil {
			l.t.Fatal(err)
		}
		l.blobs = append(l.blobs, b)
		l.leaves = append(l.leaves, leaf)
	}
	return uint64(len(l.leaves))
}

// signed returns leaf i signed by writer k for bucket.
func (l *log) signed(i uint64, chainID string, bucket core.BucketID, k core.PrivateKey) core.SignedLeaf {
	sl, err := core.SignLeaf(k, chainID, bucket, l.leaves[i])
	if err != nil {
		l.t.Fatal(err)
	}
	return sl
}

func (l *log) root(count uint64) core.H256 {
	r, err := l.m.RootAt(count)
	if err != nil {
		l.t.Fatal(err)
	}
	return core.H256(r)
}

func (l *log) proof(i, count uint64) mmr.InclusionProof {
	p, err := l.m.Proof(i, count)
	if err != nil {
		l.t.Fatal(err)
	}
	return *p
}

func (l *log) consistency(old, count uint64) *mmr.ConsistencyProof {
	p, err := l.m.ConsistencyProof(old, count)
	if err != nil {
		l.t.Fatal(err)
	}
	return p
}

// checkpoint builds a SubmitCheckpoint of the log's first count leaves
// signed by signers.
func (l *log) checkpoint(chainID string, bucket core.BucketID, count uint64, signers ...core.PrivateKey) wire.SubmitCheckpoint {
	c := wire.SubmitCheckpoint{Bucket: bucket, MMRRoot: l.root(count), StartSeq: l.start, LeafCount: count}
	c.Signatures = sign(l.t, core.Commitment{ChainID: chainID, Bucket: bucket, MMRRoot: c.MMRRoot, StartSeq: l.start, LeafCount: count}, signers...)
	return c
}

func sign(t *testing.T, c core.Commitment, signers ...core.PrivateKey) []wire.Signature {
	var out []wire.Signature
	for _, k := range signers {
		sc, err := c.Sign(k)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, wire.Signature{Provider: k.Account(), Signature: sc.Signature})
	}
	return out
}

// cidOf is the CIDv1 (raw codec, sha2-256) of blob.
func cidOf(t *testing.T, blob []byte) string {
	h, err := mh.Sum(blob, mh.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, h).String()
}

// createBucket runs c signed by owner and returns the new bucket's id.
func (e env) createBucket(owner core.PrivateKey, c wire.CreateBucket) core.BucketID {
	e.t.Helper()
	return core.BucketID(attrID(e.t, e.ok(owner, c), wire.EventBucketCreated, "bucket"))
}

// createDrive runs c signed by owner and returns the new drive's id.
func (e env) createDrive(owner core.PrivateKey, c wire.CreateDrive) core.DriveID {
	e.t.Helper()
	return core.DriveID(attrID(e.t, e.ok(owner, c), wire.EventDriveCreated, "drive"))
}
