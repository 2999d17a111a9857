package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/devnet"
	"github.com/cairn-storage/cairn/fs"
)

// DemoOptions are `cairn demo`'s flags.
type DemoOptions struct {
	Keep      string // keep the network in this directory
	Processes bool
	Interval  uint64
}

func newDemoCmd(g *Globals) *cobra.Command {
	var o DemoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run Cairn end to end on a throw-away local network",
		Long: `Run the main job end to end: start a temporary network (an embedded chain and
3 providers), create a drive with a batched commit strategy, upload files and a
directory, wait for the automatic checkpoint, print its root CID, leaf count,
signers and block, download and verify every file, stop one provider, upload
again and checkpoint with the remaining quorum, and shut down.` + exitStatusHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), g, o)
		},
	}
	cmd.Flags().StringVar(&o.Keep, "keep", "", "keep the network's files in this directory instead of a temporary one")
	cmd.Flags().BoolVar(&o.Processes, "processes", false, "run providers as child processes")
	cmd.Flags().Uint64Var(&o.Interval, "interval", 5, "batched checkpoint interval in blocks")
	return cmd
}

type demoFile struct {
	path string
	data []byte
}

func runDemo(ctx context.Context, g *Globals, o DemoOptions) (err error) {
	say := func(format string, args ...any) {
		if !g.JSON {
			fmt.Fprintf(g.Stdout, format+"\n", args...)
		}
	}
	dir := o.Keep
	if dir == "" {
		dir, err = os.MkdirTemp("", "cairn-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	start := time.Now()
	say("==> starting a local network in %s: embedded chain + 3 providers", dir)
	net, err := devnet.Start(ctx, devnet.Config{Dir: dir, Providers: 3, Processes: o.Processes, RPCListen: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	defer func() {
		say("==> shutting down")
		if serr := net.Stop(); err == nil {
			err = serr
		}
	}()
	say("    chain %s (%s), providers:", net.ChainURL(), net.ChainID())
	for _, p := range net.Manifest().Providers {
		say("      %s %s %s", p.Name, p.URL, p.Account.Short())
	}

	stack, err := newClientStack(ctx, clientOptions{Chain: net.ChainURL(), Signer: "alice", Home: dir + "/client"})
	if err != nil {
		return err
	}
	defer stack.Close()
	c := stack.FS
	events, unsub := c.Subscribe(256)
	defer unsub()

	strategy := wire.CommitStrategy{Kind: wire.StrategyBatched, Interval: o.Interval}
	d, err := c.CreateDrive(ctx, fs.CreateDriveOptions{Name: "demo", Strategy: strategy})
	if err != nil {
		return err
	}
	say("==> created drive %s %q on bucket %s: %d providers, quorum %d, strategy %s", d.ID, d.Name, d.Bucket, len(d.Providers), d.Quorum, fs.StrategyString(strategy))
	if err := c.EnableAutoCheckpoints(ctx, d.ID.String(), stack.Chain, 0); err != nil {
		return err
	}

	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 3<<20+12345)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	files := []demoFile{
		{"/hello.txt", []byte("Hello from Cairn: stored on three providers, checkpointed on chain.\n")},
		{"/data/random.bin", big},
		{"/docs/readme.md", []byte("# Notes\n\nEvery chunk is content-addressed; every write is an MMR leaf.\n")},
		{"/docs/notes/todo.txt", []byte("- upload\n- checkpoint\n- verify\n")},
	}
	if _, err := c.CreateDirectory(ctx, d.ID.String(), "/photos"); err != nil {
		return err
	}
	say("==> mkdir /photos")
	var root string
	for _, f := range files {
		res, err := c.UploadFile(ctx, d.ID.String(), f.path, bytes.NewReader(f.data), fs.UploadOptions{})
		if err != nil {
			return err
		}
		root = res.RootCID
		say("==> uploaded %-22s %9d bytes in %2d chunks  %s", f.path, res.Size, res.Chunks, res.CID)
	}

	say("==> waiting for the automatic (batched, every %d blocks) checkpoint", o.Interval)
	res, err := waitCheckpoint(ctx, events, d.Bucket, root)
	if err != nil {
		return err
	}
	info, err := c.DriveInfo(ctx, d.ID.String())
	if err != nil {
		return err
	}
	say("    checkpoint at block %d: %d leaves, mmr root %s", res.Height, res.LeafCount, res.MMRRoot)
	say("    signers (%d):", len(res.Signers))
	for _, s := range res.Signers {
		say("      %s", s)
	}
	say("    root CID on chain: %s", info.RootCID)
	if info.RootCID != root {
		return fmt.Errorf("demo: chain root %s, want %s", info.RootCID, root)
	}

	say("==> downloading and verifying every file")
	for _, f := range files {
		h := sha256.New()
		n, err := c.DownloadFile(ctx, d.ID.String(), f.path, h)
		if err != nil {
			return err
		}
		if want := sha256.Sum256(f.data); !bytes.Equal(h.Sum(nil), want[:]) || n != uint64(len(f.data)) {
			return fmt.Errorf("demo: %s came back different", f.path)
		}
		say("    %-22s ok (%d bytes, sha256 %x…)", f.path, n, h.Sum(nil)[:6])
	}
	es, err := c.List(ctx, d.ID.String(), "/")
	if err != nil {
		return err
	}
	say("    / holds:")
	for _, e := range es {
		say("      %-4s %s", e.Kind, e.Name)
	}

	victim := net.Manifest().Providers[2]
	say("==> stopping provider %s (%s)", victim.Name, victim.Account.Short())
	if err := net.KillProvider(2); err != nil {
		return err
	}
	late := demoFile{"/after-outage.txt", []byte("written while one provider was down\n")}
	up, err := c.UploadFile(ctx, d.ID.String(), late.path, bytes.NewReader(late.data), fs.UploadOptions{})
	if err != nil {
		return err
	}
	say("==> uploaded %s with 2 of 3 providers up", late.path)
	cr, err := c.CommitChanges(ctx, d.ID.String())
	if err != nil {
		return err
	}
	if err := cr.Err(); err != nil {
		return err
	}
	if cr.AlreadyOnChain {
		if cr, err = waitCheckpoint(ctx, events, d.Bucket, up.RootCID); err != nil {
			return err
		}
	}
	say("    checkpoint at block %d with %d signers (quorum %d of 3): %d leaves", cr.Height, len(cr.Signers), d.Quorum, cr.LeafCount)
	if g.JSON {
		writeJSON(g.Stdout, map[string]any{"drive": info, "checkpoint": res, "after_outage": cr})
	}
	say("==> demo complete in %s", time.Since(start).Round(time.Millisecond))
	return nil
}

// waitCheckpoint waits for a submitted checkpoint of bucket that carried
// root (or any, when root is "").
func waitCheckpoint(ctx context.Context, events <-chan checkpoint.Event, bucket interface{ String() string }, root string) (*checkpoint.Result, error) {
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case e := <-events:
			if e.Kind == checkpoint.EventSubmitted && e.Bucket.String() == bucket.String() && (root == "" || e.Result.DriveRoot == root) {
				return e.Result, nil
			}
		case <-timeout:
			return nil, fmt.Errorf("demo: no checkpoint within 2 minutes")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
