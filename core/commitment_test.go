package core

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

type vector struct {
	Name       string     `json:"name"`
	Commitment Commitment `json:"commitment"`
	Signer     string     `json:"signer"`
	SignerKey  AccountID  `json:"signer_public_key"`
	PayloadHex string     `json:"payload_hex"`
	Signature  Signature  `json:"signature"`
}

func vectorInputs() []vector {
	var root H256
	for i := range root {
		root[i] = byte(i)
	}
	return []vector{
		{Name: "empty bucket", Signer: "alice", Commitment: Commitment{ChainID: "cairn-dev", Bucket: 1, MMRRoot: Sum256(nil), StartSeq: 0, LeafCount: 0}},
		{Name: "counting root", Signer: "bob", Commitment: Commitment{ChainID: "cairn-dev", Bucket: 42, MMRRoot: root, StartSeq: 7, LeafCount: 1000}},
		{Name: "max integers", Signer: "charlie", Commitment: Commitment{ChainID: "c", Bucket: ^BucketID(0), MMRRoot: Sum256([]byte("x")), StartSeq: ^uint64(0), LeafCount: ^uint64(0)}},
		{Name: "long chain id", Signer: "ferdie", Commitment: Commitment{ChainID: "cairn-testnet-0123456789-0123456789-0123456789-0123456789-01", Bucket: 3, MMRRoot: root, StartSeq: 1, LeafCount: 2}},
	}
}

func computeVectors(t *testing.T) []vector {
	vs := vectorInputs()
	for i := range vs {
		k, ok := DevKey(vs[i].Signer)
		if !ok {
			t.Fatalf("no dev key %q", vs[i].Signer)
		}
		p, err := vs[i].Commitment.Payload()
		if err != nil {
			t.Fatal(err)
		}
		vs[i].SignerKey = k.Account()
		vs[i].PayloadHex = hex.EncodeToString(p)
		sc, err := vs[i].Commitment.Sign(k)
		if err != nil {
			t.Fatal(err)
		}
		vs[i].Signature = sc.Signature
	}
	return vs
}

// TestCommitmentVectors pins the payload encoding and the dev keys byte for
// byte: another implementation must produce exactly these bytes.
func TestCommitmentVectors(t *testing.T) {
	path := filepath.Join("testdata", "commitment_vectors.json")
	got := computeVectors(t)
	if *update {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want []vector
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(got) {
		t.Fatalf("have %d vectors, file has %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		t.Run(w.Name, func(t *testing.T) {
			if g.PayloadHex != w.PayloadHex {
				t.Errorf("payload\n got %s\nwant %s", g.PayloadHex, w.PayloadHex)
			}
			if g.SignerKey != w.SignerKey {
				t.Errorf("%s key %s, want %s", w.Signer, g.SignerKey, w.SignerKey)
			}
			if g.Signature != w.Signature {
				t.Errorf("signature %s, want %s", g.Signature, w.Signature)
			}
			// The file's signature verifies over the file's payload.
			p, _ := hex.DecodeString(w.PayloadHex)
			if !w.SignerKey.Verify(p, w.Signature) {
				t.Error("vector signature does not verify")
			}
			c, err := ParseCommitmentPayload(p)
			if err != nil || c != w.Commitment {
				t.Errorf("parse = %+v, %v; want %+v", c, err, w.Commitment)
			}
		})
	}
}

func TestPayloadLayout(t *testing.T) {
	c := Commitment{ChainID: "ab", Bucket: 0x0102030405060708, StartSeq: 9, LeafCount: 10}
	c.MMRRoot[0], c.MMRRoot[31] = 0xaa, 0xbb
	p, err := c.Payload()
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 77+2 {
		t.Fatalf("len %d, want 79", len(p))
	}
	if string(p[:20]) != "cairn/commitment/v1\x00" || p[20] != 2 || string(p[21:23]) != "ab" {
		t.Fatalf("header %q", p[:23])
	}
	if p[23] != 1 || p[30] != 8 || p[31] != 0xaa || p[62] != 0xbb || p[70] != 9 || p[78] != 10 {
		t.Fatalf("fields misplaced: %x", p)
	}
}

func TestPayloadRejects(t *testing.T) {
	for _, c := range []Commitment{
		{ChainID: "", Bucket: 1},
		{ChainID: string(make([]byte, 65)), Bucket: 1},
		{ChainID: "x", Bucket: 0},
	} {
		if _, err := c.Payload(); !errors.Is(err, Invalid) {
			t.Errorf("%+v: err %v, want Invalid", c, err)
		}
	}
	good, _ := Commitment{ChainID: "x", Bucket: 1}.Payload()
	for name, b := range map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)-1],
		"long":      append(append([]byte{}, good...), 0),
		"domain":    append([]byte("cairn/commitment/v2\x00"), good[20:]...),
	} {
		if _, err := ParseCommitmentPayload(b); !errors.Is(err, Invalid) {
			t.Errorf("%s: err %v, want Invalid", name, err)
		}
	}
}

func TestSignedCommitmentVerify(t *testing.T) {
	alice, _ := DevKey("alice")
	bob, _ := DevKey("bob")
	c := Commitment{ChainID: "cairn-dev", Bucket: 5, MMRRoot: Sum256([]byte("r")), LeafCount: 3}
	sc, err := c.Sign(alice)
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Verify(); err != nil {
		t.Fatalf("genuine: %v", err)
	}
	if err := sc.VerifyBy(bob.Account()); !errors.Is(err, Corrupt) {
		t.Errorf("wrong key: %v, want Corrupt", err)
	}
	mutations := map[string]func(*SignedCommitment){
		"root":       func(s *SignedCommitment) { s.MMRRoot[0] ^= 1 },
		"leaf count": func(s *SignedCommitment) { s.LeafCount++ },
		"start seq":  func(s *SignedCommitment) { s.StartSeq++ },
		"bucket":     func(s *SignedCommitment) { s.Bucket++ },
		"chain":      func(s *SignedCommitment) { s.ChainID = "other" },
		"signature":  func(s *SignedCommitment) { s.Signature[10] ^= 0x40 },
	}
	for name, mut := range mutations {
		s := sc
		mut(&s)
		if err := s.Verify(); !errors.Is(err, Corrupt) {
			t.Errorf("%s changed: %v, want Corrupt", name, err)
		}
	}
	// JSON round trip keeps it verifiable.
	b, _ := json.Marshal(sc)
	var back SignedCommitment
	if err := json.Unmarshal(b, &back); err != nil || back != sc || back.Verify() != nil {
		t.Fatalf("json round trip: %v %+v", err, back)
	}
}

func FuzzParseCommitmentPayload(f *testing.F) {
	good, _ := Commitment{ChainID: "cairn-dev", Bucket: 1, LeafCount: 2}.Payload()
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte(CommitmentDomain + "\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommitmentPayload(b)
		if err != nil {
			return
		}
		again, err := c.Payload()
		if err != nil || string(again) != string(b) {
			t.Fatalf("re-encode differs: %x vs %x (%v)", again, b, err)
		}
	})
}
