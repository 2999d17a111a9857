package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

func newCheckpointCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{Use: "checkpoint", Short: "Inspect a drive's checkpoints: status, conflicts, events"}
	cmd.AddCommand(newCheckpointStatusCmd(g), newCheckpointConflictsCmd(g), newCheckpointWatchCmd(g))
	return cmd
}

func newCheckpointStatusCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status DRIVE",
		Short: "Last checkpoint, pending changes and provider health",
		Long:  "Show the drive's last on-chain checkpoint, whether changes are pending, the last attempt's result, and each provider's health." + exitStatusHelp,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheckpointStatus(cmd.Context(), g, args[0])
		},
	}
}

func runCheckpointStatus(ctx context.Context, g *Globals, ref string) error {
	s, err := g.openStack(ctx, nil)
	if err != nil {
		return err
	}
	b, err := bucketOf(ctx, s.FS, ref)
	if err != nil {
		return err
	}
	if _, err := s.Mgr.CheckHealth(ctx, b); err != nil {
		return err
	}
	st, err := s.checkpointStatus(ctx, ref)
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g.Stdout, st)
	}
	printCheckpointStatus(g, st)
	return nil
}

func printCheckpointStatus(g *Globals, st *checkpointStatus) {
	fmt.Fprintf(g.Stdout, "drive %s, bucket %s, strategy %s\n", st.Drive, st.Bucket, drive.StrategyString(st.Strategy))
	if st.LastCheckpoint != nil {
		cp := st.LastCheckpoint
		fmt.Fprintf(g.Stdout, "last checkpoint: height %d, %d leaves, root %s, %d signers\n", cp.Height, cp.LeafCount, cp.MMRRoot, len(cp.Signers))
	} else {
		fmt.Fprintln(g.Stdout, "last checkpoint: none yet")
	}
	fmt.Fprintf(g.Stdout, "root on chain:   %s\npending changes: %v\n", orNone(st.RootCID), st.HasPendingChanges)
	if st.PendingRoot != nil {
		fmt.Fprintf(g.Stdout, "pending root:    %s (leaf %d)\n", st.PendingRoot.RootCID, st.PendingRoot.Leaf.Seq)
	}
	if st.LastResult != nil {
		fmt.Fprintf(g.Stdout, "last attempt:    %s at %s\n", st.LastResult.Kind, st.LastResult.Attempt.Local().Format(time.DateTime))
	}
	printHealth(g, st.ProviderHealth)
}

func newCheckpointConflictsCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "conflicts DRIVE",
		Short: "Ask every provider for its commitment and classify disagreements",
		Long:  "Collect every provider's signed commitment (waiting for all), and show each one's state, its conflict class (sync_delay, ahead, data_divergence, proved with MMR consistency proofs) and the resolution." + exitStatusHelp,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheckpointConflicts(cmd.Context(), g, args[0])
		},
	}
}

func runCheckpointConflicts(ctx context.Context, g *Globals, ref string) error {
	// Every provider's answer is wanted here, not just a quorum's.
	s, err := g.openStack(ctx, func(c *checkpoint.Config) { c.WaitForAll = true; c.MaxRetries = 1 })
	if err != nil {
		return err
	}
	b, err := bucketOf(ctx, s.FS, ref)
	if err != nil {
		return err
	}
	coll, conflict, err := s.Mgr.CollectCommitmentsWithConflicts(ctx, b)
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g.Stdout, map[string]any{"collection": coll, "conflict": conflict})
	}
	fmt.Fprintf(g.Stdout, "bucket %s: %d providers, %d required, %d agree on root %s at %d leaves\n",
		coll.Bucket, coll.Total, coll.Required, len(coll.Agreeing), coll.MMRRoot, coll.LeafCount)
	for _, a := range coll.Agreeing {
		fmt.Fprintf(g.Stdout, "  %s: agrees\n", a)
	}
	for _, a := range coll.Unreachable {
		fmt.Fprintf(g.Stdout, "  %s: unreachable\n", a)
	}
	for _, a := range coll.Invalid {
		fmt.Fprintf(g.Stdout, "  %s: invalid answer (bad signature or wrong bucket)\n", a)
	}
	if conflict != nil {
		printConflict(g.Stdout, conflict)
	} else {
		fmt.Fprintln(g.Stdout, "no conflict")
	}
	return nil
}

// CheckpointWatchOptions are `cairn checkpoint watch`'s flags.
type CheckpointWatchOptions struct {
	Auto    bool
	Metrics string
}

func (o *CheckpointWatchOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.Auto, "auto", true, "run the drive's checkpoint loop while watching")
	cmd.Flags().StringVar(&o.Metrics, "metrics", "", "serve the Checkpoint Manager's Prometheus metrics on this address (e.g. 127.0.0.1:9464)")
}

func newCheckpointWatchCmd(g *Globals) *cobra.Command {
	var o CheckpointWatchOptions
	cmd := &cobra.Command{
		Use:   "watch DRIVE",
		Short: "Run the drive's checkpoint loop and stream its events",
		Long:  "Stream checkpoint events for the drive as they happen (submitted, failed, conflict, paused, challenge). With --auto (the default) it also runs the drive's checkpoint loop, so a batched drive gets its checkpoints while this runs. Stop with Ctrl-C." + exitStatusHelp,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheckpointWatch(cmd.Context(), g, o, args[0])
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func runCheckpointWatch(ctx context.Context, g *Globals, o CheckpointWatchOptions, ref string) error {
	reg := prometheus.NewRegistry()
	s, err := g.openStack(ctx, nil, reg)
	if err != nil {
		return err
	}
	if o.Metrics != "" {
		stop, err := serveMetrics(o.Metrics, reg)
		if err != nil {
			return err
		}
		defer stop()
		if !g.JSON {
			fmt.Fprintf(g.Stderr, "metrics on http://%s/metrics\n", o.Metrics)
		}
	}
	events, unsub := s.Mgr.Subscribe(256)
	defer unsub()
	if o.Auto {
		src, err := g.blockSource()
		if err != nil {
			return err
		}
		if err := s.enableAutoCheckpoints(ctx, ref, src, 0); err != nil {
			return err
		}
	}
	if !g.JSON {
		fmt.Fprintf(g.Stderr, "watching drive %s (Ctrl-C to stop)\n", ref)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-events:
			if g.JSON {
				writeJSONLine(g.Stdout, e)
				continue
			}
			printEvent(g, e)
		}
	}
}

// serveMetrics serves reg on addr at /metrics until stop is called.
func serveMetrics(addr string, reg *prometheus.Registry) (stop func(), err error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, core.E("metrics", core.Unavailable, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	return func() {
		srv.Close()
		<-done
	}, nil
}

func bucketOf(ctx context.Context, c *drive.Client, ref string) (core.BucketID, error) {
	d, err := c.ResolveDrive(ctx, ref)
	return d.Bucket, err
}

func printEvent(g *Globals, e checkpoint.Event) {
	ts := e.Time.Local().Format(time.TimeOnly)
	switch e.Kind {
	case checkpoint.EventSubmitted, checkpoint.EventFailed:
		fmt.Fprintf(g.Stdout, "%s %s bucket %s: ", ts, e.Kind, e.Bucket)
		printResultLine(g.Stdout, e.Result)
		if e.Kind == checkpoint.EventFailed {
			fmt.Fprintf(g.Stdout, "  will retry: %v\n", e.WillRetry)
		}
	case checkpoint.EventConflict:
		fmt.Fprintf(g.Stdout, "%s %s bucket %s\n", ts, e.Kind, e.Bucket)
		printConflict(g.Stdout, e.Conflict)
	default:
		fmt.Fprintf(g.Stdout, "%s %s bucket %s %s %s\n", ts, e.Kind, e.Bucket, providerOrEmpty(e), e.Reason)
	}
}

func providerOrEmpty(e checkpoint.Event) string {
	if e.Provider.IsZero() {
		return ""
	}
	return "provider " + e.Provider.Short()
}

func printHealth(g *Globals, hs []checkpoint.ProviderHealth) {
	tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tSTATUS\tSUCCESS\tLATENCY\tURL\tLAST ERROR")
	for _, h := range hs {
		fmt.Fprintf(tw, "%s\t%s\t%.0f%% of %d\t%s\t%s\t%s\n", h.Account.Short(), h.History.Status(), 100*h.History.SuccessRate(),
			h.History.TotalRequests, h.History.AvgLatency.Round(time.Microsecond*10), h.URL, h.History.LastError)
	}
	tw.Flush()
}
