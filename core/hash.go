package core

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// H256 is a 32-byte hash: an MMR root, a chunk's content hash, a block hash.
type H256 [32]byte

// Sum256 is SHA-256, the hash Cairn uses for content and commitments.
func Sum256(b []byte) H256 { return sha256.Sum256(b) }

// String is lowercase hex without a prefix.
func (h H256) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zero bytes.
func (h H256) IsZero() bool { return h == H256{} }

// ParseH256 parses 64 hex digits, with or without a 0x prefix.
func ParseH256(s string) (H256, error) {
	var h H256
	if len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X") {
		s = s[2:]
	}
	if len(s) != 64 {
		return h, Errorf("core.ParseH256", Invalid, "hash must be 64 hex digits, got %d characters", len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, E("core.ParseH256", Invalid, fmt.Errorf("bad hex: %w", err))
	}
	return h, nil
}

// MarshalText encodes h as hex (JSON strings, flags).
func (h H256) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText decodes hex.
func (h *H256) UnmarshalText(b []byte) error {
	v, err := ParseH256(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}
