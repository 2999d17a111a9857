package cli

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providerclient"
)

func newRawCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "raw",
		Short: "Talk to ONE provider directly (operators and debugging)",
		Long: `Talk to one provider directly, bypassing quorum writes and checkpoints. A raw write
lands on that provider only; its peers copy it by replica sync, if at all.`,
	}
	cmd.AddCommand(newRawWriteCmd(g), newRawCommitmentCmd(g))
	return cmd
}

// RawWriteOptions are the flags of `cairn raw write`.
type RawWriteOptions struct {
	Provider string
	Bucket   string
	Seq      int64 // -1: the provider's next seq
	File     string
	Timeout  time.Duration
}

// AddFlags registers the options' flags.
func (o *RawWriteOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Provider, "provider", "", "provider URL or multiaddr (required)")
	f.StringVar(&o.Bucket, "bucket", "", "bucket id (required)")
	f.Int64Var(&o.Seq, "seq", -1, "seq to write at (default: the provider's next seq)")
	f.DurationVar(&o.Timeout, "timeout", time.Minute, "time limit")
}

// RawWritten is what `cairn raw write` reports.
type RawWritten struct {
	Provider string                     `json:"provider"`
	Bucket   core.BucketID              `json:"bucket_id"`
	File     string                     `json:"file"`
	Result   providerclient.WriteResult `json:"result"`
}

func newRawWriteCmd(g *Globals) *cobra.Command {
	var o RawWriteOptions
	cmd := &cobra.Command{
		Use:   "write --provider URL --bucket ID [--seq N] FILE",
		Short: "Append FILE as one blob to a bucket's log on one provider",
		Long: `Append FILE as one blob (at most the provider's blob limit, 1 MiB by default) to the
bucket's write log on one provider, signed by --signer, which must be a writer of the bucket.
The seq defaults to the provider's next one. The file is hashed, then streamed.
` + exitStatusHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.File = args[0]
			r, err := runRawWrite(cmd.Context(), g, o)
			if err != nil {
				return err
			}
			if g.JSON {
				return writeJSON(g.Stdout, r)
			}
			res := r.Result
			fmt.Fprintf(g.Stdout, "wrote %s (%d bytes, sha256 %s) to bucket %s at seq %d: leaf_count %d mmr_root %s\n",
				r.File, res.Leaf.Size, res.Leaf.ContentHash, r.Bucket, res.Leaf.Seq, res.LeafCount, res.MMRRoot)
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func runRawWrite(ctx context.Context, g *Globals, o RawWriteOptions) (RawWritten, error) {
	var r RawWritten
	if o.Provider == "" || o.Bucket == "" {
		return r, usagef("raw write: --provider and --bucket are required")
	}
	bucket, err := core.ParseBucketID(o.Bucket)
	if err != nil {
		return r, usagef("raw write: %v", err)
	}
	signer, err := core.ResolveSigner(g.Signer)
	if err != nil {
		return r, err
	}
	c, err := providerclient.New(o.Provider, providerclient.Options{Timeout: o.Timeout})
	if err != nil {
		return r, err
	}
	f, err := os.Open(o.File)
	if err != nil {
		return r, core.E("raw write", core.NotFound, err)
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return r, core.E("raw write", core.Internal, err)
	}
	var sum core.H256
	h.Sum(sum[:0])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return r, core.E("raw write", core.Internal, err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	seq := uint64(o.Seq)
	if o.Seq < 0 {
		sc, err := c.Commitment(ctx, bucket)
		if err != nil {
			return r, err
		}
		seq = sc.StartSeq + sc.LeafCount
	}
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return r, err
	}
	leaf, err := core.SignLeaf(signer, chainID, bucket, core.Leaf{Seq: seq, ContentHash: sum, Size: uint64(size)})
	if err != nil {
		return r, err
	}
	res, err := c.Write(ctx, bucket, leaf, f, signer)
	if err != nil {
		return r, err
	}
	return RawWritten{Provider: c.URL(), Bucket: bucket, File: o.File, Result: res}, nil
}

// RawCommitmentOptions are the flags of `cairn raw commitment`.
type RawCommitmentOptions struct {
	Provider string
	Bucket   string
	Timeout  time.Duration
}

// AddFlags registers the options' flags.
func (o *RawCommitmentOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Provider, "provider", "", "provider URL or multiaddr (required)")
	f.StringVar(&o.Bucket, "bucket", "", "bucket id (required)")
	f.DurationVar(&o.Timeout, "timeout", 30*time.Second, "time limit")
}

// RawCommitment is what `cairn raw commitment` reports: the commitment as
// the provider signed it, and whether its signature verifies against the
// provider key it names (check that key against the chain's registry).
type RawCommitment struct {
	Commitment core.SignedCommitment `json:"commitment"`
	Valid      bool                  `json:"signature_valid"`
}

func newRawCommitmentCmd(g *Globals) *cobra.Command {
	var o RawCommitmentOptions
	cmd := &cobra.Command{
		Use:   "commitment --provider URL --bucket ID",
		Short: "Print one provider's signed commitment to a bucket",
		Long: `Print the provider's signed commitment to a bucket's log (chain id, bucket, mmr_root,
start_seq, leaf_count) and whether the signature verifies against the key it names.
A commitment whose signature does not verify exits with status 6 (corrupt).
` + exitStatusHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := runRawCommitment(cmd.Context(), o)
			if err != nil {
				return err
			}
			if g.JSON {
				if err := writeJSON(g.Stdout, r); err != nil {
					return err
				}
			} else {
				c := r.Commitment
				fmt.Fprintf(g.Stdout, "chain %s bucket %s mmr_root %s start_seq %d leaf_count %d\nprovider %s signature %s (%s)\n",
					c.ChainID, c.Bucket, c.MMRRoot, c.StartSeq, c.LeafCount, c.Provider, c.Signature, map[bool]string{true: "valid", false: "INVALID"}[r.Valid])
			}
			if !r.Valid {
				return r.Commitment.Verify()
			}
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func runRawCommitment(ctx context.Context, o RawCommitmentOptions) (RawCommitment, error) {
	var r RawCommitment
	if o.Provider == "" || o.Bucket == "" {
		return r, usagef("raw commitment: --provider and --bucket are required")
	}
	bucket, err := core.ParseBucketID(o.Bucket)
	if err != nil {
		return r, usagef("raw commitment: %v", err)
	}
	c, err := providerclient.New(o.Provider, providerclient.Options{Timeout: o.Timeout})
	if err != nil {
		return r, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	sc, err := c.Commitment(ctx, bucket)
	if err != nil {
		return r, err
	}
	return RawCommitment{Commitment: sc, Valid: sc.Verify() == nil}, nil
}
