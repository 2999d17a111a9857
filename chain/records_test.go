package chain

import (
	"bytes"
	"math"
	"reflect"
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

// TestBucketAndCheckpointRecords: buckets (with and without a latest
// checkpoint and former writers) and checkpoints come back as stored;
// every truncation, trailing byte, bad role code and count larger than
// the record is refused without a panic.
func TestBucketAndCheckpointRecords(t *testing.T) {
	a, b, c := devKey("alice").Account(), devKey("bob").Account(), devKey("charlie").Account()
	cp := &wire.Checkpoint{Bucket: 7, MMRRoot: core.Sum256([]byte("root")), StartSeq: 3, LeafCount: 1 << 40,
		Height: 99, Signers: []core.AccountID{b, c}, Submitter: a}
	buckets := map[string]*wire.Bucket{
		"new": {ID: 1, Owner: a, Members: []wire.Member{{Account: a, Role: wire.Admin}}, Quorum: 1, MinProviders: 3},
		"busy": {ID: 7, Owner: a, Members: []wire.Member{{Account: a, Role: wire.Admin}, {Account: b, Role: wire.Writer}, {Account: c, Role: wire.Reader}},
			Quorum: 2, MinProviders: 5, Latest: cp, FormerWriters: []core.AccountID{c, b}},
	}
	for name, bk := range buckets {
		enc := encodeBucket(bk)
		back, err := decodeBucket(bk.ID, enc)
		if err != nil || !reflect.DeepEqual(back, bk) {
			t.Fatalf("bucket %s came back as %+v, %v", name, back, err)
		}
		for n := range len(enc) {
			if _, err := decodeBucket(bk.ID, enc[:n]); err == nil {
				t.Errorf("bucket %s cut at %d of %d bytes: decoded", name, n, len(enc))
			}
		}
		if _, err := decodeBucket(bk.ID, append(bytes.Clone(enc), 0)); err == nil {
			t.Errorf("bucket %s with a trailing byte: decoded", name)
		}
	}
	enc := encodeCheckpoint(cp)
	if back, err := decodeCheckpoint(enc); err != nil || !reflect.DeepEqual(back, cp) {
		t.Fatalf("checkpoint came back as %+v, %v", back, err)
	}
	for n := range len(enc) {
		if _, err := decodeCheckpoint(enc[:n]); err == nil {
			t.Errorf("checkpoint cut at %d of %d bytes: decoded", n, len(enc))
		}
	}

	// A member count far beyond the record, and a role code 0 and 4.
	bk := encodeBucket(buckets["new"])
	const counts = 1 + 32 + 4 + 4 // the member count's offset
	huge := bytes.Clone(bk)
	copy(huge[counts:], []byte{0xff, 0xff, 0xff, 0xff})
	for name, bad := range map[string][]byte{
		"member count beyond the record": huge,
		"role code 0":                    append(append(bytes.Clone(bk[:counts+4+32]), 0), bk[counts+4+33:]...),
		"role code 4":                    append(append(bytes.Clone(bk[:counts+4+32]), 4), bk[counts+4+33:]...),
		"latest flag 2":                  append(bytes.Clone(bk[:counts+4+33]), 2, 0, 0, 0, 0),
	} {
		if _, err := decodeBucket(1, bad); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}
