//go:build linux

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// commands walks `cairn --help` and each group's help and returns every
// runnable leaf command path ("drive create", "put", ...), leaving out
// cobra's own help and completion.
func commands(t *testing.T, path ...string) []string {
	t.Helper()
	r := runCairn(t, t.Context(), append(path, "--help")...).ok(t)
	_, list, ok := strings.Cut(r.stdout, "Available Commands:\n")
	if !ok {
		return []string{strings.Join(path, " ")}
	}
	var out []string
	for _, line := range strings.Split(list, "\n") {
		if !strings.HasPrefix(line, "  ") {
			break
		}
		name := strings.Fields(line)[0]
		if len(path) == 0 && (name == "help" || name == "completion") {
			continue
		}
		out = append(out, commands(t, append(path[:len(path):len(path)], name)...)...)
	}
	return out
}

// TestHelpAndDocs checks that every command's help lists the exit
// statuses and that docs/cli.md documents every command, the environment
// and every exit status.
func TestHelpAndDocs(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join(moduleRoot, "docs", "cli.md"))
	if err != nil {
		t.Fatalf("docs/cli.md: %v", err)
	}
	for _, want := range []string{"CAIRN_CHAIN", "CAIRN_SIGNER", "CAIRN_HOME", "DRIVE:/path", "--json"} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("docs/cli.md does not mention %s", want)
		}
	}
	for code := 0; code <= 9; code++ {
		if !strings.Contains(string(doc), fmt.Sprintf("\n| %d | ", code)) {
			t.Errorf("docs/cli.md's exit status table has no row for %d", code)
		}
	}
	cmds := commands(t)
	if len(cmds) < 20 {
		t.Fatalf("found only %d commands: %v", len(cmds), cmds)
	}
	t.Logf("%d commands: %s", len(cmds), strings.Join(cmds, ", "))
	for _, c := range cmds {
		r := runCairn(t, t.Context(), append(strings.Fields(c), "--help")...).ok(t)
		if !strings.Contains(r.stdout, "EXIT STATUS") {
			t.Errorf("cairn %s --help does not list the exit statuses", c)
		}
		if !strings.Contains(string(doc), "\n#### cairn "+c+"\n") {
			t.Errorf("docs/cli.md has no section '#### cairn %s'", c)
		}
	}
}
