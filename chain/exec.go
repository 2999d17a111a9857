package chain

import (
	"strconv"
	"unicode/utf8"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// Limits on what one call may carry.
const (
	maxEndpoint = 512 // bytes of a provider endpoint
	maxMembers  = 256 // members of a bucket
	// maxEverWriters bounds the accounts that are or were writers of a
	// bucket (its writers and FormerWriters), so the bucket record stays
	// small however often an admin changes roles.
	maxEverWriters = 1024
	// maxProviderAgreements bounds a provider's active agreements, so its
	// index (provindex.go) stays small enough to rewrite per agreement.
	maxProviderAgreements = 1024
	maxSignatures         = 64  // signatures on one checkpoint
	maxProviders          = 64  // primaries, and replicas, of one drive
	maxNameLen            = 255 // bytes of a drive name
	maxCIDLen             = 256 // bytes of a root CID
)

// execute runs call for signer against s. It returns nil after changing
// state, or an error and the caller discards the state changes.
func execute(s *state, signer core.AccountID, call wire.Call) error {
	switch c := call.(type) {
	case wire.RegisterProvider:
		return s.registerProvider(signer, c)
	case wire.UpdateProvider:
		return s.updateProvider(signer, c)
	case wire.AddStake:
		return s.addStake(signer, c)
	case wire.WithdrawStake:
		return s.withdrawStake(signer, c)
	case wire.Transfer:
		return s.transfer(signer, c)
	case wire.CreateBucket:
		return s.createBucket(signer, c)
	case wire.SetMember:
		return s.setMember(signer, c)
	case wire.CreateAgreement:
		return s.createAgreement(signer, c)
	case wire.EndAgreement:
		return s.endAgreement(signer, c)
	case wire.SubmitCheckpoint:
		return s.submitCheckpoint(signer, c)
	case wire.OpenChallenge:
		return s.openChallenge(signer, c)
	case wire.RespondChallenge:
		return s.respondChallenge(signer, c)
	case wire.ResolveChallenge:
		return s.resolveChallenge(signer, c)
	case wire.ReportEquivocation:
		return s.reportEquivocation(signer, c)
	case wire.CreateDrive:
		return s.createDrive(signer, c)
	case wire.SetCommitStrategy:
		return s.setCommitStrategy(signer, c)
	case wire.ShareDrive:
		return s.shareDrive(signer, c)
	case wire.UnshareDrive:
		return s.unshareDrive(signer, c)
	case wire.DeleteDrive:
		return s.deleteDrive(signer, c)
	case wire.JoinValidator:
		return s.joinValidator(signer, c)
	case wire.LeaveValidator:
		return s.leaveValidator(signer, c)
	}
	return wire.Coded(wire.CodeUnknownCall, "unknown call %T", call)
}

func itoa(v uint64) string  { return strconv.FormatUint(v, 10) }
func itoa64(v int64) string { return strconv.FormatInt(v, 10) }

func validEndpoint(op, e string) error {
	if e == "" || len(e) > maxEndpoint || !utf8.ValidString(e) {
		return core.Errorf(op, core.Invalid, "endpoint must be 1..%d bytes of UTF-8", maxEndpoint)
	}
	return nil
}

// Accounts and providers.

func (s *state) registerProvider(signer core.AccountID, c wire.RegisterProvider) error {
	const op = "register_provider"
	if err := validEndpoint(op, c.Endpoint); err != nil {
		return err
	}
	if err := validTerms(op, c.Terms); err != nil {
		return err
	}
	if s.isProvider(signer) {
		return core.Errorf(op, core.Exists, "%s is already a registered provider", signer.Short())
	}
	acc := s.account(signer)
	if acc.Balance < c.Stake {
		return wire.Coded(wire.CodeInsufficientFunds, "%s: balance %d is below the stake %d", op, acc.Balance, c.Stake)
	}
	total, err := add(op, acc.Stake, c.Stake)
	if err != nil {
		return err
	}
	if total < s.params.MinProviderStake {
		return core.Errorf(op, core.Invalid, "stake %d is below the minimum provider stake %d", total, s.params.MinProviderStake)
	}
	acc.Balance -= c.Stake
	acc.Stake = total
	s.putAccount(acc)
	s.putJSON(acctKey(pProvider, signer), providerRecord{Endpoint: c.Endpoint, Capacity: c.Capacity, Terms: c.Terms, RegisteredHeight: s.height})
	s.emit(wire.EventProviderRegistered, "provider", signer.String(), "endpoint", c.Endpoint,
		"stake", itoa(total), "capacity", itoa(c.Capacity), "accepting", strconv.FormatBool(c.Terms.Accepting),
		"price_per_gib_block", itoa(c.Terms.PricePerGiBBlock), "max_duration", itoa64(c.Terms.MaxDuration))
	return nil
}

func (s *state) updateProvider(signer core.AccountID, c wire.UpdateProvider) error {
	const op = "update_provider"
	if err := validEndpoint(op, c.Endpoint); err != nil {
		return err
	}
	if err := validTerms(op, c.Terms); err != nil {
		return err
	}
	p, ok := s.provider(signer)
	if !ok {
		return core.Errorf(op, core.NotFound, "%s is not a registered provider", signer.Short())
	}
	p.Endpoint, p.Capacity, p.Terms = c.Endpoint, c.Capacity, c.Terms
	s.putJSON(acctKey(pProvider, signer), p)
	s.emit(wire.EventProviderUpdated, "provider", signer.String(), "endpoint", c.Endpoint, "capacity", itoa(c.Capacity),
		"accepting", strconv.FormatBool(c.Terms.Accepting), "price_per_gib_block", itoa(c.Terms.PricePerGiBBlock),
		"max_duration", itoa64(c.Terms.MaxDuration))
	return nil
}

func (s *state) addStake(signer core.AccountID, c wire.AddStake) error {
	const op = "add_stake"
	if c.Amount == 0 {
		return core.Errorf(op, core.Invalid, "amount must be > 0")
	}
	acc := s.account(signer)
	if acc.Balance < c.Amount {
		return wire.Coded(wire.CodeInsufficientFunds, "%s: balance %d is below %d", op, acc.Balance, c.Amount)
	}
	st, err := add(op, acc.Stake, c.Amount)
	if err != nil {
		return err
	}
	acc.Balance -= c.Amount
	acc.Stake = st
	s.putAccount(acc)
	s.emit(wire.EventStakeAdded, "account", signer.String(), "amount", itoa(c.Amount), "stake", itoa(st))
	return nil
}

func (s *state) withdrawStake(signer core.AccountID, c wire.WithdrawStake) error {
	const op = "withdraw_stake"
	if c.Amount == 0 {
		return core.Errorf(op, core.Invalid, "amount must be > 0")
	}
	acc := s.account(signer)
	if acc.Stake < c.Amount {
		return wire.Coded(wire.CodeInsufficientFunds, "%s: stake %d is below %d", op, acc.Stake, c.Amount)
	}
	if s.isProvider(signer) {
		if n := s.getU64(acctKey(pOpenChal, signer)); n > 0 {
			return core.Errorf(op, core.Conflict, "%d challenges against provider %s are open", n, signer.Short())
		}
		if acc.Stake-c.Amount < s.params.MinProviderStake {
			return core.Errorf(op, core.Conflict, "a registered provider keeps at least %d staked (has %d)", s.params.MinProviderStake, acc.Stake)
		}
	}
	bal, err := add(op, acc.Balance, c.Amount)
	if err != nil {
		return err
	}
	acc.Stake -= c.Amount
	acc.Balance = bal
	s.putAccount(acc)
	s.emit(wire.EventStakeWithdrawn, "account", signer.String(), "amount", itoa(c.Amount), "stake", itoa(acc.Stake))
	return nil
}

func (s *state) transfer(signer core.AccountID, c wire.Transfer) error {
	const op = "transfer"
	if c.Amount == 0 {
		return core.Errorf(op, core.Invalid, "amount must be > 0")
	}
	if c.To == signer {
		return core.Errorf(op, core.Invalid, "transfer to self")
	}
	if err := s.debit(op, signer, c.Amount); err != nil {
		return err
	}
	if err := s.credit(op, c.To, c.Amount); err != nil {
		return err
	}
	s.emit(wire.EventTransfer, "from", signer.String(), "to", c.To.String(), "amount", itoa(c.Amount))
	return nil
}

// Buckets and agreements.

func validMembers(op string, ms []wire.Member) error {
	if len(ms) > maxMembers {
		return core.Errorf(op, core.Invalid, "%d members, at most %d", len(ms), maxMembers)
	}
	seen := map[core.AccountID]bool{}
	for _, m := range ms {
		if !m.Role.Valid() {
			return core.Errorf(op, core.Invalid, "member %s: role %q is not admin, writer or reader", m.Account.Short(), m.Role)
		}
		if seen[m.Account] {
			return core.Errorf(op, core.Invalid, "member %s listed twice", m.Account.Short())
		}
		seen[m.Account] = true
	}
	return nil
}

// newBucket creates a bucket owned by owner (an admin) with the other
// members; it emits bucket.created.
func (s *state) newBucket(op string, owner core.AccountID, quorum, minProviders uint32, members []wire.Member) (*wire.Bucket, error) {
	if quorum == 0 {
		return nil, core.Errorf(op, core.Invalid, "quorum must be >= 1")
	}
	if err := validMembers(op, members); err != nil {
		return nil, err
	}
	b := &wire.Bucket{Owner: owner, Quorum: quorum, MinProviders: minProviders,
		Members: []wire.Member{{Account: owner, Role: wire.Admin}}}
	for _, m := range members {
		if m.Account == owner {
			continue // the owner is an admin whatever the list says
		}
		b.Members = append(b.Members, m)
	}
	if len(b.Members) > maxMembers {
		return nil, core.Errorf(op, core.Invalid, "%d members, at most %d", len(b.Members), maxMembers)
	}
	b.ID = core.BucketID(s.nextID(keySeqBucket))
	s.putBucket(b)
	s.emit(wire.EventBucketCreated, "bucket", b.ID.String(), "owner", owner.String(),
		"quorum", itoa(uint64(quorum)), "min_providers", itoa(uint64(minProviders)))
	return b, nil
}

func (s *state) createBucket(signer core.AccountID, c wire.CreateBucket) error {
	_, err := s.newBucket("create_bucket", signer, c.Quorum, c.MinProviders, c.Members)
	return err
}

// setBucketMember sets (or with role "" removes) a member of b, in memory.
func setBucketMember(op string, b *wire.Bucket, m wire.Member) error {
	if m.Account == b.Owner {
		return core.Errorf(op, core.Conflict, "the owner's role cannot change")
	}
	if m.Role != "" && !m.Role.Valid() {
		return core.Errorf(op, core.Invalid, "role %q is not admin, writer or reader", m.Role)
	}
	if m.Role.CanWrite() && !b.LeafSigner(m.Account) {
		n := len(b.FormerWriters)
		for _, x := range b.Members {
			if x.Role.CanWrite() {
				n++
			}
		}
		if n >= maxEverWriters {
			return core.Errorf(op, core.Invalid, "bucket %s has had %d writers, at most %d", b.ID, n, maxEverWriters)
		}
	}
	for i := range b.Members {
		if b.Members[i].Account == m.Account {
			if b.Members[i].Role.CanWrite() && !m.Role.CanWrite() {
				noteFormerWriter(b, m.Account)
			}
			if m.Role == "" {
				b.Members = append(b.Members[:i], b.Members[i+1:]...)
			} else {
				b.Members[i].Role = m.Role
			}
			return nil
		}
	}
	if m.Role == "" {
		return core.Errorf(op, core.NotFound, "%s is not a member of bucket %s", m.Account.Short(), b.ID)
	}
	if len(b.Members) >= maxMembers {
		return core.Errorf(op, core.Invalid, "bucket %s has %d members, at most %d", b.ID, len(b.Members), maxMembers)
	}
	b.Members = append(b.Members, m)
	return nil
}

// noteFormerWriter records that a lost the writer role: leaves it signed
// while it could write stay valid (wire.Bucket.LeafSigner). Each account
// is listed once.
func noteFormerWriter(b *wire.Bucket, a core.AccountID) {
	for _, f := range b.FormerWriters {
		if f == a {
			return
		}
	}
	b.FormerWriters = append(b.FormerWriters, a)
}

func (s *state) adminBucket(op string, signer core.AccountID, id core.BucketID) (*wire.Bucket, error) {
	b, ok := s.bucket(id)
	if !ok {
		return nil, core.Errorf(op, core.NotFound, "no bucket %s", id)
	}
	if b.Role(signer) != wire.Admin {
		return nil, core.Errorf(op, core.Unauthorized, "%s is not an admin of bucket %s", signer.Short(), id)
	}
	return b, nil
}

func (s *state) setMember(signer core.AccountID, c wire.SetMember) error {
	const op = "set_member"
	b, err := s.adminBucket(op, signer, c.Bucket)
	if err != nil {
		return err
	}
	if err := setBucketMember(op, b, c.Member); err != nil {
		return err
	}
	s.putBucket(b)
	s.emit(wire.EventMemberSet, "bucket", b.ID.String(), "account", c.Member.Account.String(), "role", string(c.Member.Role))
	return nil
}

// newAgreement records an agreement and pays the provider; it emits
// agreement.created.
func (s *state) newAgreement(op string, payer core.AccountID, bucket core.BucketID, provider core.AccountID, role wire.Role, maxBytes uint64, duration int64, payment uint64) error {
	if !role.Valid() {
		return core.Errorf(op, core.Invalid, "role %q is not primary or replica", role)
	}
	if duration <= 0 {
		return core.Errorf(op, core.Invalid, "duration must be > 0 blocks")
	}
	prec, ok := s.provider(provider)
	if !ok {
		return core.Errorf(op, core.NotFound, "%s is not a registered provider", provider.Short())
	}
	if a, ok := s.agreement(bucket, provider); ok && s.height < a.ExpiryHeight {
		return core.Errorf(op, core.Exists, "provider %s already has an active agreement on bucket %s", provider.Short(), bucket)
	}
	expiry := s.height + duration
	if expiry < s.height {
		return core.Errorf(op, core.Invalid, "duration overflows")
	}
	idx := s.provIndex(provider)
	idx.prune(s.height)
	idx.remove(bucket) // an expired agreement on this bucket being renewed
	if len(idx.Entries) >= maxProviderAgreements {
		return core.Errorf(op, core.Conflict, "provider %s holds %d active agreements, at most %d", provider.Short(), len(idx.Entries), maxProviderAgreements)
	}
	if err := meetsTerms(op, provider, prec, offer{role: role, maxBytes: maxBytes, duration: duration, payment: payment}, idx.Committed); err != nil {
		return err
	}
	if payment > 0 && payer != provider {
		if err := s.debit(op, payer, payment); err != nil {
			return err
		}
		if err := s.credit(op, provider, payment); err != nil {
			return err
		}
	}
	s.putAgreement(bucket, provider, agreementRecord{Role: role, MaxBytes: maxBytes, ExpiryHeight: expiry, Payment: payment})
	idx.add(provIdxEntry{Bucket: bucket, MaxBytes: maxBytes, ExpiryHeight: expiry})
	s.putProvIndex(provider, idx)
	s.emit(wire.EventAgreementCreated, "bucket", bucket.String(), "provider", provider.String(), "role", string(role),
		"max_bytes", itoa(maxBytes), "expiry_height", itoa64(expiry), "payment", itoa(payment))
	return nil
}

func (s *state) createAgreement(signer core.AccountID, c wire.CreateAgreement) error {
	const op = "create_agreement"
	if _, err := s.adminBucket(op, signer, c.Bucket); err != nil {
		return err
	}
	return s.newAgreement(op, signer, c.Bucket, c.Provider, c.Role, c.MaxBytes, c.Duration, c.Payment)
}

func (s *state) endAgreement(signer core.AccountID, c wire.EndAgreement) error {
	const op = "end_agreement"
	b, ok := s.bucket(c.Bucket)
	if !ok {
		return core.Errorf(op, core.NotFound, "no bucket %s", c.Bucket)
	}
	if signer != c.Provider && b.Role(signer) != wire.Admin {
		return core.Errorf(op, core.Unauthorized, "only an admin of bucket %s or the provider may end the agreement", c.Bucket)
	}
	if _, ok := s.agreement(c.Bucket, c.Provider); !ok {
		return core.Errorf(op, core.NotFound, "no agreement between bucket %s and provider %s", c.Bucket, c.Provider.Short())
	}
	// A provider may not walk away from a challenge; an admin who ends
	// the agreement voids the challenges it backed.
	if open := s.openOnBucket(c.Bucket, c.Provider); len(open) > 0 {
		if signer == c.Provider && b.Role(signer) != wire.Admin {
			return core.Errorf(op, core.Conflict, "%d challenges against provider %s on bucket %s are open: it cannot end the agreement before they close", len(open), c.Provider.Short(), c.Bucket)
		}
		if err := s.voidChallenges(op, c.Bucket, c.Provider); err != nil {
			return err
		}
	}
	s.o.del(agreementKey(c.Bucket, c.Provider))
	idx := s.provIndex(c.Provider)
	if idx.remove(c.Bucket) {
		s.putProvIndex(c.Provider, idx)
	}
	s.emit(wire.EventAgreementEnded, "bucket", c.Bucket.String(), "provider", c.Provider.String(), "by", signer.String())
	return nil
}

func checkName(op, name string) error {
	if name == "" || len(name) > maxNameLen || !utf8.ValidString(name) {
		return core.Errorf(op, core.Invalid, "name must be 1..%d bytes of UTF-8", maxNameLen)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return core.Errorf(op, core.Invalid, "name contains a control character")
		}
	}
	return nil
}

func distinctAccounts(op, what string, as []core.AccountID) error {
	if len(as) > maxProviders {
		return core.Errorf(op, core.Invalid, "%d %s, at most %d", len(as), what, maxProviders)
	}
	seen := map[core.AccountID]bool{}
	for _, a := range as {
		if seen[a] {
			return core.Errorf(op, core.Invalid, "%s lists %s twice", what, a.Short())
		}
		seen[a] = true
	}
	return nil
}
