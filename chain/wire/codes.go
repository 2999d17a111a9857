package wire

import (
	"fmt"

	"github.com/cairn-storage/cairn/core"
)

// ABCI result codes. Code 0 is success. Codes 1-10 are one per core.Kind;
// codes 20 and up name specific transaction-envelope failures, each
// belonging to one kind, so a client can tell a stale nonce (retry with a
// fresh one) from any other conflict.
const (
	CodeOK           uint32 = 0
	CodeInvalid      uint32 = 1
	CodeNotFound     uint32 = 2
	CodeExists       uint32 = 3
	CodeUnauthorized uint32 = 4
	CodeConflict     uint32 = 5
	CodeUnavailable  uint32 = 6
	CodeCorrupt      uint32 = 7
	CodeNoQuorum     uint32 = 8
	CodeInternal     uint32 = 9
	CodeOther        uint32 = 10

	CodeTxDecode          uint32 = 20 // the bytes are not a transaction (invalid)
	CodeWrongChainID      uint32 = 21 // signed for another chain (invalid)
	CodeBadTxSignature    uint32 = 22 // the envelope signature does not verify (unauthorized)
	CodeBadNonce          uint32 = 23 // replayed or skipped nonce (conflict)
	CodeUnknownCall       uint32 = 24 // the call name is not known (invalid)
	CodeInsufficientFunds uint32 = 25 // balance or stake too low (conflict)
)

// codeTable is the one table between kinds and codes.
var codeTable = []struct {
	code uint32
	kind core.Kind
	name string
}{
	{CodeOK, core.Other, "ok"},
	{CodeInvalid, core.Invalid, "invalid"},
	{CodeNotFound, core.NotFound, "not_found"},
	{CodeExists, core.Exists, "exists"},
	{CodeUnauthorized, core.Unauthorized, "unauthorized"},
	{CodeConflict, core.Conflict, "conflict"},
	{CodeUnavailable, core.Unavailable, "unavailable"},
	{CodeCorrupt, core.Corrupt, "corrupt"},
	{CodeNoQuorum, core.NoQuorum, "no_quorum"},
	{CodeInternal, core.Internal, "internal"},
	{CodeOther, core.Other, "other"},
	{CodeTxDecode, core.Invalid, "tx_decode"},
	{CodeWrongChainID, core.Invalid, "wrong_chain_id"},
	{CodeBadTxSignature, core.Unauthorized, "bad_tx_signature"},
	{CodeBadNonce, core.Conflict, "bad_nonce"},
	{CodeUnknownCall, core.Invalid, "unknown_call"},
	{CodeInsufficientFunds, core.Conflict, "insufficient_funds"},
}

// KindToCode returns the generic code of a kind (never CodeOK).
func KindToCode(k core.Kind) uint32 {
	if k == core.Other {
		return CodeOther
	}
	for _, e := range codeTable[1:] {
		if e.kind == k {
			return e.code
		}
	}
	return CodeOther
}

// CodeToKind returns the kind of a code: generic and specific codes alike.
// CodeOK and unknown codes give core.Other.
func CodeToKind(code uint32) core.Kind {
	for _, e := range codeTable {
		if e.code == code {
			return e.kind
		}
	}
	return core.Other
}

// CodeName returns a code's stable name ("bad_nonce"), or "code(N)".
func CodeName(code uint32) string {
	for _, e := range codeTable {
		if e.code == code {
			return e.name
		}
	}
	return fmt.Sprintf("code(%d)", code)
}

// CodedError is an error the chain reports with a specific code; the
// chain's errors that are not CodedErrors get KindToCode(core.KindOf(err)).
type CodedError struct {
	Code uint32
	Err  error
}

func (e *CodedError) Error() string { return e.Err.Error() }
func (e *CodedError) Unwrap() error { return e.Err }

// Is matches a core.Kind target by the code's kind.
func (e *CodedError) Is(target error) bool {
	k, ok := target.(core.Kind)
	return ok && CodeToKind(e.Code) == k
}

// Coded makes a CodedError from a code and a message.
func Coded(code uint32, format string, args ...any) error {
	return &CodedError{Code: code, Err: fmt.Errorf(format, args...)}
}

// ErrorCode returns the result code for err: its CodedError's code if it
// has one, else the code of its kind. nil gives CodeOK.
func ErrorCode(err error) uint32 {
	if err == nil {
		return CodeOK
	}
	var ce *CodedError
	if asCoded(err, &ce) {
		return ce.Code
	}
	return KindToCode(core.KindOf(err))
}

// TxError is the cause carried by a client error when the chain refused a
// transaction: the result code, the chain's log message and, once
// executed, where. chainclient returns it wrapped in a *core.Error whose
// kind is CodeToKind(Code).
type TxError struct {
	Code   uint32    `json:"code"`
	Log    string    `json:"log"`
	Hash   core.H256 `json:"hash"`
	Height int64     `json:"height,omitempty"` // 0 when refused before a block (CheckTx)
}

func (e *TxError) Error() string {
	if e.Height > 0 {
		return fmt.Sprintf("tx %s failed at height %d: %s (code %d): %s", e.Hash.String()[:12], e.Height, CodeName(e.Code), e.Code, e.Log)
	}
	return fmt.Sprintf("tx %s refused: %s (code %d): %s", e.Hash.String()[:12], CodeName(e.Code), e.Code, e.Log)
}
