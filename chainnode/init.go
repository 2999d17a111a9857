package chainnode

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/types"

	"github.com/cairn-storage/cairn/chain"
	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// maxBlockBytes bounds a block: several of the largest transactions.
const maxBlockBytes = 16 << 20

// InitOptions describe a new network.
type InitOptions struct {
	ChainID string        // default chain.DevChainID
	Genesis chain.Genesis // default chain.DevGenesis()
	Node    NodeConfig    // default DefaultNodeConfig()
}

func (o *InitOptions) fill() {
	if o.ChainID == "" {
		o.ChainID = chain.DevChainID
	}
	if o.Genesis.Params == (wire.Params{}) && o.Genesis.Accounts == nil {
		o.Genesis = chain.DevGenesis()
	}
	if o.Node == (NodeConfig{}) {
		o.Node = DefaultNodeConfig()
	}
}

func cometConfig(home string) *cmtcfg.Config {
	c := cmtcfg.DefaultConfig()
	c.SetRoot(home)
	return c
}

// Init lays out a single-validator home in dir (which must not already
// be a node home): keys, a genesis naming this node the only validator,
// and cairn-node.json.
func Init(dir string, o InitOptions) error {
	o.fill()
	if IsHome(dir) {
		return core.Errorf("chainnode.Init", core.Exists, "%s is already a node home", dir)
	}
	pv, err := makeKeys(dir)
	if err != nil {
		return err
	}
	pub, err := pv.GetPubKey()
	if err != nil {
		return core.E("chainnode.Init", core.Internal, err)
	}
	gen, err := genesisDoc(o, []types.GenesisValidator{{Address: pub.Address(), PubKey: pub, Power: 10, Name: o.Node.Moniker}})
	if err != nil {
		return err
	}
	if err := gen.SaveAs(cometConfig(dir).GenesisFile()); err != nil {
		return core.E("chainnode.Init", core.Internal, err)
	}
	return WriteNodeConfig(dir, o.Node)
}

// makeKeys creates the config and data directories and the node and
// validator keys.
func makeKeys(dir string) (*privval.FilePV, error) {
	c := cometConfig(dir)
	for _, d := range []string{configDir(dir), filepath.Join(dir, "data")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, core.E("chainnode.Init", core.Internal, err)
		}
	}
	if _, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile()); err != nil {
		return nil, core.E("chainnode.Init", core.Internal, err)
	}
	return privval.LoadOrGenFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile()), nil
}

func genesisDoc(o InitOptions, vals []types.GenesisValidator) (*types.GenesisDoc, error) {
	if err := o.Genesis.Validate(); err != nil {
		return nil, err
	}
	app, err := o.Genesis.JSON()
	if err != nil {
		return nil, core.E("chainnode.Init", core.Internal, err)
	}
	cp := types.DefaultConsensusParams()
	cp.Block.MaxBytes = maxBlockBytes
	g := &types.GenesisDoc{
		ChainID:         o.ChainID,
		GenesisTime:     time.Now().UTC().Truncate(time.Millisecond),
		InitialHeight:   1,
		ConsensusParams: cp,
		Validators:      vals,
		AppState:        app,
	}
	if err := g.ValidateAndComplete(); err != nil {
		return nil, core.E("chainnode.Init", core.Invalid, err)
	}
	return g, nil
}

// TestnetOptions describe an N-validator network.
type TestnetOptions struct {
	InitOptions
	// BasePort numbers the nodes' ports: the k-th node on a host listens
	// for peers on BasePort+2k and for RPC on BasePort+2k+1 (default
	// 26656), so nodes on distinct hosts all use 26656 and 26657. With
	// FreePorts, free ports are picked instead (tests on one machine).
	BasePort  int
	FreePorts bool
	// Hosts are the nodes' addresses, one per validator (hostnames or
	// IPs other nodes reach them at); empty puts every node on Host.
	Hosts []string
	Host  string // default 127.0.0.1
}

// hosts returns each node's host, checked.
func (o TestnetOptions) hosts(n int) ([]string, error) {
	if len(o.Hosts) == 0 {
		h := o.Host
		if h == "" {
			h = "127.0.0.1"
		}
		out := make([]string, n)
		for k := range out {
			out[k] = h
		}
		return out, nil
	}
	if len(o.Hosts) != n {
		return nil, core.Errorf("chainnode.Testnet", core.Invalid, "%d hosts for %d validators", len(o.Hosts), n)
	}
	for _, h := range o.Hosts {
		if h == "" || strings.ContainsAny(h, " ,@/") || strings.Count(h, ":") == 1 {
			return nil, core.Errorf("chainnode.Testnet", core.Invalid, "host %q: want a hostname or an IP address, no port", h)
		}
	}
	return o.Hosts, nil
}

// Testnet writes homes outDir/node0 .. node{n-1} for an n-validator
// network, node k on host k (TestnetOptions.Hosts), each naming the
// others as persistent peers, all sharing one genesis: ready to copy to
// each machine. It returns the homes.
func Testnet(n int, outDir string, o TestnetOptions) ([]string, error) {
	const op = "chainnode.Testnet"
	if n < 1 {
		return nil, core.Errorf(op, core.Invalid, "need at least one validator")
	}
	o.fill()
	if o.BasePort == 0 {
		o.BasePort = 26656
	}
	hosts, err := o.hosts(n)
	if err != nil {
		return nil, err
	}
	onHost := map[string]int{} // nodes placed on each host so far
	homes := make([]string, n)
	vals := make([]types.GenesisValidator, n)
	ids := make([]string, n)
	p2pPorts, rpcPorts := make([]int, n), make([]int, n)
	for k := range n {
		homes[k] = filepath.Join(outDir, fmt.Sprintf("node%d", k))
		if IsHome(homes[k]) {
			return nil, core.Errorf(op, core.Exists, "%s is already a node home", homes[k])
		}
		pv, err := makeKeys(homes[k])
		if err != nil {
			return nil, err
		}
		pub, err := pv.GetPubKey()
		if err != nil {
			return nil, core.E(op, core.Internal, err)
		}
		vals[k] = types.GenesisValidator{Address: pub.Address(), PubKey: pub, Power: 10, Name: fmt.Sprintf("node%d", k)}
		nk, err := p2p.LoadNodeKey(cometConfig(homes[k]).NodeKeyFile())
		if err != nil {
			return nil, core.E(op, core.Internal, err)
		}
		ids[k] = string(nk.ID())
		if o.FreePorts {
			if p2pPorts[k], err = FreePort(hosts[k]); err != nil {
				return nil, err
			}
			if rpcPorts[k], err = FreePort(hosts[k]); err != nil {
				return nil, err
			}
		} else {
			i := onHost[hosts[k]]
			onHost[hosts[k]]++
			p2pPorts[k], rpcPorts[k] = o.BasePort+2*i, o.BasePort+2*i+1
		}
	}
	gen, err := genesisDoc(o.InitOptions, vals)
	if err != nil {
		return nil, err
	}
	for k := range n {
		if err := gen.SaveAs(cometConfig(homes[k]).GenesisFile()); err != nil {
			return nil, core.E(op, core.Internal, err)
		}
		var peers []string
		for j := range n {
			if j != k {
				peers = append(peers, ids[j]+"@"+net.JoinHostPort(hosts[j], strconv.Itoa(p2pPorts[j])))
			}
		}
		nc := o.Node
		nc.Moniker = fmt.Sprintf("node%d", k)
		nc.P2PListen = net.JoinHostPort(hosts[k], strconv.Itoa(p2pPorts[k]))
		nc.RPCListen = net.JoinHostPort(hosts[k], strconv.Itoa(rpcPorts[k]))
		nc.PersistentPeers = strings.Join(peers, ",")
		if err := WriteNodeConfig(homes[k], nc); err != nil {
			return nil, err
		}
	}
	return homes, nil
}

// FreePort finds a free TCP port on host, for a listener whose address
// must be known before it starts (a node's config, a devnet manifest).
// Another process may take it before it is bound; to make that unlikely it
// picks at random below the kernel's ephemeral range, where neither
// port-0 listeners nor outgoing connections take ports, and checks that it
// binds. Only when no such port binds does it ask the kernel for one.
func FreePort(host string) (int, error) {
	lo := ephemeralLow()
	for range 64 {
		if lo <= freePortMin {
			break
		}
		port := freePortMin + rand.IntN(lo-freePortMin)
		if l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port))); err == nil {
			l.Close()
			return port, nil
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, core.E("chainnode.FreePort", core.Unavailable, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freePortMin is the lowest port FreePort picks: above the well-known and
// most registered services' ports.
const freePortMin = 20000

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// ip_local_port_range; 32768 where it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	lo, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return lo
}
