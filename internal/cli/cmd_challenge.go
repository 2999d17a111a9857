package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/core"
)

func newChallengeCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{Use: "challenge", Short: "Inspect challenges of providers"}
	var provider, state string
	var bucket uint64
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List challenges (filter by --provider, --bucket, --state)",
		Long:  "List on-chain challenges: id, bucket, provider, leaf, deadline and state (open, answered, slashed)." + exitStatusHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cc, err := g.chainClient()
			if err != nil {
				return err
			}
			f := chainclient.ChallengeFilter{Bucket: core.BucketID(bucket), State: state}
			if provider != "" {
				a, err := core.ParseAccountID(provider)
				if err != nil {
					return usagef("--provider: %v", err)
				}
				f.Provider = &a
			}
			cs, err := cc.Challenges(cmd.Context(), f)
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
		},
	}
	ls.Flags().StringVar(&provider, "provider", "", "only challenges of this provider")
	ls.Flags().Uint64Var(&bucket, "bucket", 0, "only challenges in this bucket")
	ls.Flags().StringVar(&state, "state", "", "only challenges in this state (open, answered, slashed)")
	cmd.AddCommand(ls)
	return cmd
}
