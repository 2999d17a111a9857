package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/chainnode"
	"github.com/cairn-storage/cairn/core"
)

// maxGenesisFile bounds the genesis file `cairn chain init` reads.
const maxGenesisFile = 16 << 20

// ChainInitOptions are the flags of `cairn chain init`.
type ChainInitOptions struct {
	Home    string
	Genesis string // the network's genesis.json
	Peers   string // id@host:port,...
	P2P     string // P2P listen address
	RPC     string // RPC listen address
	Moniker string
}

// AddFlags registers the options' flags.
func (o *ChainInitOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Home, "home", "", "node home to create (required)")
	f.StringVar(&o.Genesis, "genesis", "", "the network's genesis.json, e.g. a validator's HOME/config/genesis.json (required)")
	f.StringVar(&o.Peers, "peers", "", "comma-separated id@host:port of nodes to sync from (required; 'cairn chain testnet' prints none, each home's config/cairn-node.json lists its peers)")
	f.StringVar(&o.P2P, "p2p", "0.0.0.0:26656", "P2P listen address")
	f.StringVar(&o.RPC, "rpc", "127.0.0.1:26657", "RPC listen address")
	f.StringVar(&o.Moniker, "moniker", "cairn", "the node's name among its peers")
}

// ChainInit is what `cairn chain init` prints.
type ChainInit struct {
	Home    string `json:"home"`
	ChainID string `json:"chain_id"`
	Peers   string `json:"peers"`
}

func newChainInitCmd(g *Globals) *cobra.Command {
	var o ChainInitOptions
	cmd := &cobra.Command{
		Use:   "init --home DIR --genesis FILE --peers ID@HOST:PORT,...",
		Short: "Make the home of a node that joins a running network",
		Long: `Make a node home that joins an existing network: fresh node and consensus keys, the
network's genesis file, and the peers to sync from. 'cairn chain run --home DIR' then runs it
as a non-validator that catches up with the network (a full node: an RPC endpoint for
clients and providers). To make it a validator, bond stake to its consensus key with
'cairn chain join-validator --home DIR --stake N'.
` + exitStatusHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := runChainInit(o)
			if err != nil {
				return err
			}
			if g.JSON {
				return writeJSON(g.Stdout, r)
			}
			fmt.Fprintf(g.Stdout, "node home %s for chain %s, peers %s\nrun it with: cairn chain run --home %s\n", r.Home, r.ChainID, r.Peers, r.Home)
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func runChainInit(o ChainInitOptions) (ChainInit, error) {
	if o.Home == "" || o.Genesis == "" || o.Peers == "" {
		return ChainInit{}, usagef("chain init: --home, --genesis and --peers are required")
	}
	b, err := readFileLimit(o.Genesis, maxGenesisFile)
	if err != nil {
		return ChainInit{}, err
	}
	gen, err := chainnode.ParseGenesis(b)
	if err != nil {
		return ChainInit{}, err
	}
	nc := chainnode.DefaultNodeConfig()
	nc.Moniker, nc.P2PListen, nc.RPCListen = o.Moniker, o.P2P, o.RPC
	if err := chainnode.InitJoin(o.Home, chainnode.JoinOptions{Genesis: b, Peers: o.Peers, Node: nc}); err != nil {
		return ChainInit{}, err
	}
	got, err := chainnode.ReadNodeConfig(o.Home)
	if err != nil {
		return ChainInit{}, err
	}
	return ChainInit{Home: o.Home, ChainID: gen.ChainID, Peers: got.PersistentPeers}, nil
}

// ChainValidatorOptions are the flags of `cairn chain join-validator` and
// `leave-validator`.
type ChainValidatorOptions struct {
	Home  string // the node home whose consensus key joins or leaves
	Stake uint64 // join only
}

// ChainValidator is what join-validator and leave-validator print.
type ChainValidator struct {
	PubKey   wire.ValidatorKey `json:"pub_key"`
	Operator core.AccountID    `json:"operator"`
	Stake    uint64            `json:"stake"`
	Power    int64             `json:"power"`
	Height   int64             `json:"height"`
	TxHash   core.H256         `json:"tx_hash"`
}

func newChainJoinValidatorCmd(g *Globals) *cobra.Command {
	var o ChainValidatorOptions
	cmd := &cobra.Command{
		Use:   "join-validator --home DIR --stake N [--signer KEY] [--chain URL]",
		Short: "Make a node a validator by bonding stake to its consensus key",
		Long: `Send join_validator: the consensus key of the node home DIR, with its proof of
possession, and a bond of --stake (at least 1 000 000; voting power is stake / 1 000 000)
from the --signer account, which becomes the validator's operator. The node takes part in
consensus two blocks after the transaction commits; run it (synced) before you send this.
` + exitStatusHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := runChainValidator(cmd.Context(), g, o, true)
			return printValidator(g, r, err, "joined")
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Home, "home", "", "node home whose consensus key joins (required)")
	f.Uint64Var(&o.Stake, "stake", 10*wire.ValidatorPowerUnit, "bond moved from the signer's balance")
	return cmd
}

func newChainLeaveValidatorCmd(g *Globals) *cobra.Command {
	var o ChainValidatorOptions
	cmd := &cobra.Command{
		Use:   "leave-validator --home DIR [--signer KEY] [--chain URL]",
		Short: "Remove a validator and return its bond to its operator",
		Long: `Send leave_validator for the consensus key of the node home DIR, signed by its operator
(--signer). The node stops voting two blocks later; the bond returns to the operator's
balance at once. The last validator cannot leave, nor can a genesis validator.
` + exitStatusHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := runChainValidator(cmd.Context(), g, o, false)
			return printValidator(g, r, err, "left")
		},
	}
	cmd.Flags().StringVar(&o.Home, "home", "", "node home whose consensus key leaves (required)")
	return cmd
}

func printValidator(g *Globals, r ChainValidator, err error, what string) error {
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g.Stdout, r)
	}
	fmt.Fprintf(g.Stdout, "validator %s %s (operator %s, stake %d, power %d) at height %d\n", r.PubKey, what, r.Operator, r.Stake, r.Power, r.Height)
	return nil
}

// runChainValidator sends join_validator (join) or leave_validator for
// the home's consensus key, signed by the global signer.
func runChainValidator(ctx context.Context, g *Globals, o ChainValidatorOptions, join bool) (ChainValidator, error) {
	if o.Home == "" {
		return ChainValidator{}, usagef("--home is required")
	}
	key, err := core.ResolveSigner(g.Signer)
	if err != nil {
		return ChainValidator{}, err
	}
	cc, err := chainclient.New(g.Chain)
	if err != nil {
		return ChainValidator{}, err
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	chainID, err := cc.ChainID(ctx)
	if err != nil {
		return ChainValidator{}, err
	}
	jc, err := chainnode.JoinValidatorCall(o.Home, chainID, key.Account(), o.Stake)
	if err != nil {
		return ChainValidator{}, err
	}
	var call wire.Call = jc
	r := ChainValidator{PubKey: jc.PubKey, Operator: key.Account()}
	if join {
		r.Stake, r.Power = o.Stake, int64(o.Stake/wire.ValidatorPowerUnit)
	} else {
		call = wire.LeaveValidator{PubKey: jc.PubKey}
	}
	res, err := cc.Submit(ctx, key, call)
	if err != nil {
		return r, err
	}
	r.Height, r.TxHash = res.Height, res.Hash
	for _, ev := range res.Events {
		if ev.Type == wire.EventValidatorLeft {
			r.Stake, _ = strconv.ParseUint(ev.Attributes["stake"], 10, 64) // the bond returned
		}
	}
	return r, nil
}
