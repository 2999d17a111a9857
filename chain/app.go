package chain

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"
	"github.com/cockroachdb/pebble/vfs"
	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// AppVersion is the application protocol version reported to CometBFT.
const AppVersion = 1

// Config configures an App.
type Config struct {
	// Dir is the Pebble directory; "" keeps the state in memory (tests).
	Dir string
	// Logger receives the app's logs (default: discard).
	Logger *slog.Logger
}

// DefaultConfig keeps state in memory and logs nothing.
func DefaultConfig() Config { return Config{} }

// Validate checks the configuration.
func (c Config) Validate() error { return nil }

// App is the ABCI application. CometBFT calls it from one connection at a
// time (the local client creator serialises them); its own mutex makes
// direct use safe too.
type App struct {
	abci.BaseApplication

	mu sync.Mutex
	db *pebble.DB
	// cache serves the committed state to CheckTx and FinalizeBlock
	// (readcache.go).
	cache *readCache
	log   *slog.Logger
	// readers counts queries reading a snapshot without the lock; Close
	// waits for them.
	readers sync.WaitGroup

	// Committed state.
	height  int64
	appHash []byte
	chainID string
	params  wire.Params

	// pending holds writes executed but not yet committed (InitChain's
	// and the last finalized block's); Commit writes it to Pebble.
	pending       *overlay
	pendingHeight int64
	pendingHash   []byte
	// checkNonces holds the next nonce of accounts with transactions in
	// the mempool; reset at each Commit (CometBFT then rechecks them).
	checkNonces map[core.AccountID]uint64
	// checkFees holds the fees of accounts' transactions in the mempool,
	// so CheckTx admits no more than the balance can pay; reset with
	// checkNonces.
	checkFees map[core.AccountID]uint64
	// checked holds the hashes of transactions whose envelope signature
	// CheckTx verified, so FinalizeBlock need not verify it again, each
	// with its decoding (nil for transactions above maxKeptTxBytes), so
	// FinalizeBlock need not decode it again either.
	checked map[core.H256]*wire.Tx
	// checkedBytes is the size of the transactions kept decoded.
	checkedBytes int
}

var _ abci.Application = (*App)(nil)

// New opens (or creates) the application's state.
func New(cfg Config) (*App, error) {
	const op = "chain.New"
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := pebbleOptions()
	defer opts.Cache.Unref() // the database holds its own reference
	if cfg.Dir == "" {
		opts.FS = vfs.NewMem()
	}
	db, err := pebble.Open(cfg.Dir, opts)
	if err != nil {
		return nil, core.E(op, core.Internal, err)
	}
	a := &App{db: db, cache: newReadCache(dbReader{db}, readCacheBytes), log: cfg.Logger, checkNonces: map[core.AccountID]uint64{}, checkFees: map[core.AccountID]uint64{},
		checked: map[core.H256]*wire.Tx{}}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	r := dbReader{db}
	if b, ok := r.get(keyMetaHeight); ok && len(b) == 8 {
		a.height = int64(binary.BigEndian.Uint64(b))
	}
	a.appHash, _ = r.get(keyMetaAppHash)
	if b, ok := r.get(keyChainID); ok {
		a.chainID = string(b)
	}
	if b, ok := r.get(keyParams); ok {
		if err := json.Unmarshal(b, &a.params); err != nil {
			db.Close()
			return nil, core.E(op, core.Internal, fmt.Errorf("stored params: %w", err))
		}
	}
	return a, nil
}

// Close closes the state database.
func (a *App) Close() error {
	a.mu.Lock()
	db := a.db
	a.db = nil
	a.mu.Unlock()
	if db == nil {
		return nil
	}
	a.readers.Wait()
	return db.Close()
}

// Height returns the last committed height.
func (a *App) Height() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.height
}

// AppHash returns the app hash of the last committed height.
func (a *App) AppHash() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]byte(nil), a.appHash...)
}

// stateCacheBytes is the block cache of the state database. Every
// checkpoint reads its bucket, its signers' agreements and provider
// records and the submitter's account; the hot set of a busy chain is a
// few MiB.
const stateCacheBytes = 64 << 20

// pebbleOptions tunes the state database for point reads: a bloom filter
// per table lets a Get skip the tables that lack the key (without one it
// searches every level), and the cache keeps hot blocks decoded. Neither
// changes what is stored.
func pebbleOptions() *pebble.Options {
	opts := &pebble.Options{Logger: quietPebble{}, Cache: pebble.NewCache(stateCacheBytes)}
	opts.Levels = make([]pebble.LevelOptions, 7)
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		opts.Levels[i].FilterType = pebble.TableFilter
	}
	return opts
}

type quietPebble struct{}

func (quietPebble) Infof(string, ...any)  {}
func (quietPebble) Errorf(string, ...any) {}
func (quietPebble) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}

// Info tells CometBFT where the application's state is, for the handshake.
func (a *App) Info(_ context.Context, _ *abci.RequestInfo) (*abci.ResponseInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return &abci.ResponseInfo{
		Data:             "cairn",
		Version:          "cairn-chain/1",
		AppVersion:       AppVersion,
		LastBlockHeight:  a.height,
		LastBlockAppHash: a.appHash,
	}, nil
}

// InitChain loads the genesis: parameters, chain id, funded accounts and
// the genesis validators (validators.go).
func (a *App) InitChain(_ context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var g Genesis
	if len(req.AppStateBytes) > 0 {
		d := json.NewDecoder(bytes.NewReader(req.AppStateBytes))
		d.DisallowUnknownFields()
		if err := d.Decode(&g); err != nil {
			return nil, fmt.Errorf("chain: genesis app_state: %w", err)
		}
	} else {
		g = Genesis{Params: wire.DefaultParams()}
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("chain: genesis: %w", err)
	}
	if len(req.ChainId) == 0 || len(req.ChainId) > core.MaxChainIDLen {
		return nil, fmt.Errorf("chain: chain id must be 1..%d bytes", core.MaxChainIDLen)
	}
	o := newOverlay(dbReader{a.db})
	s := &state{o: o, height: req.InitialHeight - 1, chainID: req.ChainId, params: g.Params}
	o.set(keyChainID, []byte(req.ChainId))
	s.putJSON(keyParams, g.Params)
	for _, ga := range g.Accounts {
		acc := s.account(ga.ID)
		acc.Balance = ga.Balance
		s.putAccount(acc)
	}
	if err := s.recordGenesisValidators(req.Validators); err != nil {
		return nil, fmt.Errorf("chain: genesis: %w", err)
	}
	a.chainID, a.params = req.ChainId, g.Params
	a.pending = o
	a.pendingHeight = req.InitialHeight - 1
	a.pendingHash = hashWrites(nil, req.InitialHeight-1, o)
	a.log.Info("genesis", "chain_id", req.ChainId, "accounts", len(g.Accounts), "app_hash", fmt.Sprintf("%X", a.pendingHash))
	return &abci.ResponseInitChain{AppHash: a.pendingHash}, nil
}

// hashWrites chains the app hash over one height's writes (see doc.go).
func hashWrites(prev []byte, height int64, o *overlay) []byte {
	h := sha256.New()
	h.Write([]byte("cairn/apphash/v1\x00"))
	h.Write(prev)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(height))
	h.Write(n[:])
	var l [4]byte
	for _, k := range o.sortedKeys() {
		e := o.writes[k]
		binary.BigEndian.PutUint32(l[:], uint32(len(k)))
		h.Write(l[:])
		h.Write([]byte(k))
		if e.deleted {
			h.Write([]byte{0})
			continue
		}
		h.Write([]byte{1})
		binary.BigEndian.PutUint32(l[:], uint32(len(e.val)))
		h.Write(l[:])
		h.Write(e.val)
	}
	return h.Sum(nil)
}

// base returns the reader under a new block: pending writes over Pebble.
func (a *App) base() reader {
	if a.pending != nil {
		return a.pending
	}
	return a.cache
}

// decode parses a transaction, with the result code of a failure.
func decode(raw []byte) (*wire.Tx, error) {
	tx, err := wire.DecodeTx(raw)
	if err != nil {
		if errors.Is(err, wire.ErrUnknownCall) {
			return nil, &wire.CodedError{Code: wire.CodeUnknownCall, Err: err}
		}
		return nil, &wire.CodedError{Code: wire.CodeTxDecode, Err: err}
	}
	return tx, nil
}

// checkEnvelope checks what CheckTx and FinalizeBlock both check of a
// decoded transaction: it is for this chain, signed by its signer (unless
// sigOK says that was verified already) and carries the expected nonce.
func (a *App) checkEnvelope(tx *wire.Tx, sigOK bool, expectNonce func(core.AccountID) uint64) error {
	if tx.ChainID != a.chainID {
		return wire.Coded(wire.CodeWrongChainID, "tx is for chain %q, this is %q", tx.ChainID, a.chainID)
	}
	if !sigOK {
		if err := tx.VerifySignature(); err != nil {
			return &wire.CodedError{Code: wire.CodeBadTxSignature, Err: err}
		}
	}
	if want := expectNonce(tx.Signer); tx.Nonce != want {
		return wire.Coded(wire.CodeBadNonce, "nonce %d of %s: expected %d", tx.Nonce, tx.Signer.Short(), want)
	}
	return nil
}

// maxChecked bounds the set of transactions whose envelope signature
// CheckTx verified; maxCheckedBytes the bytes of those kept decoded, and
// maxKeptTxBytes the largest kept decoded (a challenge answer carrying a
// blob is only remembered as verified).
const (
	maxChecked      = 1 << 17
	maxCheckedBytes = 32 << 20
	maxKeptTxBytes  = 16 << 10
)

// remember records that CheckTx verified the envelope of the transaction
// with this hash, keeping its decoding if it is small. Both sets start
// over when full.
func (a *App) remember(hash core.H256, tx *wire.Tx, size int) {
	if size > maxKeptTxBytes {
		tx = nil
	}
	if len(a.checked) >= maxChecked || (tx != nil && a.checkedBytes+size > maxCheckedBytes) {
		a.checked = map[core.H256]*wire.Tx{}
		a.checkedBytes = 0
	}
	if _, ok := a.checked[hash]; !ok && tx != nil {
		a.checkedBytes += size
	}
	a.checked[hash] = tx
}

// CheckTx admits a transaction to the mempool: decode, chain id,
// signature, the nonce against committed state plus the signer's
// transactions already in the mempool, and that the signer's balance pays
// the fees of all of them. Calls are checked in FinalizeBlock.
func (a *App) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := &state{o: newOverlay(a.base())}
	hash := wire.TxHash(req.Tx)
	tx, sigOK := a.checked[hash]
	var err error
	if tx == nil {
		tx, err = decode(req.Tx)
	}
	if err == nil {
		err = a.checkEnvelope(tx, sigOK, func(id core.AccountID) uint64 {
			if n, ok := a.checkNonces[id]; ok {
				return n
			}
			return s.account(id).Nonce
		})
	}
	var fee uint64
	if err == nil {
		fee, err = chargeFee(a.params, tx, len(req.Tx), s.account(tx.Signer).Balance, a.checkFees[tx.Signer])
	}
	if err != nil {
		return &abci.ResponseCheckTx{Code: wire.ErrorCode(err), Log: err.Error()}, nil
	}
	a.remember(hash, tx, len(req.Tx))
	a.checkNonces[tx.Signer] = tx.Nonce + 1
	a.checkFees[tx.Signer] += fee // chargeFee checked it does not overflow
	return &abci.ResponseCheckTx{Code: wire.CodeOK, GasWanted: int64(len(req.Tx))}, nil
}

// blockTx is one of a block's transactions, decoded, with what batch
// verification found of its signatures.
type blockTx struct {
	raw      []byte
	tx       *wire.Tx
	err      error // decode failure
	sigOK    bool  // envelope signature verified
	cpSigsOK bool  // every checkpoint signature verified (submit_checkpoint)
	envIdx   int   // index in the batch, or -1
	cpIdx    []int // indexes of the checkpoint signatures in the batch
}

// preverify decodes a block's transactions and verifies, in one ed25519
// batch (ZIP-215, as core verifies one at a time), every envelope
// signature CheckTx did not already verify and every checkpoint
// signature. The outcome per signature is the same as one-at-a-time
// verification; only the cost differs. Calls still run every other check.
func (a *App) preverify(txs [][]byte) []blockTx {
	out := make([]blockTx, len(txs))
	bv := core.NewBatchVerifier()
	add := bv.Add
	for i, raw := range txs {
		bt := &out[i]
		bt.raw, bt.envIdx = raw, -1
		checked, sigOK := a.checked[wire.TxHash(raw)]
		if checked != nil {
			bt.tx = checked // decoding is a function of the bytes: the same
		} else {
			bt.tx, bt.err = decode(raw)
		}
		if bt.err != nil || bt.tx.ChainID != a.chainID {
			continue
		}
		if sigOK {
			bt.sigOK = true
		} else {
			bt.envIdx = add(bt.tx.Signer, bt.tx.SignBytes(), bt.tx.Signature)
		}
		cp, ok := bt.tx.Call.(wire.SubmitCheckpoint)
		if !ok || len(cp.Signatures) == 0 || len(cp.Signatures) > maxSignatures {
			continue
		}
		payload, err := core.Commitment{ChainID: a.chainID, Bucket: cp.Bucket, MMRRoot: cp.MMRRoot, StartSeq: cp.StartSeq, LeafCount: cp.LeafCount}.Payload()
		if err != nil {
			continue
		}
		for _, sig := range cp.Signatures {
			bt.cpIdx = append(bt.cpIdx, add(sig.Provider, payload, sig.Signature))
		}
	}
	if bv.Len() < 2 {
		return out // nothing worth batching: verified one at a time later
	}
	ok := bv.Verify()
	for i := range out {
		bt := &out[i]
		if bt.envIdx >= 0 {
			bt.sigOK = ok(bt.envIdx)
		}
		if len(bt.cpIdx) > 0 {
			bt.cpSigsOK = true
			for _, j := range bt.cpIdx {
				bt.cpSigsOK = bt.cpSigsOK && ok(j)
			}
		}
	}
	return out
}

// FinalizeBlock executes a block's transactions in order. A transaction
// whose envelope fails, or whose signer cannot pay its fee, changes
// nothing; one whose call fails consumes its nonce and pays its fee and
// changes nothing else.
func (a *App) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	blk := newOverlay(a.base())
	results := make([]*abci.ExecTxResult, len(req.Txs))
	for i, bt := range a.preverify(req.Txs) {
		results[i] = a.deliver(blk, req.Height, bt)
	}
	// Before blk merges into its parent, which the updates compare with.
	updates := blockValidatorUpdates(blk)
	prev := a.appHash
	if a.pending != nil {
		prev = a.pendingHash
		blk.mergeInto(a.pending)
	} else {
		a.pending = blk
	}
	a.pendingHeight = req.Height
	a.pendingHash = hashWrites(prev, req.Height, blk)
	return &abci.ResponseFinalizeBlock{TxResults: results, AppHash: a.pendingHash,
		ValidatorUpdates: updates}, nil
}

// deliver executes one transaction against the block's overlay.
func (a *App) deliver(blk *overlay, height int64, bt blockTx) (res *abci.ExecTxResult) {
	if bt.err != nil {
		return &abci.ExecTxResult{Code: wire.ErrorCode(bt.err), Log: bt.err.Error()}
	}
	tx := bt.tx
	base := &state{o: blk, height: height, chainID: a.chainID, params: a.params}
	// The signer's account, read once: its nonce is checked, then its fee
	// charged.
	acc := base.account(tx.Signer)
	if err := a.checkEnvelope(tx, bt.sigOK, func(core.AccountID) uint64 { return acc.Nonce }); err != nil {
		return &abci.ExecTxResult{Code: wire.ErrorCode(err), Log: err.Error()}
	}
	// The fee is burned before the call runs, whatever its outcome; a
	// signer that cannot pay it changes nothing, not even its nonce, so
	// a failed transaction from an unknown key creates no state.
	fee, err := chargeFee(a.params, tx, len(bt.raw), acc.Balance, 0)
	if err != nil {
		return &abci.ExecTxResult{Code: wire.ErrorCode(err), Log: err.Error()}
	}
	acc.Balance -= fee
	acc.Nonce++
	base.putAccount(acc)
	txEvent := abci.Event{Type: wire.EventTx, Attributes: []abci.EventAttribute{
		{Key: "signer", Value: tx.Signer.String(), Index: true},
		{Key: "nonce", Value: itoa(tx.Nonce), Index: true},
		{Key: "call", Value: tx.Call.CallName(), Index: true},
		{Key: "fee", Value: itoa(fee), Index: true},
	}}
	s := &state{o: newOverlay(blk), height: height, chainID: a.chainID, params: a.params, sigsVerified: bt.cpSigsOK}
	defer func() {
		// Input never panics the chain; a panic here is our bug, and
		// deterministic, so every node turns it into the same result.
		if r := recover(); r != nil {
			a.log.Error("panic executing tx", "call", tx.Call.CallName(), "panic", r, "stack", string(debug.Stack()))
			res = &abci.ExecTxResult{Code: wire.CodeInternal, Log: fmt.Sprintf("internal error executing %s", tx.Call.CallName()),
				Events: []abci.Event{txEvent}}
		}
	}()
	if err := execute(s, tx.Signer, tx.Call); err != nil {
		return &abci.ExecTxResult{Code: wire.ErrorCode(err), Log: err.Error(), Events: []abci.Event{txEvent},
			GasUsed: int64(len(bt.raw))}
	}
	s.o.mergeInto(blk)
	return &abci.ExecTxResult{Code: wire.CodeOK, Events: append([]abci.Event{txEvent}, s.events...), GasUsed: int64(len(bt.raw))}
}

// Commit writes the pending state, height and app hash in one synced
// batch.
func (a *App) Commit(_ context.Context, _ *abci.RequestCommit) (*abci.ResponseCommit, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.db.NewBatch()
	if a.pending != nil {
		for _, k := range a.pending.sortedKeys() {
			e := a.pending.writes[k]
			var err error
			if e.deleted {
				err = b.Delete([]byte(k), nil)
			} else {
				err = b.Set([]byte(k), e.val, nil)
			}
			if err != nil {
				panic(fmt.Sprintf("chain: commit batch: %v", err))
			}
		}
	}
	var h [8]byte
	binary.BigEndian.PutUint64(h[:], uint64(a.pendingHeight))
	if err := b.Set([]byte(keyMetaHeight), h[:], nil); err != nil {
		panic(fmt.Sprintf("chain: commit batch: %v", err))
	}
	if err := b.Set([]byte(keyMetaAppHash), a.pendingHash, nil); err != nil {
		panic(fmt.Sprintf("chain: commit batch: %v", err))
	}
	if err := b.Commit(pebble.Sync); err != nil {
		panic(fmt.Sprintf("chain: commit: %v", err))
	}
	a.height, a.appHash = a.pendingHeight, a.pendingHash
	if a.pending != nil {
		a.cache.committed(a.pending)
	}
	a.pending = nil
	a.checkNonces = map[core.AccountID]uint64{}
	a.checkFees = map[core.AccountID]uint64{}
	return &abci.ResponseCommit{}, nil
}
