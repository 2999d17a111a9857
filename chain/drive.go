package chain

import (
	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

func (s *state) createDrive(signer core.AccountID, c wire.CreateDrive) error {
	const op = "create_drive"
	if err := checkName(op, c.Name); err != nil {
		return err
	}
	if len(c.Providers) == 0 {
		return core.Errorf(op, core.Invalid, "a drive needs at least one primary provider")
	}
	if err := distinctAccounts(op, "providers", c.Providers); err != nil {
		return err
	}
	if err := distinctAccounts(op, "replicas", c.Replicas); err != nil {
		return err
	}
	primaries := map[core.AccountID]bool{}
	for _, p := range c.Providers {
		primaries[p] = true
	}
	for _, r := range c.Replicas {
		if primaries[r] {
			return core.Errorf(op, core.Invalid, "%s is both a primary and a replica", r.Short())
		}
	}
	if !c.Strategy.Valid() {
		return core.Errorf(op, core.Invalid, "commit strategy %+v: kind must be immediate, batched (interval > 0) or manual", c.Strategy)
	}
	n := uint32(len(c.Providers))
	quorum := c.Quorum
	if quorum == 0 {
		quorum = (n*51 + 99) / 100
	}
	if quorum > n {
		return core.Errorf(op, core.Invalid, "quorum %d is above the %d primaries", quorum, n)
	}
	if _, err := mul(op, c.Payment, uint64(len(c.Providers)+len(c.Replicas))); err != nil {
		return err
	}
	b, err := s.newBucket(op, signer, quorum, n, nil)
	if err != nil {
		return err
	}
	for _, p := range c.Providers {
		if err := s.newAgreement(op, signer, b.ID, p, wire.Primary, c.MaxBytes, c.Duration, c.Payment); err != nil {
			return err
		}
	}
	for _, r := range c.Replicas {
		if err := s.newAgreement(op, signer, b.ID, r, wire.Replica, c.MaxBytes, c.Duration, c.Payment); err != nil {
			return err
		}
	}
	d := &wire.Drive{ID: core.DriveID(s.nextID(keySeqDrive)), Owner: signer, Bucket: b.ID, Name: c.Name,
		Strategy: c.Strategy, SharedWith: []wire.Member{}}
	s.putDrive(d)
	s.o.set(acctKey(pDriveOwner, signer)+u64(uint64(d.ID)), nil)
	s.emit(wire.EventDriveCreated, "drive", d.ID.String(), "bucket", b.ID.String(), "owner", signer.String(),
		"name", c.Name, "quorum", itoa(uint64(quorum)), "strategy", c.Strategy.Kind)
	return nil
}

// ownDrive returns the drive if signer owns it.
func (s *state) ownDrive(op string, signer core.AccountID, id core.DriveID) (*wire.Drive, error) {
	d, ok := s.drive(id)
	if !ok {
		return nil, core.Errorf(op, core.NotFound, "no drive %s", id)
	}
	if d.Owner != signer {
		return nil, core.Errorf(op, core.Unauthorized, "%s does not own drive %s", signer.Short(), id)
	}
	return d, nil
}

func (s *state) setCommitStrategy(signer core.AccountID, c wire.SetCommitStrategy) error {
	const op = "set_commit_strategy"
	d, err := s.ownDrive(op, signer, c.Drive)
	if err != nil {
		return err
	}
	if !c.Strategy.Valid() {
		return core.Errorf(op, core.Invalid, "commit strategy %+v: kind must be immediate, batched (interval > 0) or manual", c.Strategy)
	}
	d.Strategy = c.Strategy
	s.putDrive(d)
	s.emit(wire.EventDriveStrategySet, "drive", d.ID.String(), "kind", c.Strategy.Kind, "interval", itoa(c.Strategy.Interval))
	return nil
}

func (s *state) shareDrive(signer core.AccountID, c wire.ShareDrive) error {
	const op = "share_drive"
	d, err := s.ownDrive(op, signer, c.Drive)
	if err != nil {
		return err
	}
	if !c.Member.Role.Valid() {
		return core.Errorf(op, core.Invalid, "role %q is not admin, writer or reader", c.Member.Role)
	}
	if c.Member.Account == d.Owner {
		return core.Errorf(op, core.Invalid, "the owner cannot share a drive with itself")
	}
	b, ok := s.bucket(d.Bucket)
	if !ok {
		return core.Errorf(op, core.Internal, "drive %s's bucket %s is missing", d.ID, d.Bucket)
	}
	if err := setBucketMember(op, b, c.Member); err != nil {
		return err
	}
	replaced := false
	for i := range d.SharedWith {
		if d.SharedWith[i].Account == c.Member.Account {
			d.SharedWith[i].Role = c.Member.Role
			replaced = true
		}
	}
	if !replaced {
		d.SharedWith = append(d.SharedWith, c.Member)
	}
	s.putBucket(b)
	s.putDrive(d)
	s.emit(wire.EventDriveShared, "drive", d.ID.String(), "bucket", d.Bucket.String(), "account", c.Member.Account.String(), "role", string(c.Member.Role))
	return nil
}

func (s *state) unshareDrive(signer core.AccountID, c wire.UnshareDrive) error {
	const op = "unshare_drive"
	d, err := s.ownDrive(op, signer, c.Drive)
	if err != nil {
		return err
	}
	i := -1
	for j := range d.SharedWith {
		if d.SharedWith[j].Account == c.Account {
			i = j
		}
	}
	if i < 0 {
		return core.Errorf(op, core.NotFound, "drive %s is not shared with %s", d.ID, c.Account.Short())
	}
	d.SharedWith = append(d.SharedWith[:i], d.SharedWith[i+1:]...)
	if b, ok := s.bucket(d.Bucket); ok && b.Role(c.Account) != "" {
		if err := setBucketMember(op, b, wire.Member{Account: c.Account}); err != nil {
			return err
		}
		s.putBucket(b)
	}
	s.putDrive(d)
	s.emit(wire.EventDriveUnshared, "drive", d.ID.String(), "bucket", d.Bucket.String(), "account", c.Account.String())
	return nil
}

func (s *state) deleteDrive(signer core.AccountID, c wire.DeleteDrive) error {
	const op = "delete_drive"
	d, err := s.ownDrive(op, signer, c.Drive)
	if err != nil {
		return err
	}
	s.o.del(pDrive + u64(uint64(d.ID)))
	s.o.del(acctKey(pDriveOwner, d.Owner) + u64(uint64(d.ID)))
	s.emit(wire.EventDriveDeleted, "drive", d.ID.String(), "bucket", d.Bucket.String(), "owner", d.Owner.String())
	return nil
}
