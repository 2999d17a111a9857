//go:build linux

package e2e

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// TestDemo runs `cairn demo`, the README's first command: it exits 0,
// reports the automatic checkpoint and the one after a provider stopped
// (at a later block, with 2 signers), and removes its network.
func TestDemo(t *testing.T) {
	t.Parallel()
	select {
	case devnets <- struct{}{}: // the demo runs a network of its own
	case <-t.Context().Done():
		t.Fatal("test ended while waiting for a devnet slot")
	}
	defer func() { <-devnets }()

	tmp := t.TempDir()
	env := []string{"TMPDIR=" + tmp}
	r := runCairnEnv(t, t.Context(), env, "demo").ok(t)
	m := regexp.MustCompile(`checkpoint at block (\d+)`).FindAllStringSubmatch(r.stdout, -1)
	if len(m) != 2 {
		t.Fatalf("want 'checkpoint at block' twice:\n%s", r)
	}
	first, _ := strconv.Atoi(m[0][1])
	second, _ := strconv.Atoi(m[1][1])
	if first <= 0 || second <= first {
		t.Errorf("checkpoints at blocks %d then %d, want increasing", first, second)
	}
	if !regexp.MustCompile(`checkpoint at block \d+ with 2 signers`).MatchString(r.stdout) {
		t.Errorf("the checkpoint after the outage should have 2 signers:\n%s", r)
	}
	if es, _ := os.ReadDir(tmp); len(es) != 0 {
		t.Errorf("demo left %d entries in its temporary directory", len(es))
	}

	// With --json it prints one object: the drive, the automatic
	// checkpoint and the one after the outage.
	r = runCairnEnv(t, t.Context(), env, "demo", "--json").ok(t)
	out := decode[struct {
		Drive       driveJSON  `json:"drive"`
		Checkpoint  resultJSON `json:"checkpoint"`
		AfterOutage resultJSON `json:"after_outage"`
	}](t, r)
	if out.Drive.RootCID == "" || out.Checkpoint.Kind != "submitted" || out.AfterOutage.Kind != "submitted" || len(out.AfterOutage.Signers) != 2 {
		t.Errorf("demo --json: %+v", out)
	}
}
