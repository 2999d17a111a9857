package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

// PutOptions are `cairn put`'s flags.
type PutOptions struct {
	MIME     string
	Progress string // auto | always | never
}

func (o *PutOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.MIME, "mime", "", "MIME type to record (default: from the file extension)")
	cmd.Flags().StringVar(&o.Progress, "progress", "auto", "progress bar: auto (on a terminal), always or never")
}

func newPutCmd(g *Globals) *cobra.Command {
	var o PutOptions
	cmd := &cobra.Command{
		Use:   "put LOCAL DRIVE:/path",
		Short: "Upload a local file (or - for standard input) into a drive",
		Long: `Upload a file into a drive. The file streams in 256 KiB chunks (1 MiB
chunks for files of 8 MiB or more) to every primary provider of the drive at once and is acknowledged once a quorum holds
every chunk durably; parent directories are created. With the immediate
strategy the checkpoint follows at once; batched and manual drives record the
change as pending (see 'cairn commit').` + exitStatusHelp,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			dst, err := parseDrivePath(args[1])
			if err != nil {
				return err
			}
			return runPut(cmd.Context(), g, o, args[0], dst)
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func runPut(ctx context.Context, g *Globals, o PutOptions, local string, dst drivePath) error {
	var r io.Reader = g.Stdin
	var total int64 = -1
	if local != "-" {
		f, err := os.Open(local)
		if err != nil {
			return localError("put", err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		if st.IsDir() {
			return usagef("%s is a directory; put uploads one file", local)
		}
		r, total = f, st.Size()
	}
	c, err := g.openFS(ctx)
	if err != nil {
		return err
	}
	show := o.Progress == "always" || (o.Progress == "auto" && isTerminal(g.Stderr) && !g.JSON)
	bar := newProgress(g.Stderr, total, show)
	res, err := c.UploadFile(ctx, dst.Drive, dst.Path, r, drive.UploadOptions{MIME: o.MIME, Size: total, Progress: bar.update})
	bar.done()
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g.Stdout, res)
	}
	fmt.Fprintf(g.Stdout, "uploaded %s (%s, %d chunks) as %s\n", dst, humanBytes(res.Size), res.Chunks, res.CID)
	printChangeCheckpoint(g, res)
	return nil
}

func printChangeCheckpoint(g *Globals, res *drive.OpResult) {
	if res.Checkpoint == nil {
		fmt.Fprintf(g.Stdout, "root %s pending until the next checkpoint\n", res.RootCID)
		return
	}
	printResultLine(g.Stdout, res.Checkpoint)
}

// progress draws a one-line bar on a terminal.
type progress struct {
	w     io.Writer
	total int64
	show  bool
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, total int64, show bool) *progress {
	return &progress{w: w, total: total, show: show, start: time.Now()}
}

func (p *progress) update(done uint64) {
	if !p.show || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	rate := float64(done) / max(time.Since(p.start).Seconds(), 0.001)
	if p.total > 0 {
		fmt.Fprintf(p.w, "\r%s / %s (%3.0f%%) %s/s   ", humanBytes(done), humanBytes(uint64(p.total)), 100*float64(done)/float64(p.total), humanBytes(uint64(rate)))
	} else {
		fmt.Fprintf(p.w, "\r%s %s/s   ", humanBytes(done), humanBytes(uint64(rate)))
	}
}

func (p *progress) done() {
	if p.show && !p.last.IsZero() {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// localError gives errors about local files the kind their cause deserves
// (a missing file is not found, a forbidden one unauthorized), so the exit
// status tells them apart.
func localError(op string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return core.E(op, core.NotFound, err)
	case errors.Is(err, fs.ErrPermission):
		return core.E(op, core.Unauthorized, err)
	}
	return core.E(op, core.Invalid, err)
}
