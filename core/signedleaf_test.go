package core

import (
	"encoding/hex"
	"errors"
	"testing"
)

func TestLeafAuthPayloadLayout(t *testing.T) {
	l := Leaf{Seq: 258, ContentHash: Sum256([]byte("abc")), Size: 3}
	p, err := LeafAuthPayload("cairn-dev", 7, l)
	if err != nil {
		t.Fatal(err)
	}
	want := hex.EncodeToString([]byte(LeafAuthDomain)) + "09" + hex.EncodeToString([]byte("cairn-dev")) +
		"0000000000000007" + hex.EncodeToString(l.Bytes())
	if got := hex.EncodeToString(p); got != want {
		t.Fatalf("payload\n got %s\nwant %s", got, want)
	}
	if len(p) != 90+len("cairn-dev") {
		t.Fatalf("payload is %d bytes, want %d", len(p), 90+len("cairn-dev"))
	}
	for _, bad := range []struct {
		chain  string
		bucket BucketID
	}{{"", 1}, {string(make([]byte, MaxChainIDLen+1)), 1}, {"c", 0}} {
		if _, err := LeafAuthPayload(bad.chain, bad.bucket, l); !errors.Is(err, Invalid) {
			t.Errorf("LeafAuthPayload(%q, %d) err %v, want invalid", bad.chain, bad.bucket, err)
		}
	}
}

func TestSignedLeafVerify(t *testing.T) {
	alice, _ := DevKey("alice")
	bob, _ := DevKey("bob")
	l := Leaf{Seq: 5, ContentHash: Sum256([]byte("x")), Size: 1}
	s, err := SignLeaf(alice, "cairn-dev", 3, l)
	if err != nil {
		t.Fatal(err)
	}
	if s.Writer != alice.Account() {
		t.Fatalf("writer %s, want alice", s.Writer.Short())
	}
	if err := s.Verify("cairn-dev", 3); err != nil {
		t.Fatalf("valid leaf signature refused: %v", err)
	}
	cases := map[string]func(SignedLeaf) (SignedLeaf, string, BucketID){
		"other chain":  func(s SignedLeaf) (SignedLeaf, string, BucketID) { return s, "cairn-test", 3 },
		"other bucket": func(s SignedLeaf) (SignedLeaf, string, BucketID) { return s, "cairn-dev", 4 },
		"other seq":    func(s SignedLeaf) (SignedLeaf, string, BucketID) { s.Seq++; return s, "cairn-dev", 3 },
		"other hash":   func(s SignedLeaf) (SignedLeaf, string, BucketID) { s.ContentHash[0] ^= 1; return s, "cairn-dev", 3 },
		"other size":   func(s SignedLeaf) (SignedLeaf, string, BucketID) { s.Size++; return s, "cairn-dev", 3 },
		"other writer": func(s SignedLeaf) (SignedLeaf, string, BucketID) { s.Writer = bob.Account(); return s, "cairn-dev", 3 },
		"flipped sig":  func(s SignedLeaf) (SignedLeaf, string, BucketID) { s.Signature[10] ^= 1; return s, "cairn-dev", 3 },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			m, chain, b := mutate(s)
			if err := m.Verify(chain, b); !errors.Is(err, Corrupt) {
				t.Fatalf("err %v, want corrupt", err)
			}
		})
	}
}
