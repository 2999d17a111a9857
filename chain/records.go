package chain

import (
	"encoding/binary"
	"fmt"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// The records every checkpoint reads (the submitter's account, each
// signer's agreement) are stored in a fixed binary layout rather than
// JSON: decoding them was a large part of FinalizeBlock's cost besides
// signature verification. Each starts with a version byte; integers are
// 8 bytes big-endian. Every other record stays JSON (state.go).
//
//	account:   0x01 || balance || stake || nonce                  (the id is in the key)
//	agreement: 0x01 || role (1 primary, 2 replica) || max_bytes || expiry_height || payment
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
