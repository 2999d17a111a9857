package chain_test

import (
	"context"
	"encoding/json"
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
