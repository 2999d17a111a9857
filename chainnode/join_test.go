package chainnode_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/chainnode"
	"github.com/cairn-storage/cairn/core"
)

// Testnet with hosts: each node listens on its own host and names the
// others at theirs; nodes sharing a host get the next ports.
func TestTestnetHosts(t *testing.T) {
	hosts := []string{"10.0.0.1", "10.0.0.2", "val3.example", "10.0.0.1"}
	homes, err := chainnode.Testnet(4, t.TempDir(), chainnode.TestnetOptions{Hosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ p2p, rpc string }{
		{"10.0.0.1:26656", "10.0.0.1:26657"},
		{"10.0.0.2:26656", "10.0.0.2:26657"},
		{"val3.example:26656", "val3.example:26657"},
		{"10.0.0.1:26658", "10.0.0.1:26659"},
	}
	for k, h := range homes {
		nc, err := chainnode.ReadNodeConfig(h)
		if err != nil {
			t.Fatal(err)
		}
		if nc.P2PListen != want[k].p2p || nc.RPCListen != want[k].rpc {
			t.Errorf("node%d listens on %s, rpc %s; want %+v", k, nc.P2PListen, nc.RPCListen, want[k])
		}
		peers := strings.Split(nc.PersistentPeers, ",")
		if len(peers) != 3 {
			t.Fatalf("node%d peers %q", k, nc.PersistentPeers)
		}
		for j := range homes {
			if j == k {
				continue
			}
			if !strings.Contains(nc.PersistentPeers, "@"+want[j].p2p) {
				t.Errorf("node%d's peers %q miss node%d at %s", k, nc.PersistentPeers, j, want[j].p2p)
			}
		}
	}
	for name, hs := range map[string][]string{
		"too few":   {"a", "b"},
		"with port": {"a:1", "b", "c", "d"},
		"empty":     {"a", "", "c", "d"},
		"comma":     {"a,b", "b", "c", "d"},
	} {
		if _, err := chainnode.Testnet(4, t.TempDir(), chainnode.TestnetOptions{Hosts: hs}); core.KindOf(err) != core.Invalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}

func TestInitJoin(t *testing.T) {
	src := t.TempDir()
	if err := chainnode.Init(src, chainnode.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	genesis, err := chainnode.ReadGenesis(src)
	if err != nil {
		t.Fatal(err)
	}
	peer, err := chainnode.PeerAddress(src)
	if err != nil {
		t.Fatal(err)
	}
	peer = strings.Replace(peer, ":0", ":26656", 1)
	for _, c := range []struct {
		name    string
		genesis []byte
		peers   string
		want    core.Kind
	}{
		{"ok", genesis, peer, core.Other},
		{"no peers", genesis, " , ", core.Invalid},
		{"bad peer", genesis, "nobody@", core.Invalid},
		{"not json", []byte("{"), peer, core.Invalid},
		{"no app state", []byte(`{"chain_id":"x","validators":[]}`), peer, core.Invalid},
		{"foreign app state", []byte(strings.Replace(string(genesis), `"params"`, `"paramz"`, 1)), peer, core.Invalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "join")
			err := chainnode.InitJoin(dir, chainnode.JoinOptions{Genesis: c.genesis, Peers: c.peers})
			if c.want == core.Other {
				if err != nil {
					t.Fatal(err)
				}
				got, _ := chainnode.ReadGenesis(dir)
				if string(got) == "" || !chainnode.IsHome(dir) {
					t.Fatal("no home written")
				}
				nc, _ := chainnode.ReadNodeConfig(dir)
				if nc.PersistentPeers != peer {
					t.Fatalf("peers %q, want %q", nc.PersistentPeers, peer)
				}
				if err := chainnode.InitJoin(dir, chainnode.JoinOptions{Genesis: c.genesis, Peers: c.peers}); core.KindOf(err) != core.Exists {
					t.Fatalf("second InitJoin: %v", err)
				}
				return
			}
			if core.KindOf(err) != c.want {
				t.Fatalf("%v, want %v", err, c.want)
			}
			if chainnode.IsHome(dir) {
				t.Fatal("a refused join left a home")
			}
		})
	}
}

// FuzzParseGenesis: a genesis file from a user never panics the parser.
func FuzzParseGenesis(f *testing.F) {
	dir := f.TempDir()
	if err := chainnode.Init(dir, chainnode.InitOptions{}); err != nil {
		f.Fatal(err)
	}
	g, _ := chainnode.ReadGenesis(dir)
	f.Add(g)
	f.Add([]byte(`{"chain_id":"x","app_state":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := chainnode.ParseGenesis(b); err != nil && core.KindOf(err) != core.Invalid {
			t.Fatalf("kind %v: %v", core.KindOf(err), err)
		}
	})
}

// FuzzParsePeers: a peers flag never panics the parser, and what it
// accepts parses again to the same.
func FuzzParsePeers(f *testing.F) {
	f.Add("0123456789abcdef0123456789abcdef01234567@127.0.0.1:26656")
	f.Add("a@b:1,,c@d:2")
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := chainnode.ParsePeers(s)
		if err != nil {
			return
		}
		again, err := chainnode.ParsePeers(strings.Join(ps, ","))
		if err != nil || len(again) != len(ps) {
			t.Fatalf("%q -> %q -> %q, %v", s, ps, again, err)
		}
	})
}
