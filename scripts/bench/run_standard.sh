#!/usr/bin/env bash
# Runs the standard fan-out points of docs/benchmarks.md and writes a markdown
# table. Each point gets a fresh chat-server pinned to CPU 0 (taskset -c 0),
# with the load (fanout_bench) pinned to CPU 1, on 127.0.0.1 only. Every point
# is bounded: join timeout + --duration + drain timeout, then the server stops.
#
# Usage: scripts/bench/run_standard.sh [--duration SECONDS] [--out FILE]
#          [--server-bin PATH | --server-commit REV] [--only N[,N...]] [--batch]
#          [--server-args "OPTIONS"]
#   --server-bin  a chat-server to measure instead of the one built here
#   --server-commit  build chat-server from this commit (git archive, in
#                 build-bench/server-at/) and measure it: before/after comparisons
#   --only        run only these points (1-6, as numbered below)
#   --batch       subscribers send "chat-batch: 1" (for servers that pack frames)
#   --server-args more chat-server options, e.g. "--batch-linger-us 3000"
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build_dir="$root/build-bench"
# shellcheck source=scripts/bench/common.sh
. "$root/scripts/bench/common.sh"

duration=10
out=""
only=""
batch=()
server_args=()
SERVER_BIN=""
server_commit=""
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --server-bin) SERVER_BIN="$2"; shift 2 ;;
    --server-commit) server_commit="$2"; shift 2 ;;
    --only) only=",$2,"; shift 2 ;;
    --batch) batch=(--batch); shift ;;
    --server-args) read -r -a server_args <<<"$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "run_standard.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

bench_prepare "$server_commit"
results_dir="$build_dir/bench-results"
mkdir -p "$results_dir"
stamp="$(date +%Y%m%d-%H%M%S)"
out="${out:-$results_dir/standard-$stamp.md}"
SERVER_LOG="$results_dir/standard-$stamp.server.log"
raw="$results_dir/standard-$stamp.txt"
rows="$(mktemp)"
server_pid=""
trap 'bench_stop_server; rm -f "$rows"' EXIT

# Number, label, fanout_bench options. Every stream has its own TCP
# connection (as real users do) except in points 4 and 6, where 100 streams
# share one (point 6 is point 1 with less work for the bench). Points 4 and 5
# spread 10,000 subscribers over 100 rooms of 100 with one publisher each at
# 1 msg/s: every subscriber gets 1 msg/s (10,000 deliveries/s), while one room
# of 10,000 would first have to deliver 10,000 x 10,000 / 2 JOIN events (see
# docs/benchmarks.md).
points=(
  "1|100 subs x 1000 msg/s|-s 100 -p 1 --rate 1000"
  "2|1000 subs x 100 msg/s|-s 1000 -p 1 --rate 100"
  "3|100 subs, flat out|-s 100 -p 1 --rate 0 --window 64"
  "4|10000 idle subs, 1 msg/s each, 100 streams/conn|-s 10000 -p 100 --rooms 100 --rate 100 --streams-per-channel 100"
  "5|10000 idle subs, 1 msg/s each, 1 stream/conn|-s 10000 -p 100 --rooms 100 --rate 100"
  "6|100 subs x 1000 msg/s, 100 streams/conn|-s 100 -p 1 --rate 1000 --streams-per-channel 100"
)

{
  echo "## Standard points ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  bench_machine
  echo "- server: $SERVER_BIN, pinned to CPU $SERVER_CPU, --queue-limit $QUEUE_LIMIT --log-level warn (and --rate-limit 0 where it exists) ${server_args[*]}"
  echo "- load: fanout_bench pinned to CPU $LOAD_CPU; ${duration} s of publishing per point${batch:+; --batch}"
  echo
} >"$out"

for point in "${points[@]}"; do
  IFS='|' read -r number label args <<<"$point"
  if [ -n "$only" ] && [[ "$only" != *",$number,"* ]]; then continue; fi
  port="$(bench_free_port)"
  bench_start_server "$port" "${server_args[@]}"
  echo "bench: point $number ($label) on port $port, server pid $server_pid" >&2
  # shellcheck disable=SC2086  # args is a list of options
  taskset -c "$LOAD_CPU" "$build_dir/bench/fanout_bench" --server "127.0.0.1:$port" \
    --server-pid "$server_pid" $args --duration "$duration" --drain-timeout 10 \
    --join-timeout 120 "${batch[@]}" --label "$label" --markdown-row "$rows" | tee -a "$raw" ||
    echo "| $label | failed: see $raw |" >>"$rows"
  bench_stop_server
done

{
  echo "| point | subs | pubs | rooms | streams / conns | target msg/s | sent msg/s | deliveries/s | p50 | p99 | max | lost | reordered | server us/delivery | server CPU | server KiB/stream | bench CPU | load average at start |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  cat "$rows"
  echo
  echo "Full output: \`$raw\`."
} >>"$out"
cat "$out"
