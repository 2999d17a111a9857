#!/bin/sh
# Benchmarks of the drive's upload and download paths (docs/benchmarks.md,
# "## drive"): put 1 and 16 MiB, get 16 MiB one chunk at a time vs a window
# of chunks in flight, and put and get of 4 MiB with one of three
# providers hung (faultnet Hang) side by side with the healthy case, with
# their ratio. Everything runs in one `go test` on one devnet per
# benchmark, so each ratio compares figures taken under the same
# conditions.
#
# Usage: bench/drive.sh [COUNT] [BENCHTIME]   (defaults 6 and 5x: benchstat
# needs 6 samples for a confidence interval)
# Writes bench/out/drive.txt (raw), drive.benchstat.txt (medians and
# spread, every metric: MB/s, healthy-MB/s, hung-MB/s, hung/healthy) and
# drive.by-window.txt (get with window 1 vs the default window). Takes about
# 3 minutes with the defaults.
set -eu
cd "$(dirname "$0")/.."
count=${1:-6}
benchtime=${2:-5x}
out=bench/out
mkdir -p "$out"
raw=$out/drive.txt
benchstat="go run golang.org/x/perf/cmd/benchstat@latest"

{
	echo "cores: $(nproc)"
	echo "# $(go version); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$raw"
go test -run '^$' -bench '^Benchmark(Upload|Download|HungProvider)$' -benchtime "$benchtime" -count "$count" -timeout 60m ./drive/ 2>/dev/null | grep -v '^time=' | tee -a "$raw"
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$raw"

$benchstat "$raw" >"$out/drive.benchstat.txt"
$benchstat -filter '.name:Download' -col /window "$raw" >"$out/drive.by-window.txt"
cat "$out/drive.benchstat.txt" "$out/drive.by-window.txt"
