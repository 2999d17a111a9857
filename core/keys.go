package core

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	cmted "github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/oasisprotocol/curve25519-voi/curve"
)

// AccountID is an account's ed25519 public key. Accounts, providers and
// bucket members are all named by it.
type AccountID [ed25519.PublicKeySize]byte

// Signature is an ed25519 signature.
type Signature [ed25519.SignatureSize]byte

// String is lowercase hex.
func (a AccountID) String() string { return hex.EncodeToString(a[:]) }

// Short is the first 8 hex digits, for logs and tables.
func (a AccountID) Short() string { return a.String()[:8] }

// IsZero reports whether a is all zero bytes (no account).
func (a AccountID) IsZero() bool { return a == AccountID{} }

// ParseAccountID parses 64 hex digits, or a dev account's name (alice, bob,
// charlie, dave, eve, ferdie).
func ParseAccountID(s string) (AccountID, error) {
	if k, ok := DevKey(s); ok {
		return k.Account(), nil
	}
	h, err := ParseH256(s)
	if err != nil {
		return AccountID{}, Errorf("core.ParseAccountID", Invalid, "account must be 64 hex digits or a dev account name, got %q", s)
	}
	return AccountID(h), nil
}

func (a AccountID) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

func (a *AccountID) UnmarshalText(b []byte) error {
	h, err := ParseH256(string(b))
	if err != nil {
		return Errorf("core.AccountID", Invalid, "bad account id %q", b)
	}
	*a = AccountID(h)
	return nil
}

func (s Signature) String() string { return hex.EncodeToString(s[:]) }

func (s Signature) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Signature) UnmarshalText(b []byte) error {
	if len(b) != 2*len(s) {
		return Errorf("core.Signature", Invalid, "signature must be %d hex digits, got %d", 2*len(s), len(b))
	}
	if _, err := hex.Decode(s[:], b); err != nil {
		return E("core.Signature", Invalid, err)
	}
	return nil
}

// Verify reports whether sig is a valid signature of msg by account a. It
// follows ZIP-215, the rules CometBFT's ed25519 (and so the chain) applies,
// so the client never counts a signature the chain would refuse.
//
// A key that is not a point, or is a point of small order, verifies
// nothing: ZIP-215 alone accepts the all-zero key with the all-zero
// signature over any message, so anyone could "sign" as such a key.
func (a AccountID) Verify(msg []byte, sig Signature) bool {
	return !a.Weak() && cmted.PubKey(a[:]).VerifySignature(msg, sig[:])
}

// Weak reports whether a cannot be a signing key: its bytes do not decode
// to a curve point, or the point has small order (a signature by it can be
// made without any secret). No real key is weak. The verdict is cached
// per key (weakcache.go).
func (a AccountID) Weak() bool { return weakVerdicts.get(a, weak) }

// weak is Weak without the cache.
func weak(a AccountID) bool {
	var c curve.CompressedEdwardsY
	if _, err := c.SetBytes(a[:]); err != nil {
		return true
	}
	var p curve.EdwardsPoint
	if _, err := p.SetCompressedY(&c); err != nil {
		return true
	}
	return p.IsSmallOrder()
}

// PrivateKey is an ed25519 signing key.
type PrivateKey struct {
	key ed25519.PrivateKey
}

// NewKeyFromSeed derives a key from a 32-byte seed.
func NewKeyFromSeed(seed []byte) (PrivateKey, error) {
	if len(seed) != ed25519.SeedSize {
		return PrivateKey{}, Errorf("core.NewKeyFromSeed", Invalid, "seed must be %d bytes", ed25519.SeedSize)
	}
	return PrivateKey{key: ed25519.NewKeyFromSeed(seed)}, nil
}

// GenerateKey makes a fresh key from r (crypto/rand when r is nil).
func GenerateKey(r io.Reader) (PrivateKey, error) {
	if r == nil {
		r = rand.Reader
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(r, seed); err != nil {
		return PrivateKey{}, E("core.GenerateKey", Internal, err)
	}
	return NewKeyFromSeed(seed)
}

// Account returns the key's public half.
func (k PrivateKey) Account() AccountID {
	var a AccountID
	copy(a[:], k.key.Public().(ed25519.PublicKey))
	return a
}

// Sign signs msg.
func (k PrivateKey) Sign(msg []byte) Signature {
	var s Signature
	copy(s[:], ed25519.Sign(k.key, msg))
	return s
}

// Seed returns the 32-byte seed the key derives from (for key files).
func (k PrivateKey) Seed() []byte { return k.key.Seed() }

// IsZero reports whether k holds no key.
func (k PrivateKey) IsZero() bool { return k.key == nil }

// DevAccountNames are the deterministic development accounts funded at
// genesis of a dev chain.
var DevAccountNames = []string{"alice", "bob", "charlie", "dave", "eve", "ferdie"}

// DevKey returns the deterministic key of a dev account: the ed25519 key
// whose seed is SHA-256("cairn/dev-account/" + name). These keys are public
// knowledge and must never hold value outside a development network.
func DevKey(name string) (PrivateKey, bool) {
	for _, n := range DevAccountNames {
		if n == name {
			seed := sha256.Sum256([]byte("cairn/dev-account/" + name))
			k, _ := NewKeyFromSeed(seed[:])
			return k, true
		}
	}
	return PrivateKey{}, false
}

// DevName returns the dev account name of a, if it is one.
func DevName(a AccountID) (string, bool) {
	for _, n := range DevAccountNames {
		if k, _ := DevKey(n); k.Account() == a {
			return n, true
		}
	}
	return "", false
}

// Key files hold the 32-byte seed as 64 hex digits and a newline.

// WriteKeyFile writes k to path with mode 0600, durably.
func WriteKeyFile(path string, k PrivateKey) error {
	data := []byte(hex.EncodeToString(k.Seed()) + "\n")
	if err := WriteFileAtomic(path, data, 0o600); err != nil {
		return E("core.WriteKeyFile", Internal, err)
	}
	return nil
}

// ReadKeyFile reads a key written by WriteKeyFile.
func ReadKeyFile(path string) (PrivateKey, error) {
	const op = "core.ReadKeyFile"
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return PrivateKey{}, E(op, NotFound, err)
		}
		return PrivateKey{}, E(op, Internal, err)
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return PrivateKey{}, Errorf(op, Invalid, "%s: not a Cairn key file (want 64 hex digits)", path)
	}
	return NewKeyFromSeed(seed)
}

// LoadOrCreateKeyFile reads the key at path, creating it first if absent.
func LoadOrCreateKeyFile(path string) (PrivateKey, error) {
	k, err := ReadKeyFile(path)
	if err == nil || KindOf(err) != NotFound {
		return k, err
	}
	k, err = GenerateKey(nil)
	if err != nil {
		return k, err
	}
	if err := WriteKeyFile(path, k); err != nil {
		return PrivateKey{}, err
	}
	return k, nil
}

// ResolveSigner turns a dev account name or a key file path into a key.
func ResolveSigner(nameOrPath string) (PrivateKey, error) {
	if k, ok := DevKey(nameOrPath); ok {
		return k, nil
	}
	k, err := ReadKeyFile(nameOrPath)
	if err != nil {
		return k, E("core.ResolveSigner", KindOf(err), fmt.Errorf("signer %q is neither a dev account (%s) nor a readable key file: %w", nameOrPath, strings.Join(DevAccountNames, ", "), err))
	}
	return k, nil
}
