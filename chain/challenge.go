package chain

import (
	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

func (s *state) openChallenge(signer core.AccountID, c wire.OpenChallenge) error {
	const op = "open_challenge"
	if c.Provider == signer {
		return core.Errorf(op, core.Invalid, "a provider cannot challenge itself")
	}
	if !s.isProvider(c.Provider) {
		return core.Errorf(op, core.NotFound, "%s is not a registered provider", c.Provider.Short())
	}
	b, ok := s.bucket(c.Bucket)
	if !ok {
		return core.Errorf(op, core.NotFound, "no bucket %s", c.Bucket)
	}
	if a, ok := s.agreement(c.Bucket, c.Provider); !ok || s.height >= a.ExpiryHeight {
		return core.Errorf(op, core.Unauthorized, "provider %s holds no active agreement on bucket %s", c.Provider.Short(), c.Bucket)
	}
	if c.Deposit < s.params.MinChallengeDeposit {
		return core.Errorf(op, core.Invalid, "deposit %d is below the minimum %d", c.Deposit, s.params.MinChallengeDeposit)
	}
	var com core.Commitment
	ev := c.Evidence
	switch {
	case ev.FromCheckpoint == (ev.Commitment != nil):
		return core.Errorf(op, core.Invalid, "evidence must be either from_checkpoint or a signed commitment")
	case ev.FromCheckpoint:
		cp := b.Latest
		if cp == nil {
			return core.Errorf(op, core.NotFound, "bucket %s has no checkpoint", c.Bucket)
		}
		// The checkpoint binds its signers only: a provider is never
		// bound by a root that only others signed.
		signed := false
		for _, a := range cp.Signers {
			signed = signed || a == c.Provider
		}
		if !signed {
			return core.Errorf(op, core.Unauthorized, "provider %s did not sign bucket %s's latest checkpoint: only its signers are bound by it", c.Provider.Short(), c.Bucket)
		}
		com = cp.Commitment(s.chainID)
	default:
		sc := *ev.Commitment
		switch {
		case sc.Provider != c.Provider:
			return core.Errorf(op, core.Invalid, "the commitment is signed by %s, not the challenged provider", sc.Provider.Short())
		case sc.Bucket != c.Bucket:
			return core.Errorf(op, core.Invalid, "the commitment is for bucket %s, not %s", sc.Bucket, c.Bucket)
		case sc.ChainID != s.chainID:
			return core.Errorf(op, core.Invalid, "the commitment is for chain %q", sc.ChainID)
		}
		if err := sc.VerifyBy(c.Provider); err != nil {
			return core.E(op, core.Corrupt, err)
		}
		com = sc.Commitment
	}
	if c.LeafIndex >= com.LeafCount {
		return core.Errorf(op, core.Invalid, "leaf index %d is not below the commitment's leaf_count %d", c.LeafIndex, com.LeafCount)
	}
	if err := s.debit(op, signer, c.Deposit); err != nil {
		return err
	}
	ch := &wire.Challenge{
		ID: core.ChallengeID(s.nextID(keySeqChalleng)), Bucket: c.Bucket, Provider: c.Provider, Challenger: signer,
		MMRRoot: com.MMRRoot, StartSeq: com.StartSeq, LeafCount: com.LeafCount, LeafIndex: c.LeafIndex,
		Deadline: s.height + s.params.ChallengeDeadline, Deposit: c.Deposit, State: wire.ChallengeOpen, OpenedHeight: s.height,
	}
	s.putChallenge(ch)
	s.o.set(acctKey(pChalByProv, c.Provider)+u64(uint64(ch.ID)), nil)
	s.o.set(pChalByBkt+u64(uint64(c.Bucket))+u64(uint64(ch.ID)), nil)
	s.setChallengeState(ch, ch.State)
	s.putU64(acctKey(pOpenChal, c.Provider), s.getU64(acctKey(pOpenChal, c.Provider))+1)
	s.addOpenOnBucket(c.Bucket, c.Provider, ch.ID)
	s.emit(wire.EventChallengeOpened, "id", ch.ID.String(), "provider", c.Provider.String(), "bucket", c.Bucket.String(),
		"challenger", signer.String(), "leaf_index", itoa(c.LeafIndex), "mmr_root", com.MMRRoot.String(),
		"start_seq", itoa(com.StartSeq), "leaf_count", itoa(com.LeafCount), "deadline", itoa64(ch.Deadline), "deposit", itoa(c.Deposit))
	return nil
}

// setChallengeState moves ch's entries in the per-state indexes (by
// state, and by provider and state) from ch.State to st.
func (s *state) setChallengeState(ch *wire.Challenge, st string) {
	id := u64(uint64(ch.ID))
	if ch.State != st {
		s.o.del(pChalByState + ch.State + "/" + id)
		s.o.del(acctKey(pChalByPS, ch.Provider) + ch.State + "/" + id)
	}
	s.o.set(pChalByState+st+"/"+id, nil)
	s.o.set(acctKey(pChalByPS, ch.Provider)+st+"/"+id, nil)
}

func (s *state) closeChallenge(ch *wire.Challenge, st string) {
	s.setChallengeState(ch, st)
	ch.State = st
	ch.ClosedHeight = s.height
	s.putChallenge(ch)
	k := acctKey(pOpenChal, ch.Provider)
	if n := s.getU64(k); n > 1 {
		s.putU64(k, n-1)
	} else {
		s.o.del(k)
	}
	s.removeOpenOnBucket(ch.Bucket, ch.Provider, ch.ID)
}

// openOnBucket returns the ids of the open challenges against provider on
// bucket (key pOpenBkt + bucket + provider), oldest first.
func (s *state) openOnBucket(bucket core.BucketID, provider core.AccountID) []core.ChallengeID {
	var ids []core.ChallengeID
	s.getJSON(agreementKeyP(pOpenBkt, bucket, provider), &ids)
	return ids
}

func (s *state) putOpenOnBucket(bucket core.BucketID, provider core.AccountID, ids []core.ChallengeID) {
	k := agreementKeyP(pOpenBkt, bucket, provider)
	if len(ids) == 0 {
		s.o.del(k)
		return
	}
	s.putJSON(k, ids)
}

func (s *state) addOpenOnBucket(bucket core.BucketID, provider core.AccountID, id core.ChallengeID) {
	s.putOpenOnBucket(bucket, provider, append(s.openOnBucket(bucket, provider), id))
}

func (s *state) removeOpenOnBucket(bucket core.BucketID, provider core.AccountID, id core.ChallengeID) {
	ids := s.openOnBucket(bucket, provider)
	for i, x := range ids {
		if x == id {
			s.putOpenOnBucket(bucket, provider, append(ids[:i], ids[i+1:]...))
			return
		}
	}
}

// voidChallenges voids the open challenges against provider on bucket:
// the bucket's admin ended the agreement they held the provider to, so
// each deposit goes back to its challenger and nobody is slashed.
func (s *state) voidChallenges(op string, bucket core.BucketID, provider core.AccountID) error {
	for _, id := range s.openOnBucket(bucket, provider) {
		ch, ok := s.challenge(id)
		if !ok || ch.State != wire.ChallengeOpen {
			panic("chain: open challenge index names a missing or closed challenge")
		}
		if err := s.credit(op, ch.Challenger, ch.Deposit); err != nil {
			return err
		}
		s.closeChallenge(ch, wire.ChallengeVoid)
		s.emit(wire.EventChallengeVoided, "id", ch.ID.String(), "provider", ch.Provider.String(), "bucket", ch.Bucket.String(),
			"challenger", ch.Challenger.String(), "deposit_returned", itoa(ch.Deposit))
	}
	return nil
}

func (s *state) respondChallenge(signer core.AccountID, c wire.RespondChallenge) error {
	const op = "respond_challenge"
	ch, ok := s.challenge(c.Challenge)
	if !ok {
		return core.Errorf(op, core.NotFound, "no challenge %s", c.Challenge)
	}
	switch {
	case ch.State != wire.ChallengeOpen:
		return core.Errorf(op, core.Conflict, "challenge %s is %s", ch.ID, ch.State)
	case signer != ch.Provider:
		return core.Errorf(op, core.Unauthorized, "only the challenged provider %s may answer challenge %s", ch.Provider.Short(), ch.ID)
	case s.height > ch.Deadline:
		return core.Errorf(op, core.Conflict, "challenge %s's deadline %d has passed (height %d)", ch.ID, ch.Deadline, s.height)
	case uint64(len(c.Data)) != c.Leaf.Size:
		return core.Errorf(op, core.Corrupt, "data is %d bytes, the leaf says %d", len(c.Data), c.Leaf.Size)
	case core.Sum256(c.Data) != c.Leaf.ContentHash:
		return core.Errorf(op, core.Corrupt, "SHA-256 of the data is not the leaf's content hash")
	case c.Leaf.Seq != ch.StartSeq+ch.LeafIndex:
		return core.Errorf(op, core.Corrupt, "leaf seq %d is not the challenged seq %d", c.Leaf.Seq, ch.StartSeq+ch.LeafIndex)
	}
	if err := mmr.VerifyInclusion(mmr.Hash(ch.MMRRoot), ch.LeafCount, ch.LeafIndex, mmr.LeafHash(c.Leaf.Bytes()), &c.Proof); err != nil {
		return core.E(op, core.Corrupt, err)
	}
	// The leaf must prove who wrote it: a leaf no writer of the bucket
	// signed is data the provider made up (or let a peer make up), and
	// stays unanswered until the deadline slashes it.
	b, ok := s.bucket(ch.Bucket)
	if !ok {
		return core.Errorf(op, core.Internal, "challenge %s's bucket %s is missing", ch.ID, ch.Bucket)
	}
	if err := c.Leaf.Verify(s.chainID, ch.Bucket); err != nil {
		return core.E(op, core.Corrupt, err)
	}
	if !b.LeafSigner(c.Leaf.Writer) {
		return core.Errorf(op, core.Corrupt, "leaf %d is signed by %s, who is not and never was a writer of bucket %s", c.Leaf.Seq, c.Leaf.Writer.Short(), ch.Bucket)
	}
	// A challenge the provider answers was frivolous: the deposit is its.
	if err := s.credit(op, ch.Provider, ch.Deposit); err != nil {
		return err
	}
	s.closeChallenge(ch, wire.ChallengeAnswered)
	s.emit(wire.EventChallengeAnswered, "id", ch.ID.String(), "provider", ch.Provider.String(), "bucket", ch.Bucket.String(),
		"challenger", ch.Challenger.String(), "deposit", itoa(ch.Deposit))
	return nil
}

func (s *state) resolveChallenge(signer core.AccountID, c wire.ResolveChallenge) error {
	const op = "resolve_challenge"
	ch, ok := s.challenge(c.Challenge)
	if !ok {
		return core.Errorf(op, core.NotFound, "no challenge %s", c.Challenge)
	}
	if ch.State != wire.ChallengeOpen {
		return core.Errorf(op, core.Conflict, "challenge %s is %s", ch.ID, ch.State)
	}
	if s.height <= ch.Deadline {
		return core.Errorf(op, core.Conflict, "challenge %s's deadline %d has not passed (height %d)", ch.ID, ch.Deadline, s.height)
	}
	acc := s.account(ch.Provider)
	slash := bps(acc.Stake, s.params.SlashFractionBps)
	reward := bps(slash, s.params.ChallengerRewardBps)
	acc.Stake -= slash
	s.putAccount(acc)
	back, err := add(op, reward, ch.Deposit)
	if err != nil {
		return err
	}
	if err := s.credit(op, ch.Challenger, back); err != nil {
		return err
	}
	ch.Slashed = slash
	s.closeChallenge(ch, wire.ChallengeSlashed)
	s.emit(wire.EventProviderSlashed, "provider", ch.Provider.String(), "amount", itoa(slash), "challenge", ch.ID.String(),
		"bucket", ch.Bucket.String(), "challenger", ch.Challenger.String(), "reward", itoa(reward), "burned", itoa(slash-reward))
	s.emit(wire.EventChallengeResolved, "id", ch.ID.String(), "provider", ch.Provider.String(), "resolver", signer.String(),
		"slashed", itoa(slash), "deposit_returned", itoa(ch.Deposit))
	return nil
}
