package wire

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

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
	body, err := decodeBody(t.body)
	if err != nil {
		if errors.Is(err, ErrUnknownCall) {
			return nil, core.E(op, core.Invalid, err)
		}
		return nil, core.E(op, core.Invalid, fmt.Errorf("body: %w", err))
	}
	if body.ChainID == "" {
		return nil, core.Errorf(op, core.Invalid, "no chain id")
	}
	if body.call == nil {
		return nil, core.Errorf(op, core.Invalid, "no call")
	}
	t.ChainID, t.Signer, t.Nonce, t.Call = body.ChainID, body.Signer, body.Nonce, body.call
	return t, nil
}

// decodedBody is a transaction body as decodeBody reads it.
type decodedBody struct {
	ChainID string
	Signer  core.AccountID
	Nonce   uint64
	call    Call // nil when the body has none
}

// decodeBody reads a body as one token stream, so the call's value (most
// of the bytes) is scanned once and decoded once, straight into its type:
// JSON decoding is a checkpoint's largest cost besides its signatures, and
// decoding the value through nested json.RawMessages scanned it four
// times. It is as strict as the nested decoding and a little stricter:
// unknown fields and trailing data are refused, and field names must match
// exactly (encoding/json would also take "Chain_ID") and appear once.
func decodeBody(b []byte) (decodedBody, error) {
	var out decodedBody
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	err := decodeObject(d, func(key string) error {
		switch key {
		case "chain_id":
			return d.Decode(&out.ChainID)
		case "signer":
			return d.Decode(&out.Signer)
		case "nonce":
			return d.Decode(&out.Nonce)
		case "call":
			c, err := decodeCallStream(d)
			out.call = c
			return err
		}
		return fmt.Errorf("json: unknown field %q", key)
	})
	if err != nil {
		return decodedBody{}, err
	}
	if _, err := d.Token(); err != io.EOF {
		return decodedBody{}, fmt.Errorf("trailing data after JSON value")
	}
	return out, nil
}

// decodeCallStream reads the call union {"type": ..., "value": {...}} from
// d, the value straight into the call's type when the type comes first (as
// MarshalCall writes it). A null call is nil.
func decodeCallStream(d *json.Decoder) (Call, error) {
	var (
		typ               string
		hasType, hasValue bool
		p                 Call            // the call, once its type is known
		early             json.RawMessage // a value that came before its type
	)
	null, err := decodeObjectOrNull(d, func(key string) error {
		switch key {
		case "type":
			hasType = true
			return d.Decode(&typ)
		case "value":
			hasValue = true
			if !hasType {
				return d.Decode(&early)
			}
			var ok bool
			if p, ok = newCall(typ); !ok {
				return fmt.Errorf("%w %q", ErrUnknownCall, typ)
			}
			if err := d.Decode(p); err != nil {
				return fmt.Errorf("call %s: %w", typ, err)
			}
			return nil
		}
		return fmt.Errorf("json: unknown field %q", key)
	})
	if err != nil || null {
		return nil, err
	}
	if p != nil {
		return deref(p), nil
	}
	p, ok := newCall(typ)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownCall, typ)
	}
	if !hasValue {
		return nil, fmt.Errorf("call %s has no value", typ)
	}
	if err := strictUnmarshal(early, p); err != nil { // the value came first
		return nil, fmt.Errorf("call %s: %w", typ, err)
	}
	return deref(p), nil
}

// decodeObject reads one JSON object from d, calling field for each key
// with d positioned at its value; a null is refused.
func decodeObject(d *json.Decoder, field func(key string) error) error {
	null, err := decodeObjectOrNull(d, field)
	if err == nil && null {
		err = fmt.Errorf("json: null where an object is wanted")
	}
	return err
}

func decodeObjectOrNull(d *json.Decoder, field func(key string) error) (null bool, err error) {
	tok, err := d.Token()
	if err != nil {
		return false, err
	}
	if tok == nil {
		return true, nil
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return false, fmt.Errorf("json: %v where an object is wanted", tok)
	}
	var seen []string // an object here has a handful of keys
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return false, err
		}
		key, ok := tok.(string)
		if !ok {
			return false, fmt.Errorf("json: object key %v", tok)
		}
		if slices.Contains(seen, key) {
			return false, fmt.Errorf("json: duplicate field %q", key)
		}
		seen = append(seen, key)
		if err := field(key); err != nil {
			return false, err
		}
	}
	if _, err := d.Token(); err != nil { // the closing brace
		return false, err
	}
	return false, nil
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
