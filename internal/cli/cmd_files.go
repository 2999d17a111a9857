package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-storage/cairn/drive"
)

// This file holds the small file commands: ls, stat, mkdir, rm, mv. Each
// is a thin printer over one drive.Client call.

func newLsCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "ls DRIVE[:/path]",
		Short: "List a directory of a drive",
		Long:  "List a directory: kind, size, modified time, name and content id." + exitStatusHelp,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.fsAt(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			es, err := c.List(cmd.Context(), p.Drive, p.Path)
			if err != nil {
				return err
			}
			if g.JSON {
				return writeJSON(g.Stdout, es)
			}
			tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
			for _, e := range es {
				name := e.Name
				if e.Kind == drive.KindDir {
					name += "/"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Kind, humanBytes(e.Size), e.Modified.Local().Format(time.DateTime), name, e.CID)
			}
			return tw.Flush()
		},
	}
}

func newStatCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "stat DRIVE:/path",
		Short: "Describe a file or directory",
		Long:  "Describe a file or directory: kind, size, content id, modified time." + exitStatusHelp,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.fsAt(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			e, err := c.Stat(cmd.Context(), p.Drive, p.Path)
			if err != nil {
				return err
			}
			if g.JSON {
				return writeJSON(g.Stdout, e)
			}
			fmt.Fprintf(g.Stdout, "path:     %s\nkind:     %s\nsize:     %s (%d bytes)\ncid:      %s\nmodified: %s\n",
				p, e.Kind, humanBytes(e.Size), e.Size, e.CID, e.Modified.Local().Format(time.RFC3339))
			return nil
		},
	}
}

func newMkdirCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "mkdir DRIVE:/path",
		Short: "Create a directory (and any missing parents)",
		Long:  "Create a directory and any missing parents; it is an error if it exists." + exitStatusHelp,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parseDrivePath(args[0])
			if err != nil {
				return err
			}
			return changeCmd(g, cmd, p, func(c *drive.Client) (*drive.OpResult, error) {
				return c.CreateDirectory(cmd.Context(), p.Drive, p.Path)
			}, "created")
		},
	}
}

func newRmCmd(g *Globals) *cobra.Command {
	var recursive bool
	cmd := &cobra.Command{
		Use:   "rm DRIVE:/path",
		Short: "Remove a file or an empty directory (-r for a tree)",
		Long:  "Remove a file or directory from the drive's tree. The data stays in the provider's log; the next checkpoint's root no longer names it." + exitStatusHelp,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parseDrivePath(args[0])
			if err != nil {
				return err
			}
			return changeCmd(g, cmd, p, func(c *drive.Client) (*drive.OpResult, error) {
				return c.Remove(cmd.Context(), p.Drive, p.Path, drive.RemoveOptions{Recursive: recursive})
			}, "removed")
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "remove a directory and everything below it")
	return cmd
}

func newMvCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "mv DRIVE:/from /to",
		Short: "Move or rename within a drive",
		Long:  "Move or rename a file or directory within one drive. The destination must not exist." + exitStatusHelp,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := parseDrivePath(args[0])
			if err != nil {
				return err
			}
			dst := args[1]
			if isDrivePath(dst) {
				d, err := parseDrivePath(dst)
				if err != nil {
					return err
				}
				if d.Drive != src.Drive {
					return usagef("mv works within one drive (%s vs %s)", src.Drive, d.Drive)
				}
				dst = d.Path
			}
			return changeCmd(g, cmd, src, func(c *drive.Client) (*drive.OpResult, error) {
				return c.Move(cmd.Context(), src.Drive, src.Path, dst)
			}, "moved "+src.String()+" to")
		},
	}
}

// changeCmd runs one change and prints "VERB PATH" (PATH is the result's
// path: the destination of a move).
func changeCmd(g *Globals, cmd *cobra.Command, p drivePath, f func(*drive.Client) (*drive.OpResult, error), verb string) error {
	c, err := g.openFS(cmd.Context())
	if err != nil {
		return err
	}
	res, err := f(c)
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g.Stdout, res)
	}
	fmt.Fprintf(g.Stdout, "%s %s\n", verb, drivePath{Drive: p.Drive, Path: res.Path})
	printChangeCheckpoint(g, res)
	return nil
}
