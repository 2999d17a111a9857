//go:build linux

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletion checks that cobra's completion scripts are generated,
// that bash accepts its script, and that completion offers subcommands.
func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		r := runCairn(t, t.Context(), "completion", sh).ok(t)
		if !strings.Contains(r.stdout, "cairn") || len(r.stdout) < 1000 {
			t.Errorf("cairn completion %s: %d bytes, want a script", sh, len(r.stdout))
		}
	}
	// What the scripts call: candidates for `cairn drive <TAB>`.
	r := runCairn(t, t.Context(), "__complete", "drive", "").ok(t)
	for _, want := range []string{"create", "info", "ls", "rm"} {
		if !strings.Contains(r.stdout, want+"\t") {
			t.Errorf("completing 'cairn drive ': %q lacks %s", r.stdout, want)
		}
	}
	bash := need(t, "bash")
	script := filepath.Join(t.TempDir(), "cairn.bash")
	if err := os.WriteFile(script, []byte(runCairn(t, t.Context(), "completion", "bash").ok(t).stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	// Sourcing the script registers the completion (running it needs the
	// bash-completion package; the candidates it asks for are checked
	// through __complete above).
	out, err := exec.Command(bash, "-c", `source "$1" && complete -p cairn`, "bash", script).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "__start_cairn cairn") {
		t.Errorf("sourcing the bash completion script: %v\n%s", err, out)
	}
}
