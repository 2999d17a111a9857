#!/bin/sh
# Scale measurement (docs/benchmarks.md, "## scale"): 4 validators (in
# the test process), 30 providers (child processes, so each one's RSS and
# CPU are its own) plus one idle provider, one client owning 100 then
# 1,000 drives with a batched strategy, and a bystander client with one
# drive. Per drive count it prints one row: blocks and block interval
# during the round, checkpoint submission latency (p50/p95/max), the
# loaded providers' RSS and CPU, the idle provider's, and the bystander's
# put+checkpoint time.
#
# Usage: bench/scale.sh [DRIVES] [PROVIDERS]   (defaults 100,1000 and 30)
# Writes bench/out/scale.txt. Takes about 10 minutes on 2 cores.
set -eu
cd "$(dirname "$0")/.."
drives=${1:-100,1000}
providers=${2:-30}
out=bench/out
mkdir -p "$out"
go build -o "$out/cairn" ./cmd/cairn
{
	echo "cores: $(nproc); $(go version); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	go test -tags scale -run '^TestScale$' -count 1 -timeout 2h -v ./devnet/ \
		-args -cairn "$PWD/$out/cairn" -drives "$drives" -providers "$providers" 2>&1 | grep -v '^time='
	echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/scale.txt"
