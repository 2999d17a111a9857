// Package cli implements the cairn command line. Each verb lives in its own
// file (cmd_*.go) as Options, AddFlags and a run function that can be called
// without cobra; root.go wires them into one command tree.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cairn-storage/cairn/core"
)

// Version is the cairn release; overridden at link time for releases.
var Version = "0.1.0-dev"

// Globals are the flags every command shares.
type Globals struct {
	Chain  string // chain RPC URL
	Signer string // dev account name or key file
	Home   string // client state directory
	JSON   bool   // machine-readable output

	closers []func() // run when the command ends

	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

func (g *Globals) addFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&g.Chain, "chain", envOr("CAIRN_CHAIN", "http://127.0.0.1:26657"), "chain RPC URL, or a comma-separated list to fail over across (env CAIRN_CHAIN)")
	f.StringVar(&g.Signer, "signer", envOr("CAIRN_SIGNER", "alice"), "dev account name or key file that signs; alias --key (env CAIRN_SIGNER)")
	// --key is another name for --signer, not a second flag on the same
	// variable: pflag turns it into --signer before parsing.
	cmd.SetGlobalNormalizationFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "key" {
			name = "signer"
		}
		return pflag.NormalizedName(name)
	})
	f.StringVar(&g.Home, "home", envOr("CAIRN_HOME", defaultHome()), "client state directory (env CAIRN_HOME)")
	f.BoolVar(&g.JSON, "json", false, "print JSON instead of text")
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func defaultHome() string {
	if d, err := os.UserHomeDir(); err == nil {
		return filepath.Join(d, ".cairn")
	}
	return ".cairn"
}

// Main runs the cairn command line and returns the process exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g := &Globals{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	for i := len(g.closers) - 1; i >= 0; i-- {
		g.closers[i]()
	}
	if err == nil {
		return ExitOK
	}
	printError(g, err)
	return ExitCode(err)
}

func newRoot(g *Globals) *cobra.Command {
	root := &cobra.Command{
		Use:           "cairn",
		Short:         "Cairn: files on independent storage providers, checkpointed on chain",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
		Args:          cobra.ArbitraryArgs,
		// Runnable, so an unknown command is a usage error (exit 2)
		// rather than a help page with exit 0.
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q", args[0])
			}
			return cmd.Help()
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	g.addFlags(root)
	root.AddCommand(newVersionCmd(g), newDevCmd(g), newDemoCmd(g), newDriveCmd(g), newPutCmd(g), newGetCmd(g),
		newLsCmd(g), newStatCmd(g), newMkdirCmd(g), newRmCmd(g), newMvCmd(g), newCommitCmd(g), newCheckpointCmd(g),
		newChallengeCmd(g), newServeCmd(g), newMountCmd(g))
	pc := newProviderCmd(g)
	pc.AddCommand(newProviderLsCmd(g))
	root.AddCommand(pc, newRawCmd(g))
	root.AddCommand(newChainCmd(g), newKeyCmd(g))
	usageArgs(root)
	return root
}

// usageArgs makes every argument-count error a usage error (exit 2) that
// names the command.
func usageArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			err := check(cmd, args)
			var ue usageError
			if err == nil || errors.As(err, &ue) {
				return err
			}
			return usageError{fmt.Errorf("%s: %w (usage: %s)", cmd.CommandPath(), err, cmd.UseLine())}
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}

// usageError marks errors in how a command was called (exit status 2).
type usageError struct{ error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func printError(g *Globals, err error) {
	var ue usageError
	isUsage := errors.As(err, &ue)
	if g.JSON {
		kind := core.KindOf(err).String()
		if isUsage {
			kind = "usage"
		}
		writeJSON(g.Stderr, map[string]any{"error": map[string]string{
			"kind":    kind,
			"message": err.Error(),
		}})
		return
	}
	if isUsage {
		fmt.Fprintf(g.Stderr, "cairn: %v\nRun 'cairn --help' for usage.\n", err)
		return
	}
	fmt.Fprintf(g.Stderr, "cairn: %v\n", err)
}
