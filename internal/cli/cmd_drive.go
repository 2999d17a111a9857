package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

// DriveCreateOptions are `cairn drive create`'s flags.
type DriveCreateOptions struct {
	Name      string
	Strategy  string
	Capacity  uint64
	Duration  int64
	Payment   uint64
	Providers []string
}

func (o *DriveCreateOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "drive name (required; unique among your drives)")
	f.StringVar(&o.Strategy, "strategy", "immediate", "commit strategy: immediate, manual or batched:BLOCKS")
	f.Uint64Var(&o.Capacity, "capacity", 0, "bytes each provider agrees to hold (default 1 GiB)")
	f.Int64Var(&o.Duration, "duration", 0, "agreement length in blocks (default 1,000,000)")
	f.Uint64Var(&o.Payment, "payment", 0, "payment to each provider (default 1000)")
	f.StringSliceVar(&o.Providers, "provider", nil, "provider account to use (repeatable; default: chosen by stake)")
}

func newDriveCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{Use: "drive", Short: "Create, list, describe and delete drives"}
	cmd.AddCommand(newDriveCreateCmd(g), newDriveLsCmd(g), newDriveInfoCmd(g), newDriveRmCmd(g))
	return cmd
}

func newDriveCreateCmd(g *Globals) *cobra.Command {
	var o DriveCreateOptions
	cmd := &cobra.Command{
		Use:   "create --name NAME [--strategy immediate|manual|batched:BLOCKS]",
		Short: "Create a drive: a bucket, agreements with its providers, and the drive record",
		Long:  "Create a drive in one transaction: a bucket you own, a Primary agreement with each provider, and the drive record." + exitStatusHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDriveCreate(cmd.Context(), g, o)
		},
	}
	o.AddFlags(cmd)
	return cmd
}

// createOptions checks the flags and turns them into the drive client's
// options; a bad flag is a usage error.
func (o DriveCreateOptions) createOptions() (drive.CreateDriveOptions, error) {
	if o.Name == "" {
		return drive.CreateDriveOptions{}, usagef("--name is required")
	}
	s, err := drive.ParseStrategy(o.Strategy)
	if err != nil {
		return drive.CreateDriveOptions{}, usagef("%v", err)
	}
	var ps []core.AccountID
	for _, p := range o.Providers {
		a, err := core.ParseAccountID(p)
		if err != nil {
			return drive.CreateDriveOptions{}, usagef("--provider %s: %v", p, err)
		}
		ps = append(ps, a)
	}
	return drive.CreateDriveOptions{Name: o.Name, Strategy: s, Capacity: o.Capacity, Duration: o.Duration, Payment: o.Payment, Providers: ps}, nil
}

func runDriveCreate(ctx context.Context, g *Globals, o DriveCreateOptions) error {
	opts, err := o.createOptions()
	if err != nil {
		return err
	}
	c, err := g.openFS(ctx)
	if err != nil {
		return err
	}
	info, err := c.CreateDrive(ctx, opts)
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g.Stdout, info)
	}
	fmt.Fprintf(g.Stdout, "created drive %s (%q) on bucket %s with %d providers, quorum %d, strategy %s\n",
		info.ID, info.Name, info.Bucket, len(info.Providers), info.Quorum, drive.StrategyString(info.Strategy))
	return nil
}

func newDriveLsCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List your drives",
		Long:  "List the signer's drives." + exitStatusHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDriveLs(cmd.Context(), g)
		},
	}
}

func runDriveLs(ctx context.Context, g *Globals) error {
	c, err := g.openFS(ctx)
	if err != nil {
		return err
	}
	ds, err := c.ListDrives(ctx)
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g.Stdout, ds)
	}
	tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tBUCKET\tSTRATEGY\tROOT")
	for _, d := range ds {
		root := d.RootCID
		if root == "" {
			root = "(empty)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.ID, d.Name, d.Bucket, drive.StrategyString(d.Strategy), root)
	}
	return tw.Flush()
}

func newDriveInfoCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "info DRIVE",
		Short: "Show a drive: bucket, root CID, strategy, providers",
		Long:  "Show a drive's bucket id, root CID (on chain and pending), strategy, quorum and providers." + exitStatusHelp,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDriveInfo(cmd.Context(), g, args[0])
		},
	}
}

func runDriveInfo(ctx context.Context, g *Globals, ref string) error {
	c, err := g.openFS(ctx)
	if err != nil {
		return err
	}
	d, err := c.DriveInfo(ctx, ref)
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g.Stdout, d)
	}
	var ps []string
	for _, p := range d.Providers {
		ps = append(ps, p.String())
	}
	fmt.Fprintf(g.Stdout, "drive:        %s (%s)\nowner:        %s\nbucket:       %s\nstrategy:     %s\nroot (chain): %s\nroot pending: %s\nquorum:       %d of %d\nlast commit:  height %d\nproviders:\n  %s\n",
		d.ID, d.Name, d.Owner, d.Bucket, drive.StrategyString(d.Strategy), orNone(d.RootCID), orNone(d.PendingRoot),
		d.Quorum, len(d.Providers), d.LastCommittedHeight, strings.Join(ps, "\n  "))
	return nil
}

func newDriveRmCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rm DRIVE",
		Short: "Delete a drive record",
		Long:  "Delete the drive record on chain (owner only). The bucket's agreements run until they expire." + exitStatusHelp,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDriveRm(cmd.Context(), g, args[0])
		},
	}
}

func runDriveRm(ctx context.Context, g *Globals, ref string) error {
	c, err := g.openFS(ctx)
	if err != nil {
		return err
	}
	if err := c.DeleteDrive(ctx, ref); err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g.Stdout, map[string]any{"deleted": ref})
	}
	fmt.Fprintf(g.Stdout, "deleted drive %s\n", ref)
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
