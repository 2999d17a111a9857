package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/core"
)

// ProviderInitOptions are the flags of `cairn provider init`.
type ProviderInitOptions struct {
	ProviderRegisterOptions        // endpoint, stake, capacity, terms; Data is the data directory
	Listen                  string // the address `provider run` will serve on
	// FundFrom, if set, names a funded key (dev name or key file) that
	// sends the new account its stake and fees first.
	FundFrom string
}

// ProviderInit is what `cairn provider init` reports.
type ProviderInit struct {
	ProviderRegistered
	KeyFile string `json:"key_file"`
	// Already is set when the account was registered before this run.
	Already bool `json:"already_registered,omitempty"`
	// Run is the command that runs the provider.
	Run string `json:"run"`
}

// providerFeeMargin is what FundFrom sends beyond the stake: fees of the
// registration and of many challenge answers.
const providerFeeMargin = 1_000_000

func newProviderInitCmd(g *Globals) *cobra.Command {
	var o ProviderInitOptions
	cmd := &cobra.Command{
		Use:   "init --data DIR --endpoint URL [--listen HOST:PORT] [--fund-from KEY] [--stake N] [--capacity N] [--price N] [--max-duration BLOCKS]",
		Short: "Set up a provider on this machine: key, registration on chain, the command to run it",
		Long: `Set up a provider for an operator on another machine than the chain's: create the
provider key DATA/provider.key (kept if it exists), register the account on chain (--chain,
one RPC URL or a list) with its public --endpoint (what clients dial: a URL or multiaddr such
as /dns4/provider1.example/tcp/7070/http), stake, capacity and terms, and print the command
that runs it. The account must hold the stake plus fees: --fund-from KEY sends them first
from a funded account; without it an unfunded account fails (exit 8) with its id, to fund
and run again. Running it again on a registered account changes nothing.
` + exitStatusHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := runProviderInit(cmd.Context(), g, o)
			if err != nil {
				return err
			}
			if g.JSON {
				return writeJSON(g.Stdout, r)
			}
			if r.Already {
				fmt.Fprintf(g.Stdout, "provider %s is already registered (endpoint %s)\n", r.Account, r.Endpoint)
			} else {
				fmt.Fprintf(g.Stdout, "registered provider %s endpoint %s stake %d capacity %d at height %d\n", r.Account, r.Endpoint, r.Stake, r.Capacity, r.Height)
			}
			fmt.Fprintf(g.Stdout, "key %s\nrun it with:\n  %s\n", r.KeyFile, r.Run)
			return nil
		},
	}
	o.ProviderRegisterOptions.AddFlags(cmd)
	f := cmd.Flags()
	f.Lookup("data").Usage = "provider data directory: store and provider.key (required)"
	f.StringVar(&o.Listen, "listen", "0.0.0.0:7070", "address the provider will serve on (in the printed command)")
	f.StringVar(&o.FundFrom, "fund-from", "", "funded key (dev name or key file) that sends the stake and fees first")
	return cmd
}

func runProviderInit(ctx context.Context, g *Globals, o ProviderInitOptions) (ProviderInit, error) {
	const op = "provider init"
	if o.Data == "" || strings.TrimSpace(o.Endpoint) == "" {
		return ProviderInit{}, usagef("provider init: --data and --endpoint are required")
	}
	if err := os.MkdirAll(o.Data, 0o700); err != nil {
		return ProviderInit{}, core.E(op, core.Internal, err)
	}
	keyFile := filepath.Join(o.Data, "provider.key")
	key, err := core.LoadOrCreateKeyFile(keyFile)
	if err != nil {
		return ProviderInit{}, err
	}
	r := ProviderInit{KeyFile: keyFile, Run: providerRunCommand(g.Chain, o.Data, o.Listen)}
	cc, err := chainclient.New(g.Chain)
	if err != nil {
		return r, err
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if p, err := cc.Provider(ctx, key.Account()); err == nil {
		r.ProviderRegistered = ProviderRegistered{Account: key.Account(), Endpoint: p.Endpoint, Stake: p.Stake, Capacity: p.Capacity, Terms: p.Terms}
		r.Already = true
		return r, nil
	} else if !errors.Is(err, core.NotFound) {
		return r, err
	}
	if o.FundFrom != "" {
		if err := fundProvider(ctx, cc, o.FundFrom, key.Account(), o.Stake); err != nil {
			return r, err
		}
	}
	res, err := cc.Submit(ctx, key, chainwire.RegisterProvider{Endpoint: o.Endpoint, Stake: o.Stake, Capacity: o.Capacity, Terms: o.Terms()})
	if errors.Is(err, core.Conflict) {
		return r, core.E(op, core.KindOf(err), fmt.Errorf("account %s needs a balance of %d plus fees (fund it, or use --fund-from): %w", key.Account(), o.Stake, err))
	}
	if err != nil {
		return r, err
	}
	r.ProviderRegistered = ProviderRegistered{Account: key.Account(), Endpoint: o.Endpoint, Stake: o.Stake, Capacity: o.Capacity, Terms: o.Terms(),
		Height: res.Height, TxHash: res.Hash}
	return r, nil
}

// fundProvider tops account up to stake plus providerFeeMargin from the
// funder's balance.
func fundProvider(ctx context.Context, cc *chainclient.Client, funder string, account core.AccountID, stake uint64) error {
	fk, err := core.ResolveSigner(funder)
	if err != nil {
		return err
	}
	acc, err := cc.Account(ctx, account)
	if err != nil {
		return err
	}
	want := stake + providerFeeMargin
	if want < stake || acc.Balance >= want {
		return nil
	}
	_, err = cc.Submit(ctx, fk, chainwire.Transfer{To: account, Amount: want - acc.Balance})
	return err
}

// providerRunCommand is the command line that runs the provider set up in
// data, talking to chain.
func providerRunCommand(chain, data, listen string) string {
	return fmt.Sprintf("cairn provider run --chain %s --data %s --listen %s", chain, data, listen)
}
