package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/gateway/mount"
)

// MountOptions are `cairn mount`'s flags.
type MountOptions struct {
	EntryTimeout time.Duration
	AttrTimeout  time.Duration
	Debug        bool
}

func (o *MountOptions) AddFlags(cmd *cobra.Command) {
	d := mount.DefaultConfig()
	f := cmd.Flags()
	f.DurationVar(&o.EntryTimeout, "entry-timeout", d.EntryTimeout, "how long the kernel caches a name lookup (changes by other clients show after this)")
	f.DurationVar(&o.AttrTimeout, "attr-timeout", d.AttrTimeout, "how long the kernel caches a file's attributes")
	f.BoolVar(&o.Debug, "debug", false, "log every FUSE request on stderr")
}

// config is the mount's configuration from the flags.
func (o MountOptions) config() (mount.Config, error) {
	cfg := mount.DefaultConfig()
	cfg.EntryTimeout, cfg.AttrTimeout, cfg.Debug = o.EntryTimeout, o.AttrTimeout, o.Debug
	if err := cfg.Validate(); err != nil {
		return cfg, usagef("%v", err)
	}
	return cfg, nil
}

func newMountCmd(g *Globals) *cobra.Command {
	var o MountOptions
	cmd := &cobra.Command{
		Use:   "mount DRIVE DIR",
		Short: "Show a drive as a folder (FUSE) until SIGINT or SIGTERM",
		Long: `Mount the drive (by name or id) on DIR, an existing empty directory, through
FUSE (needs /dev/fuse and fusermount3), and serve it until SIGINT or SIGTERM,
or until it is unmounted with 'fusermount3 -u DIR'. Plain tools work on it:
ls, cp, mv, rm, mkdir, diff.

Reads and writes stream with bounded memory. A file opened for writing is
replaced whole: it must be written from offset 0 in order (as cp, cat, dd and
shell redirection do; a write elsewhere fails with EINVAL), and close(2)
returns once a quorum of providers holds it. Writers of one drive take turns,
with every cairn process of this --home. Checkpoints follow the drive's
strategy: immediate after each change; batched by this process's loop (and at
the stop); manual with 'cairn commit'.

Errors map to errno: not found ENOENT, not allowed EACCES, exists EEXIST;
anything else is EIO with a line on stderr saying why. The stop unmounts; if a
file in the folder is still open the unmount is lazy (the folder detaches now,
the open files fail) and the exit status is 5.` + exitStatusHelp,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMount(cmd.Context(), g, o, args[0], args[1])
		},
	}
	o.AddFlags(cmd)
	return cmd
}

// mountReady is the one line `cairn mount` prints once the folder works.
type mountReady struct {
	Drive    core.DriveID `json:"drive"`
	Name     string       `json:"name"`
	Dir      string       `json:"dir"`
	Strategy string       `json:"strategy"`
}

func runMount(ctx context.Context, g *Globals, o MountOptions, ref, dir string) error {
	cfg, err := o.config()
	if err != nil {
		return err
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usagef("mount point %s is not a directory (%v)", dir, err)
	}
	s, err := g.openStack(ctx, nil)
	if err != nil {
		return err
	}
	d, err := s.FS.ResolveDrive(ctx, ref)
	if err != nil {
		return err
	}
	if d.Strategy.Kind == wire.StrategyBatched {
		if err := s.enableAutoCheckpoints(ctx, d.ID.String(), s.Chain, 0); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewTextHandler(g.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := mount.Mount(ctx, s.FS, d.ID.String(), dir, cfg, log)
	if err != nil {
		return err
	}
	r := mountReady{Drive: d.ID, Name: d.Name, Dir: dir, Strategy: drive.StrategyString(d.Strategy)}
	if g.JSON {
		writeJSONLine(g.Stdout, r)
	} else {
		fmt.Fprintf(g.Stdout, "mounted drive %s at %s (strategy %s); ctrl-c unmounts\n", d.Name, dir, r.Strategy)
	}
	select {
	case <-ctx.Done():
	case <-srv.Done():
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	return errors.Join(unmount(srv, dir), commitBatched(stopCtx, g, s, []wire.Drive{d}))
}

// unmount closes the mount; when files in it are still open (the kernel
// refuses), it detaches the folder lazily so nothing is left mounted once
// this process exits, and says so.
func unmount(srv *mount.Server, dir string) error {
	err := srv.Close()
	if err == nil {
		return nil
	}
	if out, lerr := exec.Command("fusermount3", "-u", "-z", dir).CombinedOutput(); lerr != nil {
		return core.Errorf("mount", core.Unavailable, "%s stays mounted (%v; lazy unmount: %v %s): run fusermount3 -u %s", dir, err, lerr, out, dir)
	}
	return core.Errorf("mount", core.Unavailable, "files in %s were still open: unmounted lazily, they fail from now on (%v)", dir, err)
}
