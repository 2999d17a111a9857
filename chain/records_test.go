package chain

import (
	"bytes"
	"math"
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// TestRecordsRoundTrip: the binary records give back what was stored,
// extremes included, and refuse bytes they did not write.
func TestRecordsRoundTrip(t *testing.T) {
	k, _ := core.DevKey("alice")
	id := k.Account()
	for _, acc := range []wire.Account{
		{ID: id},
		{ID: id, Balance: 1, Stake: 2, Nonce: 3},
		{ID: id, Balance: math.MaxUint64, Stake: math.MaxUint64, Nonce: math.MaxUint64},
	} {
		b := encodeAccount(acc)
		if len(b) != accountLen {
			t.Fatalf("account record is %d bytes", len(b))
		}
		back, err := decodeAccount(id, b)
		if err != nil || back != acc {
			t.Errorf("account %+v came back as %+v, %v", acc, back, err)
		}
	}
	for _, r := range []agreementRecord{
		{Role: wire.Primary},
		{Role: wire.Replica, MaxBytes: 1 << 30, ExpiryHeight: 77, Payment: 5},
		{Role: wire.Primary, MaxBytes: math.MaxUint64, ExpiryHeight: math.MaxInt64, Payment: math.MaxUint64},
		{Role: wire.Replica, ExpiryHeight: -1},
	} {
		back, err := decodeAgreement(encodeAgreement(r))
		if err != nil || back != r {
			t.Errorf("agreement %+v came back as %+v, %v", r, back, err)
		}
	}

	good := encodeAgreement(agreementRecord{Role: wire.Primary, MaxBytes: 9})
	for name, b := range map[string][]byte{
		"empty":       nil,
		"short":       good[:len(good)-1],
		"long":        append(bytes.Clone(good), 0),
		"version 2":   append([]byte{2}, good[1:]...),
		"role code 0": append([]byte{recordV1, 0}, good[2:]...),
		"role code 3": append([]byte{recordV1, 3}, good[2:]...),
		"JSON of old": []byte(`{"role":"primary","max_bytes":9,"expiry_height":0,"payment":0}`),
	} {
		if _, err := decodeAgreement(b); err == nil {
			t.Errorf("agreement %s: decoded", name)
		}
	}
	acc := encodeAccount(wire.Account{ID: id, Balance: 4})
	for name, b := range map[string][]byte{
		"short":     acc[:accountLen-1],
		"version 0": append([]byte{0}, acc[1:]...),
		"JSON":      []byte(`{"id":"00","balance":4,"stake":0,"nonce":0}`),
	} {
		if _, err := decodeAccount(id, b); err == nil {
			t.Errorf("account %s: decoded", name)
		}
	}
}

// TestEncodeAgreementRefusesUnknownRole: a role the calls never store is a
// broken invariant, not a record.
func TestEncodeAgreementRefusesUnknownRole(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	encodeAgreement(agreementRecord{Role: "owner"})
}
