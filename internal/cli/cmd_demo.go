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
	"github.com/cairn-storage/cairn/drive"
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

// demo is one run of `cairn demo`: the network, the client and the drive
// it made, shared by its steps.
type demo struct {
	g      *Globals
	o      DemoOptions
	net    *devnet.Network
	stack  *clientStack
	c      *drive.Client
	events <-chan checkpoint.Event
	drive  *drive.DriveInfo
}

func (d *demo) say(format string, args ...any) {
	if !d.g.JSON {
		fmt.Fprintf(d.g.Stdout, format+"\n", args...)
	}
}

func runDemo(ctx context.Context, g *Globals, o DemoOptions) (err error) {
	d := &demo{g: g, o: o}
	dir := o.Keep
	if dir == "" {
		dir, err = os.MkdirTemp("", "cairn-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	start := time.Now()
	if err := d.startNetwork(ctx, dir); err != nil {
		return err
	}
	defer func() {
		d.say("==> shutting down")
		if serr := d.net.Stop(); err == nil {
			err = serr
		}
	}()
	stack, err := newClientStack(ctx, clientOptions{Chain: d.net.ChainURL(), Signer: "alice", Home: dir + "/client"})
	if err != nil {
		return err
	}
	defer stack.Close()
	d.stack, d.c = stack, stack.FS
	events, unsub := d.stack.Mgr.Subscribe(256)
	defer unsub()
	d.events = events

	if err := d.createDrive(ctx); err != nil {
		return err
	}
	files, root, err := d.upload(ctx)
	if err != nil {
		return err
	}
	res, info, err := d.firstCheckpoint(ctx, root)
	if err != nil {
		return err
	}
	if err := d.verify(ctx, files); err != nil {
		return err
	}
	cr, err := d.outage(ctx)
	if err != nil {
		return err
	}
	if g.JSON {
		writeJSON(g.Stdout, map[string]any{"drive": info, "checkpoint": res, "after_outage": cr})
	}
	d.say("==> demo complete in %s", time.Since(start).Round(time.Millisecond))
	return nil
}

func (d *demo) startNetwork(ctx context.Context, dir string) error {
	d.say("==> starting a local network in %s: embedded chain + 3 providers", dir)
	net, err := devnet.Start(ctx, devnet.Config{Dir: dir, Providers: 3, Processes: d.o.Processes, RPCListen: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	d.net = net
	d.say("    chain %s (%s), providers:", net.ChainURL(), net.ChainID())
	for _, p := range net.Manifest().Providers {
		d.say("      %s %s %s", p.Name, p.URL, p.Account.Short())
	}
	return nil
}

func (d *demo) createDrive(ctx context.Context) error {
	strategy := wire.CommitStrategy{Kind: wire.StrategyBatched, Interval: d.o.Interval}
	info, err := d.c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "demo", Strategy: strategy})
	if err != nil {
		return err
	}
	d.drive = &info
	d.say("==> created drive %s %q on bucket %s: %d providers, quorum %d, strategy %s", info.ID, info.Name, info.Bucket, len(info.Providers), info.Quorum, drive.StrategyString(strategy))
	return d.stack.enableAutoCheckpoints(ctx, info.ID.String(), d.stack.Chain, 0)
}

// demoFiles are the demo's files: small text, a 3 MiB random file (several
// chunks), and nested directories.
func demoFiles() []demoFile {
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 3<<20+12345)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	return []demoFile{
		{"/hello.txt", []byte("Hello from Cairn: stored on three providers, checkpointed on chain.\n")},
		{"/data/random.bin", big},
		{"/docs/readme.md", []byte("# Notes\n\nEvery chunk is content-addressed; every write is an MMR leaf.\n")},
		{"/docs/notes/todo.txt", []byte("- upload\n- checkpoint\n- verify\n")},
	}
}

// upload makes a directory and uploads the demo files; it returns them and
// the drive's root CID after the last one.
func (d *demo) upload(ctx context.Context) (files []demoFile, root string, err error) {
	files = demoFiles()
	if _, err := d.c.CreateDirectory(ctx, d.drive.ID.String(), "/photos"); err != nil {
		return nil, "", err
	}
	d.say("==> mkdir /photos")
	for _, f := range files {
		res, err := d.c.UploadFile(ctx, d.drive.ID.String(), f.path, bytes.NewReader(f.data), drive.UploadOptions{})
		if err != nil {
			return nil, "", err
		}
		root = res.RootCID
		d.say("==> uploaded %-22s %9d bytes in %2d chunks  %s", f.path, res.Size, res.Chunks, res.CID)
	}
	return files, root, nil
}

// firstCheckpoint waits for the batched checkpoint that carries root and
// checks that the chain's root CID moved to it.
func (d *demo) firstCheckpoint(ctx context.Context, root string) (*checkpoint.Result, *drive.DriveInfo, error) {
	d.say("==> waiting for the automatic (batched, every %d blocks) checkpoint", d.o.Interval)
	res, err := waitCheckpoint(ctx, d.events, d.drive.Bucket, root)
	if err != nil {
		return nil, nil, err
	}
	info, err := d.c.DriveInfo(ctx, d.drive.ID.String())
	if err != nil {
		return nil, nil, err
	}
	d.say("    checkpoint at block %d: %d leaves, mmr root %s", res.Height, res.LeafCount, res.MMRRoot)
	d.say("    signers (%d):", len(res.Signers))
	for _, s := range res.Signers {
		d.say("      %s", s)
	}
	d.say("    root CID on chain: %s", info.RootCID)
	if info.RootCID != root {
		return nil, nil, fmt.Errorf("demo: chain root %s, want %s", info.RootCID, root)
	}
	return res, &info, nil
}

// verify downloads every file, checks its hash, and lists the root.
func (d *demo) verify(ctx context.Context, files []demoFile) error {
	d.say("==> downloading and verifying every file")
	for _, f := range files {
		h := sha256.New()
		n, err := d.c.DownloadFile(ctx, d.drive.ID.String(), f.path, h)
		if err != nil {
			return err
		}
		if want := sha256.Sum256(f.data); !bytes.Equal(h.Sum(nil), want[:]) || n != uint64(len(f.data)) {
			return fmt.Errorf("demo: %s came back different", f.path)
		}
		d.say("    %-22s ok (%d bytes, sha256 %x…)", f.path, n, h.Sum(nil)[:6])
	}
	es, err := d.c.List(ctx, d.drive.ID.String(), "/")
	if err != nil {
		return err
	}
	d.say("    / holds:")
	for _, e := range es {
		d.say("      %-4s %s", e.Kind, e.Name)
	}
	return nil
}

// outage stops one provider, uploads again and checkpoints with the
// remaining quorum.
func (d *demo) outage(ctx context.Context) (*checkpoint.Result, error) {
	victim := d.net.Manifest().Providers[2]
	d.say("==> stopping provider %s (%s)", victim.Name, victim.Account.Short())
	if err := d.net.KillProvider(2); err != nil {
		return nil, err
	}
	late := demoFile{"/after-outage.txt", []byte("written while one provider was down\n")}
	up, err := d.c.UploadFile(ctx, d.drive.ID.String(), late.path, bytes.NewReader(late.data), drive.UploadOptions{})
	if err != nil {
		return nil, err
	}
	d.say("==> uploaded %s with 2 of 3 providers up", late.path)
	cr, err := d.c.CommitChanges(ctx, d.drive.ID.String())
	if err != nil {
		return nil, err
	}
	if err := cr.Err(); err != nil {
		return nil, err
	}
	if cr.AlreadyOnChain {
		if cr, err = waitCheckpoint(ctx, d.events, d.drive.Bucket, up.RootCID); err != nil {
			return nil, err
		}
	}
	d.say("    checkpoint at block %d with %d signers (quorum %d of 3): %d leaves", cr.Height, len(cr.Signers), d.drive.Quorum, cr.LeafCount)
	return cr, nil
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
