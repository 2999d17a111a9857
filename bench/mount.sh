#!/bin/sh
# The mount's 1 GiB figure (docs/gateway.md, "Mount"): cp a 1 GiB file into
# a `cairn mount` folder of a `cairn dev --processes` network and back out,
# and report the throughput of each direction and the mount process's peak
# resident set (VmHWM), which the test requires to stay at most 100 MiB.
# Needs /dev/fuse and fusermount3. Takes about 2 minutes here.
#
# Usage: bench/mount.sh
# Writes bench/out/mount.txt (the figures) and mount.log (the test's output).
set -eu
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
{
	echo "cores: $(nproc)"
	echo "# $(go version); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	go test -count=1 -v -timeout 30m -run '^TestMountLargeCopy$' ./test/e2e/ -args -long >"$out/mount.log" 2>&1 || true
	grep -E 'cp of|^(--- |ok|FAIL)|mount_test' "$out/mount.log"
	echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/mount.txt"
