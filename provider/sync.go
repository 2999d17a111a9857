package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
	"github.com/cairn-storage/cairn/provider/store"
	"github.com/cairn-storage/cairn/providerclient"
)

// syncLoop syncs every tracked bucket each SyncInterval, and a bucket at
// once when SyncNow names it.
func (s *Server) syncLoop(ctx context.Context) {
	follow[core.BucketID]{
		name:      "sync",
		every:     s.cfg.SyncInterval,
		subscribe: func(context.Context) (<-chan core.BucketID, error) { return s.kick, nil },
		hint:      s.syncOne,
		tick: func(ctx context.Context) {
			for _, b := range s.trackedBuckets() {
				if ctx.Err() != nil {
					return
				}
				s.syncOne(ctx, b)
			}
		},
	}.run(ctx, s.log)
}

func (s *Server) syncOne(ctx context.Context, b core.BucketID) {
	if _, err := s.Sync(ctx, b); err != nil && ctx.Err() == nil {
		s.log.Warn("sync", "bucket", b, "err", err)
	}
}

// discoveryLoop finds the buckets this provider has agreements for: the
// chain's list of this provider's agreements at start and each
// DiscoveryInterval, and the agreement.created events in between.
func (s *Server) discoveryLoop(ctx context.Context) {
	follow[chainwire.Event]{
		name:  "discovery",
		every: s.cfg.DiscoveryInterval,
		subscribe: func(ctx context.Context) (<-chan chainwire.Event, error) {
			return s.chain.SubscribeEventsFor(ctx, chainwire.EventAgreementCreated, "provider", s.acct.String())
		},
		hint: func(ctx context.Context, e chainwire.Event) {
			if e.Attributes["provider"] != s.acct.String() {
				return
			}
			if b, err := core.ParseBucketID(e.Attributes["bucket"]); err == nil {
				s.cache.forget(b)
				s.SyncNow(b)
			}
		},
		tick:      s.discover,
		tickFirst: true,
	}.run(ctx, s.log)
}

// discover asks the chain for this provider's agreements (an indexed
// query: its cost grows with this provider's agreements, never with the
// chain) and tracks the buckets of the active ones.
func (s *Server) discover(ctx context.Context) {
	ags, err := s.chain.ProviderAgreements(ctx, s.acct)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Debug("listing this provider's agreements", "err", err)
		}
		return
	}
	for _, a := range ags {
		if !a.Active || a.Provider != s.acct || a.Bucket == 0 {
			continue
		}
		s.trackMu.Lock()
		known := s.tracked[a.Bucket]
		s.trackMu.Unlock()
		if !known {
			s.log.Info("serving bucket", "bucket", a.Bucket, "role", a.Role)
			s.cache.forget(a.Bucket)
			s.SyncNow(a.Bucket)
		}
	}
}

// peerCommitment is a peer's verified commitment and its client.
type peerCommitment struct {
	account core.AccountID
	c       *providerclient.Client
	sc      core.SignedCommitment
}

// Sync compares bucket b with its other providers and pulls what this
// provider is missing from the most advanced one, and returns how many
// leaves it is still behind it (0 once converged). Every leaf pulled is
// proved under the peer's signed commitment before it is appended, and the
// resulting root is checked against it.
func (s *Server) Sync(ctx context.Context, b core.BucketID) (lag uint64, err error) {
	const op = "provider.Sync"
	bi, err := s.cache.Bucket(ctx, b)
	if err != nil {
		return 0, core.E(op, core.KindOf(err), err)
	}
	mine := bi.agreement(s.acct)
	if mine == nil || !mine.Active {
		return 0, nil
	}
	chainID, err := s.cache.ChainID(ctx)
	if err != nil {
		return 0, err
	}
	st, err := s.st.State(b)
	if err != nil {
		return 0, err
	}
	peers := s.peerCommitments(ctx, b, bi, chainID, st.StartSeq)
	best := st.LeafCount
	for _, p := range peers {
		best = max(best, p.sc.LeafCount)
	}
	s.setLag(b, best-st.LeafCount)
	var errs []error
	for _, p := range peers {
		if p.sc.LeafCount <= st.LeafCount {
			continue // benched peers come after the rest: keep looking
		}
		if err := s.pull(ctx, b, p, bi, chainID, mine.MaxBytes); err != nil {
			errs = append(errs, core.E(op, core.KindOf(err), err))
			// A conflict is this log moving on under the sync (a write
			// landed meanwhile), not the peer's fault.
			if ctx.Err() == nil && core.KindOf(err) != core.Conflict {
				s.peerFailed(p.account)
			}
			s.log.Warn("pulling from peer", "bucket", b, "peer", p.account.Short(), "err", err)
		} else {
			s.peerOK(p.account)
		}
		if st, err = s.st.State(b); err != nil {
			return 0, err
		}
		s.m.logSize(b, st.LeafCount, st.Bytes)
		if st.LeafCount >= best {
			break
		}
	}
	lag = best - min(best, st.LeafCount)
	s.setLag(b, lag)
	if lag > 0 {
		return lag, errors.Join(append(errs, core.Errorf(op, core.Unavailable, "bucket %s: still %d leaves behind", b, lag))...)
	}
	return 0, nil
}

func (s *Server) setLag(b core.BucketID, lag uint64) {
	s.trackMu.Lock()
	s.lag[b] = lag
	s.trackMu.Unlock()
	s.m.syncLag.WithLabelValues(b.String()).Set(float64(lag))
}

// peerCommitments asks the bucket's other active providers for their
// commitments in parallel and returns those whose signature verifies
// against the key registered on chain, for this chain, bucket and
// start_seq, most leaves first.
func (s *Server) peerCommitments(ctx context.Context, b core.BucketID, bi bucketInfo, chainID string, startSeq uint64) []peerCommitment {
	type result struct {
		p   peerCommitment
		err error
	}
	results := make(chan result)
	n := 0
	for _, a := range bi.agreements {
		if a.Provider == s.acct || !a.Active {
			continue
		}
		n++
		go func() {
			r := result{p: peerCommitment{account: a.Provider}}
			r.p.c, r.p.sc, r.err = s.askPeer(ctx, b, a.Provider, chainID)
			if r.err == nil && r.p.sc.StartSeq != startSeq {
				r.err = core.Errorf("provider.peer", core.Conflict, "peer's log starts at %d, ours at %d", r.p.sc.StartSeq, startSeq)
			}
			results <- r
		}()
	}
	var out []peerCommitment
	for range n {
		r := <-results
		if r.err != nil {
			if ctx.Err() == nil && core.KindOf(r.err) != core.NotFound {
				s.peerFailed(r.p.account)
			}
			s.log.Debug("peer commitment", "bucket", b, "peer", r.p.account.Short(), "err", r.err)
			continue
		}
		out = append(out, r.p)
	}
	// Benched peers (failed maxPeerFailures times in a row, within their
	// back-off) come last: they are pulled from only when no other peer
	// brought this log up to the most advanced signed count. Then the
	// most advanced first, and of equals the one that failed least.
	benched := make(map[core.AccountID]bool, len(out))
	fails := make(map[core.AccountID]int, len(out))
	for _, p := range out {
		benched[p.account] = s.peerBenched(p.account)
		fails[p.account] = s.PeerFailures(p.account)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if benched[a.account] != benched[b.account] {
			return !benched[a.account]
		}
		if a.sc.LeafCount != b.sc.LeafCount {
			return a.sc.LeafCount > b.sc.LeafCount
		}
		if fails[a.account] != fails[b.account] {
			return fails[a.account] < fails[b.account]
		}
		return string(a.account[:]) < string(b.account[:])
	})
	return out
}

func (s *Server) askPeer(ctx context.Context, b core.BucketID, peer core.AccountID, chainID string) (*providerclient.Client, core.SignedCommitment, error) {
	const op = "provider.peer"
	var sc core.SignedCommitment
	p, err := s.cache.Provider(ctx, peer)
	if err != nil {
		return nil, sc, err
	}
	c, err := s.peer(p.Endpoint, chainID)
	if err != nil {
		return nil, sc, err
	}
	if sc, err = c.Commitment(ctx, b); err != nil {
		return nil, sc, err
	}
	if sc.ChainID != chainID || sc.Provider != peer {
		return nil, sc, core.Errorf(op, core.Corrupt, "commitment names chain %q and provider %s, want %q and %s", sc.ChainID, sc.Provider.Short(), chainID, peer.Short())
	}
	if err := sc.VerifyBy(p.PublicKey); err != nil {
		return nil, sc, err
	}
	return c, sc, nil
}

// peer returns a client of the provider at endpoint, signing blob reads
// with this provider's key.
func (s *Server) peer(endpoint, chainID string) (*providerclient.Client, error) {
	base, err := providerclient.BaseURL(endpoint)
	if err != nil {
		return nil, err
	}
	s.peerMu.Lock()
	defer s.peerMu.Unlock()
	if c := s.peers[base]; c != nil {
		return c, nil
	}
	c, err := providerclient.New(base, providerclient.Options{HTTPClient: s.hc, Timeout: s.cfg.PeerTimeout, ChainID: chainID, Signer: s.key, MaxBlobSize: int64(s.cfg.MaxBlobSize), Now: s.now})
	if err != nil {
		return nil, err
	}
	s.peers[base] = c
	return c, nil
}

// pull appends the peer's leaves from this provider's next seq up to the
// peer's signed leaf count, a page at a time. Nothing a peer says is taken
// on trust:
//   - every leaf of a page must carry a valid signature of a writer (or
//     former writer) of the bucket, and fit the blob limit and the
//     agreement's remaining quota, before anything of the page is
//     fetched, allocated or appended;
//   - the root the log would have with the page appended must be a prefix
//     of the peer's signed root (the peer's consistency proof), so the
//     page is exactly the peer's signed leaves, and this log (unless it
//     diverged, which the check also catches) is a prefix of the peer's;
//   - each blob is fetched from the peer for this bucket, under the peer
//     timeout and bounded to the leaf's size, unless this bucket's own
//     log already holds it; the store checks its hash.
func (s *Server) pull(ctx context.Context, b core.BucketID, p peerCommitment, bi bucketInfo, chainID string, maxBytes uint64) error {
	const op = "provider.pull"
	st, err := s.st.State(b)
	if err != nil {
		return err
	}
	target, root := p.sc.LeafCount, mmr.Hash(p.sc.MMRRoot)
	end := st.StartSeq + target
	used := st.Bytes
	for next := st.NextSeq(); next < end; {
		leaves, err := p.c.Leaves(ctx, b, next, int(min(uint64(s.cfg.SyncPage), end-next)))
		if err != nil {
			return err
		}
		if len(leaves) == 0 {
			return core.Errorf(op, core.Unavailable, "peer sent no leaves from seq %d, though it signed %d", next, target)
		}
		if n := end - next; uint64(len(leaves)) > n {
			leaves = leaves[:n]
		}
		plain := make([]core.Leaf, len(leaves))
		for i, lf := range leaves {
			if err := s.checkPeerLeaf(op, b, bi, chainID, lf, used, maxBytes); err != nil {
				return err
			}
			used += lf.Size
			plain[i] = lf.Leaf
		}
		pageRoot, err := s.st.RootAfter(b, plain)
		if err != nil {
			return err // kind conflict: the log moved on meanwhile; next round
		}
		count := leaves[len(leaves)-1].Seq + 1 - st.StartSeq
		if count == target {
			if pageRoot != root {
				return core.Errorf(op, core.Corrupt, "leaves up to %d give root %s, the peer signed %s", count, pageRoot, root)
			}
		} else {
			cp, err := p.c.ConsistencyProof(ctx, b, count, target)
			if err != nil {
				return err
			}
			if err := mmr.VerifyConsistency(pageRoot, count, root, target, cp); err != nil {
				return core.E(op, core.Corrupt, fmt.Errorf("leaves up to %d are not a prefix of the peer's signed log: %w", count, err))
			}
		}
		for _, lf := range leaves {
			if err := s.pullLeaf(ctx, b, p, lf, maxBytes); err != nil {
				return err
			}
			s.m.synced.Inc()
		}
		next += uint64(len(leaves))
	}
	return nil
}

// checkPeerLeaf refuses a leaf from a peer that no writer of the bucket
// signed (kind corrupt), or whose size passes the blob limit or the quota
// left after used bytes (kind invalid): a provider never appends, and so
// never signs a commitment over, a leaf it could not prove was written,
// and never allocates a size a peer merely claims.
func (s *Server) checkPeerLeaf(op string, b core.BucketID, bi bucketInfo, chainID string, lf core.SignedLeaf, used, maxBytes uint64) error {
	switch {
	case lf.Size > s.cfg.MaxBlobSize:
		return core.Errorf(op, core.Invalid, "peer lists leaf %d of %d bytes, over the blob limit of %d", lf.Seq, lf.Size, s.cfg.MaxBlobSize)
	case used > maxBytes || lf.Size > maxBytes-used:
		return core.Errorf(op, core.Invalid, "peer lists leaf %d of %d bytes, past the quota of %d bytes (%d used)", lf.Seq, lf.Size, maxBytes, used)
	}
	if err := lf.Verify(chainID, b); err != nil {
		return core.E(op, core.Corrupt, err)
	}
	if !bi.bucket.LeafSigner(lf.Writer) {
		return core.Errorf(op, core.Corrupt, "peer lists leaf %d signed by %s, who never wrote to bucket %s", lf.Seq, lf.Writer.Short(), b)
	}
	return nil
}

// pullLeaf appends one verified leaf, fetching its blob unless this
// bucket's log already holds it.
func (s *Server) pullLeaf(ctx context.Context, b core.BucketID, p peerCommitment, lf core.SignedLeaf, maxBytes uint64) error {
	const op = "provider.pull"
	if lf.Size > s.cfg.MaxBlobSize {
		return core.Errorf(op, core.Invalid, "leaf %d of %d bytes is over the blob limit of %d", lf.Seq, lf.Size, s.cfg.MaxBlobSize)
	}
	w := store.Write{Leaf: lf, MaxBytes: maxBytes}
	has, err := s.st.HasBlob(b, lf.ContentHash)
	if err != nil {
		return err
	}
	if !has {
		// Fetch before appending: the store holds the bucket's write lock
		// while it reads, and a slow peer must not hold up writes. The
		// client bounds the request by the peer timeout; the read is
		// bounded by the leaf's size, checked above.
		fctx, cancel := context.WithTimeout(ctx, s.cfg.PeerTimeout)
		defer cancel()
		rc, err := p.c.Blob(fctx, b, lf.ContentHash)
		if err != nil {
			return err
		}
		data, err := readFull(op, io.LimitReader(rc, int64(lf.Size)), make([]byte, lf.Size))
		rc.Close()
		if err != nil {
			return err
		}
		w.Bytes = data // the store checks the hash
	}
	_, err = s.st.Append(b, w)
	return err
}

// peerRecord is a peer's recent failures: among peers with the same log, a
// peer that sent garbage, hung or lied is pulled from last, and after
// maxPeerFailures in a row it is benched until its back-off passes: pulled
// from only when no other peer can bring the log up to date.
type peerRecord struct {
	failures int
	until    time.Time
}

// maxPeerFailures is how many failures in a row bench a peer.
const maxPeerFailures = 3

func (s *Server) peerFailed(a core.AccountID) {
	s.peerMu.Lock()
	defer s.peerMu.Unlock()
	r := s.peerFails[a]
	if r == nil {
		r = &peerRecord{}
		s.peerFails[a] = r
	}
	r.failures++
	r.until = s.now().Add(time.Duration(min(r.failures, 10)) * s.cfg.SyncInterval)
	s.m.peerFailures.Inc()
}

func (s *Server) peerOK(a core.AccountID) {
	s.peerMu.Lock()
	delete(s.peerFails, a)
	s.peerMu.Unlock()
}

// PeerFailures is how many times in a row peer a has failed this provider.
func (s *Server) PeerFailures(a core.AccountID) int {
	s.peerMu.Lock()
	defer s.peerMu.Unlock()
	if r := s.peerFails[a]; r != nil {
		return r.failures
	}
	return 0
}

func (s *Server) peerBenched(a core.AccountID) bool {
	s.peerMu.Lock()
	defer s.peerMu.Unlock()
	r := s.peerFails[a]
	return r != nil && r.failures >= maxPeerFailures && s.now().Before(r.until)
}
