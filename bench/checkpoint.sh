#!/bin/sh
# Benchmarks of the Checkpoint Manager (docs/benchmarks.md, "## checkpoint"):
# checkpoint latency healthy vs one hung provider, early quorum vs
# WaitForAll, on a devnet; collection over 5, 25 and 100 providers; end to
# end latency in blocks. Everything runs in one `go test` so the ratios
# compare figures taken under the same conditions.
#
# Usage: bench/checkpoint.sh [COUNT]   (default 6: benchstat needs 6 samples for a confidence interval)
# Writes bench/out/checkpoint.txt (raw), checkpoint.benchstat.txt (medians
# and spread) and the ratio tables checkpoint.by-providers.txt (one hung
# vs healthy) and checkpoint.by-collect.txt (each collection mode vs early
# quorum). Takes about 3 minutes with COUNT=6.
set -eu
cd "$(dirname "$0")/.."
count=${1:-6}
out=bench/out
mkdir -p "$out"
raw=$out/checkpoint.txt
benchstat="go run golang.org/x/perf/cmd/benchstat@latest"

{
	echo "cores: $(nproc)"
	echo "# $(go version); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$raw"
go test -run '^$' -bench '^BenchmarkCheckpoint' -benchmem -count "$count" -timeout 60m ./checkpoint/ | tee -a "$raw"

$benchstat "$raw" >"$out/checkpoint.benchstat.txt"
$benchstat -filter '.name:CheckpointLatency' -col /providers "$raw" >"$out/checkpoint.by-providers.txt"
$benchstat -filter '.name:CheckpointLatency' -col /collect "$raw" >"$out/checkpoint.by-collect.txt"
cat "$out/checkpoint.benchstat.txt" "$out/checkpoint.by-providers.txt" "$out/checkpoint.by-collect.txt"
