//go:build linux

package e2e

import (
	"fmt"
	"testing"
)

// The --json shapes the tests read: only the fields they check, declared
// here so that a renamed or retyped field of the documented output fails.

type strategyJSON struct {
	Kind     string `json:"kind"`
	Interval uint64 `json:"interval"`
}

// driveJSON is `drive create|info --json` and an element of `drive ls --json`.
type driveJSON struct {
	ID                  uint64       `json:"id"`
	Owner               string       `json:"owner"`
	Bucket              uint64       `json:"bucket"`
	Name                string       `json:"name"`
	RootCID             string       `json:"root_cid"`
	Strategy            strategyJSON `json:"strategy"`
	LastCommittedHeight int64        `json:"last_committed_height"`
	Providers           []string     `json:"providers"`
	Quorum              int          `json:"quorum"`
	PendingRoot         string       `json:"pending_root"`
}

func (d driveJSON) ref() string { return fmt.Sprint(d.ID) }

// resultJSON is a CheckpointResult: `commit --json`, the checkpoint of an
// immediate drive's change, a watch event's result.
type resultJSON struct {
	Kind           string   `json:"kind"`
	Bucket         uint64   `json:"bucket"`
	Height         int64    `json:"height"`
	TxHash         string   `json:"tx_hash"`
	Signers        []string `json:"signers"`
	MMRRoot        string   `json:"mmr_root"`
	LeafCount      uint64   `json:"leaf_count"`
	AlreadyOnChain bool     `json:"already_on_chain"`
	DriveRoot      string   `json:"drive_root"`
	Unreachable    []string `json:"unreachable"`
}

// opJSON is what put, mkdir, rm and mv print with --json.
type opJSON struct {
	Drive      uint64      `json:"drive"`
	Path       string      `json:"path"`
	CID        string      `json:"cid"`
	Size       uint64      `json:"size"`
	Chunks     int         `json:"chunks"`
	RootCID    string      `json:"root_cid"`
	Writes     uint64      `json:"writes"`
	Checkpoint *resultJSON `json:"checkpoint"`
}

// statusJSON is `checkpoint status --json`.
type statusJSON struct {
	Drive             uint64       `json:"drive"`
	Bucket            uint64       `json:"bucket"`
	Strategy          strategyJSON `json:"strategy"`
	RootCID           string       `json:"root_cid"`
	HasPendingChanges bool         `json:"has_pending_changes"`
	PendingRoot       *struct {
		RootCID string `json:"root_cid"`
	} `json:"pending_root"`
	LastCheckpoint *struct {
		Height    int64    `json:"height"`
		LeafCount uint64   `json:"leaf_count"`
		Signers   []string `json:"signers"`
	} `json:"last_checkpoint"`
	LastCheckpointHeight int64 `json:"last_checkpoint_height"`
	ProviderHealth       []struct {
		Account string `json:"account"`
		Status  string `json:"status"`
	} `json:"provider_health"`
}

// entryJSON is `stat --json` and an element of `ls --json`.
type entryJSON struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	CID  string `json:"cid"`
	Size uint64 `json:"size"`
}

// getJSON is `get --json` to a file.
type getJSON struct {
	Path  string `json:"path"`
	Local string `json:"local"`
	Bytes uint64 `json:"bytes"`
}

// conflictsJSON is `checkpoint conflicts --json`.
type conflictsJSON struct {
	Collection struct {
		Bucket    uint64   `json:"bucket"`
		LeafCount uint64   `json:"leaf_count"`
		Agreeing  []string `json:"agreeing"`
		Invalid   []string `json:"invalid"`
		Total     int      `json:"total"`
		Required  int      `json:"required"`
		Reached   bool     `json:"reached"`
	} `json:"collection"`
	Conflict *struct {
		Conflicts []struct {
			Provider string `json:"provider"`
			Kind     string `json:"kind"`
		} `json:"conflicts"`
	} `json:"conflict"`
}

// commitmentJSON is `raw commitment --json`.
type commitmentJSON struct {
	Commitment struct {
		ChainID   string `json:"chain_id"`
		Bucket    uint64 `json:"bucket_id"`
		MMRRoot   string `json:"mmr_root"`
		StartSeq  uint64 `json:"start_seq"`
		LeafCount uint64 `json:"leaf_count"`
		Provider  string `json:"provider"`
	} `json:"commitment"`
	Valid bool `json:"signature_valid"`
}

// eventJSON is one line of `checkpoint watch --json`.
type eventJSON struct {
	Kind   string      `json:"kind"`
	Bucket uint64      `json:"bucket"`
	Result *resultJSON `json:"result"`
}

// Helpers over the network that read state through the CLI.

func (n *network) driveInfo(t *testing.T, ref string) driveJSON {
	t.Helper()
	return decode[driveJSON](t, n.cairn(t, "drive", "info", ref, "--json").ok(t))
}

func (n *network) status(t *testing.T, ref string) statusJSON {
	t.Helper()
	return decode[statusJSON](t, n.cairn(t, "checkpoint", "status", ref, "--json").ok(t))
}

func (n *network) createDrive(t *testing.T, name, strategy string) driveJSON {
	t.Helper()
	d := decode[driveJSON](t, n.cairn(t, "drive", "create", "--name", name, "--strategy", strategy, "--json").ok(t))
	if d.ID == 0 || d.Name != name || len(d.Providers) != 3 || d.Quorum != 2 || d.RootCID != "" {
		t.Fatalf("drive create %s: got %+v, want a new empty drive on 3 providers with quorum 2", name, d)
	}
	return d
}

// put uploads local to DRIVE:path and returns what put reported.
func (n *network) put(t *testing.T, local string, dst string) opJSON {
	t.Helper()
	op := decode[opJSON](t, n.cairn(t, "put", local, dst, "--json").ok(t))
	if op.RootCID == "" || op.CID == "" || op.Writes == 0 {
		t.Fatalf("put %s: %+v lacks the file's cid, the new root or its writes", dst, op)
	}
	return op
}

// commitment is provider p's signed commitment to bucket.
func (n *network) commitment(t *testing.T, p providerEntry, bucket uint64) commitmentJSON {
	t.Helper()
	r := n.cairn(t, "raw", "commitment", "--provider", p.URL, "--bucket", fmt.Sprint(bucket), "--json", "--timeout", "5s").ok(t)
	c := decode[commitmentJSON](t, r)
	if !c.Valid || c.Commitment.Bucket != bucket || c.Commitment.Provider != p.Account {
		t.Fatalf("raw commitment from %s: %+v, want a valid commitment to bucket %d signed by %s", p.Name, c, bucket, p.Account)
	}
	return c
}

// leafCounts is every provider's leaf count of bucket.
func (n *network) leafCounts(t *testing.T, bucket uint64) []uint64 {
	t.Helper()
	var out []uint64
	for _, p := range n.m.Providers {
		c := n.commitment(t, p, bucket)
		out = append(out, c.Commitment.StartSeq+c.Commitment.LeafCount)
	}
	return out
}

// chainStatusJSON is `chain status --json`.
type chainStatusJSON struct {
	ChainID string `json:"chain_id"`
	Height  int64  `json:"height"`
}

// versionJSON is `version --json`.
type versionJSON struct {
	Version    string `json:"version"`
	Commitment struct {
		Provider string `json:"provider"`
	} `json:"sample_commitment"`
}

// providerJSON is an element of `provider ls --json`.
type providerJSON struct {
	Account  string `json:"account"`
	Endpoint string `json:"endpoint"`
	Stake    uint64 `json:"stake"`
	URL      string `json:"url"`
	Status   string `json:"status"`
	Buckets  int    `json:"buckets"`
	Error    string `json:"error"`
}

// providerStatus is each provider's status in `provider ls --json`, by
// devnet name (p0, p1, p2).
func (n *network) providerStatus(t *testing.T) map[string]string {
	t.Helper()
	ps := decode[[]providerJSON](t, n.cairn(t, "provider", "ls", "--json", "--timeout", "2s").ok(t))
	out := map[string]string{}
	for _, p := range ps {
		for _, e := range n.m.Providers {
			if e.Account == p.Account && e.URL == p.URL {
				out[e.Name] = p.Status
			}
		}
	}
	if len(out) != len(n.m.Providers) {
		t.Fatalf("provider ls --json: %+v, want the devnet's %d providers", ps, len(n.m.Providers))
	}
	return out
}

// rawWriteJSON is `raw write --json`.
type rawWriteJSON struct {
	Provider string `json:"provider"`
	Bucket   uint64 `json:"bucket_id"`
	Result   struct {
		Leaf struct {
			Seq  uint64 `json:"seq"`
			Size uint64 `json:"size"`
		} `json:"leaf"`
		LeafCount uint64 `json:"leaf_count"`
	} `json:"result"`
}
