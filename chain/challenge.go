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
	if _, ok := s.provider(c.Provider); !ok {
		return core.Errorf(op, core.NotFound, "%s is not a registered provider", c.Provider.Short())
	}
	b, ok := s.bucket(c.Bucket)
	if !ok {
		return core.Errorf(op, core.NotFound, "no bucket %s", c.Bucket)
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
		// The checkpoint binds its signers, and every primary under an
		// active agreement: the agreement obliges a primary to hold the
		// bucket's checkpointed data, whether it signed (it may have
		// been down, or have diverged) or not.
		signed := false
		for _, a := range cp.Signers {
			signed = signed || a == c.Provider
		}
		a, ok := s.agreement(c.Bucket, c.Provider)
		bound := ok && a.Role == wire.Primary && s.height < a.ExpiryHeight
		if !signed && !bound {
			return core.Errorf(op, core.Invalid, "provider %s neither signed bucket %s's latest checkpoint nor holds an active primary agreement on it", c.Provider.Short(), c.Bucket)
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
	s.putU64(acctKey(pOpenChal, c.Provider), s.getU64(acctKey(pOpenChal, c.Provider))+1)
	s.emit(wire.EventChallengeOpened, "id", ch.ID.String(), "provider", c.Provider.String(), "bucket", c.Bucket.String(),
		"challenger", signer.String(), "leaf_index", itoa(c.LeafIndex), "mmr_root", com.MMRRoot.String(),
		"start_seq", itoa(com.StartSeq), "leaf_count", itoa(com.LeafCount), "deadline", itoa64(ch.Deadline), "deposit", itoa(c.Deposit))
	return nil
}

func (s *state) closeChallenge(ch *wire.Challenge, st string) {
	ch.State = st
	ch.ClosedHeight = s.height
	s.putChallenge(ch)
	k := acctKey(pOpenChal, ch.Provider)
	if n := s.getU64(k); n > 1 {
		s.putU64(k, n-1)
	} else {
		s.o.del(k)
	}
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
