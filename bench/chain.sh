#!/bin/sh
# Benchmarks of the chain (docs/benchmarks.md, "## chain"): checkpoints
# accepted per second through FinalizeBlock + Commit, and the ed25519
# ceiling (verification alone, one at a time and batched), in ONE `go test`
# run so the ratio compares figures taken under the same load.
#
# Usage: bench/chain.sh [COUNT [BENCHTIME]]   (defaults 6 and 5000x: benchstat
# needs 6 samples for a confidence interval)
# Writes bench/out/chain.txt (raw), chain.benchstat.txt (medians and
# spread) and chain.ratio.txt: each checkpoint benchmark's median
# checkpoints/s over the median batched ceiling (and over one-at-a-time).
# The goal (issue 10) is at least 60 % of the batched ceiling at 1000
# checkpoints per block. BenchmarkCheckpoints also reports the ratios
# measured block by block, right after each block, over the batch verifier
# alone on the same block's signatures: %-of-batch64 (in batches of 64, the
# issue's ceiling) and %-of-block-batch (in one batch, as FinalizeBlock
# batches them). Being interleaved, they are the figures least moved by
# the load of a shared machine; read them first. Takes about 2 minutes
# with the defaults.
set -eu
cd "$(dirname "$0")/.."
count=${1:-6}
benchtime=${2:-5000x}
out=bench/out
mkdir -p "$out"
raw=$out/chain.txt
benchstat="go run golang.org/x/perf/cmd/benchstat@latest"

{
	echo "cores: $(nproc)"
	echo "# $(go version); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$raw"
go test -run '^$' -bench '^Benchmark(Checkpoints|VerifyCeiling)$' -benchtime "$benchtime" -count "$count" -timeout 60m ./chain/ | tee -a "$raw"
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$raw"

$benchstat "$raw" >"$out/chain.benchstat.txt"

# The ratio: medians of checkpoints/s per benchmark, each checkpoint
# benchmark over the two ceilings.
awk '
	/^Benchmark/ {
		name = $1; sub(/-[0-9]+$/, "", name)
		for (i = 3; i < NF; i++) {
			if ($(i+1) == "checkpoints/s") v[name, ++n[name]] = $i
			if ($(i+1) == "%-of-batch64") v[name "/b64", ++n[name "/b64"]] = $i
			if ($(i+1) == "%-of-block-batch") v[name "/blk", ++n[name "/blk"]] = $i
		}
	}
	function median(name,   k, j, t, a, m) {
		m = n[name]
		for (k = 1; k <= m; k++) a[k] = v[name, k]
		for (k = 2; k <= m; k++) for (j = k; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
		return m % 2 ? a[(m+1)/2] : (a[m/2] + a[m/2+1]) / 2
	}
	END {
		batch = median("BenchmarkVerifyCeiling/batch64")
		single = median("BenchmarkVerifyCeiling/core.Verify")
		printf "ceiling, batched (64):      %8.0f checkpoints/s (median of %d)\n", batch, n["BenchmarkVerifyCeiling/batch64"]
		printf "ceiling, one at a time:     %8.0f checkpoints/s (median of %d)\n", single, n["BenchmarkVerifyCeiling/core.Verify"]
		for (name in n) {
			if (name !~ /^BenchmarkCheckpoints\// || name ~ /\/(b64|blk)$/) continue
			c = median(name)
			printf "%-30s %6.0f checkpoints/s = %5.1f %% of batched, %5.1f %% of one at a time (medians); interleaved: %5.1f %% of batch64, %5.1f %% of one block batch\n",
				substr(name, 22), c, 100*c/batch, 100*c/single, median(name "/b64"), median(name "/blk")
		}
	}' "$raw" | sort >"$out/chain.ratio.txt"
cat "$out/chain.benchstat.txt" "$out/chain.ratio.txt"
