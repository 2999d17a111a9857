package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/core"
)

// ChallengeLsOptions are `cairn challenge ls`'s filters.
type ChallengeLsOptions struct {
	Provider string
	Bucket   uint64
	State    string
}

func (o *ChallengeLsOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Provider, "provider", "", "only challenges of this provider")
	cmd.Flags().Uint64Var(&o.Bucket, "bucket", 0, "only challenges in this bucket")
	cmd.Flags().StringVar(&o.State, "state", "", "only challenges in this state (open, answered, slashed, void)")
}

// filter turns the flags into the chain query's filter; a bad account is
// a usage error.
func (o ChallengeLsOptions) filter() (chainclient.ChallengeFilter, error) {
	f := chainclient.ChallengeFilter{Bucket: core.BucketID(o.Bucket), State: o.State}
	if o.Provider != "" {
		a, err := core.ParseAccountID(o.Provider)
		if err != nil {
			return f, usagef("--provider: %v", err)
		}
		f.Provider = &a
	}
	return f, nil
}

func newChallengeCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{Use: "challenge", Short: "Inspect challenges of providers"}
	var o ChallengeLsOptions
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List challenges (filter by --provider, --bucket, --state)",
		Long:  "List on-chain challenges: id, bucket, provider, leaf, deadline and state (open, answered, slashed, void)." + exitStatusHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runChallengeLs(cmd.Context(), g, o)
		},
	}
	o.AddFlags(ls)
	cmd.AddCommand(ls)
	return cmd
}

func runChallengeLs(ctx context.Context, g *Globals, o ChallengeLsOptions) error {
	f, err := o.filter()
	if err != nil {
		return err
	}
	cc, err := g.chainClient()
	if err != nil {
		return err
	}
	cs, err := cc.Challenges(ctx, f)
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g.Stdout, cs)
	}
	tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tBUCKET\tPROVIDER\tLEAF\tOPENED\tDEADLINE\tSTATE\tSLASHED")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%d\n", c.ID, c.Bucket, c.Provider.Short(), c.LeafIndex, c.OpenedHeight, c.Deadline, c.State, c.Slashed)
	}
	return tw.Flush()
}
