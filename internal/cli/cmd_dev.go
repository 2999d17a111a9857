package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cairn-storage/cairn/devnet"
)

// DevOptions are `cairn dev`'s flags.
type DevOptions struct {
	Providers int
	Data      string
	Processes bool
	RPC       string
	UI        string
	Verbose   bool
}

func (o *DevOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVar(&o.Providers, "providers", 3, "number of storage providers")
	f.StringVar(&o.Data, "data", "", "network directory (default: HOME/devnet); restarting from it keeps all state")
	f.BoolVar(&o.Processes, "processes", false, "run each provider as its own child process (default: in-process)")
	f.StringVar(&o.RPC, "rpc", "127.0.0.1:26657", "chain RPC listen address (port 0 picks a free port)")
	f.StringVar(&o.UI, "ui", "127.0.0.1:0", "loopback HOST:PORT of the dashboard of --signer's drives (port 0 picks a free port; \"\" for none)")
	f.BoolVar(&o.Verbose, "verbose", false, "log what the chain and providers do")
}

func newDevCmd(g *Globals) *cobra.Command {
	var o DevOptions
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a local network: an embedded chain and N storage providers",
		Long: `Run a local development network: one CometBFT validator embedded in this
process (about 200 ms blocks, the dev accounts alice..ferdie funded) and N
storage providers, funded, staked and registered on chain. It writes
DATA/devnet.json (chain RPC URL, each provider's endpoint, account, pid, data
dir and the command that restarts it), prints a ready line, and runs until
interrupted. The ready line names the live dashboard of --signer's drives
(ui=http://HOST:PORT/ui/, its JSON under /api/; see docs/dashboard.md).
Starting again with the same --data restarts the same network.` + exitStatusHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDev(cmd.Context(), g, o)
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func runDev(ctx context.Context, g *Globals, o DevOptions) error {
	if o.Data == "" {
		o.Data = filepath.Join(g.Home, "devnet")
	}
	log := slog.New(slog.DiscardHandler)
	if o.Verbose {
		log = slog.New(slog.NewTextHandler(g.Stderr, nil))
	}
	net, err := devnet.Start(ctx, devnet.Config{Dir: o.Data, Providers: o.Providers, Processes: o.Processes, RPCListen: o.RPC, Logger: log})
	if err != nil {
		return err
	}
	m := net.Manifest()
	var dash *devDashboard
	if o.UI != "" {
		if dash, err = startDevDashboard(ctx, g, o.UI, m.ChainRPC, filepath.Join(o.Data, "dashboard")); err != nil {
			return errors.Join(err, net.Stop())
		}
	}
	if g.JSON {
		writeJSON(g.Stdout, devReady{Manifest: m, UI: dash.url()})
	} else {
		fmt.Fprintf(g.Stdout, "devnet ready chain=%s chain_id=%s providers=%d dir=%s ui=%s\n", m.ChainRPC, m.ChainID, len(m.Providers), o.Data, cmp.Or(dash.url(), "none"))
		for _, p := range m.Providers {
			fmt.Fprintf(g.Stdout, "  %s %s account=%s\n", p.Name, p.URL, p.Account)
		}
		fmt.Fprintf(g.Stdout, "try: CAIRN_CHAIN=%s cairn drive create --name mine\n", m.ChainRPC)
	}
	<-ctx.Done()
	fmt.Fprintln(g.Stderr, "stopping devnet")
	var errs []error
	if dash != nil {
		errs = append(errs, dash.Stop())
	}
	return errors.Join(append(errs, net.Stop())...)
}

// devReady is `cairn dev --json`'s ready object: the manifest and the
// dashboard's URL.
type devReady struct {
	devnet.Manifest
	UI string `json:"ui,omitempty"`
}
