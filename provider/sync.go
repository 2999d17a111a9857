package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	t := time.NewTicker(s.cfg.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-s.kick:
			s.syncOne(ctx, b)
		case <-t.C:
			for _, b := range s.trackedBuckets() {
				if ctx.Err() != nil {
					return
				}
				s.syncOne(ctx, b)
			}
		}
	}
}

func (s *Server) syncOne(ctx context.Context, b core.BucketID) {
	if _, err := s.Sync(ctx, b); err != nil && ctx.Err() == nil {
		s.log.Warn("sync", "bucket", b, "err", err)
	}
}

// discoveryLoop finds the buckets this provider has agreements for: a scan
// of the chain's buckets at start and each DiscoveryInterval, and the
// agreement.created events in between.
func (s *Server) discoveryLoop(ctx context.Context) {
	var events <-chan chainwire.Event
	subscribe := func() {
		ch, err := s.chain.SubscribeEvents(ctx, chainwire.EventAgreementCreated)
		if err != nil {
			s.log.Debug("subscribing to agreements", "err", err)
			return
		}
		events = ch
	}
	subscribe()
	s.discover(ctx)
	t := time.NewTicker(s.cfg.DiscoveryInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if e.Attributes["provider"] != s.acct.String() {
				continue
			}
			if b, err := core.ParseBucketID(e.Attributes["bucket"]); err == nil {
				s.cache.forget(b)
				s.SyncNow(b)
			}
		case <-t.C:
			if events == nil {
				subscribe()
			}
			s.discover(ctx)
		}
	}
}

// discover scans buckets 1, 2, ... until the chain knows no more (bucket
// ids are dense) and tracks those with an active agreement for this
// provider. It costs one query per bucket: a chain index of agreements by
// provider would replace it.
func (s *Server) discover(ctx context.Context) {
	for b := core.BucketID(1); ctx.Err() == nil; b++ {
		bi, err := s.cache.Bucket(ctx, b)
		if core.KindOf(err) == core.NotFound {
			return
		}
		if err != nil {
			s.log.Debug("discovering buckets", "bucket", b, "err", err)
			return
		}
		if a := bi.agreement(s.acct); a != nil && a.Active {
			s.trackMu.Lock()
			known := s.tracked[b]
			s.trackMu.Unlock()
			if !known {
				s.log.Info("serving bucket", "bucket", b, "role", a.Role)
				s.SyncNow(b)
			}
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
			break // sorted: nobody further holds more
		}
		if err := s.pull(ctx, b, p, mine.MaxBytes); err != nil {
			errs = append(errs, core.E(op, core.KindOf(err), err))
			s.log.Warn("pulling from peer", "bucket", b, "peer", p.account.Short(), "err", err)
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
			s.log.Debug("peer commitment", "bucket", b, "peer", r.p.account.Short(), "err", r.err)
			continue
		}
		out = append(out, r.p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].sc.LeafCount != out[j].sc.LeafCount {
			return out[i].sc.LeafCount > out[j].sc.LeafCount
		}
		return string(out[i].account[:]) < string(out[j].account[:])
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
// peer's signed leaf count, a page at a time. Before it takes a page, it
// computes the root its log would have with the page appended and checks,
// with the peer's consistency proof, that this root is a prefix of the
// peer's signed root: so the page is exactly the peer's signed leaves, and
// this log (unless it diverged, which the check also catches) is a prefix
// of the peer's. Then it fetches each blob it lacks (the store checks the
// hash) and appends.
func (s *Server) pull(ctx context.Context, b core.BucketID, p peerCommitment, maxBytes uint64) error {
	const op = "provider.pull"
	st, err := s.st.State(b)
	if err != nil {
		return err
	}
	target, root := p.sc.LeafCount, mmr.Hash(p.sc.MMRRoot)
	end := st.StartSeq + target
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

// pullLeaf appends one verified leaf, fetching its blob unless this
// bucket's log already holds it (a blob held for another bucket is not
// enough: its bytes were never proved for this one).
func (s *Server) pullLeaf(ctx context.Context, b core.BucketID, p peerCommitment, lf core.SignedLeaf, maxBytes uint64) error {
	const op = "provider.pull"
	w := store.Write{Leaf: lf, MaxBytes: maxBytes}
	has, err := s.st.HasBlob(b, lf.ContentHash)
	if err != nil {
		return err
	}
	if !has {
		// Fetch before appending: the store holds the bucket's write lock
		// while it reads, and a slow peer must not hold up writes.
		rc, err := p.c.Blob(ctx, b, lf.ContentHash)
		if err != nil {
			return err
		}
		data, err := readFull(op, rc, lf.Size)
		rc.Close()
		if err != nil {
			return err
		}
		w.Data = bytes.NewReader(data) // the store checks the hash
	}
	_, err = s.st.Append(b, w)
	return err
}
