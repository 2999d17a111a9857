#!/bin/sh
# Benchmarks of the provider's write path (docs/benchmarks.md, "## provider"):
# BenchmarkWrite (an object through the provider over HTTP vs the same bytes
# to a plain file with one fsync and with an fsync per MiB, all in one
# iteration, so the x-file ratios compare figures taken under the same
# load) and the store alone, BenchmarkAppend1MiB (one append at a time with
# and without fsync, and 8 in flight, where group commit shares syncs).
#
# Usage: bench/provider.sh [BASE [COUNT]]
# With BASE (a git revision, e.g. the commit before a change), the same
# benchmark files also run against BASE's code, extracted to a temp dir, the
# two trees taking turns run by run so both see the same load; benchstat then
# compares BASE with the working tree. COUNT defaults to 6 (benchstat needs 6
# samples for a confidence interval). Writes bench/out/provider.txt (and
# provider.base.txt) raw, and provider.benchstat.txt. About 5 minutes with
# BASE and COUNT=6 on 2 cores.
set -eu
cd "$(dirname "$0")/.."
base=${1:-}
count=${2:-6}
out=bench/out
mkdir -p "$out"
benchstat="go run golang.org/x/perf/cmd/benchstat@latest"

run() { # run DIR: one sample of every benchmark, in DIR's tree
	(cd "$1" &&
		go test -run '^$' -bench '^BenchmarkWrite$' -benchtime 5x -count 1 -timeout 30m ./provider/ &&
		go test -run '^$' -bench '^BenchmarkAppend1MiB$' -benchtime 50x -count 1 -timeout 30m ./provider/store/)
}

header() {
	echo "cores: $(nproc)"
	echo "# $(go version); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}

header >"$out/provider.txt"
tmp=
if [ -n "$base" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	git archive "$base" | tar -x -C "$tmp"
	cp provider/bench_test.go "$tmp/provider/"
	cp provider/store/bench_test.go "$tmp/provider/store/"
	{ header; echo "# base: $(git rev-parse --short "$base")"; } >"$out/provider.base.txt"
fi
i=0
while [ "$i" -lt "$count" ]; do
	if [ -n "$tmp" ]; then
		run "$tmp" | tee -a "$out/provider.base.txt"
	fi
	run . | tee -a "$out/provider.txt"
	i=$((i + 1))
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/provider.txt"

if [ -n "$tmp" ]; then
	$benchstat base="$out/provider.base.txt" new="$out/provider.txt" >"$out/provider.benchstat.txt"
else
	$benchstat "$out/provider.txt" >"$out/provider.benchstat.txt"
fi
cat "$out/provider.benchstat.txt"
