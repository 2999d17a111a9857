package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cairn-storage/cairn/core"
)

func newGetCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "get DRIVE:/path LOCAL",
		Short: "Download a file from a drive (LOCAL - writes to standard output)",
		Long: `Download a file. Every chunk is checked against its hash before it is
written; a provider that serves wrong bytes is skipped for the next one. The
local file is written to a temporary name and renamed when complete, so a
failed download never leaves a partial file behind.` + exitStatusHelp,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := parseDrivePath(args[0])
			if err != nil {
				return err
			}
			return runGet(cmd.Context(), g, src, args[1])
		},
	}
}

func runGet(ctx context.Context, g *Globals, src drivePath, local string) error {
	c, err := g.openFS(ctx)
	if err != nil {
		return err
	}
	if local == "-" {
		_, err := c.DownloadFile(ctx, src.Drive, src.Path, g.Stdout)
		return err
	}
	if st, err := os.Stat(local); err == nil && st.IsDir() {
		local = filepath.Join(local, filepath.Base(src.Path))
	}
	tmp, err := os.CreateTemp(filepath.Dir(local), "."+filepath.Base(local)+".part-*")
	if err != nil {
		return localError("get", err)
	}
	defer os.Remove(tmp.Name())
	n, err := c.DownloadFile(ctx, src.Drive, src.Path, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), local); err != nil {
		return core.E("cli.get", core.Internal, err)
	}
	if g.JSON {
		return writeJSON(g.Stdout, map[string]any{"path": src.String(), "local": local, "bytes": n})
	}
	fmt.Fprintf(g.Stdout, "downloaded %s to %s (%s, verified)\n", src, local, humanBytes(n))
	return nil
}
