package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-storage/cairn/chain"
	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/chainnode"
	"github.com/cairn-storage/cairn/core"
)

func newChainCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chain",
		Short: "Run a chain validator, lay out a testnet, or show the chain's status",
	}
	cmd.AddCommand(newChainRunCmd(g), newChainTestnetCmd(g), newChainStatusCmd(g),
		newChainInitCmd(g), newChainJoinValidatorCmd(g), newChainLeaveValidatorCmd(g))
	return cmd
}

// ChainRunOptions are the flags of `cairn chain run`.
type ChainRunOptions struct {
	Home      string        // node home
	Dev       bool          // initialise a dev home if Home is not one
	RPC       string        // RPC listen address override
	BlockTime time.Duration // timeout_commit override (0: the home's)
	LogLevel  string        // CometBFT log level; "" silences it
}

// AddFlags registers the options' flags. --home here is the node's home,
// not the client state directory.
func (o *ChainRunOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Home, "home", filepath.Join(defaultHome(), "chain"), "node home (config/, data/)")
	f.BoolVar(&o.Dev, "dev", false, "initialise a single-validator dev chain in --home if it is not a node home yet")
	f.StringVar(&o.RPC, "rpc", "", "RPC listen address HOST:PORT, port 0 for any (default: the home's, 127.0.0.1:26657 for --dev)")
	f.DurationVar(&o.BlockTime, "block-time", 0, "pause between blocks, CometBFT's timeout_commit (default: the home's, 200ms for --dev)")
	f.StringVar(&o.LogLevel, "log-level", "", "CometBFT log level on stderr: error, info or debug (default: silent)")
}

// ChainReady is what `cairn chain run` prints once the node serves.
type ChainReady struct {
	RPC     string `json:"rpc"`
	ChainID string `json:"chain_id"`
	Height  int64  `json:"height"`
	Home    string `json:"home"`
}

func newChainRunCmd(g *Globals) *cobra.Command {
	var o ChainRunOptions
	cmd := &cobra.Command{
		Use:   "run [--dev] --home DIR [--rpc HOST:PORT]",
		Short: "Run a chain validator until interrupted",
		Long: `Run one validator in this process: CometBFT with the Cairn chain application.

With --dev and a --home that is not a node home yet, a single-validator dev chain is
created there first (chain id cairn-dev, dev accounts alice..ferdie funded, blocks every
200 ms, RPC on 127.0.0.1:26657). Run again with the same --home to resume it. Homes
made by 'cairn chain testnet' run with --home DIR/nodeK.

Once the node has committed a block it prints one line:

  chain ready rpc=http://HOST:PORT chain_id=ID height=N home=DIR

It stops cleanly on SIGINT or SIGTERM.
` + exitStatusHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runChain(cmd.Context(), g, o, func(r ChainReady) {
				if g.JSON {
					writeJSON(g.Stdout, r)
					return
				}
				fmt.Fprintf(g.Stdout, "chain ready rpc=%s chain_id=%s height=%d home=%s\n", r.RPC, r.ChainID, r.Height, r.Home)
			})
		},
	}
	o.AddFlags(cmd)
	return cmd
}

// runChain runs a validator until ctx ends, calling ready once it has
// committed a block.
func runChain(ctx context.Context, g *Globals, o ChainRunOptions, ready func(ChainReady)) error {
	const op = "chain run"
	if o.Home == "" {
		return usagef("chain run: --home is required")
	}
	if !chainnode.IsHome(o.Home) {
		if !o.Dev {
			return core.Errorf(op, core.NotFound, "%s is not a node home: use --dev to create a dev chain there, or 'cairn chain testnet'", o.Home)
		}
		io := chainnode.InitOptions{Node: chainnode.DefaultNodeConfig()}
		if err := chainnode.Init(o.Home, io); err != nil {
			return err
		}
	}
	cfg := chainnode.Config{Home: o.Home, RPCListen: o.RPC, TimeoutCommit: o.BlockTime,
		Logger: slog.New(slog.NewTextHandler(g.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if o.LogLevel != "" {
		cfg.CometLog, cfg.CometLogLevel = g.Stderr, o.LogLevel
	}
	n, err := chainnode.Start(cfg)
	if err != nil {
		return err
	}
	defer n.Stop()
	if err := n.WaitForHeight(ctx, n.Height()+1); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	ready(ChainReady{RPC: n.RPCURL(), ChainID: n.ChainID(), Height: n.Height(), Home: o.Home})
	select {
	case <-ctx.Done():
	case <-n.Done():
	}
	return n.Stop()
}

// ChainTestnetOptions are the flags of `cairn chain testnet`.
type ChainTestnetOptions struct {
	Validators int
	Out        string
	BasePort   int
	ChainID    string
	BlockTime  time.Duration
	// Hosts (comma-separated) or HostsFile (one per line, # comments)
	// place node K on host K; then Validators is the number of hosts.
	Hosts     string
	HostsFile string
	// Accounts, if set, is a file of "ACCOUNT_HEX BALANCE [NAME]" lines
	// funded at genesis instead of the dev accounts.
	Accounts string
}

// AddFlags registers the options' flags.
func (o *ChainTestnetOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVar(&o.Validators, "validators", 4, "number of validators")
	f.StringVar(&o.Out, "out", "", "directory to write node0 .. nodeN-1 into (required)")
	f.IntVar(&o.BasePort, "base-port", 26656, "the K-th node on a host listens on BASE+2K (P2P) and BASE+2K+1 (RPC)")
	f.StringVar(&o.Hosts, "hosts", "", "comma-separated hosts (names or IPs), one validator each, instead of 127.0.0.1")
	f.StringVar(&o.HostsFile, "hosts-file", "", "file listing the hosts, one per line (# comments), instead of --hosts")
	f.StringVar(&o.Accounts, "accounts", "", "file of 'ACCOUNT_HEX BALANCE [NAME]' lines funded at genesis instead of the dev accounts (whose keys are public)")
	f.StringVar(&o.ChainID, "chain-id", "cairn-testnet", "chain id")
	f.DurationVar(&o.BlockTime, "block-time", 200*time.Millisecond, "pause between blocks (timeout_commit)")
}

// ChainTestnet is what `cairn chain testnet` prints.
type ChainTestnet struct {
	ChainID string        `json:"chain_id"`
	Nodes   []TestnetNode `json:"nodes"`
}

// TestnetNode is one node of a testnet layout.
type TestnetNode struct {
	Home string `json:"home"`
	RPC  string `json:"rpc"`
	P2P  string `json:"p2p"`
}

func newChainTestnetCmd(g *Globals) *cobra.Command {
	var o ChainTestnetOptions
	cmd := &cobra.Command{
		Use:   "testnet (--validators N | --hosts H1,H2,... | --hosts-file FILE) --out DIR",
		Short: "Write the homes of an N-validator network, on 127.0.0.1 ports or one per host",
		Long: `Write DIR/node0 .. DIR/nodeN-1: one validator each, sharing one genesis (dev accounts
funded), each naming the others as persistent peers. Without hosts every node is on
127.0.0.1, on ports from --base-port. With --hosts or --hosts-file node K listens on host K
(P2P on --base-port, RPC on the next port) and names the others at theirs: copy DIR/nodeK
to host K and start it there. Start each with 'cairn chain run --home DIR/nodeK'. A network
of N keeps committing with up to (N-1)/3 validators stopped; more validators join later with
'cairn chain join-validator'.
` + exitStatusHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("validators") && (o.Hosts != "" || o.HostsFile != "") {
				o.Validators = 0 // one per host
			}
			out, err := runChainTestnet(o)
			if err != nil {
				return err
			}
			if g.JSON {
				return writeJSON(g.Stdout, out)
			}
			fmt.Fprintf(g.Stdout, "chain %s: %d validators\n", out.ChainID, len(out.Nodes))
			for _, n := range out.Nodes {
				fmt.Fprintf(g.Stdout, "  %s  rpc=%s p2p=%s\n", n.Home, n.RPC, n.P2P)
			}
			if o.Hosts != "" || o.HostsFile != "" {
				fmt.Fprintf(g.Stdout, "copy %s to host K, then run there: cairn chain run --home DIR\n", filepath.Join(o.Out, "nodeK"))
				return nil
			}
			fmt.Fprintf(g.Stdout, "start each with: cairn chain run --home %s\n", filepath.Join(o.Out, "nodeK"))
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func runChainTestnet(o ChainTestnetOptions) (ChainTestnet, error) {
	if o.Out == "" {
		return ChainTestnet{}, usagef("chain testnet: --out is required")
	}
	hosts, err := testnetHosts(o)
	if err != nil {
		return ChainTestnet{}, err
	}
	if len(hosts) > 0 && o.Validators == 0 {
		o.Validators = len(hosts)
	}
	if o.Validators < 1 {
		return ChainTestnet{}, usagef("chain testnet: --validators must be >= 1")
	}
	if len(hosts) > 0 && len(hosts) != o.Validators {
		return ChainTestnet{}, usagef("chain testnet: %d hosts for %d validators", len(hosts), o.Validators)
	}
	gen := chain.DevGenesis()
	if o.Accounts != "" {
		if gen, err = genesisAccounts(o.Accounts); err != nil {
			return ChainTestnet{}, err
		}
	}
	nc := chainnode.DefaultNodeConfig()
	nc.TimeoutCommit = chainnode.Duration(o.BlockTime)
	homes, err := chainnode.Testnet(o.Validators, o.Out, chainnode.TestnetOptions{
		InitOptions: chainnode.InitOptions{ChainID: o.ChainID, Genesis: gen, Node: nc},
		BasePort:    o.BasePort,
		Hosts:       hosts,
	})
	if err != nil {
		return ChainTestnet{}, err
	}
	out := ChainTestnet{ChainID: o.ChainID}
	for _, h := range homes {
		c, err := chainnode.ReadNodeConfig(h)
		if err != nil {
			return out, err
		}
		out.Nodes = append(out.Nodes, TestnetNode{Home: h, RPC: "http://" + c.RPCListen, P2P: c.P2PListen})
	}
	return out, nil
}

// maxHostsFile bounds a hosts file.
const maxHostsFile = 1 << 20

// testnetHosts reads --hosts or --hosts-file (not both).
func testnetHosts(o ChainTestnetOptions) ([]string, error) {
	text := o.Hosts
	if o.HostsFile != "" {
		if o.Hosts != "" {
			return nil, usagef("chain testnet: --hosts and --hosts-file exclude each other")
		}
		b, err := readFileLimit(o.HostsFile, maxHostsFile)
		if err != nil {
			return nil, err
		}
		var lines []string
		for _, l := range strings.Split(string(b), "\n") {
			l, _, _ = strings.Cut(l, "#")
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
		text = strings.Join(lines, ",")
	}
	var hosts []string
	for _, h := range strings.Split(text, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts, nil
}

// genesisAccounts reads a file of "ACCOUNT_HEX BALANCE [NAME]" lines (#
// comments) into a genesis with the default parameters.
func genesisAccounts(path string) (chain.Genesis, error) {
	const op = "chain testnet"
	g := chain.Genesis{Params: chainwire.DefaultParams(), Accounts: []chain.GenesisAccount{}}
	b, err := readFileLimit(path, maxHostsFile)
	if err != nil {
		return g, err
	}
	for i, l := range strings.Split(string(b), "\n") {
		l, _, _ = strings.Cut(l, "#")
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f) > 3 || len(f) < 2 {
			return g, core.Errorf(op, core.Invalid, "%s:%d: want ACCOUNT_HEX BALANCE [NAME]", path, i+1)
		}
		id, err := core.ParseAccountID(f[0])
		if err != nil {
			return g, core.Errorf(op, core.Invalid, "%s:%d: %v", path, i+1, err)
		}
		bal, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return g, core.Errorf(op, core.Invalid, "%s:%d: balance: %v", path, i+1, err)
		}
		a := chain.GenesisAccount{ID: id, Balance: bal}
		if len(f) == 3 {
			a.Name = f[2]
		}
		g.Accounts = append(g.Accounts, a)
	}
	return g, g.Validate()
}

// readFileLimit reads a file the user names, refusing one above limit
// bytes.
func readFileLimit(path string, limit int64) ([]byte, error) {
	const op = "read file"
	f, err := os.Open(path)
	if err != nil {
		return nil, core.E(op, core.NotFound, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, core.E(op, core.Internal, err)
	}
	if int64(len(b)) > limit {
		return nil, core.Errorf(op, core.Invalid, "%s is above %d bytes", path, limit)
	}
	return b, nil
}

// ChainStatus is what `cairn chain status` prints.
type ChainStatus struct {
	RPC     string    `json:"rpc"`
	ChainID string    `json:"chain_id"`
	Height  int64     `json:"height"`
	AppHash core.H256 `json:"app_hash"`
}

func newChainStatusCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status [--chain URL]",
		Short: "Show the chain's id, height and app hash",
		Long:  "Ask the node at --chain for its chain id, committed height and app hash.\n" + exitStatusHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := runChainStatus(cmd.Context(), g.Chain)
			if err != nil {
				return err
			}
			if g.JSON {
				return writeJSON(g.Stdout, st)
			}
			fmt.Fprintf(g.Stdout, "chain %s at height %d, app hash %s (%s)\n", st.ChainID, st.Height, st.AppHash, st.RPC)
			return nil
		},
	}
}

func runChainStatus(ctx context.Context, rpcURL string) (ChainStatus, error) {
	c, err := chainclient.New(rpcURL)
	if err != nil {
		return ChainStatus{}, err
	}
	defer c.Close()
	st, err := c.Status(ctx)
	if err != nil {
		return ChainStatus{}, err
	}
	return ChainStatus{RPC: c.URL(), ChainID: st.ChainID, Height: st.Height, AppHash: st.AppHash}, nil
}
