package chain

import (
	"context"
	"encoding/json"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// maxListed bounds the entries one list query returns.
const maxListed = 10000

// Query answers the read-only queries of wire's route table from committed
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
	q, err := wire.ParseQueryPath(req.Path)
	if err != nil || q.Route == wire.RouteNonce {
		defer a.mu.Unlock()
		v := a.snapshotView(dbReader{a.db})
		if err != nil {
			return v.respond(nil, err)
		}
		return v.respond(v.nonce(q.Account, a.checkNonces))
	}
	snap := a.db.NewSnapshot()
	a.readers.Add(1)
	v := a.snapshotView(dbReader{snap})
	a.mu.Unlock()
	defer a.readers.Done()
	defer snap.Close()
	return v.respond(v.answer(q))
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

// nonce answers wire.RouteNonce; the caller holds a.mu (checkNonces).
func (v *view) nonce(id core.AccountID, checkNonces map[core.AccountID]uint64) (any, error) {
	committed := v.committed().account(id).Nonce
	next := committed
	if n, ok := checkNonces[id]; ok {
		next = n
	}
	return wire.NextNonce{Account: id, Next: next, Committed: committed}, nil
}

// answer runs q's route on the snapshot: one case per route of the table
// (nonce is answered under the lock, by Query).
func (v *view) answer(q wire.Query) (any, error) {
	s := v.committed()
	switch q.Route {
	case wire.RouteParams:
		return v.params, nil
	case wire.RouteStatus:
		var h core.H256
		copy(h[:], v.appHash)
		return wire.Status{ChainID: v.chainID, Height: v.height, AppHash: h, Params: v.params}, nil
	case wire.RouteAccount:
		return s.account(q.Account), nil
	case wire.RouteProvider:
		return s.queryProvider(q.Account)
	case wire.RouteProviderAgreements:
		return s.providerAgreements(q.Account), nil
	case wire.RouteProviders:
		return v.providers(s)
	case wire.RouteBucket:
		return s.queryBucket(q.Bucket)
	case wire.RouteAgreements:
		return v.bucketAgreements(s, q.Bucket)
	case wire.RouteCheckpoint:
		return s.latestCheckpoint(q.Bucket)
	case wire.RouteCheckpoints:
		return v.checkpoints(s, q.Bucket)
	case wire.RouteEquivocations:
		return v.equivocations(s, q.Bucket)
	case wire.RouteChallenge:
		return s.queryChallenge(q.Challenge)
	case wire.RouteChallenges:
		return v.challenges(s, q.Filter)
	case wire.RouteDrive:
		return s.queryDrive(q.Drive)
	case wire.RouteDrives:
		return v.drivesByOwner(s, q.Account)
	case wire.RouteValidators:
		return v.validators()
	}
	return nil, core.Errorf("chain.Query", core.Internal, "no answer for query route %d", q.Route)
}

func (s *state) queryProvider(id core.AccountID) (wire.Provider, error) {
	p, ok := s.provider(id)
	if !ok {
		return wire.Provider{}, core.Errorf("chain.Query", core.NotFound, "%s is not a registered provider", id.Short())
	}
	return s.wireProvider(id, p), nil
}

func (v *view) providers(s *state) ([]wire.Provider, error) {
	out := []wire.Provider{}
	err := scanJSON(v.r, pProvider, func(key string, p *providerRecord) bool {
		var id core.AccountID
		copy(id[:], key[len(pProvider):])
		out = append(out, s.wireProvider(id, *p))
		return len(out) < maxListed
	})
	return out, err
}

func (s *state) queryBucket(id core.BucketID) (*wire.Bucket, error) {
	b, ok := s.bucket(id)
	if !ok {
		return nil, core.Errorf("chain.Query", core.NotFound, "no bucket %s", id)
	}
	return b, nil
}

func (v *view) bucketAgreements(s *state, id core.BucketID) ([]wire.Agreement, error) {
	if _, err := s.queryBucket(id); err != nil {
		return nil, err
	}
	out := []wire.Agreement{}
	prefix := pAgreement + u64(uint64(id))
	var derr error
	err := scan(v.r.db, prefix, func(key string, val []byte) bool {
		r, err := decodeAgreement(val)
		if err != nil {
			derr = core.Errorf("chain.Query", core.Internal, "corrupt state at %q: %v", key, err)
			return false
		}
		var p core.AccountID
		copy(p[:], key[len(prefix):])
		out = append(out, wire.Agreement{Bucket: id, Provider: p, Role: r.Role, MaxBytes: r.MaxBytes,
			ExpiryHeight: r.ExpiryHeight, Payment: r.Payment, Active: v.height+1 < r.ExpiryHeight})
		return len(out) < maxListed
	})
	if err != nil {
		return nil, core.E("chain.Query", core.Internal, err)
	}
	return out, derr
}

func (s *state) latestCheckpoint(id core.BucketID) (*wire.Checkpoint, error) {
	b, err := s.queryBucket(id)
	if err != nil {
		return nil, err
	}
	if b.Latest == nil {
		return nil, core.Errorf("chain.Query", core.NotFound, "bucket %s has no checkpoint", id)
	}
	return b.Latest, nil
}

func (v *view) checkpoints(s *state, id core.BucketID) ([]wire.Checkpoint, error) {
	if _, err := s.queryBucket(id); err != nil {
		return nil, err
	}
	out := []wire.Checkpoint{}
	var derr error
	err := scan(v.r.db, pCheckpoint+u64(uint64(id)), func(key string, val []byte) bool {
		c, err := decodeCheckpoint(val)
		if err != nil {
			derr = core.Errorf("chain.Query", core.Internal, "corrupt state at %q: %v", key, err)
			return false
		}
		out = append(out, *c)
		return len(out) < maxListed
	})
	if err != nil {
		return nil, core.E("chain.Query", core.Internal, err)
	}
	return out, derr
}

func (v *view) equivocations(s *state, id core.BucketID) ([]wire.Equivocation, error) {
	if _, err := s.queryBucket(id); err != nil {
		return nil, err
	}
	out := []wire.Equivocation{}
	err := scanJSON(v.r, pEquivoc+u64(uint64(id)), func(_ string, q *wire.Equivocation) bool {
		out = append(out, *q)
		return len(out) < maxListed
	})
	return out, err
}

func (s *state) queryChallenge(id core.ChallengeID) (*wire.Challenge, error) {
	c, ok := s.challenge(id)
	if !ok {
		return nil, core.Errorf("chain.Query", core.NotFound, "no challenge %s", id)
	}
	return c, nil
}

func (s *state) queryDrive(id core.DriveID) (*wire.Drive, error) {
	d, ok := s.drive(id)
	if !ok {
		return nil, core.Errorf("chain.Query", core.NotFound, "no drive %s", id)
	}
	return d, nil
}

func (v *view) drivesByOwner(s *state, owner core.AccountID) ([]wire.Drive, error) {
	out := []wire.Drive{}
	prefix := acctKey(pDriveOwner, owner)
	err := scan(v.r.db, prefix, func(key string, _ []byte) bool {
		if d, ok := s.drive(core.DriveID(beU64(key[len(prefix):]))); ok {
			out = append(out, *d)
		}
		return len(out) < maxListed
	})
	return out, err
}

// challenges answers wire.RouteChallenges from the narrowest index the
// filter allows.
func (v *view) challenges(s *state, f wire.ChallengeFilter) ([]wire.Challenge, error) {
	prov, bucket, st := f.Provider, f.Bucket, f.State
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
