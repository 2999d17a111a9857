package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/cairn-storage/cairn/core"
)

// VersionInfo is what `cairn version` prints: the release, the Go version,
// and a sample commitment signed by the dev account alice, so a newcomer can
// check that their build signs the documented payload byte for byte (see
// core/testdata/commitment_vectors.json).
type VersionInfo struct {
	Version    string                `json:"version"`
	Go         string                `json:"go"`
	Payload    string                `json:"sample_payload_hex"`
	Commitment core.SignedCommitment `json:"sample_commitment"`
}

func newVersionCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and a sample commitment signed by alice",
		Long:  "Print the version and a sample commitment signed by the dev account alice.\n" + exitStatusHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info, err := runVersion()
			if err != nil {
				return err
			}
			if g.JSON {
				return writeJSON(g.Stdout, info)
			}
			fmt.Fprintf(g.Stdout, "cairn %s (%s)\n", info.Version, info.Go)
			c := info.Commitment
			fmt.Fprintf(g.Stdout, "sample commitment: chain %s bucket %s root %s start_seq %d leaf_count %d\n",
				c.ChainID, c.Bucket, c.MMRRoot, c.StartSeq, c.LeafCount)
			fmt.Fprintf(g.Stdout, "payload:   %s\nsigned by: alice %s\nsignature: %s\n", info.Payload, c.Provider, c.Signature)
			return nil
		},
	}
}

func runVersion() (VersionInfo, error) {
	alice, _ := core.DevKey("alice")
	c := core.Commitment{ChainID: "cairn-dev", Bucket: 1, MMRRoot: core.Sum256([]byte("cairn")), StartSeq: 0, LeafCount: 1}
	p, err := c.Payload()
	if err != nil {
		return VersionInfo{}, err
	}
	sc, err := c.Sign(alice)
	if err != nil {
		return VersionInfo{}, err
	}
	if err := sc.Verify(); err != nil {
		return VersionInfo{}, err
	}
	return VersionInfo{Version: Version, Go: runtime.Version(), Payload: fmt.Sprintf("%x", p), Commitment: sc}, nil
}
