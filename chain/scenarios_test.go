package chain_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// scenarios run against both backends: every call's success path and each
// rejection issue 3 lists.
var scenarios = []struct {
	name string
	run  func(e env)
}{
	{"accounts", scenarioAccounts},
	{"envelope", scenarioEnvelope},
	{"providers", scenarioProviders},
	{"buckets", scenarioBuckets},
	{"agreements", scenarioAgreements},
	{"checkpoints", scenarioCheckpoints},
	{"checkpoint start_seq", scenarioStartSeq},
	{"drives", scenarioDrives},
	{"drive root", scenarioDriveRoot},
	{"challenge answered", scenarioChallengeAnswered},
	{"challenge expired", scenarioChallengeExpired},
	{"challenge evidence", scenarioChallengeEvidence},
	{"queries", scenarioQueries},
	{"query routes", scenarioQueryRoutes},
	{"provider agreements", scenarioProviderAgreements},
	{"terms", scenarioTerms},
	{"leaf writer", scenarioLeafWriter},
	{"former writers", scenarioFormerWriters},
	{"end agreement challenged", scenarioEndAgreementChallenged},
	{"equivocation", scenarioEquivocation},
	{"validators", scenarioValidators},
}

// TestScenariosDirect runs the scenarios against the application alone,
// one fresh in-memory app each.
func TestScenariosDirect(t *testing.T) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			s.run(env{t, newDirect(t, "")})
		})
	}
}

// TestScenariosNode runs the same scenarios through a real in-process
// CometBFT validator and chainclient, all at once on one node.
func TestScenariosNode(t *testing.T) {
	if testing.Short() {
		t.Skip("short: skipping the CometBFT run of the scenarios")
	}
	b := newViaNode(t)
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			s.run(env{t, b})
		})
	}
}

func scenarioAccounts(e env) {
	a := e.newAccount(1_000)
	b := e.newAccount(0)
	res := e.ok(a, wire.Transfer{To: b.Account(), Amount: 400})
	ev := event(e.t, res, wire.EventTransfer)
	if ev["from"] != a.Account().String() || ev["to"] != b.Account().String() || ev["amount"] != "400" {
		e.t.Errorf("transfer event %v", ev)
	}
	if got := e.account(a.Account()); got.Balance != 600 || got.Nonce != 1 {
		e.t.Errorf("sender %+v", got)
	}
	if got := e.account(b.Account()); got.Balance != 400 || got.Nonce != 0 {
		e.t.Errorf("receiver %+v", got)
	}
	e.fail(a, wire.Transfer{To: b.Account(), Amount: 601}, core.Conflict, wire.CodeInsufficientFunds)
	e.fail(a, wire.Transfer{To: b.Account(), Amount: 0}, core.Invalid, wire.CodeInvalid)
	e.fail(a, wire.Transfer{To: a.Account(), Amount: 1}, core.Invalid, 0)
	// A failed call consumes its nonce and nothing else.
	if got := e.account(a.Account()); got.Balance != 600 || got.Nonce != 4 {
		e.t.Errorf("after failures %+v, want balance 600 nonce 4", got)
	}
	e.ok(a, wire.AddStake{Amount: 100})
	e.ok(a, wire.WithdrawStake{Amount: 30})
	if got := e.account(a.Account()); got.Balance != 530 || got.Stake != 70 {
		e.t.Errorf("after staking %+v", got)
	}
	e.fail(a, wire.WithdrawStake{Amount: 71}, core.Conflict, wire.CodeInsufficientFunds)
	e.fail(a, wire.AddStake{Amount: 531}, core.Conflict, wire.CodeInsufficientFunds)
}

func scenarioEnvelope(e env) {
	a := e.newAccount(1_000)
	b := dev("bob").Account()
	var n wire.NextNonce
	e.q(wire.PathNonce(a.Account()), &n)
	if n.Next != 0 || n.Committed != 0 {
		e.t.Fatalf("fresh nonce %+v", n)
	}
	send := func(tx []byte, kind core.Kind, code uint32, what string) {
		e.t.Helper()
		_, err := e.b.submitRaw(e.t, tx)
		e.wantErr(what, err, kind, code)
	}
	tx := func(chainID string, nonce uint64, call wire.Call) []byte {
		b, err := wire.EncodeTx(a, chainID, nonce, call)
		if err != nil {
			e.t.Fatal(err)
		}
		return b
	}
	send(tx("other-chain", 0, wire.Transfer{To: b, Amount: 1}), core.Invalid, wire.CodeWrongChainID, "wrong chain id")
	send(tx(e.b.chainID(), 5, wire.Transfer{To: b, Amount: 1}), core.Conflict, wire.CodeBadNonce, "skipped nonce")
	if _, err := e.b.submitRaw(e.t, tx(e.b.chainID(), 0, wire.Transfer{To: b, Amount: 1})); err != nil {
		e.t.Fatalf("nonce 0: %v", err)
	}
	// Replayed nonce: another tx (so not a mempool cache hit) with nonce 0.
	send(tx(e.b.chainID(), 0, wire.Transfer{To: b, Amount: 2}), core.Conflict, wire.CodeBadNonce, "replayed nonce")
	// Forged envelope: signed by a, claims to be from bob.
	good := tx(e.b.chainID(), 1, wire.Transfer{To: b, Amount: 3})
	forged := bytes.Replace(good, []byte(a.Account().String()), []byte(b.String()), 1)
	send(forged, core.Unauthorized, wire.CodeBadTxSignature, "forged signer")
	flipped := bytes.Clone(good)
	flipped[len(wire.TxDomain)+3] ^= 1
	send(flipped, core.Unauthorized, wire.CodeBadTxSignature, "bad signature")
	send([]byte("not a transaction at all"), core.Invalid, wire.CodeTxDecode, "garbage")
	// An unknown call, properly signed.
	body := `{"chain_id":"` + e.b.chainID() + `","signer":"` + a.Account().String() + `","nonce":1,"call":{"type":"mint","value":{"amount":5}}}`
	sig := a.Sign(append([]byte(wire.TxDomain), body...))
	raw := append(append([]byte(wire.TxDomain), sig[:]...), body...)
	send(raw, core.Invalid, wire.CodeUnknownCall, "unknown call")
	if got := e.account(a.Account()); got.Nonce != 1 || got.Balance != 999 {
		e.t.Errorf("after refusals %+v, want nonce 1 balance 999", got)
	}
}

func scenarioProviders(e env) {
	p := e.newAccount(5_000_000)
	e.fail(p, wire.RegisterProvider{Endpoint: "http://p", Stake: 999_999}, core.Invalid, 0) // below min stake
	e.fail(p, wire.RegisterProvider{Endpoint: "", Stake: 1_000_000}, core.Invalid, 0)
	e.fail(p, wire.RegisterProvider{Endpoint: "http://p", Stake: 6_000_000}, core.Conflict, wire.CodeInsufficientFunds)
	e.fail(p, wire.UpdateProvider{Endpoint: "http://q", Capacity: 1}, core.NotFound, 0)
	res := e.ok(p, wire.RegisterProvider{Endpoint: "/ip4/10.0.0.1/tcp/80/http", Stake: 2_000_000, Capacity: 1 << 30})
	ev := event(e.t, res, wire.EventProviderRegistered)
	if ev["provider"] != p.Account().String() || ev["stake"] != "2000000" {
		e.t.Errorf("event %v", ev)
	}
	var got wire.Provider
	e.q(wire.PathProvider(p.Account()), &got)
	if got.Endpoint != "/ip4/10.0.0.1/tcp/80/http" || got.PublicKey != p.Account() || got.Stake != 2_000_000 ||
		got.Capacity != 1<<30 || got.RegisteredHeight != res.Height {
		e.t.Errorf("provider %+v (registered at %d)", got, res.Height)
	}
	e.fail(p, wire.RegisterProvider{Endpoint: "http://p", Stake: 1_000_000}, core.Exists, 0)
	e.ok(p, wire.UpdateProvider{Endpoint: "https://p.example", Capacity: 5})
	e.q(wire.PathProvider(p.Account()), &got)
	if got.Endpoint != "https://p.example" || got.Capacity != 5 {
		e.t.Errorf("updated %+v", got)
	}
	// A provider keeps the minimum stake.
	e.fail(p, wire.WithdrawStake{Amount: 1_000_001}, core.Conflict, wire.CodeConflict)
	e.ok(p, wire.WithdrawStake{Amount: 1_000_000})
	var all []wire.Provider
	e.q(wire.PathProviders(), &all)
	found := false
	for _, x := range all {
		found = found || x.Account == p.Account()
	}
	if !found {
		e.t.Errorf("provider missing from %d providers", len(all))
	}
}

func scenarioBuckets(e env) {
	owner := e.newAccount(1_000)
	w := e.newAccount(10)
	e.fail(owner, wire.CreateBucket{Quorum: 0}, core.Invalid, 0)
	e.fail(owner, wire.CreateBucket{Quorum: 1, Members: []wire.Member{{Account: w.Account(), Role: "boss"}}}, core.Invalid, 0)
	id := e.createBucket(owner, wire.CreateBucket{Quorum: 2, MinProviders: 3, Members: []wire.Member{{Account: w.Account(), Role: wire.Writer}}})
	b := e.bucket(id)
	if b.Owner != owner.Account() || b.Quorum != 2 || b.MinProviders != 3 || b.Role(owner.Account()) != wire.Admin ||
		b.Role(w.Account()) != wire.Writer || b.Latest != nil {
		e.t.Fatalf("bucket %+v", b)
	}
	r := e.newAccount(10)
	e.fail(w, wire.SetMember{Bucket: id, Member: wire.Member{Account: r.Account(), Role: wire.Reader}}, core.Unauthorized, 0)
	e.ok(owner, wire.SetMember{Bucket: id, Member: wire.Member{Account: r.Account(), Role: wire.Reader}})
	e.ok(owner, wire.SetMember{Bucket: id, Member: wire.Member{Account: w.Account(), Role: wire.Admin}})
	// The new admin may manage members; nobody changes the owner.
	e.ok(w, wire.SetMember{Bucket: id, Member: wire.Member{Account: r.Account()}})
	e.fail(w, wire.SetMember{Bucket: id, Member: wire.Member{Account: owner.Account(), Role: wire.Reader}}, core.Conflict, 0)
	e.fail(owner, wire.SetMember{Bucket: id, Member: wire.Member{Account: r.Account()}}, core.NotFound, 0)
	e.fail(owner, wire.SetMember{Bucket: id + 1000, Member: wire.Member{Account: r.Account(), Role: wire.Reader}}, core.NotFound, 0)
	b = e.bucket(id)
	if b.Role(r.Account()) != "" || b.Role(w.Account()) != wire.Admin || len(b.Members) != 2 {
		e.t.Errorf("members %+v", b.Members)
	}
}

func scenarioAgreements(e env) {
	owner := e.newAccount(1_000)
	p := e.newProvider()
	stranger := e.newAccount(100)
	id := e.createBucket(owner, wire.CreateBucket{Quorum: 1})
	before := e.account(p.Account()).Balance
	e.fail(stranger, wire.CreateAgreement{Bucket: id, Provider: p.Account(), Role: wire.Primary, Duration: 10}, core.Unauthorized, 0)
	e.fail(owner, wire.CreateAgreement{Bucket: id, Provider: stranger.Account(), Role: wire.Primary, Duration: 10}, core.NotFound, 0)
	e.fail(owner, wire.CreateAgreement{Bucket: id, Provider: p.Account(), Role: "boss", Duration: 10}, core.Invalid, 0)
	e.fail(owner, wire.CreateAgreement{Bucket: id, Provider: p.Account(), Role: wire.Primary, Duration: 0}, core.Invalid, 0)
	e.fail(owner, wire.CreateAgreement{Bucket: id, Provider: p.Account(), Role: wire.Primary, Duration: 10, Payment: 5_000}, core.Conflict, wire.CodeInsufficientFunds)
	res := e.ok(owner, wire.CreateAgreement{Bucket: id, Provider: p.Account(), Role: wire.Primary, MaxBytes: 1 << 20, Duration: 1000, Payment: 250})
	ev := event(e.t, res, wire.EventAgreementCreated)
	if ev["role"] != "primary" || ev["max_bytes"] != "1048576" || ev["payment"] != "250" {
		e.t.Errorf("event %v", ev)
	}
	if got := e.account(p.Account()).Balance; got != before+250 {
		e.t.Errorf("provider balance %d, want %d", got, before+250)
	}
	if got := e.account(owner.Account()).Balance; got != 750 {
		e.t.Errorf("owner balance %d, want 750", got)
	}
	e.fail(owner, wire.CreateAgreement{Bucket: id, Provider: p.Account(), Role: wire.Replica, Duration: 10}, core.Exists, 0)
	var ags []wire.Agreement
	e.q(wire.PathAgreements(id), &ags)
	if len(ags) != 1 || !ags[0].Active || ags[0].ExpiryHeight != res.Height+1000 || ags[0].MaxBytes != 1<<20 {
		e.t.Fatalf("agreements %+v", ags)
	}
	e.fail(stranger, wire.EndAgreement{Bucket: id, Provider: p.Account()}, core.Unauthorized, 0)
	e.ok(p, wire.EndAgreement{Bucket: id, Provider: p.Account()}) // the provider may end it
	e.fail(owner, wire.EndAgreement{Bucket: id, Provider: p.Account()}, core.NotFound, 0)
	// A short agreement expires; then a new one may replace it.
	res = e.ok(owner, wire.CreateAgreement{Bucket: id, Provider: p.Account(), Role: wire.Replica, Duration: 2})
	e.b.waitBlocks(e.t, 2)
	e.q(wire.PathAgreements(id), &ags)
	if len(ags) != 1 || ags[0].Active || ags[0].Role != wire.Replica {
		e.t.Fatalf("expired agreement %+v (created at %d, now %d)", ags, res.Height, e.b.height(e.t))
	}
	e.ok(owner, wire.CreateAgreement{Bucket: id, Provider: p.Account(), Role: wire.Primary, Duration: 100})
}

// checkpointBucket makes a bucket with three primaries (quorum 2), a
// replica, a writer and a reader.
type cpFixture struct {
	owner, writer, reader, stranger core.PrivateKey
	p1, p2, p3, replica, outsider   core.PrivateKey
	bucket                          core.BucketID
}

func newCPFixture(e env, quorum uint32) cpFixture {
	f := cpFixture{
		owner: e.newAccount(100_000), writer: e.newAccount(100), reader: e.newAccount(100), stranger: e.newAccount(100),
		p1: e.newProvider(), p2: e.newProvider(), p3: e.newProvider(), replica: e.newProvider(), outsider: e.newProvider(),
	}
	f.bucket = e.createBucket(f.owner, wire.CreateBucket{Quorum: quorum, MinProviders: 3, Members: []wire.Member{
		{Account: f.writer.Account(), Role: wire.Writer}, {Account: f.reader.Account(), Role: wire.Reader}}})
	for _, p := range []core.PrivateKey{f.p1, f.p2, f.p3} {
		e.ok(f.owner, wire.CreateAgreement{Bucket: f.bucket, Provider: p.Account(), Role: wire.Primary, MaxBytes: 1 << 30, Duration: 10_000})
	}
	e.ok(f.owner, wire.CreateAgreement{Bucket: f.bucket, Provider: f.replica.Account(), Role: wire.Replica, MaxBytes: 1 << 30, Duration: 10_000})
	return f
}

func scenarioCheckpoints(e env) {
	f := newCPFixture(e, 2)
	id := e.b.chainID()
	l := newLog(e.t, 0)
	n := l.write([]byte("a"), []byte("b"), []byte("c"))

	e.notFound(wire.PathCheckpoint(f.bucket))
	e.fail(f.owner, l.checkpoint(id, f.bucket+1000, n, f.p1, f.p2), core.NotFound, 0)
	e.fail(f.stranger, l.checkpoint(id, f.bucket, n, f.p1, f.p2), core.Unauthorized, 0) // non-member
	e.fail(f.reader, l.checkpoint(id, f.bucket, n, f.p1, f.p2), core.Unauthorized, 0)   // reader
	e.fail(f.owner, l.checkpoint(id, f.bucket, n, f.p1), core.NoQuorum, 0)              // below quorum
	dup := l.checkpoint(id, f.bucket, n, f.p1)
	dup.Signatures = append(dup.Signatures, dup.Signatures[0])
	e.fail(f.owner, dup, core.Invalid, 0)                                                 // duplicate signer
	e.fail(f.owner, l.checkpoint(id, f.bucket, n, f.p1, f.replica), core.Unauthorized, 0) // replica, not primary
	e.fail(f.owner, l.checkpoint(id, f.bucket, n, f.p1, f.outsider), core.Unauthorized, 0)
	forged := l.checkpoint(id, f.bucket, n, f.p1, f.p2)
	forged.Signatures[1].Signature = sign(e.t, core.Commitment{ChainID: id, Bucket: f.bucket, MMRRoot: core.Sum256([]byte("other")), LeafCount: n}, f.p2)[0].Signature
	e.fail(f.owner, forged, core.Corrupt, 0) // p2's signature over another root
	impostor := l.checkpoint(id, f.bucket, n, f.p1, f.outsider)
	impostor.Signatures[1].Provider = f.p2.Account() // outsider's signature presented as p2's
	e.fail(f.owner, impostor, core.Corrupt, 0)
	otherChain := l.checkpoint("another-chain", f.bucket, n, f.p1, f.p2)
	e.fail(f.owner, otherChain, core.Corrupt, 0)

	res := e.ok(f.writer, l.checkpoint(id, f.bucket, n, f.p1, f.p2))
	ev := event(e.t, res, wire.EventCheckpointSubmitted)
	want := map[string]string{"bucket": f.bucket.String(), "mmr_root": l.root(n).String(), "leaf_count": "3", "start_seq": "0",
		"signers": f.p1.Account().String() + "," + f.p2.Account().String(), "height": itoa(res.Height), "submitter": f.writer.Account().String()}
	for k, v := range want {
		if ev[k] != v {
			e.t.Errorf("checkpoint.submitted %s = %q, want %q", k, ev[k], v)
		}
	}
	var latest wire.Checkpoint
	e.q(wire.PathCheckpoint(f.bucket), &latest)
	if latest.MMRRoot != l.root(n) || latest.LeafCount != 3 || latest.Height != res.Height || len(latest.Signers) != 2 || latest.Submitter != f.writer.Account() {
		e.t.Fatalf("latest %+v", latest)
	}

	// Growth needs a consistency proof that verifies.
	n2 := l.write([]byte("d"), []byte("e"))
	next := l.checkpoint(id, f.bucket, n2, f.p1, f.p2, f.p3)
	e.fail(f.owner, next, core.Invalid, 0) // no proof
	next.Consistency = l.consistency(2, n2)
	e.fail(f.owner, next, core.Corrupt, 0) // proof from the wrong count
	fork := newLog(e.t, 0)
	fork.write([]byte("a"), []byte("B"), []byte("c"), []byte("d"), []byte("e"))
	forkCP := fork.checkpoint(id, f.bucket, n2, f.p1, f.p2)
	forkCP.Consistency = fork.consistency(n, n2)
	e.fail(f.owner, forkCP, core.Corrupt, 0) // rewritten history
	next.Consistency = l.consistency(n, n2)
	e.ok(f.owner, next)
	// leaf_count does not go back; an equal count must keep the root.
	e.fail(f.owner, l.checkpoint(id, f.bucket, n, f.p1, f.p2), core.Conflict, 0)
	same := fork.checkpoint(id, f.bucket, n2, f.p1, f.p2)
	e.fail(f.owner, same, core.Conflict, 0)
	e.ok(f.owner, l.checkpoint(id, f.bucket, n2, f.p2, f.p3))

	var hist []wire.Checkpoint
	e.q(wire.PathCheckpoints(f.bucket), &hist)
	if len(hist) != 3 || hist[0].LeafCount != 3 || hist[1].LeafCount != 5 || len(hist[1].Signers) != 3 || hist[2].Signers[0] != f.p2.Account() {
		e.t.Fatalf("history %+v", hist)
	}

	// A primary whose agreement ended no longer counts.
	e.ok(f.owner, wire.EndAgreement{Bucket: f.bucket, Provider: f.p3.Account()})
	n3 := l.write([]byte("f"))
	gone := l.checkpoint(id, f.bucket, n3, f.p1, f.p3)
	gone.Consistency = l.consistency(n2, n3)
	e.fail(f.owner, gone, core.Unauthorized, 0)
}

func scenarioStartSeq(e env) {
	f := newCPFixture(e, 1)
	id := e.b.chainID()
	l := newLog(e.t, 10)
	n := l.write([]byte("a"), []byte("b"), []byte("c"), []byte("d"))
	e.ok(f.owner, l.checkpoint(id, f.bucket, n, f.p1)) // log [10, 14)
	// start_seq never decreases.
	lower := newLog(e.t, 9)
	lower.write([]byte("z"), []byte("a"), []byte("b"), []byte("c"), []byte("d"), []byte("e"))
	e.fail(f.owner, lower.checkpoint(id, f.bucket, 6, f.p1), core.Conflict, 0)
	// Nor does it advance, however many primaries sign: truncation is not
	// offered, so a quorum cannot rewrite history under a new start_seq.
	pruned := newLog(e.t, 12)
	pruned.write([]byte("c"), []byte("d"), []byte("e"))
	te := e.fail(f.owner, pruned.checkpoint(id, f.bucket, 3, f.p1, f.p2, f.p3), core.Conflict, 0)
	if !strings.Contains(te.Log, "truncation is not offered") {
		e.t.Errorf("refusal does not say why: %s", te.Log)
	}
	var latest wire.Checkpoint
	e.q(wire.PathCheckpoint(f.bucket), &latest)
	if latest.StartSeq != 10 || latest.LeafCount != 4 || latest.MMRRoot != l.root(n) {
		e.t.Fatalf("latest %+v", latest)
	}
	// The same log, grown, is accepted with its proof.
	m := l.write([]byte("e"))
	cp := l.checkpoint(id, f.bucket, m, f.p1)
	cp.Consistency = l.consistency(n, m)
	e.ok(f.owner, cp)
}

func scenarioDrives(e env) {
	owner := e.newAccount(1_000_000)
	p1, p2, p3, r := e.newProvider(), e.newProvider(), e.newProvider(), e.newProvider()
	friend := e.newAccount(100)
	balances := map[core.AccountID]uint64{}
	for _, p := range []core.PrivateKey{p1, p2, p3, r} {
		balances[p.Account()] = e.account(p.Account()).Balance
	}
	strategy := wire.CommitStrategy{Kind: wire.StrategyBatched, Interval: 10}
	e.fail(owner, wire.CreateDrive{Name: "", Providers: []core.AccountID{p1.Account()}, Duration: 10, Strategy: strategy}, core.Invalid, 0)
	e.fail(owner, wire.CreateDrive{Name: "x", Duration: 10, Strategy: strategy}, core.Invalid, 0)
	e.fail(owner, wire.CreateDrive{Name: "x", Providers: []core.AccountID{p1.Account(), p1.Account()}, Duration: 10, Strategy: strategy}, core.Invalid, 0)
	e.fail(owner, wire.CreateDrive{Name: "x", Providers: []core.AccountID{p1.Account()}, Replicas: []core.AccountID{p1.Account()}, Duration: 10, Strategy: strategy}, core.Invalid, 0)
	e.fail(owner, wire.CreateDrive{Name: "x", Providers: []core.AccountID{p1.Account()}, Quorum: 2, Duration: 10, Strategy: strategy}, core.Invalid, 0)
	e.fail(owner, wire.CreateDrive{Name: "x", Providers: []core.AccountID{p1.Account()}, Duration: 10, Strategy: wire.CommitStrategy{Kind: wire.StrategyBatched}}, core.Invalid, 0)
	// Atomic: an unregistered provider late in the list leaves nothing behind.
	e.fail(owner, wire.CreateDrive{Name: "x", Providers: []core.AccountID{p1.Account(), friend.Account()}, Duration: 10, Payment: 7, Strategy: strategy}, core.NotFound, 0)
	if got := e.account(p1.Account()).Balance; got != balances[p1.Account()] {
		e.t.Fatalf("failed create_drive paid p1: %d -> %d", balances[p1.Account()], got)
	}
	res := e.ok(owner, wire.CreateDrive{Name: "photos", Providers: []core.AccountID{p1.Account(), p2.Account(), p3.Account()},
		Replicas: []core.AccountID{r.Account()}, MaxBytes: 1 << 30, Duration: 500, Payment: 1_000, Strategy: strategy})
	ev := event(e.t, res, wire.EventDriveCreated)
	did := core.DriveID(attrID(e.t, res, wire.EventDriveCreated, "drive"))
	bid := core.BucketID(attrID(e.t, res, wire.EventDriveCreated, "bucket"))
	if ev["quorum"] != "2" || ev["name"] != "photos" {
		e.t.Errorf("drive.created %v", ev)
	}
	d := e.drive(did)
	if d.Owner != owner.Account() || d.Bucket != bid || d.Name != "photos" || d.Strategy != strategy || d.RootCID != "" {
		e.t.Fatalf("drive %+v", d)
	}
	b := e.bucket(bid)
	if b.Quorum != 2 || b.MinProviders != 3 || b.Owner != owner.Account() || b.Role(owner.Account()) != wire.Admin {
		e.t.Fatalf("bucket %+v", b)
	}
	var ags []wire.Agreement
	e.q(wire.PathAgreements(bid), &ags)
	roles := map[core.AccountID]wire.Role{}
	for _, a := range ags {
		roles[a.Provider] = a.Role
		if !a.Active || a.MaxBytes != 1<<30 || a.Payment != 1_000 || a.ExpiryHeight != res.Height+500 {
			e.t.Errorf("agreement %+v", a)
		}
	}
	if len(ags) != 4 || roles[p1.Account()] != wire.Primary || roles[r.Account()] != wire.Replica {
		e.t.Fatalf("agreements %+v", ags)
	}
	for _, p := range []core.PrivateKey{p1, p2, p3, r} {
		if got := e.account(p.Account()).Balance; got != balances[p.Account()]+1_000 {
			e.t.Errorf("provider paid %d, want %d", got-balances[p.Account()], 1_000)
		}
	}
	if got := e.account(owner.Account()).Balance; got != 1_000_000-4_000 {
		e.t.Errorf("owner balance %d", got)
	}
	var mine []wire.Drive
	e.q(wire.PathDrives(owner.Account()), &mine)
	if len(mine) != 1 || mine[0].ID != did {
		e.t.Fatalf("drives by owner %+v", mine)
	}

	manual := wire.CommitStrategy{Kind: wire.StrategyManual}
	e.fail(friend, wire.SetCommitStrategy{Drive: did, Strategy: manual}, core.Unauthorized, 0)
	e.fail(owner, wire.SetCommitStrategy{Drive: did, Strategy: wire.CommitStrategy{Kind: "sometimes"}}, core.Invalid, 0)
	e.ok(owner, wire.SetCommitStrategy{Drive: did, Strategy: manual})
	if e.drive(did).Strategy != manual {
		e.t.Error("strategy not set")
	}
	e.fail(friend, wire.ShareDrive{Drive: did, Member: wire.Member{Account: friend.Account(), Role: wire.Writer}}, core.Unauthorized, 0)
	e.fail(owner, wire.ShareDrive{Drive: did, Member: wire.Member{Account: owner.Account(), Role: wire.Reader}}, core.Invalid, 0)
	e.ok(owner, wire.ShareDrive{Drive: did, Member: wire.Member{Account: friend.Account(), Role: wire.Reader}})
	e.ok(owner, wire.ShareDrive{Drive: did, Member: wire.Member{Account: friend.Account(), Role: wire.Writer}})
	d = e.drive(did)
	if len(d.SharedWith) != 1 || d.SharedWith[0].Role != wire.Writer || e.bucket(bid).Role(friend.Account()) != wire.Writer {
		e.t.Fatalf("shared %+v", d.SharedWith)
	}
	e.ok(owner, wire.UnshareDrive{Drive: did, Account: friend.Account()})
	e.fail(owner, wire.UnshareDrive{Drive: did, Account: friend.Account()}, core.NotFound, 0)
	if len(e.drive(did).SharedWith) != 0 || e.bucket(bid).Role(friend.Account()) != "" {
		e.t.Fatal("unshare left the member")
	}
	e.fail(friend, wire.DeleteDrive{Drive: did}, core.Unauthorized, 0)
	e.ok(owner, wire.DeleteDrive{Drive: did})
	e.notFound(wire.PathDrive(did))
	e.q(wire.PathDrives(owner.Account()), &mine)
	if len(mine) != 0 {
		e.t.Errorf("deleted drive still listed: %+v", mine)
	}
	e.fail(owner, wire.DeleteDrive{Drive: did}, core.NotFound, 0)
}

func scenarioDriveRoot(e env) {
	owner := e.newAccount(1_000_000)
	p1, p2 := e.newProvider(), e.newProvider()
	reader, writer := e.newAccount(100), e.newAccount(100)
	res := e.ok(owner, wire.CreateDrive{Name: "docs", Providers: []core.AccountID{p1.Account(), p2.Account()}, MaxBytes: 1 << 30,
		Duration: 1000, Strategy: wire.CommitStrategy{Kind: wire.StrategyImmediate}})
	did := core.DriveID(attrID(e.t, res, wire.EventDriveCreated, "drive"))
	bid := core.BucketID(attrID(e.t, res, wire.EventDriveCreated, "bucket"))
	e.ok(owner, wire.ShareDrive{Drive: did, Member: wire.Member{Account: reader.Account(), Role: wire.Reader}})
	e.ok(owner, wire.ShareDrive{Drive: did, Member: wire.Member{Account: writer.Account(), Role: wire.Writer}})
	id := e.b.chainID()

	l := newLog(e.t, 0)
	rootBlob := []byte(`{"entries":[]}`)
	n := l.write([]byte("chunk"), rootBlob, []byte("other"))
	withRoot := func(blobIndex uint64) wire.SubmitCheckpoint {
		c := l.checkpoint(id, bid, n, p1, p2)
		c.DriveRoot = &wire.DriveRootUpdate{Drive: did, RootCID: cidOf(e.t, l.blobs[blobIndex]), Leaf: l.leaves[blobIndex],
			LeafIndex: blobIndex, Proof: l.proof(blobIndex, n)}
		return c
	}
	e.fail(reader, withRoot(1), core.Unauthorized, 0) // a reader cannot move the root
	bad := withRoot(1)
	bad.DriveRoot.Proof = l.proof(2, n) // a proof of another leaf
	e.fail(owner, bad, core.Corrupt, 0)
	bad = withRoot(1)
	bad.DriveRoot.LeafIndex, bad.DriveRoot.Proof = 2, l.proof(2, n) // leaf 1 presented as leaf 2
	e.fail(owner, bad, core.Corrupt, 0)
	bad = withRoot(1)
	bad.DriveRoot.RootCID = cidOf(e.t, []byte("something else"))
	e.fail(owner, bad, core.Corrupt, 0)
	bad = withRoot(1)
	bad.DriveRoot.RootCID = "not-a-cid"
	e.fail(owner, bad, core.Invalid, 0)
	bad = withRoot(1)
	bad.DriveRoot.Drive = did + 1000
	e.fail(owner, bad, core.NotFound, 0)
	if e.drive(did).RootCID != "" {
		e.t.Fatal("a refused update moved the root")
	}
	var none wire.Checkpoint
	if err := e.b.query(e.t, wire.PathCheckpoint(bid), &none); err == nil {
		e.t.Fatal("a refused root update left a checkpoint")
	}

	res = e.ok(writer, withRoot(1))
	ev := event(e.t, res, wire.EventDriveRootUpdated)
	want := cidOf(e.t, rootBlob)
	if ev["drive"] != did.String() || ev["root_cid"] != want {
		e.t.Errorf("drive.root_updated %v", ev)
	}
	d := e.drive(did)
	if d.RootCID != want || d.LastCommittedHeight != res.Height {
		e.t.Fatalf("drive %+v", d)
	}
	event(e.t, res, wire.EventCheckpointSubmitted)
}

// challengeFixture: a bucket with one primary that signed a checkpoint of
// a three-leaf log.
type challengeFixture struct {
	owner, provider, challenger core.PrivateKey
	chainID                     string
	bucket                      core.BucketID
	log                         *log
	count                       uint64
}

func newChallengeFixture(e env) challengeFixture {
	f := challengeFixture{owner: e.newAccount(100_000), provider: e.newProvider(), challenger: e.newAccount(50_000), chainID: e.b.chainID()}
	f.bucket = e.createBucket(f.owner, wire.CreateBucket{Quorum: 1})
	e.ok(f.owner, wire.CreateAgreement{Bucket: f.bucket, Provider: f.provider.Account(), Role: wire.Primary, MaxBytes: 1 << 20, Duration: 10_000})
	f.log = newLog(e.t, 100)
	f.count = f.log.write([]byte("zero"), []byte("one"), bytes.Repeat([]byte("two"), 1000))
	e.ok(f.owner, f.log.checkpoint(e.b.chainID(), f.bucket, f.count, f.provider))
	return f
}

func (f challengeFixture) open(e env, leaf uint64, deposit uint64) (core.ChallengeID, *wire.TxResult) {
	res := e.ok(f.challenger, wire.OpenChallenge{Provider: f.provider.Account(), Bucket: f.bucket, LeafIndex: leaf,
		Evidence: wire.ChallengeEvidence{FromCheckpoint: true}, Deposit: deposit})
	return core.ChallengeID(attrID(e.t, res, wire.EventChallengeOpened, "id")), res
}

// answer is the provider's answer to challenge id on leaf, the leaf signed
// by the bucket's owner (a writer).
func (f challengeFixture) answer(leaf uint64, id core.ChallengeID) wire.RespondChallenge {
	return wire.RespondChallenge{Challenge: id, Leaf: f.log.signed(leaf, f.chainID, f.bucket, f.owner), Data: f.log.blobs[leaf], Proof: f.log.proof(leaf, f.count)}
}

func scenarioChallengeAnswered(e env) {
	f := newChallengeFixture(e)
	provBal := e.account(f.provider.Account()).Balance
	chalBal := e.account(f.challenger.Account()).Balance
	id, res := f.open(e, 2, 5_000)
	ev := event(e.t, res, wire.EventChallengeOpened)
	if ev["provider"] != f.provider.Account().String() || ev["bucket"] != f.bucket.String() || ev["leaf_index"] != "2" ||
		ev["deadline"] != itoa(res.Height+testParams.ChallengeDeadline) {
		e.t.Errorf("challenge.opened %v", ev)
	}
	c := e.challenge(id)
	if c.State != wire.ChallengeOpen || c.MMRRoot != f.log.root(f.count) || c.StartSeq != 100 || c.LeafCount != 3 || c.Deposit != 5_000 || c.Challenger != f.challenger.Account() {
		e.t.Fatalf("challenge %+v", c)
	}
	// The stake is locked while a challenge is open.
	e.fail(f.provider, wire.WithdrawStake{Amount: 1}, core.Conflict, 0)
	e.fail(f.challenger, wire.ResolveChallenge{Challenge: id}, core.Conflict, 0) // deadline not passed
	e.fail(f.challenger, f.answer(2, id), core.Unauthorized, 0)                  // only the provider answers
	wrong := f.answer(2, id)
	wrong.Data = bytes.Repeat([]byte("TWO"), 1000)
	e.fail(f.provider, wrong, core.Corrupt, 0) // data does not hash to the leaf
	wrong = f.answer(1, id)
	e.fail(f.provider, wrong, core.Corrupt, 0) // a genuine proof, of the wrong leaf
	wrong = f.answer(2, id)
	wrong.Proof = f.log.proof(2, 2+1)
	wrong.Proof.Siblings = append([]mmr.Hash{}, wrong.Proof.Siblings...)
	if len(wrong.Proof.Peaks) > 0 {
		wrong.Proof.Peaks[0][0] ^= 1
	}
	e.fail(f.provider, wrong, core.Corrupt, 0)
	res = e.ok(f.provider, f.answer(2, id))
	if a := event(e.t, res, wire.EventChallengeAnswered); a["id"] != id.String() {
		e.t.Errorf("challenge.answered %v", a)
	}
	c = e.challenge(id)
	if c.State != wire.ChallengeAnswered || c.ClosedHeight != res.Height {
		e.t.Fatalf("answered challenge %+v", c)
	}
	// The frivolous challenger's deposit went to the provider; no slash.
	if got := e.account(f.provider.Account()); got.Balance != provBal+5_000 || got.Stake != providerStake {
		e.t.Errorf("provider %+v, want balance %d stake %d", got, provBal+5_000, providerStake)
	}
	if got := e.account(f.challenger.Account()).Balance; got != chalBal-5_000 {
		e.t.Errorf("challenger balance %d, want %d", got, chalBal-5_000)
	}
	e.fail(f.provider, f.answer(2, id), core.Conflict, 0) // answered already
	e.fail(f.challenger, wire.ResolveChallenge{Challenge: id}, core.Conflict, 0)
	e.ok(f.provider, wire.WithdrawStake{Amount: 1})
}

func scenarioChallengeExpired(e env) {
	f := newChallengeFixture(e)
	chalBal := e.account(f.challenger.Account()).Balance
	resolver := e.newAccount(10)
	id, res := f.open(e, 0, 2_000)
	if got := e.account(f.challenger.Account()).Balance; got != chalBal-2_000 {
		e.t.Fatalf("deposit not taken: %d", got)
	}
	// Wait past the deadline: opened at h, answerable up to h+40.
	for e.b.height(e.t) <= res.Height+testParams.ChallengeDeadline {
		e.b.waitBlocks(e.t, 1)
	}
	e.fail(f.provider, f.answer(0, id), core.Conflict, 0) // too late
	res = e.ok(resolver, wire.ResolveChallenge{Challenge: id})
	// Exact: 10 % of 10,000,000 = 1,000,000 slashed; half to the challenger.
	const slash, reward = providerStake / 10, providerStake / 20
	ev := event(e.t, res, wire.EventProviderSlashed)
	if ev["provider"] != f.provider.Account().String() || ev["amount"] != itoa(slash) || ev["challenge"] != id.String() ||
		ev["reward"] != itoa(reward) || ev["burned"] != itoa(slash-reward) {
		e.t.Errorf("provider.slashed %v", ev)
	}
	if got := e.account(f.provider.Account()).Stake; got != providerStake-slash {
		e.t.Errorf("provider stake %d, want %d", got, providerStake-slash)
	}
	if got := e.account(f.challenger.Account()).Balance; got != chalBal+reward {
		e.t.Errorf("challenger balance %d, want %d (deposit back + reward)", got, chalBal+reward)
	}
	c := e.challenge(id)
	if c.State != wire.ChallengeSlashed || c.Slashed != slash || c.ClosedHeight != res.Height {
		e.t.Fatalf("challenge %+v", c)
	}
	e.fail(resolver, wire.ResolveChallenge{Challenge: id}, core.Conflict, 0) // once only
	e.fail(resolver, wire.ResolveChallenge{Challenge: id + 1000}, core.NotFound, 0)
	// A second slash takes 10 % of what is left, rounded down.
	id2, res2 := f.open(e, 1, 1_000)
	for e.b.height(e.t) <= res2.Height+testParams.ChallengeDeadline {
		e.b.waitBlocks(e.t, 1)
	}
	e.ok(resolver, wire.ResolveChallenge{Challenge: id2})
	if got := e.account(f.provider.Account()).Stake; got != 9_000_000-900_000 {
		e.t.Errorf("stake after second slash %d", got)
	}
}

func scenarioChallengeEvidence(e env) {
	f := newChallengeFixture(e)
	other := e.newProvider()
	id := e.b.chainID()
	// An off-chain commitment the provider signed, ahead of the chain.
	n := f.log.write([]byte("three"))
	com := core.Commitment{ChainID: id, Bucket: f.bucket, MMRRoot: f.log.root(n), StartSeq: 100, LeafCount: n}
	sc, err := com.Sign(f.provider)
	if err != nil {
		e.t.Fatal(err)
	}
	open := func(sc core.SignedCommitment, leaf uint64) wire.OpenChallenge {
		return wire.OpenChallenge{Provider: f.provider.Account(), Bucket: f.bucket, LeafIndex: leaf, Evidence: wire.ChallengeEvidence{Commitment: &sc}, Deposit: 1_000}
	}
	e.fail(f.challenger, open(sc, n), core.Invalid, 0) // leaf index out of range
	forged := sc
	forged.LeafCount = 2
	e.fail(f.challenger, open(forged, 0), core.Corrupt, 0)
	byOther, _ := com.Sign(other)
	e.fail(f.challenger, open(byOther, 0), core.Invalid, 0) // signed by someone else
	wrongChain, _ := core.Commitment{ChainID: "x", Bucket: f.bucket, MMRRoot: com.MMRRoot, StartSeq: 100, LeafCount: n}.Sign(f.provider)
	e.fail(f.challenger, open(wrongChain, 0), core.Invalid, 0)
	low := open(sc, 0)
	low.Deposit = 999
	e.fail(f.challenger, low, core.Invalid, 0)
	both := open(sc, 0)
	both.Evidence.FromCheckpoint = true
	e.fail(f.challenger, both, core.Invalid, 0)
	fromCP := func(p core.PrivateKey) wire.OpenChallenge {
		return wire.OpenChallenge{Provider: p.Account(), Bucket: f.bucket, LeafIndex: 1, Evidence: wire.ChallengeEvidence{FromCheckpoint: true}, Deposit: 1_000}
	}
	e.fail(f.challenger, fromCP(other), core.Unauthorized, 0) // no agreement, did not sign it
	e.fail(f.provider, fromCP(f.provider), core.Invalid, 0)   // nobody challenges itself
	// Only the checkpoint's signers are bound by it: neither a replica nor
	// a primary under an active agreement that did not sign is.
	e.ok(f.owner, wire.CreateAgreement{Bucket: f.bucket, Provider: other.Account(), Role: wire.Replica, MaxBytes: 1 << 20, Duration: 10_000})
	e.fail(f.challenger, fromCP(other), core.Unauthorized, 0)
	primary := e.newProvider()
	e.ok(f.owner, wire.CreateAgreement{Bucket: f.bucket, Provider: primary.Account(), Role: wire.Primary, MaxBytes: 1 << 20, Duration: 10_000})
	e.fail(f.challenger, fromCP(primary), core.Unauthorized, 0)
	// Nor is a provider bound, even by its own signature, once it holds no
	// active agreement on the bucket.
	ended := e.newProvider()
	e.ok(f.owner, wire.CreateAgreement{Bucket: f.bucket, Provider: ended.Account(), Role: wire.Primary, MaxBytes: 1 << 20, Duration: 10_000})
	e.ok(ended, wire.EndAgreement{Bucket: f.bucket, Provider: ended.Account()})
	endedSC, _ := com.Sign(ended)
	e.fail(f.challenger, wire.OpenChallenge{Provider: ended.Account(), Bucket: f.bucket, Evidence: wire.ChallengeEvidence{Commitment: &endedSC}, Deposit: 1_000}, core.Unauthorized, 0)
	res := e.ok(f.challenger, open(sc, 3))
	cid := core.ChallengeID(attrID(e.t, res, wire.EventChallengeOpened, "id"))
	c := e.challenge(cid)
	if c.LeafCount != 4 || c.MMRRoot != com.MMRRoot {
		e.t.Fatalf("challenge %+v", c)
	}
	f.count = n
	e.ok(f.provider, f.answer(3, cid))
}

func scenarioQueries(e env) {
	a := dev("alice").Account()
	e.notFound(wire.PathBucket(1 << 40))
	e.notFound(wire.PathAgreements(1 << 40))
	e.notFound(wire.PathCheckpoints(1 << 40))
	e.notFound(wire.PathDrive(1 << 40))
	e.notFound(wire.PathChallenge(1 << 40))
	e.notFound(wire.PathProvider(core.AccountID{1}))
	var p wire.Params
	e.q(wire.PathParams(), &p)
	if p != testParams {
		e.t.Errorf("params %+v", p)
	}
	var none wire.Account
	e.q(wire.PathAccount(core.AccountID{9}), &none)
	if none.Balance != 0 || none.Nonce != 0 {
		e.t.Errorf("unknown account %+v", none)
	}
	if e.account(a).Balance == 0 {
		e.t.Error("alice unfunded")
	}
	var drives []wire.Drive
	e.q(wire.PathDrives(core.AccountID{9}), &drives)
	if drives == nil || len(drives) != 0 {
		e.t.Errorf("drives of nobody: %#v", drives)
	}
	// Challenges by filter.
	f := newChallengeFixture(e)
	id, _ := f.open(e, 0, 1_000)
	if d, ok := e.b.(*direct); ok {
		for _, path := range []string{
			wire.PathChallenges(wire.ChallengeFilter{Provider: ptr(f.provider.Account())}),
			wire.PathChallenges(wire.ChallengeFilter{Bucket: f.bucket, State: wire.ChallengeOpen}),
		} {
			var cs []wire.Challenge
			if err := d.query(e.t, path, &cs); err != nil || len(cs) != 1 || cs[0].ID != id {
				e.t.Errorf("%s: %v %+v", path, err, cs)
			}
		}
		var cs []wire.Challenge
		d.query(e.t, wire.PathChallenges(wire.ChallengeFilter{Bucket: f.bucket, State: wire.ChallengeSlashed}), &cs)
		if len(cs) != 0 {
			e.t.Errorf("slashed filter %+v", cs)
		}
		var raw json.RawMessage
		if err := d.query(e.t, "/challenges?state=weird", &raw); err == nil || !strings.Contains(err.Error(), "state") {
			e.t.Errorf("bad state filter: %v", err)
		}
	}
	if v, ok := e.b.(*viaNode); ok {
		cs, err := v.c.Challenges(ctx(e.t), wire.ChallengeFilter{Provider: ptr(f.provider.Account()), State: wire.ChallengeOpen})
		if err != nil || len(cs) != 1 || cs[0].ID != id {
			e.t.Errorf("Challenges: %v %+v", err, cs)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func itoa[T ~int | ~int64 | ~uint64](v T) string {
	b, _ := json.Marshal(v)
	return string(b)
}
