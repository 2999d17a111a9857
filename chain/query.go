package chain

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// maxListed bounds the entries one list query returns.
const maxListed = 10000

// Query answers the read-only queries of wire/query.go from committed
// state, as JSON. It holds the app's lock only to take a Pebble snapshot
// of the committed state (and to answer the nonce query, which counts the
// mempool); every read and scan runs on the snapshot without the lock, so
// a long list query never holds up CheckTx, FinalizeBlock or Commit.
func (a *App) Query(_ context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	a.mu.Lock()
	if a.db == nil {
		a.mu.Unlock()
		return &abci.ResponseQuery{Code: wire.CodeInternal, Log: "chain: the application is closed"}, nil
	}
	if strings.HasPrefix(req.Path, "/nonce/") {
		defer a.mu.Unlock()
		v := a.snapshotView(dbReader{a.db})
		return v.respond(v.nonce(req.Path, a.checkNonces))
	}
	snap := a.db.NewSnapshot()
	a.readers.Add(1)
	v := a.snapshotView(dbReader{snap})
	a.mu.Unlock()
	defer a.readers.Done()
	defer snap.Close()
	return v.respond(v.query(req.Path))
}

// view is the committed state a query reads: a Pebble snapshot (or the
// database, under the lock) and the metadata of its height.
type view struct {
	r       dbReader
	height  int64
	appHash []byte
	chainID string
	params  wire.Params
}

// snapshotView captures the committed metadata; the caller holds a.mu.
func (a *App) snapshotView(r dbReader) *view {
	return &view{r: r, height: a.height, appHash: append([]byte(nil), a.appHash...), chainID: a.chainID, params: a.params}
}

func (v *view) respond(val any, err error) (*abci.ResponseQuery, error) {
	if err != nil {
		return &abci.ResponseQuery{Code: wire.ErrorCode(err), Log: err.Error(), Height: v.height}, nil
	}
	b, err := json.Marshal(val)
	if err != nil {
		return &abci.ResponseQuery{Code: wire.CodeInternal, Log: err.Error(), Height: v.height}, nil
	}
	return &abci.ResponseQuery{Code: wire.CodeOK, Value: b, Height: v.height}, nil
}

func (v *view) committed() *state {
	return &state{o: newOverlay(v.r), height: v.height, chainID: v.chainID, params: v.params}
}

// nonce answers "/nonce/{hex}"; the caller holds a.mu (checkNonces).
func (v *view) nonce(path string, checkNonces map[core.AccountID]uint64) (any, error) {
	id, err := parseAccount(strings.TrimPrefix(path, "/nonce/"))
	if err != nil {
		return nil, err
	}
	committed := v.committed().account(id).Nonce
	next := committed
	if n, ok := checkNonces[id]; ok {
		next = n
	}
	return wire.NextNonce{Account: id, Next: next, Committed: committed}, nil
}

func (v *view) query(path string) (any, error) {
	const op = "chain.Query"
	rawPath, rawQuery, _ := strings.Cut(path, "?")
	args, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, core.Errorf(op, core.Invalid, "bad query string: %v", err)
	}
	parts := strings.Split(strings.Trim(rawPath, "/"), "/")
	s := v.committed()
	switch {
	case len(parts) == 1 && parts[0] == "params":
		return v.params, nil
	case len(parts) == 1 && parts[0] == "status":
		var h core.H256
		copy(h[:], v.appHash)
		return wire.Status{ChainID: v.chainID, Height: v.height, AppHash: h, Params: v.params}, nil
	case len(parts) == 2 && parts[0] == "account":
		id, err := parseAccount(parts[1])
		if err != nil {
			return nil, err
		}
		return s.account(id), nil
	case len(parts) == 2 && parts[0] == "provider":
		id, err := parseAccount(parts[1])
		if err != nil {
			return nil, err
		}
		p, ok := s.provider(id)
		if !ok {
			return nil, core.Errorf(op, core.NotFound, "%s is not a registered provider", id.Short())
		}
		return s.wireProvider(id, p), nil
	case len(parts) == 3 && parts[0] == "provider" && parts[2] == "agreements":
		id, err := parseAccount(parts[1])
		if err != nil {
			return nil, err
		}
		return s.providerAgreements(id), nil
	case len(parts) == 1 && parts[0] == "providers":
		out := []wire.Provider{}
		err := scanJSON(v.r, pProvider, func(key string, p *providerRecord) bool {
			var id core.AccountID
			copy(id[:], key[len(pProvider):])
			out = append(out, s.wireProvider(id, *p))
			return len(out) < maxListed
		})
		return out, err
	case len(parts) >= 2 && parts[0] == "bucket":
		id, err := core.ParseBucketID(parts[1])
		if err != nil {
			return nil, err
		}
		b, ok := s.bucket(id)
		if !ok {
			return nil, core.Errorf(op, core.NotFound, "no bucket %s", id)
		}
		switch {
		case len(parts) == 2:
			return b, nil
		case len(parts) == 3 && parts[2] == "agreements":
			out := []wire.Agreement{}
			prefix := pAgreement + u64(uint64(id))
			err := scanJSON(v.r, prefix, func(key string, r *agreementRecord) bool {
				var p core.AccountID
				copy(p[:], key[len(prefix):])
				out = append(out, wire.Agreement{Bucket: id, Provider: p, Role: r.Role, MaxBytes: r.MaxBytes,
					ExpiryHeight: r.ExpiryHeight, Payment: r.Payment, Active: v.height+1 < r.ExpiryHeight})
				return len(out) < maxListed
			})
			return out, err
		case len(parts) == 3 && parts[2] == "checkpoint":
			if b.Latest == nil {
				return nil, core.Errorf(op, core.NotFound, "bucket %s has no checkpoint", id)
			}
			return b.Latest, nil
		case len(parts) == 3 && parts[2] == "equivocations":
			out := []wire.Equivocation{}
			err := scanJSON(v.r, pEquivoc+u64(uint64(id)), func(_ string, q *wire.Equivocation) bool {
				out = append(out, *q)
				return len(out) < maxListed
			})
			return out, err
		case len(parts) == 3 && parts[2] == "checkpoints":
			out := []wire.Checkpoint{}
			err := scanJSON(v.r, pCheckpoint+u64(uint64(id)), func(_ string, c *wire.Checkpoint) bool {
				out = append(out, *c)
				return len(out) < maxListed
			})
			return out, err
		}
	case len(parts) == 2 && parts[0] == "challenge":
		id, err := core.ParseChallengeID(parts[1])
		if err != nil {
			return nil, err
		}
		c, ok := s.challenge(id)
		if !ok {
			return nil, core.Errorf(op, core.NotFound, "no challenge %s", id)
		}
		return c, nil
	case len(parts) == 1 && parts[0] == "challenges":
		return v.challenges(s, args)
	case len(parts) == 2 && parts[0] == "drive":
		id, err := core.ParseDriveID(parts[1])
		if err != nil {
			return nil, err
		}
		d, ok := s.drive(id)
		if !ok {
			return nil, core.Errorf(op, core.NotFound, "no drive %s", id)
		}
		return d, nil
	case len(parts) == 1 && parts[0] == "drives":
		owner, err := parseAccount(args.Get("owner"))
		if err != nil {
			return nil, err
		}
		out := []wire.Drive{}
		prefix := acctKey(pDriveOwner, owner)
		err = scan(v.r.db, prefix, func(key string, _ []byte) bool {
			if d, ok := s.drive(core.DriveID(beU64(key[len(prefix):]))); ok {
				out = append(out, *d)
			}
			return len(out) < maxListed
		})
		return out, err
	}
	return nil, core.Errorf(op, core.NotFound, "no query path %q", path)
}

func (v *view) challenges(s *state, args url.Values) (any, error) {
	const op = "chain.Query"
	var prov *core.AccountID
	if v := args.Get("provider"); v != "" {
		p, err := parseAccount(v)
		if err != nil {
			return nil, err
		}
		prov = &p
	}
	var bucket core.BucketID
	if v := args.Get("bucket"); v != "" {
		b, err := core.ParseBucketID(v)
		if err != nil {
			return nil, err
		}
		bucket = b
	}
	st := args.Get("state")
	switch st {
	case "", wire.ChallengeOpen, wire.ChallengeAnswered, wire.ChallengeSlashed, wire.ChallengeVoid:
	default:
		return nil, core.Errorf(op, core.Invalid, "state %q is not open, answered, slashed or void", st)
	}
	out := []wire.Challenge{}
	keep := func(c *wire.Challenge) bool {
		if (prov == nil || c.Provider == *prov) && (bucket == 0 || c.Bucket == bucket) && (st == "" || c.State == st) {
			out = append(out, *c)
		}
		return len(out) < maxListed
	}
	var err error
	switch {
	case prov != nil && st != "":
		prefix := acctKey(pChalByPS, *prov) + st + "/"
		err = scan(v.r.db, prefix, func(key string, _ []byte) bool {
			c, ok := s.challenge(core.ChallengeID(beU64(key[len(prefix):])))
			return !ok || keep(c)
		})
	case prov != nil:
		prefix := acctKey(pChalByProv, *prov)
		err = scan(v.r.db, prefix, func(key string, _ []byte) bool {
			c, ok := s.challenge(core.ChallengeID(beU64(key[len(prefix):])))
			return !ok || keep(c)
		})
	case bucket != 0:
		prefix := pChalByBkt + u64(uint64(bucket))
		err = scan(v.r.db, prefix, func(key string, _ []byte) bool {
			c, ok := s.challenge(core.ChallengeID(beU64(key[len(prefix):])))
			return !ok || keep(c)
		})
	case st != "":
		prefix := pChalByState + st + "/"
		err = scan(v.r.db, prefix, func(key string, _ []byte) bool {
			c, ok := s.challenge(core.ChallengeID(beU64(key[len(prefix):])))
			return !ok || keep(c)
		})
	default:
		err = scanJSON(v.r, pChallenge, func(_ string, c *wire.Challenge) bool { return keep(c) })
	}
	return out, err
}

func (s *state) wireProvider(id core.AccountID, p providerRecord) wire.Provider {
	return wire.Provider{Account: id, Endpoint: p.Endpoint, PublicKey: id, Stake: s.account(id).Stake,
		Capacity: p.Capacity, Terms: p.Terms, RegisteredHeight: p.RegisteredHeight}
}

// scanJSON decodes each committed value under prefix into a fresh T.
func scanJSON[T any](r dbReader, prefix string, fn func(key string, v *T) bool) error {
	var derr error
	err := scan(r.db, prefix, func(key string, val []byte) bool {
		v := new(T)
		if err := json.Unmarshal(val, v); err != nil {
			derr = core.Errorf("chain.Query", core.Internal, "corrupt state at %q: %v", key, err)
			return false
		}
		return fn(key, v)
	})
	if err != nil {
		return core.E("chain.Query", core.Internal, err)
	}
	return derr
}

func beU64(s string) uint64 {
	if len(s) != 8 {
		return 0
	}
	var v uint64
	for i := 0; i < 8; i++ {
		v = v<<8 | uint64(s[i])
	}
	return v
}

func parseAccount(s string) (core.AccountID, error) {
	var a core.AccountID
	if err := a.UnmarshalText([]byte(s)); err != nil {
		return a, core.Errorf("chain.Query", core.Invalid, "account must be 64 hex digits, got %q", s)
	}
	return a, nil
}
