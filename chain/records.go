package chain

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// The records every checkpoint reads or writes (the submitter's account,
// each signer's agreement, the bucket, the checkpoint itself) are stored
// in a binary layout rather than JSON: decoding and encoding them was a
// large part of FinalizeBlock's cost besides signature verification. Each
// starts with a version byte; integers are 8 bytes big-endian, counts 4,
// accounts and hashes 32 raw bytes. Every other record stays JSON
// (state.go).
//
//	account:    0x01 || balance || stake || nonce                  (the id is in the key)
//	agreement:  0x01 || role (1 primary, 2 replica) || max_bytes || expiry_height || payment
//	checkpoint: 0x01 || bucket || mmr_root || start_seq || leaf_count || height ||
//	            count || signers... || submitter
//	bucket:     0x01 || owner || quorum (4) || min_providers (4) || count || (account || member role)... ||
//	            0x00 (no latest checkpoint) or 0x01 || checkpoint without its version byte ||
//	            count || former writers...                          (the id is in the key)
//
// A member role is 1 admin, 2 writer, 3 reader.
const (
	recordV1      = 1
	accountLen    = 1 + 3*8
	agreementLen  = 1 + 1 + 3*8
	roleCodePrim  = 1
	roleCodeRepl  = 2
	errRecordLen  = "%s record is %d bytes, want %d"
	errRecordVers = "%s record has version %d, want %d"
)

func encodeAccount(acc wire.Account) []byte {
	b := make([]byte, 1, accountLen)
	b[0] = recordV1
	b = binary.BigEndian.AppendUint64(b, acc.Balance)
	b = binary.BigEndian.AppendUint64(b, acc.Stake)
	return binary.BigEndian.AppendUint64(b, acc.Nonce)
}

func decodeAccount(id core.AccountID, b []byte) (wire.Account, error) {
	if err := checkRecord("account", b, accountLen); err != nil {
		return wire.Account{}, err
	}
	return wire.Account{ID: id, Balance: binary.BigEndian.Uint64(b[1:]), Stake: binary.BigEndian.Uint64(b[9:]),
		Nonce: binary.BigEndian.Uint64(b[17:])}, nil
}

// encodeAgreement panics on a role that is not a provider role: the calls
// that make agreements check it, so another is a broken invariant.
func encodeAgreement(r agreementRecord) []byte {
	b := make([]byte, 2, agreementLen)
	b[0] = recordV1
	switch r.Role {
	case wire.Primary:
		b[1] = roleCodePrim
	case wire.Replica:
		b[1] = roleCodeRepl
	default:
		panic(fmt.Sprintf("chain: agreement with role %q", r.Role))
	}
	b = binary.BigEndian.AppendUint64(b, r.MaxBytes)
	b = binary.BigEndian.AppendUint64(b, uint64(r.ExpiryHeight))
	return binary.BigEndian.AppendUint64(b, r.Payment)
}

func decodeAgreement(b []byte) (agreementRecord, error) {
	if err := checkRecord("agreement", b, agreementLen); err != nil {
		return agreementRecord{}, err
	}
	r := agreementRecord{MaxBytes: binary.BigEndian.Uint64(b[2:]), ExpiryHeight: int64(binary.BigEndian.Uint64(b[10:])),
		Payment: binary.BigEndian.Uint64(b[18:])}
	switch b[1] {
	case roleCodePrim:
		r.Role = wire.Primary
	case roleCodeRepl:
		r.Role = wire.Replica
	default:
		return agreementRecord{}, fmt.Errorf("agreement record has role code %d", b[1])
	}
	return r, nil
}

func checkRecord(what string, b []byte, n int) error {
	if len(b) != n {
		return fmt.Errorf(errRecordLen, what, len(b), n)
	}
	if b[0] != recordV1 {
		return fmt.Errorf(errRecordVers, what, b[0], recordV1)
	}
	return nil
}

var memberRoles = []wire.MemberRole{1: wire.Admin, 2: wire.Writer, 3: wire.Reader}

func memberRoleCode(r wire.MemberRole) byte {
	for i, m := range memberRoles {
		if i > 0 && m == r {
			return byte(i)
		}
	}
	panic(fmt.Sprintf("chain: member with role %q", r))
}

func appendAccounts(b []byte, as []core.AccountID) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(as)))
	for _, a := range as {
		b = append(b, a[:]...)
	}
	return b
}

// appendCheckpoint appends c without a version byte.
func appendCheckpoint(b []byte, c *wire.Checkpoint) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(c.Bucket))
	b = append(b, c.MMRRoot[:]...)
	b = binary.BigEndian.AppendUint64(b, c.StartSeq)
	b = binary.BigEndian.AppendUint64(b, c.LeafCount)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Height))
	b = appendAccounts(b, c.Signers)
	return append(b, c.Submitter[:]...)
}

func encodeCheckpoint(c *wire.Checkpoint) []byte {
	return appendCheckpoint([]byte{recordV1}, c)
}

// encodeBucket panics on a member role that is not one: the calls that set
// roles check them, so another is a broken invariant.
func encodeBucket(bk *wire.Bucket) []byte {
	b := make([]byte, 0, 128+33*len(bk.Members))
	b = append(b, recordV1)
	b = append(b, bk.Owner[:]...)
	b = binary.BigEndian.AppendUint32(b, bk.Quorum)
	b = binary.BigEndian.AppendUint32(b, bk.MinProviders)
	b = binary.BigEndian.AppendUint32(b, uint32(len(bk.Members)))
	for _, m := range bk.Members {
		b = append(b, m.Account[:]...)
		b = append(b, memberRoleCode(m.Role))
	}
	if bk.Latest == nil {
		b = append(b, 0)
	} else {
		b = appendCheckpoint(append(b, 1), bk.Latest)
	}
	return appendAccounts(b, bk.FormerWriters)
}

// recordReader reads a binary record, checking every length against what
// is left before it allocates.
type recordReader struct {
	b   []byte
	err error
}

var errShortRecord = errors.New("record ends early")

func (r *recordReader) take(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.err = errShortRecord
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *recordReader) byte1() byte {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *recordReader) u32() uint32 {
	if v := r.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (r *recordReader) u64() uint64 {
	if v := r.take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (r *recordReader) account() (a core.AccountID) {
	copy(a[:], r.take(len(a)))
	return a
}

// count reads a count of items of size bytes each, refused if the rest of
// the record cannot hold them.
func (r *recordReader) count(size int) int {
	n := r.u32()
	if r.err == nil && uint64(n)*uint64(size) > uint64(len(r.b)) {
		r.err = errShortRecord
	}
	if r.err != nil {
		return 0
	}
	return int(n)
}

func (r *recordReader) accounts() []core.AccountID {
	n := r.count(32)
	if n == 0 {
		return nil
	}
	out := make([]core.AccountID, n)
	for i := range out {
		out[i] = r.account()
	}
	return out
}

func (r *recordReader) checkpoint() *wire.Checkpoint {
	c := &wire.Checkpoint{Bucket: core.BucketID(r.u64())}
	copy(c.MMRRoot[:], r.take(len(c.MMRRoot)))
	c.StartSeq = r.u64()
	c.LeafCount = r.u64()
	c.Height = int64(r.u64())
	c.Signers = r.accounts()
	c.Submitter = r.account()
	return c
}

// done reports the first error, or that bytes are left over.
func (r *recordReader) done(what string) error {
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d bytes after the record", len(r.b))
	}
	if r.err != nil {
		return fmt.Errorf("%s record: %w", what, r.err)
	}
	return nil
}

func newRecordReader(what string, b []byte) (*recordReader, error) {
	if len(b) == 0 || b[0] != recordV1 {
		v := -1
		if len(b) > 0 {
			v = int(b[0])
		}
		return nil, fmt.Errorf("%s record has version %d, want %d", what, v, recordV1)
	}
	return &recordReader{b: b[1:]}, nil
}

func decodeCheckpoint(b []byte) (*wire.Checkpoint, error) {
	r, err := newRecordReader("checkpoint", b)
	if err != nil {
		return nil, err
	}
	c := r.checkpoint()
	if err := r.done("checkpoint"); err != nil {
		return nil, err
	}
	return c, nil
}

func decodeBucket(id core.BucketID, b []byte) (*wire.Bucket, error) {
	r, err := newRecordReader("bucket", b)
	if err != nil {
		return nil, err
	}
	bk := &wire.Bucket{ID: id, Owner: r.account(), Quorum: r.u32(), MinProviders: r.u32()}
	if n := r.count(33); n > 0 {
		bk.Members = make([]wire.Member, n)
		for i := range bk.Members {
			bk.Members[i].Account = r.account()
			code := int(r.byte1())
			if code == 0 || code >= len(memberRoles) {
				if r.err == nil {
					r.err = fmt.Errorf("member role code %d", code)
				}
				break
			}
			bk.Members[i].Role = memberRoles[code]
		}
	}
	switch r.byte1() {
	case 0:
	case 1:
		bk.Latest = r.checkpoint()
	default:
		if r.err == nil {
			r.err = errors.New("bad latest checkpoint flag")
		}
	}
	bk.FormerWriters = r.accounts()
	if err := r.done("bucket"); err != nil {
		return nil, err
	}
	return bk, nil
}
