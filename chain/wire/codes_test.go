package wire

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cairn-storage/cairn/core"
)

func TestKindCodeTable(t *testing.T) {
	tests := []struct {
		kind core.Kind
		code uint32
	}{
		{core.Invalid, 1},
		{core.NotFound, 2},
		{core.Exists, 3},
		{core.Unauthorized, 4},
		{core.Conflict, 5},
		{core.Unavailable, 6},
		{core.Corrupt, 7},
		{core.NoQuorum, 8},
		{core.Internal, 9},
		{core.Other, 10},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			if got := KindToCode(tt.kind); got != tt.code {
				t.Errorf("KindToCode(%v) = %d, want %d", tt.kind, got, tt.code)
			}
			if got := CodeToKind(tt.code); got != tt.kind {
				t.Errorf("CodeToKind(%d) = %v, want %v", tt.code, got, tt.kind)
			}
		})
	}
	specific := []struct {
		code uint32
		kind core.Kind
		name string
	}{
		{CodeOK, core.Other, "ok"},
		{CodeTxDecode, core.Invalid, "tx_decode"},
		{CodeWrongChainID, core.Invalid, "wrong_chain_id"},
		{CodeBadTxSignature, core.Unauthorized, "bad_tx_signature"},
		{CodeBadNonce, core.Conflict, "bad_nonce"},
		{CodeUnknownCall, core.Invalid, "unknown_call"},
		{CodeInsufficientFunds, core.Conflict, "insufficient_funds"},
		{999, core.Other, "code(999)"},
	}
	for _, tt := range specific {
		if got := CodeToKind(tt.code); got != tt.kind {
			t.Errorf("CodeToKind(%d) = %v, want %v", tt.code, got, tt.kind)
		}
		if got := CodeName(tt.code); got != tt.name {
			t.Errorf("CodeName(%d) = %q, want %q", tt.code, got, tt.name)
		}
	}
	// Every kind beyond the known ones still gets a non-zero code.
	if KindToCode(core.Kind(200)) == CodeOK {
		t.Error("unknown kind mapped to CodeOK")
	}
}

func TestErrorCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code uint32
	}{
		{"nil", nil, CodeOK},
		{"plain", errors.New("x"), CodeOther},
		{"kind", core.Errorf("op", core.NoQuorum, "x"), CodeNoQuorum},
		{"coded", Coded(CodeBadNonce, "nonce %d", 3), CodeBadNonce},
		{"wrapped coded", fmt.Errorf("ctx: %w", Coded(CodeWrongChainID, "x")), CodeWrongChainID},
	}
	for _, tt := range tests {
		if got := ErrorCode(tt.err); got != tt.code {
			t.Errorf("%s: ErrorCode = %d, want %d", tt.name, got, tt.code)
		}
	}
	if !errors.Is(Coded(CodeBadNonce, "x"), core.Conflict) {
		t.Error("CodedError does not match its kind")
	}
}
