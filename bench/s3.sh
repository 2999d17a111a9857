#!/bin/sh
# 1 GiB through the S3 gateway (docs/gateway.md, "S3"): builds cairn, runs
# `cairn serve --s3` as a process of its own against a devnet (a validator
# and three providers in the test process), sends a 1 GiB object with the
# AWS SDK's transfer manager (16 MiB parts, 4 at once), reads it
# back, and reports the time of each and the serving process's peak RSS
# (VmHWM from /proc), which must stay at most 100 MiB.
#
# Usage: bench/s3.sh [BYTES]   (default 1073741824)
# Writes bench/out/s3.txt. Takes about 2 minutes on 2 cores.
set -eu
cd "$(dirname "$0")/.."
bytes=${1:-1073741824}
out=bench/out
mkdir -p "$out"
{
	echo "cores: $(nproc)"
	echo "# $(go version); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	go test -count=1 -run '^TestS3LargeMultipart$' -v -timeout 40m ./gateway/s3/ -long -s3-large-bytes="$bytes" 2>&1 | grep -E 'large_test|^(--- |ok|FAIL|PASS)'
	echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/s3.txt"
