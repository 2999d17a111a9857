package cli

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-storage/cairn/chain"
	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/chainnode"
	"github.com/cairn-storage/cairn/core"
)

func newChainCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chain",
		Short: "Run a chain validator, lay out a testnet, or show the chain's status",
	}
	cmd.AddCommand(newChainRunCmd(g), newChainTestnetCmd(g), newChainStatusCmd(g))
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
}

// AddFlags registers the options' flags.
func (o *ChainTestnetOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVar(&o.Validators, "validators", 4, "number of validators")
	f.StringVar(&o.Out, "out", "", "directory to write node0 .. nodeN-1 into (required)")
	f.IntVar(&o.BasePort, "base-port", 26656, "node K listens on BASE+2K (P2P) and BASE+2K+1 (RPC)")
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
		Use:   "testnet --validators N --out DIR",
		Short: "Write the homes of an N-validator network on 127.0.0.1 ports",
		Long: `Write DIR/node0 .. DIR/nodeN-1: one validator each, sharing one genesis (dev accounts
funded), each naming the others as persistent peers, on 127.0.0.1 ports from --base-port.
Start each with 'cairn chain run --home DIR/nodeK'. A network of N keeps committing with
up to (N-1)/3 validators stopped.
` + exitStatusHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
	if o.Validators < 1 {
		return ChainTestnet{}, usagef("chain testnet: --validators must be >= 1")
	}
	nc := chainnode.DefaultNodeConfig()
	nc.TimeoutCommit = chainnode.Duration(o.BlockTime)
	homes, err := chainnode.Testnet(o.Validators, o.Out, chainnode.TestnetOptions{
		InitOptions: chainnode.InitOptions{ChainID: o.ChainID, Genesis: chain.DevGenesis(), Node: nc},
		BasePort:    o.BasePort,
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
