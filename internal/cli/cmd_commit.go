package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/cairn-storage/cairn/checkpoint"
)

func newCommitCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "commit DRIVE",
		Short: "Checkpoint a drive now and print the result",
		Long: `Checkpoint the drive now: collect the providers' signed commitments, check
that a quorum agrees, and submit the checkpoint (with the drive's pending root)
on chain. Prints the CheckpointResult. Exits 0 only if the checkpoint was
submitted (or the chain already had this state).` + exitStatusHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCommit(cmd.Context(), g, args[0])
		},
	}
}

// runCommit checkpoints the drive now; the result's own error (with its
// kind) is the command's.
func runCommit(ctx context.Context, g *Globals, ref string) error {
	c, err := g.openFS(ctx)
	if err != nil {
		return err
	}
	res, err := c.CommitChanges(ctx, ref)
	if err != nil {
		return err
	}
	if g.JSON {
		if err := writeJSON(g.Stdout, res); err != nil {
			return err
		}
	} else {
		printResult(g.Stdout, res)
	}
	return res.Err()
}

func printResultLine(w io.Writer, r *checkpoint.Result) {
	switch r.Kind {
	case checkpoint.Submitted:
		if r.AlreadyOnChain {
			fmt.Fprintf(w, "checkpoint: already on chain at height %d (%d leaves)\n", r.Height, r.LeafCount)
			return
		}
		fmt.Fprintf(w, "checkpoint: submitted at height %d, %d leaves, root %s, %d signers\n", r.Height, r.LeafCount, r.MMRRoot, len(r.Signers))
	default:
		fmt.Fprintf(w, "checkpoint: %s: %v (the change stays pending and will be retried)\n", r.Kind, r.Err())
	}
}

func printResult(w io.Writer, r *checkpoint.Result) {
	fmt.Fprintf(w, "result:    %s\n", r.Kind)
	switch r.Kind {
	case checkpoint.Submitted:
		fmt.Fprintf(w, "height:    %d\ntx:        %s\nmmr root:  %s\nleaves:    %d (start_seq %d)\n", r.Height, orNone(r.TxHash), r.MMRRoot, r.LeafCount, r.StartSeq)
		if r.DriveRoot != "" {
			fmt.Fprintf(w, "root cid:  %s\n", r.DriveRoot)
		}
		if r.AlreadyOnChain {
			fmt.Fprintln(w, "note:      the chain already had this state; nothing was sent")
		}
		fmt.Fprintf(w, "signers:   %d\n", len(r.Signers))
		for _, s := range r.Signers {
			fmt.Fprintf(w, "  %s\n", s)
		}
	case checkpoint.InsufficientConsensus:
		fmt.Fprintf(w, "agreeing:  %d of %d required\n", r.Agreeing, r.Required)
		for _, d := range r.Disagreements {
			fmt.Fprintf(w, "  disagrees: %s root %s at %d leaves\n", d.Provider, d.Root, d.LeafCount)
		}
	case checkpoint.TransactionFailed:
		fmt.Fprintf(w, "error:     %v\n", r.Cause)
	}
	for _, u := range r.Unreachable {
		fmt.Fprintf(w, "  unreachable: %s\n", u)
	}
	if r.Conflict != nil {
		printConflict(w, r.Conflict)
	}
	fmt.Fprintf(w, "took:      %s\n", r.Duration.Round(1e6))
}

func printConflict(w io.Writer, c *checkpoint.ProviderConflict) {
	fmt.Fprintf(w, "conflict:  majority root %s (%d providers, %d leaves)\n", c.MajorityRoot, c.MajorityCount, c.LeafCount)
	for _, x := range c.Conflicts {
		extra := ""
		switch {
		case x.BehindBy > 0:
			extra = fmt.Sprintf(" by %d", x.BehindBy)
		case x.AheadBy > 0:
			extra = fmt.Sprintf(" by %d", x.AheadBy)
		case x.Reason != "":
			extra = " (" + x.Reason + ")"
		}
		fmt.Fprintf(w, "  %s: %s%s, root %s at %d leaves\n", x.Provider, x.Kind, extra, x.Root, x.LeafCount)
	}
	res := c.Resolution
	fmt.Fprintf(w, "resolution: %s", res.Kind)
	switch {
	case res.EstimatedBlocks > 0:
		fmt.Fprintf(w, " (about %d blocks)", res.EstimatedBlocks)
	case !res.Provider.IsZero():
		fmt.Fprintf(w, " %s", res.Provider)
	case res.Reason != "":
		fmt.Fprintf(w, ": %s", res.Reason)
	}
	fmt.Fprintln(w)
}
