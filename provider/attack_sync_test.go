package provider_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
	"github.com/cairn-storage/cairn/provider/wire"
)

// evilPeer is a malicious provider: registered on chain with its own key,
// it signs commitments to whatever log it likes and answers the sync
// routes as its mode says. The victim finds it through the chain, as it
// finds any peer.
type evilPeer struct {
	t       *testing.T
	key     core.PrivateKey
	chainID string
	srv     *httptest.Server
	mode    atomic.Value // string
	leaves  atomic.Value // map[core.BucketID][]core.SignedLeaf
	blobs   atomic.Value // map[core.H256][]byte
	hits    atomic.Int64 // blob requests
}

func (e *env) startEvilPeer(name string) *evilPeer {
	e.t.Helper()
	chainID, err := e.chain.ChainID(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	p := &evilPeer{t: e.t, key: devKey(name), chainID: chainID}
	p.mode.Store("")
	p.leaves.Store(map[core.BucketID][]core.SignedLeaf{})
	p.blobs.Store(map[core.H256][]byte{})
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	e.t.Cleanup(p.srv.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(p.srv.URL, "http://"))
	e.submit(p.key, chainwire.RegisterProvider{Endpoint: fmt.Sprintf("/ip4/127.0.0.1/tcp/%s/http", port), Stake: chainwire.DefaultParams().MinProviderStake, Capacity: 1 << 40,
		Terms: chainwire.ProviderTerms{Accepting: true}})
	return p
}

// set makes the peer claim log leaves for bucket b, serve blobs, and
// misbehave as mode says.
func (p *evilPeer) set(mode string, b core.BucketID, leaves []core.SignedLeaf, blobs map[core.H256][]byte) {
	p.mode.Store(mode)
	p.leaves.Store(map[core.BucketID][]core.SignedLeaf{b: leaves})
	if blobs == nil {
		blobs = map[core.H256][]byte{}
	}
	p.blobs.Store(blobs)
}

func (p *evilPeer) serve(w http.ResponseWriter, r *http.Request) {
	mode := p.mode.Load().(string)
	b, _ := core.ParseBucketID(r.URL.Query().Get("bucket_id"))
	leaves := p.leaves.Load().(map[core.BucketID][]core.SignedLeaf)[b]
	switch {
	case r.URL.Path == wire.PathCommitment:
		ref, _ := mmr.New(mmr.NewMemStore())
		for _, lf := range leaves {
			ref.Append(lf.Bytes())
		}
		root, _ := ref.Root()
		sc, _ := core.Commitment{ChainID: p.chainID, Bucket: b, MMRRoot: core.H256(root), LeafCount: uint64(len(leaves))}.Sign(p.key)
		json.NewEncoder(w).Encode(sc)
	case r.URL.Path == wire.PathLeaves:
		switch mode {
		case "garbage-json":
			io.WriteString(w, `{"bucket_id": 1, "leaves": [{"seq": "zero"`)
		case "endless-leaves":
			// A well-formed start, then bytes for ever: the client must
			// stop reading on its own.
			io.WriteString(w, `{"bucket_id":`+b.String()+`,"leaves":[`)
			chunk := bytes.Repeat([]byte(" "), 64<<10)
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "slow-drip":
			// One byte every 100 ms: the answer never completes within
			// the victim's peer timeout.
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-r.Context().Done():
					return
				case <-tick.C:
					if _, err := w.Write([]byte(" ")); err != nil {
						return
					}
					w.(http.Flusher).Flush()
				}
			}
		default:
			json.NewEncoder(w).Encode(wire.Leaves{Bucket: b, LeafCount: uint64(len(leaves)), Leaves: leaves})
		}
	case strings.HasPrefix(r.URL.Path, "/buckets/"):
		p.hits.Add(1)
		parts := strings.Split(r.URL.Path, "/")
		h, _ := core.ParseH256(parts[len(parts)-1])
		if mode == "endless-blob" {
			chunk := bytes.Repeat([]byte("x"), 64<<10)
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			return
		}
		data, ok := p.blobs.Load().(map[core.H256][]byte)[h]
		if !ok {
			wire.WriteError(w, core.Errorf("evil", core.NotFound, "no blob"))
			return
		}
		w.Write(data)
	default:
		wire.WriteError(w, core.Errorf("evil", core.NotFound, "no route"))
	}
}

// signed returns leaf seq for data signed by k for bucket b.
func signedLeaf(t *testing.T, k core.PrivateKey, chainID string, b core.BucketID, seq uint64, data []byte) core.SignedLeaf {
	t.Helper()
	sl, err := core.SignLeaf(k, chainID, b, core.Leaf{Seq: seq, ContentHash: core.Sum256(data), Size: uint64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	return sl
}

// TestAttackPeerCannotCrashOrFeedSync (attack 2, and the rule that no
// unsigned leaf enters a log): a malicious peer of a bucket lists a leaf of
// 2^62 bytes, sends garbage JSON, an endless body, a slow drip, an endless
// blob, or leaves no writer signed. Each time sync returns an error, the
// victim's log and data are unchanged, the peer's failure count rises, and
// the victim keeps serving. An honest answer from the same peer is then
// taken, so the harness is not refusing everything.
func TestAttackPeerCannotCrashOrFeedSync(t *testing.T) {
	e := newEnv(t)
	alice, bob, eve := devKey("alice"), devKey("bob"), devKey("eve")
	cfg := fastConfig()
	cfg.PeerTimeout = time.Second
	victim := e.startProvider("charlie", providerOpts{cfg: &cfg, noStart: true})
	evil := e.startEvilPeer("dave")
	b := e.bucket(alice, chainwire.Member{Account: bob.Account(), Role: chainwire.Writer})
	e.agree(alice, b, victim, chainwire.Replica, 1000) // a quota of 1000 bytes
	e.submit(alice, chainwire.CreateAgreement{Bucket: b, Provider: evil.key.Account(), Role: chainwire.Primary, MaxBytes: 1 << 20, Duration: 1_000_000})
	chainID := evil.chainID

	data := blob(1, 500)
	good := signedLeaf(t, bob, chainID, b, 0, data)
	huge := good
	huge.Size = 1 << 62
	huge, _ = core.SignLeaf(bob, chainID, b, huge.Leaf)           // validly signed: only its size is wrong
	overQuota := signedLeaf(t, bob, chainID, b, 0, blob(2, 2000)) // under the blob limit
	byEve := signedLeaf(t, eve, chainID, b, 0, data)
	forged := good
	forged.Signature[0] ^= 1
	unsigned := core.SignedLeaf{Leaf: good.Leaf}
	blobs := map[core.H256][]byte{good.ContentHash: data}

	for _, tt := range []struct {
		name   string
		mode   string
		leaves []core.SignedLeaf
		kind   core.Kind
	}{
		{"leaf of 2^62 bytes", "", []core.SignedLeaf{huge}, core.Invalid},
		{"leaf over the quota", "", []core.SignedLeaf{overQuota}, core.Invalid},
		{"leaf signed by a non-writer", "", []core.SignedLeaf{byEve}, core.Corrupt},
		{"leaf with a forged signature", "", []core.SignedLeaf{forged}, core.Corrupt},
		{"leaf with no signature", "", []core.SignedLeaf{unsigned}, core.Corrupt},
		{"garbage JSON", "garbage-json", []core.SignedLeaf{good}, core.Corrupt},
		{"endless leaf list", "endless-leaves", []core.SignedLeaf{good}, core.Other},
		{"slow drip", "slow-drip", []core.SignedLeaf{good}, core.Unavailable},
		{"endless blob", "endless-blob", []core.SignedLeaf{good}, core.Other},
	} {
		t.Run(tt.name, func(t *testing.T) {
			evil.set(tt.mode, b, tt.leaves, blobs)
			before := victim.srv.PeerFailures(evil.key.Account())
			lag, err := victim.srv.Sync(e.ctx, b)
			if err == nil || lag == 0 {
				t.Fatalf("sync from a malicious peer: lag %d, err %v", lag, err)
			}
			if tt.kind != core.Other && !strings.Contains(err.Error(), tt.kind.String()) {
				t.Errorf("sync error %v, want one of kind %s", err, tt.kind)
			}
			if st, _ := victim.st.State(b); st.LeafCount != 0 || st.Bytes != 0 {
				t.Fatalf("the peer got %d leaves (%d bytes) into the victim's log", st.LeafCount, st.Bytes)
			}
			if ok, _ := victim.st.HasBlob(b, good.ContentHash); ok {
				t.Fatal("the victim holds the blob")
			}
			if after := victim.srv.PeerFailures(evil.key.Account()); after <= before {
				t.Fatalf("peer failures %d -> %d: the peer's score did not drop", before, after)
			}
			if _, err := victim.client.Status(e.ctx); err != nil {
				t.Fatalf("victim down after the attack: %v", err)
			}
		})
	}

	// The same peer, honest: its writer-signed leaf is pulled and proved.
	evil.set("", b, []core.SignedLeaf{good}, blobs)
	if lag, err := victim.srv.Sync(e.ctx, b); err != nil || lag != 0 {
		t.Fatalf("sync from an honest answer: lag %d, %v", lag, err)
	}
	got, err := victim.st.Leaf(b, 0)
	if err != nil || got != good {
		t.Fatalf("pulled leaf %+v (%v), want %+v with bob's signature", got, err, good)
	}
	if n := victim.srv.PeerFailures(evil.key.Account()); n != 0 {
		t.Fatalf("an honest answer left %d failures on record", n)
	}
}

// TestAttackCrossBucketRead (attack 3): bucket 1 holds a private blob on
// the victim. An attacker owning bucket 2, with its own provider as a peer,
// lists bucket 1's content hash in bucket 2's log (signed by the
// attacker, a writer of bucket 2). The victim must fetch the bytes for
// bucket 2 from the peer, which cannot supply them, so the leaf never
// enters bucket 2's log and the blob is never served through bucket 2.
func TestAttackCrossBucketRead(t *testing.T) {
	e := newEnv(t)
	alice, bob, eve := devKey("alice"), devKey("bob"), devKey("eve")
	cfg := fastConfig()
	cfg.PeerTimeout = time.Second
	victim := e.startProvider("charlie", providerOpts{cfg: &cfg, noStart: true})
	evil := e.startEvilPeer("dave")
	private := e.bucket(alice, chainwire.Member{Account: bob.Account(), Role: chainwire.Writer})
	e.agree(alice, private, victim, chainwire.Primary, 1<<20)
	secret := []byte("alice's private bytes")
	if _, err := put(e.ctx, victim.client, private, 0, secret, bob); err != nil {
		t.Fatal(err)
	}
	h := core.Sum256(secret)

	attackers := e.bucket(eve)
	e.agree(eve, attackers, victim, chainwire.Replica, 1<<20)
	e.submit(eve, chainwire.CreateAgreement{Bucket: attackers, Provider: evil.key.Account(), Role: chainwire.Primary, MaxBytes: 1 << 20, Duration: 1_000_000})
	lure := signedLeaf(t, eve, evil.chainID, attackers, 0, secret) // eve knows the hash and size, not the bytes
	evil.set("", attackers, []core.SignedLeaf{lure}, nil)

	if _, err := victim.srv.Sync(e.ctx, attackers); err == nil {
		t.Fatal("sync took a leaf whose bytes the peer could not supply")
	}
	if evil.hits.Load() == 0 {
		t.Fatal("the victim never asked the peer for the bytes: it took them from bucket 1")
	}
	if st, _ := victim.st.State(attackers); st.LeafCount != 0 {
		t.Fatalf("bucket 2's log took bucket 1's hash: %d leaves", st.LeafCount)
	}
	rc, err := victim.clientAs(t, eve).Blob(e.ctx, attackers, h)
	if err == nil {
		leaked, _ := io.ReadAll(rc)
		rc.Close()
		t.Fatalf("bucket 1's blob served through bucket 2: %q", leaked)
	}
	if core.KindOf(err) != core.NotFound {
		t.Fatalf("read through bucket 2: %v, want not_found", err)
	}
	// Bucket 1 still serves its member.
	rc, err = victim.clientAs(t, alice).Blob(e.ctx, private, h)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, err := io.ReadAll(rc); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("bucket 1's blob: %q %v", got, err)
	}
}
