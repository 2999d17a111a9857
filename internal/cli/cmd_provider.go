package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/provider"
	"github.com/cairn-storage/cairn/provider/store"
)

func newProviderCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "provider",
		Short: "Run a storage provider node, or register one on chain",
	}
	cmd.AddCommand(newProviderRunCmd(g), newProviderRegisterCmd(g), newProviderInitCmd(g))
	return cmd
}

// ProviderRunOptions are the flags of `cairn provider run`.
type ProviderRunOptions struct {
	Listen   string // host:port; port 0 picks a free one
	Data     string // data directory: store and key
	Key      string // key file; default DATA/provider.key, created if absent
	LogLevel string
	Config   provider.Config
}

// AddFlags registers the options' flags.
func (o *ProviderRunOptions) AddFlags(cmd *cobra.Command) {
	o.Config = provider.DefaultConfig()
	f := cmd.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:7070", "address to serve the provider API on (port 0: any free port)")
	f.StringVar(&o.Data, "data", "", "data directory: the store and, unless --key is given, the provider key (required)")
	f.StringVar(&o.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.Uint64Var(&o.Config.MaxBlobSize, "max-blob", o.Config.MaxBlobSize, "largest write accepted, bytes")
	f.DurationVar(&o.Config.SyncInterval, "sync-interval", o.Config.SyncInterval, "how often buckets are synced from peers")
	f.DurationVar(&o.Config.ChallengePollInterval, "challenge-poll", o.Config.ChallengePollInterval, "how often open challenges are listed")
	f.DurationVar(&o.Config.DiscoveryInterval, "discovery-interval", o.Config.DiscoveryInterval, "how often the chain is asked for this provider's agreements")
}

func newProviderRunCmd(g *Globals) *cobra.Command {
	var o ProviderRunOptions
	cmd := &cobra.Command{
		Use:   "run --chain URL --data DIR [--listen ADDR] [--key FILE]",
		Short: "Run a provider node until interrupted",
		Long: `Run a provider node: the HTTP API on --listen, data in --data, chain state from --chain
(one RPC URL or a comma-separated list: the provider talks to the first and fails over to the
next when it cannot reach the one it talks to, so a validator's restart costs nothing).
The provider key (its chain account) is read from --key FILE (the global --signer, created
if absent), or DATA/provider.key, created on first run. When the API is up it prints one line:

  provider ready url=http://HOST:PORT account=HEX

It stops cleanly on SIGINT or SIGTERM. Register the account on chain with
'cairn provider register' before clients can find it.
` + exitStatusHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("signer") { // --key FILE is --signer FILE
				o.Key = g.Signer
			}
			return runProvider(cmd.Context(), g, o, func(r ProviderReady) {
				fmt.Fprintf(g.Stdout, "provider ready url=%s account=%s\n", r.URL, r.Account)
			})
		},
	}
	o.AddFlags(cmd)
	return cmd
}

// ProviderReady is what a started provider reports: its API's base URL and
// its account.
type ProviderReady struct {
	URL     string         `json:"url"`
	Account core.AccountID `json:"account"`
}

// runProvider runs a provider until ctx ends, calling ready once it serves.
func runProvider(ctx context.Context, g *Globals, o ProviderRunOptions, ready func(ProviderReady)) error {
	if o.Data == "" {
		return usagef("provider run: --data is required")
	}
	if err := os.MkdirAll(o.Data, 0o700); err != nil {
		return core.E("provider run", core.Internal, err)
	}
	keyFile := o.Key
	if keyFile == "" {
		keyFile = filepath.Join(o.Data, "provider.key")
	}
	key, err := core.LoadOrCreateKeyFile(keyFile)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.LogLevel)); err != nil {
		return usagef("provider run: --log-level %q: want debug, info, warn or error", o.LogLevel)
	}
	log := slog.New(slog.NewTextHandler(g.Stderr, &slog.HandlerOptions{Level: level}))
	cc, err := chainclient.New(g.Chain, chainclient.WithLogger(log))
	if err != nil {
		return err
	}
	defer cc.Close()
	st, err := store.OpenPebble(filepath.Join(o.Data, "store"), store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	cfg := o.Config
	cfg.Version = Version
	srv, err := provider.New(cfg, provider.Deps{Key: key, Store: st, Chain: cc, Logger: log})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", o.Listen)
	if err != nil {
		srv.Close()
		return core.E("provider run", core.Unavailable, err)
	}
	srv.Start()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	ready(ProviderReady{URL: "http://" + l.Addr().String(), Account: key.Account()})
	select {
	case <-ctx.Done():
		log.Info("stopping")
	case err = <-served:
		log.Error("serving stopped", "err", err)
	}
	if cerr := srv.Close(); err == nil {
		err = cerr
	}
	return err
}

// ProviderRegisterOptions are the flags of `cairn provider register`.
type ProviderRegisterOptions struct {
	Endpoint string
	Stake    uint64
	Capacity uint64
	Data     string // read the key from DATA/provider.key instead of --signer
	// The terms published with the registration: agreements that meet
	// them bind the provider (its consent).
	Price       uint64 // least payment per GiB of max_bytes per block
	MaxDuration int64  // longest agreement in blocks; 0: no limit
	Accepting   bool
}

// AddFlags registers the options' flags.
func (o *ProviderRegisterOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Endpoint, "endpoint", "", "the provider's public endpoint: URL or multiaddr such as /ip4/H/tcp/P/http (required)")
	f.Uint64Var(&o.Stake, "stake", chainwire.DefaultParams().MinProviderStake, "stake to lock")
	f.Uint64Var(&o.Capacity, "capacity", 1<<40, "bytes offered")
	f.StringVar(&o.Data, "data", "", "provider data directory whose provider.key signs (instead of --signer)")
	f.Uint64Var(&o.Price, "price", 0, "terms: least payment per GiB of max_bytes per block of duration")
	f.Int64Var(&o.MaxDuration, "max-duration", 0, "terms: longest agreement in blocks (0: no limit)")
	f.BoolVar(&o.Accepting, "accepting", true, "terms: accept new agreements that meet them")
}

// Terms returns the terms the options publish.
func (o ProviderRegisterOptions) Terms() chainwire.ProviderTerms {
	return chainwire.ProviderTerms{Accepting: o.Accepting, PricePerGiBBlock: o.Price, MaxDuration: o.MaxDuration}
}

// ProviderRegistered is what `cairn provider register` reports.
type ProviderRegistered struct {
	Account  core.AccountID          `json:"account"`
	Endpoint string                  `json:"endpoint"`
	Stake    uint64                  `json:"stake"`
	Capacity uint64                  `json:"capacity"`
	Terms    chainwire.ProviderTerms `json:"terms"`
	Height   int64                   `json:"height"`
	TxHash   core.H256               `json:"tx_hash"`
}

func newProviderRegisterCmd(g *Globals) *cobra.Command {
	var o ProviderRegisterOptions
	cmd := &cobra.Command{
		Use:   "register --endpoint URL [--stake N] [--capacity N] [--price N] [--max-duration BLOCKS] [--accepting=false] [--data DIR | --signer KEY]",
		Short: "Register the provider's account on chain",
		Long: `Register a provider on chain with its endpoint, stake, capacity and terms, signed by
the provider's own key: DATA/provider.key with --data, else --signer/--key. The account needs
the stake in its balance. The terms (--price, --max-duration, --accepting) are the provider's
consent: the chain makes an agreement with it only if the agreement meets them and fits in
the capacity left. By default it accepts any agreement, free, of any duration.
` + exitStatusHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := runProviderRegister(cmd.Context(), g, o)
			if err != nil {
				return err
			}
			if g.JSON {
				return writeJSON(g.Stdout, r)
			}
			fmt.Fprintf(g.Stdout, "registered provider %s endpoint %s stake %d capacity %d at height %d\n", r.Account, r.Endpoint, r.Stake, r.Capacity, r.Height)
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func runProviderRegister(ctx context.Context, g *Globals, o ProviderRegisterOptions) (ProviderRegistered, error) {
	var r ProviderRegistered
	if strings.TrimSpace(o.Endpoint) == "" {
		return r, usagef("provider register: --endpoint is required")
	}
	var key core.PrivateKey
	var err error
	if o.Data != "" {
		key, err = core.ReadKeyFile(filepath.Join(o.Data, "provider.key"))
	} else {
		key, err = core.ResolveSigner(g.Signer)
	}
	if err != nil {
		return r, err
	}
	cc, err := chainclient.New(g.Chain)
	if err != nil {
		return r, err
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err := cc.Submit(ctx, key, chainwire.RegisterProvider{Endpoint: o.Endpoint, Stake: o.Stake, Capacity: o.Capacity, Terms: o.Terms()})
	if err != nil {
		return r, err
	}
	return ProviderRegistered{Account: key.Account(), Endpoint: o.Endpoint, Stake: o.Stake, Capacity: o.Capacity, Terms: o.Terms(),
		Height: res.Height, TxHash: res.Hash}, nil
}
