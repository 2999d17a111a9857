package provider

import (
	"context"
	"io"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// challengeLoop answers the chain's open challenges against this provider:
// it lists them every ChallengePollInterval, and at once when a
// challenge.opened event names this provider (events are only hints).
func (s *Server) challengeLoop(ctx context.Context) {
	follow[chainwire.Event]{
		name:  "challenges",
		every: s.cfg.ChallengePollInterval,
		subscribe: func(ctx context.Context) (<-chan chainwire.Event, error) {
			return s.chain.SubscribeEventsFor(ctx, chainwire.EventChallengeOpened, "provider", s.acct.String())
		},
		hint: func(ctx context.Context, e chainwire.Event) {
			if e.Attributes["provider"] == s.acct.String() {
				s.answerOpen(ctx)
			}
		},
		tick:      s.answerOpen,
		tickFirst: true,
	}.run(ctx, s.log)
}

// answerOpen answers every open challenge against this provider.
func (s *Server) answerOpen(ctx context.Context) {
	me := s.acct
	chs, err := s.chain.Challenges(ctx, chainwire.ChallengeFilter{Provider: &me, State: chainwire.ChallengeOpen})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Debug("listing challenges", "err", err)
		}
		return
	}
	for _, ch := range chs {
		if ctx.Err() != nil {
			return
		}
		if err := s.Answer(ctx, ch); err != nil {
			s.m.challenges.WithLabelValues("failed").Inc()
			s.log.Warn("answering challenge", "challenge", ch.ID, "bucket", ch.Bucket, "err", err)
			continue
		}
		s.m.challenges.WithLabelValues("answered").Inc()
		s.log.Info("answered challenge", "challenge", ch.ID, "bucket", ch.Bucket, "leaf_index", ch.LeafIndex)
	}
}

// Answer answers one challenge: the challenged leaf, its whole blob, and
// its inclusion proof against the challenged root, in a respond_challenge
// transaction signed by the provider's key. It fails without submitting if
// this provider's log does not hold the challenged root (it triggers a sync
// if the log is merely shorter).
func (s *Server) Answer(ctx context.Context, ch chainwire.Challenge) error {
	const op = "provider.Answer"
	st, err := s.st.State(ch.Bucket)
	if err != nil {
		return err
	}
	switch {
	case ch.StartSeq != st.StartSeq:
		return core.Errorf(op, core.Conflict, "challenge is on a log starting at %d, ours starts at %d", ch.StartSeq, st.StartSeq)
	case ch.LeafIndex >= ch.LeafCount:
		return core.Errorf(op, core.Invalid, "challenge names leaf %d of %d", ch.LeafIndex, ch.LeafCount)
	case ch.LeafCount > st.LeafCount:
		s.SyncNow(ch.Bucket)
		return core.Errorf(op, core.Unavailable, "challenge is at %d leaves, we hold %d: syncing", ch.LeafCount, st.LeafCount)
	}
	root, err := s.st.RootAt(ch.Bucket, ch.LeafCount)
	if err != nil {
		return err
	}
	if core.H256(root) != ch.MMRRoot {
		return core.Errorf(op, core.Conflict, "our root at %d leaves is %s, the challenge names %s", ch.LeafCount, core.H256(root), ch.MMRRoot)
	}
	lf, err := s.st.Leaf(ch.Bucket, ch.StartSeq+ch.LeafIndex)
	if err != nil {
		return err
	}
	proof, err := s.st.Proof(ch.Bucket, ch.LeafIndex, ch.LeafCount)
	if err != nil {
		return err
	}
	blob, err := s.st.OpenBlob(ch.Bucket, lf.ContentHash)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(blob)
	blob.Close()
	if err != nil {
		return core.E(op, core.Internal, err)
	}
	_, err = s.chain.Submit(ctx, s.key, chainwire.RespondChallenge{Challenge: ch.ID, Leaf: lf, Data: data, Proof: *proof})
	if err != nil {
		return core.E(op, core.KindOf(err), err)
	}
	return nil
}
