package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

func TestExitCodeTable(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("plain"), ExitFailure},
		{usagef("bad"), ExitUsage},
		{fmt.Errorf("wrapped: %w", usagef("bad")), ExitUsage},
		{core.Errorf("x", core.Invalid, "x"), ExitInvalid},
		{core.Errorf("x", core.NotFound, "x"), ExitNotFound},
		{core.Errorf("x", core.Unauthorized, "x"), ExitUnauthorized},
		{core.Errorf("x", core.Unavailable, "x"), ExitUnavailable},
		{core.Errorf("x", core.Corrupt, "x"), ExitCorrupt},
		{core.Errorf("x", core.NoQuorum, "x"), ExitNoQuorum},
		{core.Errorf("x", core.Exists, "x"), ExitConflict},
		{core.Errorf("x", core.Conflict, "x"), ExitConflict},
		{core.Errorf("x", core.Internal, "x"), ExitFailure},
		{fmt.Errorf("outer: %w", core.Errorf("x", core.NoQuorum, "x")), ExitNoQuorum},
		{core.E("drive.write", core.Invalid, &drive.QuotaError{Bucket: 1, Need: 2, Room: 1}), ExitQuota},
		{fmt.Errorf("put: %w", &drive.QuotaError{Bucket: 1, Need: 2, Room: 1}), ExitQuota},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestMainUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"no-such-command"},
		{"--no-such-flag"},
		{"put"},
		{"put", "a", "b", "c"},
		{"drive", "info"},
		{"put", "file", "drive-without-path-colon-but/slash:relative"},
	} {
		var out, errb bytes.Buffer
		code := Main(args, strings.NewReader(""), &out, &errb)
		if code != ExitUsage {
			t.Errorf("cairn %v: exit %d, want %d (stderr %q)", args, code, ExitUsage, errb.String())
		}
		if errb.Len() == 0 {
			t.Errorf("cairn %v: no message", args)
		}
	}
}

func TestMainJSONError(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main([]string{"--json", "--chain", "http://127.0.0.1:1", "drive", "ls"}, strings.NewReader(""), &out, &errb)
	if code != ExitUnavailable {
		t.Fatalf("exit %d, want %d", code, ExitUnavailable)
	}
	if !strings.Contains(errb.String(), `"kind": "unavailable"`) {
		t.Fatalf("stderr is not a JSON error: %s", errb.String())
	}
}

func TestParseDrivePath(t *testing.T) {
	for in, want := range map[string]drivePath{
		"docs:/a/b": {"docs", "/a/b"},
		"docs":      {"docs", "/"},
		"docs:":     {"docs", "/"},
		"7:/x":      {"7", "/x"},
	} {
		got, err := parseDrivePath(in)
		if err != nil || got != want {
			t.Errorf("parseDrivePath(%q) = %+v %v", in, got, err)
		}
	}
	for _, bad := range []string{":/a", "docs:rel", ""} {
		if _, err := parseDrivePath(bad); ExitCode(err) != ExitUsage {
			t.Errorf("parseDrivePath(%q) err %v", bad, err)
		}
	}
}

// `cairn commit` exits with res.Err()'s kind: a checkpoint the chain (or
// the client's own check of chain state) refused exits with that kind's
// code, not 5 "retry"; the same holds for a result read back from JSON.
func TestCommitResultExitCodes(t *testing.T) {
	for _, tt := range []struct {
		name string
		res  checkpoint.Result
		want int
	}{
		{"submitted", checkpoint.Result{Kind: checkpoint.Submitted}, ExitOK},
		{"fewer leaves than already checkpointed", checkpoint.Result{Kind: checkpoint.TransactionFailed,
			Cause: core.Errorf("checkpoint.Submit", core.Conflict, "the agreeing providers hold 3 leaves, fewer than the 9 already checkpointed")}, ExitConflict},
		{"bad consistency proof", checkpoint.Result{Kind: checkpoint.TransactionFailed,
			Cause: core.Errorf("checkpoint.Submit", core.Corrupt, "consistency proof does not verify")}, ExitCorrupt},
		{"chain unreachable", checkpoint.Result{Kind: checkpoint.TransactionFailed,
			Cause: core.Errorf("checkpoint.Submit", core.Unavailable, "broadcast failed")}, ExitUnavailable},
		{"no quorum", checkpoint.Result{Kind: checkpoint.InsufficientConsensus, Agreeing: 1, Required: 2}, ExitNoQuorum},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.res.Err()); got != tt.want {
				t.Fatalf("exit %d, want %d (%v)", got, tt.want, tt.res.Err())
			}
			var out bytes.Buffer
			if err := writeJSON(&out, &tt.res); err != nil {
				t.Fatal(err)
			}
			var back checkpoint.Result
			if err := json.Unmarshal(out.Bytes(), &back); err != nil {
				t.Fatal(err)
			}
			if got := ExitCode(back.Err()); got != tt.want {
				t.Fatalf("after JSON (%s): exit %d, want %d", out.String(), got, tt.want)
			}
			if tt.res.Cause != nil {
				out.Reset()
				printResult(&out, &tt.res)
				if !strings.Contains(out.String(), tt.res.Cause.Error()) {
					t.Fatalf("printed result lacks the error:\n%s", out.String())
				}
			}
		})
	}
}
