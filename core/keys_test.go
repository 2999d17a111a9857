package core

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDevKeysDistinctAndStable(t *testing.T) {
	seen := map[AccountID]string{}
	for _, n := range DevAccountNames {
		k, ok := DevKey(n)
		if !ok {
			t.Fatalf("DevKey(%q) missing", n)
		}
		k2, _ := DevKey(n)
		if k.Account() != k2.Account() {
			t.Fatalf("%s not deterministic", n)
		}
		if prev, dup := seen[k.Account()]; dup {
			t.Fatalf("%s and %s share a key", n, prev)
		}
		seen[k.Account()] = n
		if got, ok := DevName(k.Account()); !ok || got != n {
			t.Errorf("DevName = %q %v", got, ok)
		}
		if a, err := ParseAccountID(n); err != nil || a != k.Account() {
			t.Errorf("ParseAccountID(%q) = %v %v", n, a, err)
		}
		if a, err := ParseAccountID(k.Account().String()); err != nil || a != k.Account() {
			t.Errorf("ParseAccountID(hex) = %v %v", a, err)
		}
	}
	if _, ok := DevKey("mallory"); ok {
		t.Error("mallory is not a dev account")
	}
}

func TestSignVerify(t *testing.T) {
	k, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("hello")
	sig := k.Sign(msg)
	if !k.Account().Verify(msg, sig) {
		t.Fatal("genuine signature refused")
	}
	if k.Account().Verify([]byte("hellO"), sig) {
		t.Fatal("signature over other message accepted")
	}
	sig[0] ^= 1
	if k.Account().Verify(msg, sig) {
		t.Fatal("flipped signature accepted")
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "key")
	k1, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateKeyFile(path)
	if err != nil || k1.Account() != k2.Account() {
		t.Fatalf("reload gave another key: %v", err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if k, err := ResolveSigner(path); err != nil || k.Account() != k1.Account() {
		t.Errorf("ResolveSigner(file) = %v", err)
	}
	if _, err := ResolveSigner("bob"); err != nil {
		t.Errorf("ResolveSigner(bob): %v", err)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	if _, err := ReadKeyFile(bad); !errors.Is(err, Invalid) {
		t.Errorf("bad key file: %v", err)
	}
	if _, err := ResolveSigner(filepath.Join(dir, "missing")); !errors.Is(err, NotFound) {
		t.Errorf("missing key file: %v", err)
	}
}

// TestWeakKeysVerifyNothing: under ZIP-215 alone, a small-order key with
// the all-zero signature verifies any message, so anyone could sign as it.
// Verify and the batch refuse such keys; real keys are never weak.
func TestWeakKeysVerifyNothing(t *testing.T) {
	hexKey := func(s string) AccountID {
		a, err := ParseAccountID(s)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	weak := map[string]AccountID{
		"zero (order 4)":      {},
		"identity":            hexKey("0100000000000000000000000000000000000000000000000000000000000000"),
		"minus one (order 2)": hexKey("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
		"order 8":             hexKey("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
	}
	var zeroSig Signature
	zeroSig[0] = 1 // the identity point's encoding as R, s = 0
	for name, a := range weak {
		t.Run(name, func(t *testing.T) {
			if !a.Weak() {
				t.Fatal("not reported weak")
			}
			for _, sig := range []Signature{{}, zeroSig} {
				if a.Verify([]byte("any message at all"), sig) {
					t.Fatalf("signature %x verified under a weak key", sig[:4])
				}
				bv := NewBatchVerifier()
				if i := bv.Add(a, []byte("any message at all"), sig); i != -1 || bv.Verify()(i) {
					t.Fatal("the batch took a weak key")
				}
			}
		})
	}
	for _, name := range []string{"alice", "bob", "ferdie"} {
		k, _ := DevKey(name)
		if k.Account().Weak() {
			t.Errorf("dev key %s reported weak", name)
		}
		if !k.Account().Verify([]byte("m"), k.Sign([]byte("m"))) {
			t.Errorf("dev key %s: its own signature refused", name)
		}
	}
}
