package quorum

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providers"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/*.txt")

// The golden files hold cases separated by blank lines. A case is a header
// "case NAME", input lines, a "----" line, and the expected output. Inputs:
//
//	total N                 providers of the bucket (default: number of commits)
//	percent P               threshold percent (default 51)
//	quorum Q                the bucket's on-chain quorum (default 0: none)
//	lpb N                   leaves per block for WaitForSync estimates (default 100)
//	commit NAME root=R leaves=N [start=S] [proof=valid|invalid|none]
//
// Provider NAME's account is SHA-256(NAME); root R is SHA-256(R) and is
// printed back by name. proof= says what the consistency check between this
// provider and the majority found.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runGoldenFile(t, f) })
	}
}

type goldenCase struct {
	header, input []string
	want          string
}

func parseGolden(t *testing.T, text string) (cases []goldenCase, comments map[int][]string) {
	comments = map[int][]string{}
	var cur *goldenCase
	inWant := false
	var want []string
	flush := func() {
		if cur != nil {
			cur.want = strings.Join(want, "\n")
			cases = append(cases, *cur)
		}
		cur, inWant, want = nil, false, nil
	}
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "case "):
			flush()
			cur = &goldenCase{header: []string{line}}
		case cur == nil:
			if strings.TrimSpace(line) != "" {
				comments[len(cases)] = append(comments[len(cases)], line)
			}
		case line == "----":
			inWant = true
		case inWant && strings.TrimSpace(line) == "":
			flush()
		case inWant:
			want = append(want, line)
		case strings.HasPrefix(line, "#"):
			cur.header = append(cur.header, line)
		case strings.TrimSpace(line) != "":
			cur.input = append(cur.input, line)
		}
	}
	flush()
	return cases, comments
}

func runGoldenFile(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases, comments := parseGolden(t, string(b))
	var out strings.Builder
	for i, c := range cases {
		for _, l := range comments[i] {
			out.WriteString(l + "\n")
		}
		if len(comments[i]) > 0 {
			out.WriteString("\n")
		}
		got := evalCase(t, c.input)
		if !*update && got != c.want {
			t.Errorf("%s: %s\n got:\n%s\nwant:\n%s", path, c.header[0], got, c.want)
		}
		out.WriteString(strings.Join(c.header, "\n") + "\n" + strings.Join(c.input, "\n") + "\n----\n" + got + "\n\n")
	}
	for _, l := range comments[len(cases)] {
		out.WriteString(l + "\n")
	}
	if *update {
		if err := os.WriteFile(path, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func evalCase(t *testing.T, input []string) string {
	total, percent, lpb := -1, 51, uint64(100)
	var onChain uint32
	var commits []core.SignedCommitment
	proofs := map[core.AccountID]ProofResult{}
	names := map[[32]byte]string{}
	name := func(n string) [32]byte {
		h := core.Sum256([]byte(n))
		names[h] = n
		return h
	}
	for _, line := range input {
		f := strings.Fields(line)
		switch f[0] {
		case "total":
			total, _ = strconv.Atoi(f[1])
		case "percent":
			percent, _ = strconv.Atoi(f[1])
		case "quorum":
			v, _ := strconv.ParseUint(f[1], 10, 32)
			onChain = uint32(v)
		case "lpb":
			v, _ := strconv.Atoi(f[1])
			lpb = uint64(v)
		case "commit":
			c := core.SignedCommitment{Provider: core.AccountID(name(f[1]))}
			c.ChainID, c.Bucket = "golden", 1
			for _, kv := range f[2:] {
				k, v, _ := strings.Cut(kv, "=")
				n, _ := strconv.ParseUint(v, 10, 64)
				switch k {
				case "root":
					c.MMRRoot = core.H256(name(v))
				case "leaves":
					c.LeafCount = n
				case "start":
					c.StartSeq = n
				case "proof":
					proofs[c.Provider] = map[string]ProofResult{"valid": ProofValid, "invalid": ProofInvalid, "none": NoProof}[v]
				default:
					t.Fatalf("bad commit field %q", kv)
				}
			}
			commits = append(commits, c)
		default:
			t.Fatalf("bad input line %q", line)
		}
	}
	if total < 0 {
		total = len(commits)
	}
	d := DecideAt(total, providers.Threshold(total, percent, onChain), commits)
	var conflicts []Conflict
	var lines []string
	lines = append(lines, fmt.Sprintf("required %d agreeing %d reached %v", d.Required, d.Agreeing(), d.Reached))
	if d.Majority != nil {
		var s []string
		for _, a := range d.Majority.Signers() {
			s = append(s, names[a])
		}
		sort.Strings(s)
		lines = append(lines, fmt.Sprintf("majority root=%s leaves=%d start=%d signers=%s",
			names[d.Majority.MMRRoot], d.Majority.LeafCount, d.Majority.StartSeq, strings.Join(s, ",")))
		for _, g := range d.Others {
			for _, c := range g.Commitments {
				conflicts = append(conflicts, Classify(d.Majority.State, c, proofs[c.Provider]))
			}
		}
	}
	for _, c := range conflicts {
		l := fmt.Sprintf("conflict %s %s", names[c.Provider], c.Kind)
		if c.BehindBy > 0 {
			l += fmt.Sprintf(" behind=%d", c.BehindBy)
		}
		if c.AheadBy > 0 {
			l += fmt.Sprintf(" ahead=%d", c.AheadBy)
		}
		if c.Reason != "" {
			l += " (" + c.Reason + ")"
		}
		lines = append(lines, l)
	}
	r := Resolve(d, conflicts, lpb)
	l := "resolution " + r.Kind.String()
	if r.EstimatedBlocks > 0 {
		l += fmt.Sprintf(" blocks=%d", r.EstimatedBlocks)
	}
	if !r.Provider.IsZero() {
		l += " provider=" + names[r.Provider]
	}
	if r.Reason != "" {
		l += " (" + r.Reason + ")"
	}
	return strings.Join(append(lines, l), "\n")
}
