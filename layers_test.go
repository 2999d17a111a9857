package cairn_test

import (
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/cairn-storage/cairn"

// layers lists, for each package of ours, the packages of ours it may
// import (non-test imports). It is STYLE.md's layer table, kept true by this
// test in the manner of Go's own go/build/deps_test.go. A package missing
// from the table fails the test: place every new package deliberately.
// Never widen a rule to make a build pass; move the type down instead.
// drive imports checkpoint only for the types of its Checkpointer interface
// (PendingRoot, Result); providers, health and the threshold come from
// providers.
var layers = map[string][]string{
	"core":               {},
	"mmr":                {},
	"internal/httpconn":  {},
	"internal/poll":      {}, // tests only
	"backoff":            {"core"},
	"chain/wire":         {"core", "mmr"},
	"provider/wire":      {"core", "mmr"},
	"chain":              {"chain/wire", "mmr", "core"},
	"chainnode":          {"chain", "chain/wire", "internal/httpconn", "core"},
	"chainnode/...":      {"chainnode", "chain", "chain/wire", "chainclient", "core"},
	"chainclient":        {"backoff", "chain/wire", "mmr", "core"},
	"providerclient":     {"provider/wire", "mmr", "core"},
	"provider/store":     {"mmr", "core"},
	"provider/store/...": {"provider/store", "mmr", "core"},
	"provider":           {"provider/store", "provider/wire", "providerclient", "chainclient", "chain/wire", "internal/httpconn", "mmr", "core"},
	"checkpoint/quorum":  {"mmr", "core"},
	"providers":          {"providerclient", "provider/wire", "chainclient", "chain/wire", "core"},
	"checkpoint":         {"backoff", "checkpoint/quorum", "providers", "providerclient", "provider/wire", "chainclient", "chain/wire", "mmr", "core"},
	"drive":              {"checkpoint", "providers", "backoff", "providerclient", "provider/wire", "chainclient", "chain/wire", "mmr", "core"},
	"gateway/webdav":     {"drive", "checkpoint", "providers", "internal/httpconn", "core", "chain/wire"},
	"gateway/mount":      {"drive", "core"},
	"gateway/s3":         {"drive", "internal/httpconn", "core", "chain/wire"},
	// The dashboard writes its errors with provider/wire's one Kind <-> HTTP
	// status table rather than a table of its own.
	"gateway/ui":        {"checkpoint", "providers", "core", "chain/wire", "provider/wire"},
	"devnet":            {"*"},
	"devnet/...":        {"*"},
	"internal/cli":      {"*"},
	"internal/faultnet": {},
	"cmd/cairn":         {"internal/cli"},
	"test/e2e":          {"*"},
}

// rulesFor finds the rule for pkg: an exact entry, else the nearest
// "parent/..." entry.
func rulesFor(pkg string) ([]string, bool) {
	if r, ok := layers[pkg]; ok {
		return r, true
	}
	for p := pkg; strings.Contains(p, "/"); {
		p = p[:strings.LastIndex(p, "/")]
		if r, ok := layers[p+"/..."]; ok {
			return r, true
		}
	}
	return nil, false
}

func TestLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		if pkg == "" {
			continue // this test's own root package
		}
		seen[pkg] = true
		allowed, ok := rulesFor(pkg)
		if !ok {
			t.Errorf("package %s has no entry in the layer table (layers_test.go)", pkg)
			continue
		}
		checked++
		if len(allowed) == 1 && allowed[0] == "*" {
			continue
		}
		var bad []string
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			ok := false
			for _, a := range allowed {
				if a == dep {
					ok = true
				}
			}
			if !ok {
				bad = append(bad, dep)
			}
		}
		sort.Strings(bad)
		if len(bad) > 0 {
			t.Errorf("%s may not import %s (allowed: %v)", pkg, strings.Join(bad, ", "), allowed)
		}
	}
	if checked < 2 {
		t.Fatalf("checked only %d packages; go list output was %q", checked, out)
	}
	// The table names only packages that exist, so it stays a map of the
	// tree and not of plans.
	for entry := range layers {
		if strings.HasSuffix(entry, "/...") {
			prefix := strings.TrimSuffix(entry, "...")
			found := false
			for p := range seen {
				found = found || strings.HasPrefix(p, prefix)
			}
			if !found {
				t.Errorf("layer table entry %s matches no package", entry)
			}
		} else if !seen[entry] {
			t.Errorf("layer table entry %s is not a package in the module", entry)
		}
	}
}

func TestLayerRuleLookup(t *testing.T) {
	if r, ok := rulesFor("provider/store/storetest"); !ok || len(r) == 0 || r[0] != "provider/store" {
		t.Errorf("storetest rule = %v %v", r, ok)
	}
	if _, ok := rulesFor("nowhere/pkg"); ok {
		t.Error("unknown package matched a rule")
	}
}
