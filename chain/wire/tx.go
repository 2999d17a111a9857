package wire

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cairn-storage/cairn/core"
)

// TxDomain opens every transaction and every transaction's signed bytes.
const TxDomain = "cairn/tx/v1\x00"

// MaxTxBytes bounds an encoded transaction. A challenge answer carries a
// whole blob (up to 1 MiB), base64 in JSON; 4 MiB leaves room for it. The
// node's mempool and RPC limits are set to match (package chainnode).
const MaxTxBytes = 4 << 20

// ErrUnknownCall marks a transaction whose call name the chain does not
// know (result code CodeUnknownCall).
var ErrUnknownCall = errors.New("unknown call")

// Tx is a decoded transaction. A transaction on the wire is
//
//	TxDomain (12 bytes) || ed25519 signature (64 bytes) || body
//
// where body is the JSON object
//
//	{"chain_id": "...", "signer": "<hex key>", "nonce": N, "call": {"type": "...", "value": {...}}}
//
// and the signature, by the signer, is over TxDomain || body: the exact
// body bytes, so no canonical re-encoding is ever needed. The nonce must be
// the signer's account nonce (its count of executed transactions).
type Tx struct {
	ChainID   string
	Signer    core.AccountID
	Nonce     uint64
	Call      Call
	Signature core.Signature
	body      []byte
}

type txBody struct {
	ChainID string          `json:"chain_id"`
	Signer  core.AccountID  `json:"signer"`
	Nonce   uint64          `json:"nonce"`
	Call    json.RawMessage `json:"call"`
}

// txBodyIn is txBody as DecodeTx reads it, the call's tag included.
type txBodyIn struct {
	ChainID string         `json:"chain_id"`
	Signer  core.AccountID `json:"signer"`
	Nonce   uint64         `json:"nonce"`
	Call    *callJSON      `json:"call"`
}

const txHeader = len(TxDomain) + len(core.Signature{})

// EncodeTx builds and signs a transaction.
func EncodeTx(k core.PrivateKey, chainID string, nonce uint64, call Call) ([]byte, error) {
	const op = "wire.EncodeTx"
	if k.IsZero() {
		return nil, core.Errorf(op, core.Invalid, "no signing key")
	}
	c, err := MarshalCall(call)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(txBody{ChainID: chainID, Signer: k.Account(), Nonce: nonce, Call: c})
	if err != nil {
		return nil, core.E(op, core.Invalid, err)
	}
	out := make([]byte, 0, txHeader+len(body))
	out = append(out, TxDomain...)
	sig := k.Sign(signBytes(body))
	out = append(out, sig[:]...)
	out = append(out, body...)
	if len(out) > MaxTxBytes {
		return nil, core.Errorf(op, core.Invalid, "transaction is %d bytes, at most %d", len(out), MaxTxBytes)
	}
	return out, nil
}

func signBytes(body []byte) []byte {
	b := make([]byte, 0, len(TxDomain)+len(body))
	b = append(b, TxDomain...)
	return append(b, body...)
}

// DecodeTx parses a transaction without checking its signature (see
// VerifySignature). It never panics. Errors have kind Invalid; an unknown
// call name wraps ErrUnknownCall.
func DecodeTx(b []byte) (*Tx, error) {
	const op = "wire.DecodeTx"
	if len(b) > MaxTxBytes {
		return nil, core.Errorf(op, core.Invalid, "transaction is %d bytes, at most %d", len(b), MaxTxBytes)
	}
	if len(b) < txHeader || string(b[:len(TxDomain)]) != TxDomain {
		return nil, core.Errorf(op, core.Invalid, "not a cairn transaction")
	}
	t := &Tx{body: b[txHeader:]}
	copy(t.Signature[:], b[len(TxDomain):txHeader])
	// The body and the call's tag decode in one pass (the call's value in
	// a second): JSON decoding is most of a transaction's cost besides
	// its signatures.
	var body txBodyIn
	if err := strictUnmarshal(t.body, &body); err != nil {
		return nil, core.E(op, core.Invalid, fmt.Errorf("body: %w", err))
	}
	if body.ChainID == "" {
		return nil, core.Errorf(op, core.Invalid, "no chain id")
	}
	if body.Call == nil {
		return nil, core.Errorf(op, core.Invalid, "no call")
	}
	call, err := body.Call.call()
	if err != nil {
		return nil, core.E(op, core.Invalid, err)
	}
	t.ChainID, t.Signer, t.Nonce, t.Call = body.ChainID, body.Signer, body.Nonce, call
	return t, nil
}

// SignBytes returns the bytes the signature covers: TxDomain || body.
func (t *Tx) SignBytes() []byte { return signBytes(t.body) }

// VerifySignature checks the signature with core's (ZIP-215) verifier. It
// returns an error of kind Unauthorized if it does not verify.
func (t *Tx) VerifySignature() error {
	if !t.Signer.Verify(signBytes(t.body), t.Signature) {
		return core.Errorf("wire.Tx.VerifySignature", core.Unauthorized, "transaction signature by %s does not verify", t.Signer.Short())
	}
	return nil
}

// TxHash is the hash CometBFT names a transaction by: SHA-256 of its bytes.
func TxHash(tx []byte) core.H256 { return sha256.Sum256(tx) }
