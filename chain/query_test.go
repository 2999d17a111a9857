package chain_test

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"sync"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// The state filter reads the per-state challenge indexes (alone, or with
// the provider), which follow each challenge from open to its end.
func TestChallengesByState(t *testing.T) {
	e := env{t, newDirect(t, "")}
	f := newChallengeFixture(e)
	id1, _ := f.open(e, 0, 1_000)
	id2, _ := f.open(e, 1, 1_000)
	e.ok(f.provider, f.answer(1, id2))
	g := newChallengeFixture(e)
	id3, _ := g.open(e, 2, 1_000)
	e.ok(g.owner, wire.EndAgreement{Bucket: g.bucket, Provider: g.provider.Account()})
	fp, gp := f.provider.Account(), g.provider.Account()
	for _, c := range []struct {
		prov  *core.AccountID
		state string
		want  []core.ChallengeID
	}{
		{nil, wire.ChallengeOpen, []core.ChallengeID{id1}},
		{nil, wire.ChallengeAnswered, []core.ChallengeID{id2}},
		{nil, wire.ChallengeVoid, []core.ChallengeID{id3}},
		{nil, wire.ChallengeSlashed, nil},
		{nil, "", []core.ChallengeID{id1, id2, id3}},
		{&fp, wire.ChallengeOpen, []core.ChallengeID{id1}},
		{&fp, wire.ChallengeAnswered, []core.ChallengeID{id2}},
		{&fp, wire.ChallengeVoid, nil},
		{&gp, wire.ChallengeOpen, nil},
		{&gp, wire.ChallengeVoid, []core.ChallengeID{id3}},
	} {
		var cs []wire.Challenge
		e.q(wire.PathChallenges(wire.ChallengeFilter{Provider: c.prov, State: c.state}), &cs)
		if len(cs) != len(c.want) {
			t.Fatalf("state %q: %+v, want ids %v", c.state, cs, c.want)
		}
		for i := range cs {
			if cs[i].ID != c.want[i] || (c.state != "" && cs[i].State != c.state) {
				t.Fatalf("state %q: %+v, want ids %v", c.state, cs, c.want)
			}
		}
	}
}

// Queries read a snapshot of the committed state without the app's lock:
// run beside blocks (under -race) they answer, and what they answer only
// moves forward.
func TestQueryBesideBlocks(t *testing.T) {
	d := newDirect(t, "")
	e := env{t, d}
	a := e.newAccount(1_000_000)
	b := e.newAccount(0)
	start := e.account(a.Account()).Balance
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := start
			for {
				select {
				case <-stop:
					return
				default:
				}
				var accs [2]wire.Account
				for i, id := range []core.AccountID{a.Account(), b.Account()} {
					res, err := d.app.Query(context.Background(), &abci.RequestQuery{Path: wire.PathAccount(id)})
					if err != nil || res.Code != wire.CodeOK {
						errs <- "query failed"
						return
					}
					json.Unmarshal(res.Value, &accs[i])
				}
				// a's balance only goes down, one unit a block.
				if accs[0].Balance > last || accs[1].Balance > 30 {
					errs <- "a balance from no committed state"
					return
				}
				last = accs[0].Balance
				var cs []wire.Challenge
				res, err := d.app.Query(context.Background(), &abci.RequestQuery{Path: wire.PathChallenges(wire.ChallengeFilter{State: wire.ChallengeOpen})})
				if err != nil || res.Code != wire.CodeOK || json.Unmarshal(res.Value, &cs) != nil {
					errs <- "challenges query failed"
					return
				}
			}
		}()
	}
	for range 30 {
		e.ok(a, wire.Transfer{To: b.Account(), Amount: 1})
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := e.account(b.Account()).Balance; got != 30 {
		t.Fatalf("b has %d, want 30", got)
	}
}

// Every query path's refusal has its kind: a path of no known shape is
// not_found, a malformed id or query parameter on a known one invalid, an
// unknown id not_found; well-formed paths answer, every route of the table
// with the answer type the table gives it (through the node, the answer of
// the route's chainclient method).
func scenarioQueryRoutes(e env) {
	t := e.t
	answered := map[wire.RouteID]bool{}
	f := newChallengeFixture(e)
	chal, _ := f.open(e, 0, 1_000)
	drv := e.createDrive(f.owner, wire.CreateDrive{Name: "d", Providers: []core.AccountID{f.provider.Account()}, Duration: 100,
		Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}).String()
	acct := f.provider.Account().String()
	bkt := f.bucket.String()
	for _, c := range []struct {
		path string
		want core.Kind // core.Other: answers
	}{
		{"/params", core.Other},
		{"/params/", core.Other},
		{"/status", core.Other},
		{"/account/" + acct, core.Other},
		{"/nonce/" + acct, core.Other},
		{"/provider/" + acct, core.Other},
		{"/provider/" + acct + "/agreements", core.Other},
		{"/providers", core.Other},
		{"/bucket/" + bkt, core.Other},
		{"/bucket/" + bkt + "/agreements", core.Other},
		{"/bucket/" + bkt + "/checkpoint", core.Other},
		{"/bucket/" + bkt + "/checkpoints", core.Other},
		{"/bucket/" + bkt + "/equivocations", core.Other},
		{"/challenge/" + chal.String(), core.Other},
		{"/challenges", core.Other},
		{"/challenges?provider=" + acct + "&bucket=" + bkt + "&state=open", core.Other},
		{"/challenges?unknown=1", core.Other},
		{"/drive/" + drv, core.Other},
		{"/drives?owner=" + f.owner.Account().String(), core.Other},
		{"/validators", core.Other},

		{"", core.NotFound},
		{"/", core.NotFound},
		{"/nope", core.NotFound},
		{"/account", core.NotFound},
		{"/account/" + acct + "/more", core.NotFound},
		{"/provider/" + acct + "/nope", core.NotFound},
		{"/bucket/" + bkt + "/nope", core.NotFound},
		{"/bucket/99999", core.NotFound},
		{"/bucket/99999/checkpoint", core.NotFound},
		{"/bucket/99999/agreements", core.NotFound},
		{"/challenge/99999", core.NotFound},
		{"/drive/99999", core.NotFound},
		{"/provider/" + core.AccountID{7}.String(), core.NotFound},

		{"/account/xyz", core.Invalid},
		{"/account/alice", core.Invalid}, // dev names are a CLI convenience
		{"/nonce/xyz", core.Invalid},
		{"/provider/xyz", core.Invalid},
		{"/provider/xyz/agreements", core.Invalid},
		{"/bucket/x", core.Invalid},
		{"/bucket/0", core.Invalid},
		{"/bucket/-1/agreements", core.Invalid},
		{"/challenge/x", core.Invalid},
		{"/drive/x", core.Invalid},
		{"/drives", core.Invalid},
		{"/drives?owner=xyz", core.Invalid},
		{"/challenges?provider=xyz", core.Invalid},
		{"/challenges?bucket=x", core.Invalid},
		{"/challenges?state=weird", core.Invalid},
		{"/params?%zz", core.Invalid},
	} {
		t.Run(c.path, func(t *testing.T) {
			var raw json.RawMessage
			err := e.b.query(t, c.path, &raw)
			if c.want == core.Other {
				if err != nil {
					t.Fatalf("%s: %v", c.path, err)
				}
				q, err := wire.ParseQueryPath(c.path)
				if err != nil {
					t.Fatal(err)
				}
				r, _ := wire.RouteOf(q.Route)
				dec := json.NewDecoder(bytes.NewReader(raw))
				dec.DisallowUnknownFields()
				if err := dec.Decode(reflect.New(reflect.TypeOf(r.Answer)).Interface()); err != nil {
					t.Fatalf("%s: answer is no %T: %v", c.path, r.Answer, err)
				}
				answered[q.Route] = true
				return
			}
			if got := core.KindOf(err); got != c.want {
				t.Fatalf("%s: kind %v (%v), want %v", c.path, got, err, c.want)
			}
		})
	}
	for _, r := range wire.Routes() {
		if !answered[r.ID] {
			t.Errorf("no case answers %s", r.Pattern)
		}
	}
}
