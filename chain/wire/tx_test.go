package wire

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

func devKey(t testing.TB, name string) core.PrivateKey {
	k, ok := core.DevKey(name)
	if !ok {
		t.Fatalf("no dev key %s", name)
	}
	return k
}

// sampleCalls holds one of every call, with every field set.
func sampleCalls(t testing.TB) []Call {
	bob := devKey(t, "bob").Account()
	root := core.Sum256([]byte("root"))
	sc, err := core.Commitment{ChainID: "cairn-dev", Bucket: 3, MMRRoot: root, LeafCount: 4}.Sign(devKey(t, "charlie"))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := mmr.New(mmr.NewMemStore())
	for i := range 5 {
		m.Append([]byte{byte(i)})
	}
	ip, _ := m.Proof(2, 5)
	cp, _ := m.ConsistencyProof(3, 5)
	leaf := core.Leaf{Seq: 2, ContentHash: core.Sum256([]byte("blob")), Size: 4}
	return []Call{
		RegisterProvider{Endpoint: "/ip4/127.0.0.1/tcp/4001/http", Stake: 5, Capacity: 6,
			Terms: ProviderTerms{Accepting: true, PricePerGiBBlock: 3, MaxDuration: 100, Roles: []Role{Primary}}},
		UpdateProvider{Endpoint: "http://p.example", Capacity: 7, Terms: ProviderTerms{Accepting: true}},
		AddStake{Amount: 8},
		WithdrawStake{Amount: 9},
		Transfer{To: bob, Amount: 10},
		CreateBucket{Quorum: 2, MinProviders: 3, Members: []Member{{Account: bob, Role: Writer}}},
		SetMember{Bucket: 1, Member: Member{Account: bob, Role: Reader}},
		CreateAgreement{Bucket: 1, Provider: bob, Role: Primary, MaxBytes: 1 << 30, Duration: 100, Payment: 11},
		EndAgreement{Bucket: 1, Provider: bob},
		SubmitCheckpoint{Bucket: 1, MMRRoot: root, StartSeq: 0, LeafCount: 5,
			Signatures:  []Signature{{Provider: bob, Signature: sc.Signature}},
			Consistency: cp,
			DriveRoot:   &DriveRootUpdate{Drive: 1, RootCID: "bafkrei", Leaf: leaf, LeafIndex: 2, Proof: *ip}},
		OpenChallenge{Provider: bob, Bucket: 3, LeafIndex: 1, Evidence: ChallengeEvidence{Commitment: &sc}, Deposit: 12},
		OpenChallenge{Provider: bob, Bucket: 3, LeafIndex: 1, Evidence: ChallengeEvidence{FromCheckpoint: true}, Deposit: 12},
		RespondChallenge{Challenge: 1, Leaf: core.SignedLeaf{Leaf: leaf}, Data: []byte("blob"), Proof: *ip},
		ResolveChallenge{Challenge: 2},
		ReportEquivocation{Bucket: 3, A: core.SignedLeaf{Leaf: leaf, Writer: bob}, B: core.SignedLeaf{Leaf: core.Leaf{Seq: leaf.Seq, Size: 9}, Writer: bob}},
		CreateDrive{Name: "docs", Providers: []core.AccountID{bob}, Replicas: []core.AccountID{}, Quorum: 1, MaxBytes: 1 << 20, Duration: 50, Payment: 13,
			Strategy: CommitStrategy{Kind: StrategyBatched, Interval: 10}},
		SetCommitStrategy{Drive: 1, Strategy: CommitStrategy{Kind: StrategyManual}},
		ShareDrive{Drive: 1, Member: Member{Account: bob, Role: Writer}},
		UnshareDrive{Drive: 1, Account: bob},
		DeleteDrive{Drive: 1},
		JoinValidator{PubKey: ValidatorKey(bob), Stake: 14, Proof: sc.Signature},
		LeaveValidator{PubKey: ValidatorKey(bob)},
	}
}

func TestCallRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range sampleCalls(t) {
		seen[c.CallName()] = true
		t.Run(c.CallName(), func(t *testing.T) {
			b, err := MarshalCall(c)
			if err != nil {
				t.Fatal(err)
			}
			back, err := UnmarshalCall(b)
			if err != nil {
				t.Fatalf("unmarshal %s: %v", b, err)
			}
			if reflect.TypeOf(back) != reflect.TypeOf(c) {
				t.Fatalf("unmarshal gives a %T, want a %T", back, c)
			}
			if !reflect.DeepEqual(normalize(back), normalize(c)) {
				t.Fatalf("round trip\n got %#v\nwant %#v", back, c)
			}
		})
	}
	for _, n := range CallNames {
		if !seen[n] {
			t.Errorf("no sample of call %s", n)
		}
		if _, ok := newCall(n); !ok {
			t.Errorf("newCall(%s) unknown", n)
		}
	}
}

// normalize re-encodes through JSON so nil and empty slices compare equal.
func normalize(c Call) string {
	b, _ := MarshalCall(c)
	return string(b)
}

func TestUnmarshalCallRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not json":      `x`,
		"unknown call":  `{"type":"mint","value":{}}`,
		"unknown field": `{"type":"transfer","value":{"to":"` + devKey(t, "bob").Account().String() + `","amount":1,"extra":2}}`,
		"no value":      `{"type":"transfer"}`,
		"trailing":      `{"type":"add_stake","value":{"amount":1}} {}`,
		"bad account":   `{"type":"transfer","value":{"to":"zz","amount":1}}`,
		"negative":      `{"type":"add_stake","value":{"amount":-1}}`,
		"outer extra":   `{"type":"add_stake","value":{"amount":1},"x":1}`,
	} {
		_, err := UnmarshalCall([]byte(in))
		if !errors.Is(err, core.Invalid) {
			t.Errorf("%s: err %v, want Invalid", name, err)
		}
		if name == "unknown call" && !errors.Is(err, ErrUnknownCall) {
			t.Errorf("unknown call: err %v, want ErrUnknownCall", err)
		}
	}
}

func TestTxEncodeDecode(t *testing.T) {
	alice := devKey(t, "alice")
	for _, c := range sampleCalls(t) {
		tx, err := EncodeTx(alice, "cairn-dev", 7, c)
		if err != nil {
			t.Fatal(err)
		}
		d, err := DecodeTx(tx)
		if err != nil {
			t.Fatalf("%s: %v", c.CallName(), err)
		}
		if d.ChainID != "cairn-dev" || d.Signer != alice.Account() || d.Nonce != 7 || normalize(d.Call) != normalize(c) {
			t.Fatalf("%s: decoded %+v", c.CallName(), d)
		}
		if err := d.VerifySignature(); err != nil {
			t.Fatalf("%s: %v", c.CallName(), err)
		}
	}
}

func TestTxTamper(t *testing.T) {
	alice := devKey(t, "alice")
	tx, err := EncodeTx(alice, "cairn-dev", 1, Transfer{To: devKey(t, "bob").Account(), Amount: 5})
	if err != nil {
		t.Fatal(err)
	}
	// Flip each byte of the signature and of the body: either it no longer
	// decodes, or the signature fails. Never accepted, never a panic.
	for i := len(TxDomain); i < len(tx); i++ {
		b := bytes.Clone(tx)
		b[i] ^= 0x01
		d, err := DecodeTx(b)
		if err != nil {
			continue
		}
		if d.VerifySignature() == nil {
			t.Fatalf("byte %d flipped, still verifies", i)
		}
	}
	// Another signer's key claimed as signer.
	body := bytes.Replace(tx, []byte(alice.Account().String()), []byte(devKey(t, "bob").Account().String()), 1)
	if d, err := DecodeTx(body); err != nil || !errors.Is(d.VerifySignature(), core.Unauthorized) {
		t.Fatalf("signer swapped: %v", err)
	}
	for name, b := range map[string][]byte{
		"empty":     nil,
		"short":     tx[:len(TxDomain)+10],
		"no domain": append([]byte("cairn/tx/v2\x00"), tx[len(TxDomain):]...),
		"too big":   make([]byte, MaxTxBytes+1),
	} {
		if _, err := DecodeTx(b); !errors.Is(err, core.Invalid) {
			t.Errorf("%s: err %v, want Invalid", name, err)
		}
	}
}

// FuzzDecodeTx: DecodeTx never panics, and what it accepts re-verifies
// consistently and re-encodes its call.
func FuzzDecodeTx(f *testing.F) {
	alice := devKey(f, "alice")
	for _, c := range sampleCalls(f) {
		tx, err := EncodeTx(alice, "cairn-dev", 1, c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tx)
	}
	f.Add([]byte(TxDomain))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeTx(b)
		if err != nil {
			return
		}
		_ = d.VerifySignature()
		if _, err := MarshalCall(d.Call); err != nil {
			t.Fatalf("decoded call does not re-encode: %v", err)
		}
	})
}

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz/FuzzDecodeTx from sampleCalls")

// TestFuzzCorpus checks the seed corpus in testdata/fuzz/FuzzDecodeTx is
// there; -update-corpus rewrites it from sampleCalls.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeTx")
	if *updateCorpus {
		os.MkdirAll(dir, 0o755)
		alice := devKey(t, "alice")
		for i, c := range sampleCalls(t) {
			tx, err := EncodeTx(alice, "cairn-dev", uint64(i), c)
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("seed-%02d-%s", i, c.CallName())
			data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", tx)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 {
		t.Fatalf("seed corpus %s missing: %v", dir, err)
	}
}

// BenchmarkDecodeTx: decoding a checkpoint transaction with a signature
// and a consistency proof, which the chain does for every transaction of
// every block.
func BenchmarkDecodeTx(b *testing.B) {
	var cp Call
	for _, c := range sampleCalls(b) {
		if c.CallName() == "submit_checkpoint" {
			cp = c
		}
	}
	k, _ := core.DevKey("alice")
	raw, err := EncodeTx(k, "cairn-dev", 7, cp)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeTx(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// nestedDecode is how DecodeTx read a body before decodeBody: strict
// decodes through json.RawMessage, the reference decodeBody must never be
// more lenient than.
func nestedDecode(b []byte) (decodedBody, error) {
	var body txBody
	if err := strictUnmarshal(b, &body); err != nil {
		return decodedBody{}, err
	}
	out := decodedBody{ChainID: body.ChainID, Signer: body.Signer, Nonce: body.Nonce}
	if len(body.Call) == 0 || string(body.Call) == "null" {
		return out, nil
	}
	c, err := UnmarshalCall(body.Call)
	out.call = c
	return out, err
}

// checkNoMoreLenient: whatever decodeBody accepts, the nested decoding
// accepts too, with the same result.
func checkNoMoreLenient(t *testing.T, b []byte) (accepted bool) {
	got, err := decodeBody(b)
	if err != nil {
		return false
	}
	want, werr := nestedDecode(b)
	if werr != nil {
		t.Fatalf("decodeBody accepts what the nested decoding refuses (%v): %s", werr, b)
	}
	if got.ChainID != want.ChainID || got.Signer != want.Signer || got.Nonce != want.Nonce ||
		(got.call == nil) != (want.call == nil) || (got.call != nil && normalize(got.call) != normalize(want.call)) {
		t.Fatalf("decodeBody and the nested decoding differ on %s:\n%+v\n%+v", b, got, want)
	}
	return true
}

func TestDecodeBody(t *testing.T) {
	bob := devKey(t, "bob").Account().String()
	head := `{"chain_id":"c","signer":"` + bob + `","nonce":3,`
	for _, tc := range []struct {
		name string
		body string
		ok   bool
	}{
		{"type first", head + `"call":{"type":"add_stake","value":{"amount":1}}}`, true},
		{"value first", head + `"call":{"value":{"amount":1},"type":"add_stake"}}`, true},
		{"call first", `{"call":{"type":"add_stake","value":{"amount":1}},"chain_id":"c","signer":"` + bob + `","nonce":3}`, true},
		{"null call", head + `"call":null}`, true},
		{"unknown field in value", head + `"call":{"type":"add_stake","value":{"amount":1,"x":1}}}`, false},
		{"unknown field in value, value first", head + `"call":{"value":{"amount":1,"x":1},"type":"add_stake"}}`, false},
		{"unknown field in union", head + `"call":{"type":"add_stake","value":{"amount":1},"x":1}}`, false},
		{"unknown field in body", head + `"call":{"type":"add_stake","value":{"amount":1}},"x":1}`, false},
		{"duplicate type", head + `"call":{"type":"add_stake","value":{"amount":1},"type":"withdraw_stake"}}`, false},
		{"duplicate value", head + `"call":{"type":"add_stake","value":{"amount":1},"value":{}}}`, false},
		{"duplicate nonce", head + `"nonce":4,"call":{"type":"add_stake","value":{"amount":1}}}`, false},
		{"no value", head + `"call":{"type":"add_stake"}}`, false},
		{"unknown call", head + `"call":{"type":"mint","value":{}}}`, false},
		{"trailing", head + `"call":{"type":"add_stake","value":{"amount":1}}} {}`, false},
		{"body not an object", `[1]`, false},
		{"call not an object", head + `"call":[1]}`, false},
		{"folded key", `{"CHAIN_ID":"c","signer":"` + bob + `","nonce":3,"call":{"type":"add_stake","value":{"amount":1}}}`, false},
		{"cut short", head + `"call":{"type":"add_stake","value":{"amount":1}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkNoMoreLenient(t, []byte(tc.body)); got != tc.ok {
				_, err := decodeBody([]byte(tc.body))
				t.Fatalf("accepted %v, want %v (%v)", got, tc.ok, err)
			}
		})
	}
	_, err := decodeBody([]byte(head + `"call":{"type":"mint","value":{}}}`))
	if !errors.Is(err, ErrUnknownCall) {
		t.Errorf("unknown call: %v, want ErrUnknownCall", err)
	}
}

// FuzzDecodeBody: decodeBody never panics and never accepts what the
// nested decoding refuses, nor decodes differently.
func FuzzDecodeBody(f *testing.F) {
	alice := devKey(f, "alice")
	for _, c := range sampleCalls(f) {
		tx, err := EncodeTx(alice, "cairn-dev", 1, c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tx[txHeader:])
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkNoMoreLenient(t, b) })
}
