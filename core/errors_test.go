package core

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindNamesRoundTrip(t *testing.T) {
	for k := Other; k <= Internal; k++ {
		if got := ParseKind(k.String()); got != k {
			t.Errorf("ParseKind(%q) = %v, want %v", k.String(), got, k)
		}
	}
	if ParseKind("nonsense") != Other {
		t.Error("unknown name should be Other")
	}
}

func TestErrorKinds(t *testing.T) {
	base := E("store.Get", NotFound, errors.New("no such chunk"))
	wrapped := fmt.Errorf("download: %w", base)
	outer := E("fs.Download", Other, wrapped)
	tests := []struct {
		name string
		err  error
		kind Kind
	}{
		{"nil", nil, Other},
		{"plain", errors.New("x"), Other},
		{"direct", base, NotFound},
		{"fmt-wrapped", wrapped, NotFound},
		{"outer without kind inherits", outer, NotFound},
		{"outer kind wins", E("op", Unavailable, base), Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.kind {
				t.Errorf("KindOf = %v, want %v", got, tt.kind)
			}
			if tt.err != nil && tt.kind != Other && !errors.Is(tt.err, tt.kind) {
				t.Errorf("errors.Is(err, %v) false", tt.kind)
			}
			if tt.err != nil && errors.Is(tt.err, Corrupt) {
				t.Error("errors.Is matched the wrong kind")
			}
		})
	}
	if got := base.Error(); got != "store.Get: not_found: no such chunk" {
		t.Errorf("message %q", got)
	}
	if !Unavailable.Retryable() || NotFound.Retryable() || Corrupt.Retryable() {
		t.Error("only Unavailable is retryable")
	}
}

func TestIDs(t *testing.T) {
	if id, err := ParseBucketID("17"); err != nil || id != 17 || id.String() != "17" {
		t.Errorf("bucket 17: %v %v", id, err)
	}
	for _, bad := range []string{"", "0", "-1", "x", "18446744073709551616", " 1"} {
		if _, err := ParseBucketID(bad); !errors.Is(err, Invalid) {
			t.Errorf("ParseBucketID(%q) err %v", bad, err)
		}
		if _, err := ParseDriveID(bad); !errors.Is(err, Invalid) {
			t.Errorf("ParseDriveID(%q) err %v", bad, err)
		}
		if _, err := ParseChallengeID(bad); !errors.Is(err, Invalid) {
			t.Errorf("ParseChallengeID(%q) err %v", bad, err)
		}
	}
	h := Sum256([]byte("abc"))
	if h.String() != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("sha256(abc) = %s", h)
	}
	for _, s := range []string{h.String(), "0x" + h.String()} {
		if g, err := ParseH256(s); err != nil || g != h {
			t.Errorf("ParseH256(%q) = %v %v", s, g, err)
		}
	}
	for _, bad := range []string{"", "zz", h.String()[:63], h.String() + "0", "g" + h.String()[1:]} {
		if _, err := ParseH256(bad); !errors.Is(err, Invalid) {
			t.Errorf("ParseH256(%q) err %v", bad, err)
		}
	}
}
