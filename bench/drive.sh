#!/bin/sh
# Benchmarks of the drive's upload and download paths (docs/benchmarks.md,
# "## drive"): put 1, 16 and 64 MiB, get 16 MiB one chunk at a time vs a
# window of chunks in flight and get 64 MiB, and put and get of 4 MiB with
# one of three providers hung (faultnet Hang) side by side with the healthy
# case, with their ratio. Everything runs in one `go test` on one devnet
# per benchmark, so each ratio compares figures taken under the same
# conditions.
#
# Usage: bench/drive.sh [BASE [COUNT [BENCHTIME]]]   (COUNT 6, BENCHTIME 3x)
# With BASE (a git revision, e.g. the commit before a change; "" for none),
# the same benchmark file also runs against BASE's code, extracted to a
# temp dir, the two trees taking turns run by run so both see the same
# load; benchstat then compares BASE with the working tree. Writes
# bench/out/drive.txt (and drive.base.txt) raw, drive.benchstat.txt
# (medians and spread, every metric) and drive.by-window.txt (get with
# window 1 vs the default window). About 4 minutes without BASE, 8 with.
set -eu
cd "$(dirname "$0")/.."
base=${1:-}
count=${2:-6}
benchtime=${3:-3x}
out=bench/out
mkdir -p "$out"
raw=$out/drive.txt
benchstat="go run golang.org/x/perf/cmd/benchstat@latest"

run() { # run DIR: one sample of every benchmark, in DIR's tree
	(cd "$1" && go test -run '^$' -bench '^Benchmark(Upload|Download|HungProvider)$' -benchtime "$benchtime" -count 1 -timeout 60m ./drive/ 2>/dev/null | grep -v '^time=')
}

header() {
	echo "cores: $(nproc)"
	echo "# $(go version); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}

header >"$raw"
tmp=
if [ -n "$base" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	git archive "$base" | tar -x -C "$tmp"
	cp drive/bench_test.go "$tmp/drive/"
	{ header; echo "# base: $(git rev-parse --short "$base")"; } >"$out/drive.base.txt"
fi
i=0
while [ "$i" -lt "$count" ]; do
	if [ -n "$tmp" ]; then
		run "$tmp" | tee -a "$out/drive.base.txt"
	fi
	run . | tee -a "$raw"
	i=$((i + 1))
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$raw"

if [ -n "$tmp" ]; then
	$benchstat base="$out/drive.base.txt" new="$raw" >"$out/drive.benchstat.txt"
else
	$benchstat "$raw" >"$out/drive.benchstat.txt"
fi
$benchstat -filter '.name:Download' -col /window "$raw" >"$out/drive.by-window.txt" || true
cat "$out/drive.benchstat.txt" "$out/drive.by-window.txt"
