#!/bin/sh
# Benchmarks of the dashboard (docs/benchmarks.md, "## dashboard"):
#  1. its own cost, in Go benchmarks on fakes: one refresh (per block), one
#     GET /api/dashboard, one event to 16 streams;
#  2. what it adds to `cairn dev`: the CPU time of a dev network with one
#     drive over SECONDS, with the dashboard (default --ui) and without
#     (--ui ""), from /proc/PID/stat of the cairn dev process (the chain,
#     in-process providers and the dashboard all live in it).
#
# Usage: bench/dashboard.sh [SECONDS]   (default 30)
# Writes bench/out/dashboard.txt. Takes about 2 x SECONDS + 1 minute.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-30}
out=bench/out
mkdir -p "$out"
report=$out/dashboard.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/cairn" ./cmd/cairn

# cpu_ms PID: user+system CPU time of PID in milliseconds.
cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat"
}

# measure UI: CPU ms per second of cairn dev --ui UI with one drive.
measure() {
	dir=$tmp/net-$2
	"$tmp/cairn" dev --data "$dir" --rpc 127.0.0.1:0 --home "$dir/home" --ui "$1" >"$dir.out" 2>&1 &
	pid=$!
	for _ in $(seq 1 120); do grep -q "devnet ready" "$dir.out" 2>/dev/null && break; sleep 0.5; done
	chain=$(grep -o 'chain=[^ ]*' "$dir.out" | cut -d= -f2)
	"$tmp/cairn" --chain "$chain" --home "$dir/home" drive create --name web >/dev/null
	sleep 5 # let the start settle before the window opens
	a=$(cpu_ms "$pid")
	sleep "$secs"
	b=$(cpu_ms "$pid")
	kill -INT "$pid"
	wait "$pid" || true
	echo "$(( (b - a) / secs ))"
}

{
	echo "cores: $(nproc)"
	go test -run '^$' -bench . -benchtime 2s ./gateway/ui/
	with=$(measure 127.0.0.1:0 ui)
	without=$(measure "" noui)
	echo "cairn dev, one drive, ${secs}s: with the dashboard ${with} CPU ms/s, without ${without} CPU ms/s"
} | tee "$report"
