package cli

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/providerclient"
)

// ProviderListing is one row of `cairn provider ls`.
type ProviderListing struct {
	wire.Provider
	URL       string        `json:"url"`
	Status    string        `json:"status"` // ok | degraded | unreachable | bad endpoint
	Latency   time.Duration `json:"latency_ns,omitempty"`
	Height    int64         `json:"chain_height,omitempty"`
	Buckets   int           `json:"buckets"`
	LastError string        `json:"error,omitempty"`
}

func newProviderLsCmd(g *Globals) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List registered providers with their health",
		Long:  "List the providers registered on chain (endpoint, stake, capacity) and ask each for GET /health now: status, latency, the chain height it sees and the buckets it holds." + exitStatusHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cc, err := g.chainClient()
			if err != nil {
				return err
			}
			ps, err := cc.Providers(cmd.Context())
			if err != nil {
				return err
			}
			rows := probeProviders(cmd.Context(), ps, timeout)
			if g.JSON {
				return writeJSON(g.Stdout, rows)
			}
			tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ACCOUNT\tSTATUS\tLATENCY\tHEIGHT\tBUCKETS\tSTAKE\tENDPOINT")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\n", r.Account.Short(), r.Status, r.Latency.Round(time.Microsecond*10), r.Height, r.Buckets, r.Stake, r.Endpoint)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for each provider's /health")
	return cmd
}

func probeProviders(ctx context.Context, ps []wire.Provider, timeout time.Duration) []ProviderListing {
	rows := make([]ProviderListing, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		rows[i] = ProviderListing{Provider: p, Status: "unreachable"}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &rows[i]
			url, err := providerclient.BaseURL(p.Endpoint)
			if err != nil {
				r.Status, r.LastError = "bad endpoint", err.Error()
				return
			}
			r.URL = url
			c, err := providerclient.New(url, providerclient.Options{Timeout: timeout})
			if err != nil {
				r.LastError = err.Error()
				return
			}
			start := time.Now()
			h, err := c.Status(ctx)
			r.Latency = time.Since(start)
			if err != nil {
				r.LastError = err.Error()
				return
			}
			r.Status, r.Height, r.Buckets = h.Status, h.ChainHeight, h.Buckets
		}()
	}
	wg.Wait()
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Stake > rows[j].Stake })
	return rows
}
