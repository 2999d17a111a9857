package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainnode"
	"github.com/cairn-storage/cairn/chainnode/chaintest"
	"github.com/cairn-storage/cairn/core"
)

// Hosts from the flag or a file give one validator each, listening on its
// host; the two flags exclude each other and must agree with --validators.
func TestChainTestnetHosts(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(file, []byte("# validators\n10.1.0.1\n10.1.0.2 # second\n\nval3.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		o    ChainTestnetOptions
		p2p  []string
		exit int
	}{
		{"flag", ChainTestnetOptions{Hosts: "a.example, b.example"}, []string{"a.example:26656", "b.example:26656"}, ExitOK},
		{"file", ChainTestnetOptions{HostsFile: file}, []string{"10.1.0.1:26656", "10.1.0.2:26656", "val3.example:26656"}, ExitOK},
		{"both", ChainTestnetOptions{Hosts: "a", HostsFile: file}, nil, ExitUsage},
		{"count disagrees", ChainTestnetOptions{Hosts: "a,b", Validators: 3}, nil, ExitUsage},
		{"no file", ChainTestnetOptions{HostsFile: file + ".missing"}, nil, ExitNotFound},
		{"host with port", ChainTestnetOptions{Hosts: "a:1,b"}, nil, ExitInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.o.Out, c.o.BasePort, c.o.ChainID, c.o.BlockTime = t.TempDir(), 26656, "cairn-testnet", time.Second
			out, err := runChainTestnet(c.o)
			if ExitCode(err) != c.exit {
				t.Fatalf("exit %d (%v), want %d", ExitCode(err), err, c.exit)
			}
			if err != nil {
				return
			}
			var got []string
			for _, n := range out.Nodes {
				got = append(got, n.P2P)
			}
			if strings.Join(got, " ") != strings.Join(c.p2p, " ") {
				t.Fatalf("p2p %v, want %v", got, c.p2p)
			}
		})
	}
}

// TestChainInitJoins: `cairn chain init` makes a home from a running
// validator's genesis file and peer address; `cairn chain run` on it
// syncs to the validator's height.
func TestChainInitJoins(t *testing.T) {
	if testing.Short() {
		t.Skip("short: skipping the two-node network")
	}
	port, err := chainnode.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	vhome := filepath.Join(t.TempDir(), "validator")
	nc := chainnode.DefaultNodeConfig()
	nc.RPCListen, nc.P2PListen = "127.0.0.1:0", fmt.Sprintf("127.0.0.1:%d", port)
	if err := chainnode.Init(vhome, chainnode.InitOptions{Node: nc}); err != nil {
		t.Fatal(err)
	}
	val := chaintest.Start(t, chaintest.Options{Home: vhome, TimeoutCommit: 200 * time.Millisecond})
	peer, err := chainnode.PeerAddress(vhome)
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(t.TempDir(), "full")
	r, err := runChainInit(ChainInitOptions{Home: home, Genesis: filepath.Join(vhome, "config", "genesis.json"), Peers: peer,
		P2P: "127.0.0.1:0", RPC: "127.0.0.1:0", Moniker: "full"})
	if err != nil || r.ChainID != "cairn-dev" || r.Peers != peer {
		t.Fatalf("chain init: %+v %v", r, err)
	}
	if _, err := runChainInit(ChainInitOptions{Home: home, Genesis: filepath.Join(vhome, "config", "genesis.json"), Peers: peer}); ExitCode(err) != ExitConflict {
		t.Fatalf("init over a home: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	g := &Globals{Stdout: io.Discard, Stderr: io.Discard}
	readyc := make(chan ChainReady, 1)
	done := make(chan error, 1)
	go func() {
		done <- runChain(ctx, g, ChainRunOptions{Home: home, BlockTime: 10 * time.Millisecond}, func(r ChainReady) { readyc <- r })
	}()
	var ready ChainReady
	select {
	case ready = <-readyc:
	case err := <-done:
		t.Fatalf("chain run ended before ready: %v", err)
	}
	target := val.Height()
	for {
		st, err := runChainStatus(ctx, ready.RPC)
		if err != nil {
			t.Fatalf("status of the joined node: %v", err)
		}
		if st.Height >= target {
			break
		}
		if err := val.WaitForHeight(ctx, val.Height()+1); err != nil {
			t.Fatalf("joined node at %d, the network at %d: %v", st.Height, val.Height(), err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("chain run: %v", err)
	}
}

// TestProviderInit: through a --chain list whose first node is down, a
// fresh key funded by --fund-from is registered with its endpoint and
// terms, the run command names the data directory and
// the chain; again it changes nothing; unfunded it fails as a conflict
// naming the account.
func TestProviderInit(t *testing.T) {
	n := chaintest.Start(t)
	cc := chaintest.Client(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// --chain is a list whose first node is down: the commands fail over.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	g := &Globals{Chain: dead + "," + n.RPCURL(), Stdout: io.Discard, Stderr: io.Discard}
	data := filepath.Join(t.TempDir(), "p1")
	o := ProviderInitOptions{ProviderRegisterOptions: ProviderRegisterOptions{Endpoint: "/dns4/p1.example/tcp/7070/http",
		Stake: chainwire.DefaultParams().MinProviderStake, Capacity: 1 << 30, Data: data, Price: 3, MaxDuration: 500, Accepting: true},
		Listen: "0.0.0.0:7070", FundFrom: "alice"}
	r, err := runProviderInit(ctx, g, o)
	if err != nil {
		t.Fatal(err)
	}
	key, err := core.ReadKeyFile(filepath.Join(data, "provider.key"))
	if err != nil || key.Account() != r.Account {
		t.Fatalf("key file: %v (account %s, reported %s)", err, key.Account(), r.Account)
	}
	p, err := cc.Provider(ctx, r.Account)
	if err != nil || p.Endpoint != o.Endpoint || p.Terms.PricePerGiBBlock != 3 || p.Terms.MaxDuration != 500 || !p.Terms.Accepting {
		t.Fatalf("on chain: %+v %v", p, err)
	}
	for _, want := range []string{"cairn provider run", "--chain " + g.Chain, "--data " + data, "--listen 0.0.0.0:7070"} {
		if !strings.Contains(r.Run, want) {
			t.Errorf("run command %q lacks %q", r.Run, want)
		}
	}
	again, err := runProviderInit(ctx, g, o)
	if err != nil || !again.Already || again.Account != r.Account {
		t.Fatalf("second init: %+v %v", again, err)
	}
	o.Data, o.FundFrom = filepath.Join(t.TempDir(), "p2"), ""
	_, err = runProviderInit(ctx, g, o)
	if ExitCode(err) != ExitConflict || !strings.Contains(err.Error(), "fund it") {
		t.Fatalf("unfunded: %v (exit %d)", err, ExitCode(err))
	}
}

// TestChainJoinLeaveValidator: join-validator bonds a home's consensus
// key (power 1 beside the dev validator's 10, so the chain goes on
// without that node running), leave-validator returns the bond.
func TestChainJoinLeaveValidator(t *testing.T) {
	n := chaintest.Start(t)
	cc := chaintest.Client(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	genesis, err := chainnode.ReadGenesis(n.Home())
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(t.TempDir(), "node")
	if err := chainnode.InitJoin(home, chainnode.JoinOptions{Genesis: genesis, Peers: "0123456789abcdef0123456789abcdef01234567@127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	g := &Globals{Chain: n.RPCURL(), Signer: "dave", Stdout: io.Discard, Stderr: io.Discard}
	r, err := runChainValidator(ctx, g, ChainValidatorOptions{Home: home, Stake: chainwire.ValidatorPowerUnit}, true)
	if err != nil || r.Power != 1 {
		t.Fatalf("join: %+v %v", r, err)
	}
	vals, err := cc.Validators(ctx)
	if err != nil || len(vals) != 2 {
		t.Fatalf("validators %+v %v", vals, err)
	}
	if _, err := runChainValidator(ctx, &Globals{Chain: n.RPCURL(), Signer: "eve"}, ChainValidatorOptions{Home: home}, false); ExitCode(err) != ExitUnauthorized {
		t.Fatalf("leave by another account: %v", err)
	}
	r, err = runChainValidator(ctx, g, ChainValidatorOptions{Home: home}, false)
	if err != nil || r.Stake != chainwire.ValidatorPowerUnit {
		t.Fatalf("leave: %+v %v", r, err)
	}
	if vals, err := cc.Validators(ctx); err != nil || len(vals) != 1 {
		t.Fatalf("validators after leaving %+v %v", vals, err)
	}
	if _, err := runChainValidator(ctx, g, ChainValidatorOptions{}, true); ExitCode(err) != ExitUsage {
		t.Fatalf("no --home: %v", err)
	}
}

// --accounts funds the listed accounts at genesis and no dev account.
func TestChainTestnetAccounts(t *testing.T) {
	dir := t.TempDir()
	a := core.AccountID{1, 2, 3}
	file := filepath.Join(dir, "accounts")
	if err := os.WriteFile(file, []byte("# funded at genesis\n"+a.String()+" 5000000000 ops\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runChainTestnet(ChainTestnetOptions{Validators: 1, Out: filepath.Join(dir, "net"), BasePort: 26656, ChainID: "prod", BlockTime: time.Second, Accounts: file})
	if err != nil {
		t.Fatal(err)
	}
	b, err := chainnode.ReadGenesis(out.Nodes[0].Home)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := chainnode.ParseGenesis(b)
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Accounts []struct {
			ID      core.AccountID `json:"id"`
			Balance uint64         `json:"balance"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal(gen.AppState, &g); err != nil || len(g.Accounts) != 1 || g.Accounts[0].ID != a || g.Accounts[0].Balance != 5000000000 {
		t.Fatalf("genesis accounts %+v %v", g.Accounts, err)
	}
	for name, text := range map[string]string{
		"twice":       a.String() + " 1\n" + a.String() + " 2\n",
		"bad account": "xyz 1\n",
		"bad balance": a.String() + " -1\n",
		"extra":       a.String() + " 1 n x\n",
	} {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := runChainTestnet(ChainTestnetOptions{Validators: 1, Out: filepath.Join(t.TempDir(), "n"), ChainID: "prod", BlockTime: time.Second, Accounts: file}); ExitCode(err) != ExitInvalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}

func TestKeyNewShow(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ops.key")
	k, err := runKey(file, true)
	if err != nil || !k.Created {
		t.Fatalf("new: %+v %v", k, err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	if _, err := runKey(file, true); ExitCode(err) != ExitConflict {
		t.Fatalf("new over an existing file: %v", err)
	}
	s, err := runKey(file, false)
	if err != nil || s.Account != k.Account {
		t.Fatalf("show: %+v %v, created %s", s, err, k.Account)
	}
	if signer, err := core.ResolveSigner(file); err != nil || signer.Account() != k.Account {
		t.Fatalf("as --signer: %v", err)
	}
	if _, err := runKey(file+".none", false); ExitCode(err) != ExitNotFound {
		t.Fatalf("show of no file: %v", err)
	}
}
