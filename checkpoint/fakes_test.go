package checkpoint

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

const testChainID = "cairn-test"

// fakeProvider is a provider with a real MMR over real leaves and a real
// key; its fault fields make it hang, fail, lie or answer slowly.
type fakeProvider struct {
	mu     sync.Mutex
	key    core.PrivateKey
	leaves []core.Leaf
	signed []core.SignedLeaf // the writer's signature of each leaf (zero when written unsigned)
	blobs  map[core.H256][]byte
	tree   *mmr.MMR

	hang atomic.Bool // block until the request's context ends (or wake is closed)
	// wake, closed, releases requests held by hang (set before use).
	wake  chan struct{}
	down  atomic.Bool // answer Unavailable
	forge atomic.Bool // sign with another key
	// corruptProofs makes consistency proofs arrive with one hash flipped.
	corruptProofs atomic.Bool
	noLeaves      atomic.Bool   // answer commitments but not leaf listings or proofs
	maxPage       int           // list at most this many leaves per request (0: no cap)
	listAs        *fakeProvider // list that provider's leaves instead of its own (a lying listing)
	delay         time.Duration // answer after this long
	calls         atomic.Int64
	failFor       atomic.Int64 // fail this many requests, then recover
}

func newFakeProvider(seed byte) *fakeProvider {
	k, _ := core.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	t, _ := mmr.New(mmr.NewMemStore())
	return &fakeProvider{key: k, tree: t, blobs: map[core.H256][]byte{}}
}

func (p *fakeProvider) write(data []byte) { p.writeSigned(core.PrivateKey{}, data) }

// writeSigned appends data as the next leaf, signed by writer (for the
// test bucket) unless writer is zero.
func (p *fakeProvider) writeSigned(writer core.PrivateKey, data []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := core.Leaf{Seq: uint64(len(p.leaves)), ContentHash: core.Sum256(data), Size: uint64(len(data))}
	sl := core.SignedLeaf{Leaf: l}
	if !writer.IsZero() {
		var err error
		if sl, err = core.SignLeaf(writer, testChainID, bucket, l); err != nil {
			panic(err)
		}
	}
	p.leaves = append(p.leaves, l)
	p.signed = append(p.signed, sl)
	p.blobs[l.ContentHash] = append([]byte(nil), data...)
	if _, err := p.tree.Append(l.Bytes()); err != nil {
		panic(err)
	}
}

func (p *fakeProvider) gate(ctx context.Context) error {
	p.calls.Add(1)
	if p.hang.Load() {
		select {
		case <-ctx.Done():
			return core.E("fake", core.Unavailable, ctx.Err())
		case <-p.wake: // released: answer as usual
		}
	}
	if p.delay > 0 {
		select {
		case <-time.After(p.delay):
		case <-ctx.Done():
			return core.E("fake", core.Unavailable, ctx.Err())
		}
	}
	if p.down.Load() {
		return core.Errorf("fake", core.Unavailable, "connection refused")
	}
	if p.failFor.Load() > 0 {
		p.failFor.Add(-1)
		return core.Errorf("fake", core.Unavailable, "temporarily failing")
	}
	return nil
}

func (p *fakeProvider) Health(ctx context.Context) error { return p.gate(ctx) }

func (p *fakeProvider) Commitment(ctx context.Context, b core.BucketID) (core.SignedCommitment, error) {
	if err := p.gate(ctx); err != nil {
		return core.SignedCommitment{}, err
	}
	p.mu.Lock()
	root, _ := p.tree.Root()
	n := p.tree.LeafCount()
	p.mu.Unlock()
	c := core.Commitment{ChainID: testChainID, Bucket: b, MMRRoot: core.H256(root), LeafCount: n}
	if p.forge.Load() {
		other, _ := core.DevKey("mallory-is-not-dev")
		if other.IsZero() {
			other, _ = core.NewKeyFromSeed(bytes.Repeat([]byte{0xee}, 32))
		}
		sc, _ := c.Sign(other)
		sc.Provider = p.key.Account()
		return sc, nil
	}
	return c.Sign(p.key)
}

func (p *fakeProvider) ConsistencyProof(ctx context.Context, b core.BucketID, o, n uint64) (*mmr.ConsistencyProof, error) {
	if err := p.gate(ctx); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pr, err := p.tree.ConsistencyProof(o, n)
	if err == nil && p.corruptProofs.Load() {
		for _, hs := range [][]mmr.Hash{pr.RightPeaks, pr.Path, pr.OldPeaks} {
			if len(hs) > 0 {
				hs[0][0] ^= 0xff
				break
			}
		}
	}
	return pr, err
}

func (p *fakeProvider) Proof(ctx context.Context, b core.BucketID, i, n uint64) (core.SignedLeaf, *mmr.InclusionProof, error) {
	if err := p.gate(ctx); err != nil {
		return core.SignedLeaf{}, nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.noLeaves.Load() {
		return core.SignedLeaf{}, nil, core.Errorf("fake", core.Unavailable, "not answering proofs")
	}
	if i >= uint64(len(p.leaves)) {
		return core.SignedLeaf{}, nil, core.Errorf("fake", core.NotFound, "no leaf %d", i)
	}
	pr, err := p.tree.Proof(i, n)
	return p.signed[i], pr, err
}

func (p *fakeProvider) Leaves(ctx context.Context, b core.BucketID, from uint64, limit int) ([]core.SignedLeaf, error) {
	if err := p.gate(ctx); err != nil {
		return nil, err
	}
	if p.noLeaves.Load() {
		return nil, core.Errorf("fake", core.Unavailable, "not answering leaf lists")
	}
	if p.maxPage > 0 {
		limit = min(limit, p.maxPage)
	}
	if p.listAs != nil {
		return p.listAs.Leaves(ctx, b, from, limit)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if from >= uint64(len(p.leaves)) {
		return nil, nil
	}
	end := min(uint64(len(p.leaves)), from+uint64(limit))
	return append([]core.SignedLeaf(nil), p.signed[from:end]...), nil
}

func (p *fakeProvider) Blob(ctx context.Context, b core.BucketID, h core.H256) (io.ReadCloser, error) {
	if err := p.gate(ctx); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	d, ok := p.blobs[h]
	if !ok {
		return nil, core.Errorf("fake", core.NotFound, "no blob %s", h)
	}
	return io.NopCloser(bytes.NewReader(d)), nil
}

// fakeChain is just enough chain: agreements, providers, the checkpoint
// history (with the real checks on signatures, quorum and consistency), a
// height, and challenges.
type fakeChain struct {
	mu        sync.Mutex
	providers map[core.AccountID]*fakeProvider
	order     []core.AccountID
	quorum    int // the bucket's on-chain quorum, enforced on submit_checkpoint
	// writers and former are the bucket's current and former writers.
	writers, former []core.AccountID
	checkpoints     []wire.Checkpoint
	calls           []wire.Call
	height          atomic.Int64
	down            atomic.Bool
	failSubmits     atomic.Int64
	// refuseCheckpoints, when set, is the chain's answer to every
	// submit_checkpoint.
	refuseCheckpoints error
	// refuseChallenges makes OpenChallenge fail as the chain refusing it.
	refuseChallenges atomic.Bool
	challenges       map[core.ChallengeID]wire.Challenge
	equivocations    map[uint64]bool // seqs on record
}

func newFakeChain(ps ...*fakeProvider) *fakeChain {
	c := &fakeChain{providers: map[core.AccountID]*fakeProvider{}, challenges: map[core.ChallengeID]wire.Challenge{}, equivocations: map[uint64]bool{}}
	for _, p := range ps {
		c.providers[p.key.Account()] = p
		c.order = append(c.order, p.key.Account())
	}
	c.quorum = (len(ps)*51 + 99) / 100
	c.height.Store(10)
	return c
}

func (c *fakeChain) dialer() Dialer {
	return func(url string) (Provider, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		for a, p := range c.providers {
			if "fake://"+a.String() == url {
				return p, nil
			}
		}
		return nil, fmt.Errorf("no provider at %s", url)
	}
}

func (c *fakeChain) unavailable() error {
	if c.down.Load() {
		return core.Errorf("fakechain", core.Unavailable, "chain unreachable")
	}
	return nil
}

func (c *fakeChain) ChainID(ctx context.Context) (string, error) { return testChainID, c.unavailable() }
func (c *fakeChain) Height(ctx context.Context) (int64, error) {
	return c.height.Add(1), c.unavailable()
}

func (c *fakeChain) Bucket(ctx context.Context, b core.BucketID) (wire.Bucket, error) {
	if err := c.unavailable(); err != nil {
		return wire.Bucket{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	alice, _ := core.DevKey("alice")
	out := wire.Bucket{ID: b, Owner: alice.Account(), Quorum: uint32(c.quorum), MinProviders: 1,
		Members: []wire.Member{{Account: alice.Account(), Role: wire.Admin}}, FormerWriters: c.former}
	for _, w := range c.writers {
		out.Members = append(out.Members, wire.Member{Account: w, Role: wire.Writer})
	}
	return out, nil
}

func (c *fakeChain) BucketAgreements(ctx context.Context, b core.BucketID) ([]wire.Agreement, error) {
	if err := c.unavailable(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []wire.Agreement
	for _, a := range c.order {
		out = append(out, wire.Agreement{Bucket: b, Provider: a, Role: wire.Primary, Active: true, ExpiryHeight: 1 << 40})
	}
	return out, nil
}

func (c *fakeChain) Provider(ctx context.Context, a core.AccountID) (wire.Provider, error) {
	if err := c.unavailable(); err != nil {
		return wire.Provider{}, err
	}
	return wire.Provider{Account: a, PublicKey: a, Endpoint: "fake://" + a.String()}, nil
}

func (c *fakeChain) LatestCheckpoint(ctx context.Context, b core.BucketID) (wire.Checkpoint, error) {
	if err := c.unavailable(); err != nil {
		return wire.Checkpoint{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.checkpoints) == 0 {
		return wire.Checkpoint{}, core.Errorf("fakechain", core.NotFound, "no checkpoint")
	}
	return c.checkpoints[len(c.checkpoints)-1], nil
}

func (c *fakeChain) Challenge(ctx context.Context, id core.ChallengeID) (wire.Challenge, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.challenges[id]
	if !ok {
		return ch, core.Errorf("fakechain", core.NotFound, "no challenge %s", id)
	}
	return ch, nil
}

func (c *fakeChain) Submit(ctx context.Context, signer core.PrivateKey, call wire.Call) (*wire.TxResult, error) {
	if err := c.unavailable(); err != nil {
		return nil, err
	}
	if c.failSubmits.Load() > 0 {
		c.failSubmits.Add(-1)
		return nil, core.Errorf("fakechain", core.Unavailable, "broadcast failed")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, call)
	h := c.height.Add(1)
	switch x := call.(type) {
	case *wire.SubmitCheckpoint:
		if c.refuseCheckpoints != nil {
			return nil, c.refuseCheckpoints
		}
		seen := map[core.AccountID]bool{}
		for _, s := range x.Signatures {
			sc := core.SignedCommitment{Commitment: core.Commitment{ChainID: testChainID, Bucket: x.Bucket, MMRRoot: x.MMRRoot, StartSeq: x.StartSeq, LeafCount: x.LeafCount}, Provider: s.Provider, Signature: s.Signature}
			if _, ok := c.providers[s.Provider]; !ok || sc.Verify() != nil || seen[s.Provider] {
				return nil, core.Errorf("fakechain", core.Unauthorized, "bad signature from %s", s.Provider.Short())
			}
			seen[s.Provider] = true
		}
		if len(seen) < c.quorum {
			return nil, core.Errorf("fakechain", core.NoQuorum, "below quorum")
		}
		if n := len(c.checkpoints); n > 0 {
			prev := c.checkpoints[n-1]
			if x.LeafCount < prev.LeafCount {
				return nil, core.Errorf("fakechain", core.Conflict, "leaf count goes backwards")
			}
			if err := mmr.VerifyConsistency(mmr.Hash(prev.MMRRoot), prev.LeafCount, mmr.Hash(x.MMRRoot), x.LeafCount, x.Consistency); err != nil {
				return nil, core.E("fakechain", core.Corrupt, err)
			}
		}
		if x.DriveRoot != nil {
			if err := mmr.VerifyInclusion(mmr.Hash(x.MMRRoot), x.LeafCount, x.DriveRoot.LeafIndex, mmr.LeafHash(x.DriveRoot.Leaf.Bytes()), &x.DriveRoot.Proof); err != nil {
				return nil, core.E("fakechain", core.Corrupt, err)
			}
		}
		var signers []core.AccountID
		for a := range seen {
			signers = append(signers, a)
		}
		c.checkpoints = append(c.checkpoints, wire.Checkpoint{Bucket: x.Bucket, MMRRoot: x.MMRRoot, StartSeq: x.StartSeq, LeafCount: x.LeafCount, Height: h, Signers: signers})
	case *wire.OpenChallenge:
		if c.refuseChallenges.Load() {
			return nil, core.Errorf("fakechain", core.Invalid, "challenge refused")
		}
		// As the chain: from_checkpoint binds only the checkpoint's
		// signers; otherwise the provider's own signed commitment.
		var com core.Commitment
		switch ev := x.Evidence; {
		case ev.FromCheckpoint == (ev.Commitment != nil):
			return nil, core.Errorf("fakechain", core.Invalid, "evidence must be one of the two")
		case ev.FromCheckpoint:
			if len(c.checkpoints) == 0 {
				return nil, core.Errorf("fakechain", core.NotFound, "no checkpoint")
			}
			cp := c.checkpoints[len(c.checkpoints)-1]
			signed := false
			for _, s := range cp.Signers {
				signed = signed || s == x.Provider
			}
			if !signed {
				return nil, core.Errorf("fakechain", core.Invalid, "%s did not sign the checkpoint", x.Provider.Short())
			}
			com = core.Commitment{ChainID: testChainID, Bucket: cp.Bucket, MMRRoot: cp.MMRRoot, StartSeq: cp.StartSeq, LeafCount: cp.LeafCount}
		default:
			if ev.Commitment.Provider != x.Provider || ev.Commitment.Bucket != x.Bucket || ev.Commitment.VerifyBy(x.Provider) != nil {
				return nil, core.Errorf("fakechain", core.Invalid, "the commitment is not the provider's own")
			}
			com = ev.Commitment.Commitment
		}
		if x.LeafIndex >= com.LeafCount {
			return nil, core.Errorf("fakechain", core.Invalid, "leaf %d outside the commitment", x.LeafIndex)
		}
		id := core.ChallengeID(len(c.challenges) + 1)
		c.challenges[id] = wire.Challenge{ID: id, Bucket: x.Bucket, Provider: x.Provider, LeafIndex: x.LeafIndex, Deadline: h + 3, State: wire.ChallengeOpen,
			MMRRoot: com.MMRRoot, StartSeq: com.StartSeq, LeafCount: com.LeafCount}
		return &wire.TxResult{Height: h, Events: []wire.Event{{Type: "challenge.opened", Attributes: map[string]string{"id": id.String()}}}}, nil
	case *wire.ReportEquivocation:
		alice, _ := core.DevKey("alice") // the bucket's owner
		writer := func(a core.AccountID) bool {
			for _, w := range append(append([]core.AccountID{alice.Account()}, c.writers...), c.former...) {
				if w == a {
					return true
				}
			}
			return false
		}
		switch {
		case x.A.Seq != x.B.Seq || x.A.Leaf == x.B.Leaf:
			return nil, core.Errorf("fakechain", core.Invalid, "not two leaves at one seq")
		case !writer(x.A.Writer) || !writer(x.B.Writer) || x.A.Verify(testChainID, x.Bucket) != nil || x.B.Verify(testChainID, x.Bucket) != nil:
			return nil, core.Errorf("fakechain", core.Unauthorized, "not both signed by writers")
		case c.equivocations[x.A.Seq]:
			return nil, core.Errorf("fakechain", core.Exists, "seq %d already recorded", x.A.Seq)
		}
		c.equivocations[x.A.Seq] = true
	case *wire.ResolveChallenge:
		ch := c.challenges[x.Challenge]
		ch.State = wire.ChallengeSlashed
		c.challenges[x.Challenge] = ch
	}
	return &wire.TxResult{Height: h, Hash: core.Sum256([]byte(fmt.Sprint(h)))}, nil
}

func (c *fakeChain) submitted() []*wire.SubmitCheckpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*wire.SubmitCheckpoint
	for _, x := range c.calls {
		if s, ok := x.(*wire.SubmitCheckpoint); ok {
			out = append(out, s)
		}
	}
	return out
}

// blockFeed is a BlockSource a test steps by hand.
type blockFeed struct {
	ch chan int64
	h  int64
}

func newBlockFeed() *blockFeed { return &blockFeed{ch: make(chan int64)} }

func (b *blockFeed) SubscribeBlocks(ctx context.Context) (<-chan int64, error) { return b.ch, nil }

// step delivers n blocks, each waiting for the loop to take it.
func (b *blockFeed) step(n int) {
	for i := 0; i < n; i++ {
		b.h++
		b.ch <- b.h
	}
}
