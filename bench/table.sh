#!/bin/sh
# Issue 10's table, measured in one run (docs/benchmarks.md, "Issue 10
# table"): a `cairn dev --processes` network of 5 provider processes and the
# CLI as a user runs it, each row printed as the figure measured, its floor
# measured in the same run, their ratio and the issue's goal:
#
#   300 kB put + commit, 5 providers healthy       (median of RUNS)
#   same with 1 of 5 hung (SIGSTOP)                 (median, and the first put)
#   same with 1 of 5 dead (SIGKILL)                 (median)
#   SIZE put to 3 providers    vs the same bytes written 3 times, fsync per copy
#   SIZE get                   vs reading the file and its SHA-256 locally
#   client peak RSS of that put and get             (/usr/bin/time's maximum RSS)
#   a put of SIZE into a drive with SIZE of quota   (refusal time, bytes stored)
#   checkpoints accepted per second by the chain    (share of the batch64
#                                                    ceiling, BenchmarkCheckpoints)
#
# Usage: bench/table.sh [SIZE_MiB [RUNS]]   (defaults 1024 and 5; 256 for a
# quick run). Needs jq, openssl, /usr/bin/time and about 4 x SIZE of free
# disk in TMPDIR. Writes bench/out/table.txt. Takes about 3 minutes with the
# defaults on 2 cores (the chain row alone about 1).
set -eu
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
runs=${2:-5}
out=bench/out
mkdir -p "$out"
for tool in jq openssl /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench/table.sh needs $tool" >&2; exit 2; }
done

tmp=$(mktemp -d)
devpid=
cleanup() {
	if [ -n "$devpid" ]; then
		kill -CONT $(jq -r '.providers[].pid' "$tmp/net/devnet.json" 2>/dev/null) 2>/dev/null || true
		kill "$devpid" 2>/dev/null || true
		wait "$devpid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
# since T0: seconds from T0 to now
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }

go build -o "$tmp/cairn" ./cmd/cairn
cairn="$tmp/cairn"
export CAIRN_HOME="$tmp/home"
"$cairn" dev --processes --providers 5 --rpc 127.0.0.1:0 --data "$tmp/net" >"$tmp/dev.out" 2>"$tmp/dev.err" &
devpid=$!
i=0
until grep -q '^devnet ready' "$tmp/dev.out" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 600 ] || ! kill -0 "$devpid" 2>/dev/null; then
		echo "the devnet did not start:" >&2
		cat "$tmp/dev.err" >&2
		exit 1
	fi
	sleep 0.2 # waiting for a child process to start, not a measurement
done
export CAIRN_CHAIN="$(jq -r .chain_rpc "$tmp/net/devnet.json")"
account() { jq -r ".providers[$1].account" "$tmp/net/devnet.json"; }
pid() { jq -r ".providers[$1].pid" "$tmp/net/devnet.json"; }
# stored: the bytes the given providers hold, over all buckets (/health counts them)
stored() {
	for p in "$@"; do
		curl -s "$(jq -r ".providers[$p].url" "$tmp/net/devnet.json")/health" | jq '.bytes // 0'
	done | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

raw="$out/table.txt"
{
	echo "# bench/table.sh $size_mib $runs, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "# $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(go version | cut -d' ' -f3-4)"
	echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$raw"
row() { printf '%-52s %16s %22s %10s %s\n' "$@" | tee -a "$raw"; }
row "case" "measured" "floor" "ratio" "goal"

# --- 300 kB put + commit on 5 providers: healthy, one hung, one dead.
head -c 300000 /dev/urandom >"$tmp/small.bin"
all5="--provider $(account 0) --provider $(account 1) --provider $(account 2) --provider $(account 3) --provider $(account 4)"
"$cairn" drive create --name small --strategy manual $all5 >/dev/null
small() { # small TAG: RUNS puts + commits, one time per line
	n=1
	while [ "$n" -le "$runs" ]; do
		t0=$(now)
		"$cairn" put "$tmp/small.bin" "small:/$1-$n" >/dev/null
		"$cairn" commit small >/dev/null
		since "$t0"
		echo
		n=$((n + 1))
	done
}
small warm >/dev/null # first use: connections, caches, the health file
healthy=$(small healthy | median)
row "300 kB put + commit, 5 healthy (s, median)" "$healthy" "" "" "keep (about 0.2 s)"

kill -STOP "$(pid 3)"
small hung >"$tmp/hung.txt"
kill -CONT "$(pid 3)"
hung=$(median <"$tmp/hung.txt")
row "same, 1 of 5 hung (SIGSTOP) (s, median)" "$hung" "$healthy" "$(calc "$hung / $healthy")" "<= 1.2"
row "  its first put + commit (s)" "$(head -1 "$tmp/hung.txt")" "$healthy" "$(calc "$(head -1 "$tmp/hung.txt") / $healthy")" ""
echo "#   each put + commit with one hung, in order (s): $(tr '\n' ' ' <"$tmp/hung.txt")" | tee -a "$raw"

kill -KILL "$(pid 4)"
dead=$(small dead | median)
row "same, 1 of 5 dead (SIGKILL) (s, median)" "$dead" "$healthy" "$(calc "$dead / $healthy")" "<= 1.2"

# --- SIZE put and get on 3 providers, against the disk and the CPU.
bytes=$((size_mib * 1048576))
mb=$(calc "$bytes / 1000000")
head -c "$bytes" /dev/urandom >"$tmp/big.bin"
t0=$(now)
for c in 1 2 3; do
	dd if="$tmp/big.bin" of="$tmp/copy" bs=4M conv=fsync status=none
	rm "$tmp/copy"
done
copies=$(since "$t0")
three="--provider $(account 0) --provider $(account 1) --provider $(account 2)"
"$cairn" drive create --name big --strategy manual --capacity $((2 * bytes)) $three >/dev/null
t0=$(now)
/usr/bin/time -f %M -o "$tmp/put.rss" "$cairn" put "$tmp/big.bin" big:/big.bin >/dev/null
put=$(since "$t0")
row "$size_mib MiB put to 3 providers (MB/s)" "$(calc "$mb / $put")" "$(calc "$mb / $copies") (3 copies)" "$(calc "$copies / $put")" ">= 100 MB/s"

t0=$(now)
openssl dgst -sha256 "$tmp/big.bin" >/dev/null
local_hash=$(since "$t0")
t0=$(now)
/usr/bin/time -f %M -o "$tmp/get.rss" "$cairn" get big:/big.bin "$tmp/back.bin" >/dev/null
get=$(since "$t0")
rm -f "$tmp/back.bin"
row "$size_mib MiB get (MB/s)" "$(calc "$mb / $get")" "$(calc "$mb / $local_hash") (read+sha256)" "$(calc "$local_hash / $get")" ">= 200 MB/s"
row "client peak RSS, put / get (MiB)" "$(($(cat "$tmp/put.rss") / 1024)) / $(($(cat "$tmp/get.rss") / 1024))" "" "" "<= 64 / 64"

# --- over quota: a SIZE put into a drive with SIZE of quota.
"$cairn" drive create --name full --strategy manual --capacity "$bytes" $three >/dev/null
before=$(stored 0 1 2)
t0=$(now)
status=0
"$cairn" put "$tmp/big.bin" full:/big.bin >/dev/null 2>"$tmp/quota.err" || status=$?
refused=$(since "$t0")
after=$(stored 0 1 2)
row "$size_mib MiB put over quota: time to refusal (s)" "$refused" "" "" "milliseconds"
row "  its exit status; bytes the providers stored" "$status; $(calc "$after - $before" | sed 's/\.00$//')" "" "" "10; 0"
rm -f "$tmp/big.bin"

# --- the chain: checkpoints/s against the batched verify ceiling.
share=$(go test -run '^$' -bench '^BenchmarkCheckpoints$/^per_block=1000/checktx=false$' -benchtime 3000x -count 3 ./chain/ |
	awk '{ for (i = 3; i < NF; i++) if ($(i+1) == "%-of-batch64") print $i }' | median)
row "checkpoints/s, share of the batch64 ceiling (%)" "$share" "100" "$(calc "$share / 100")" ">= 60 %"
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$raw"
