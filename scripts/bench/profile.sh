#!/usr/bin/env bash
# Profiles chat-server with perf while fanout_bench drives one point (by
# default 100 subscribers x 1000 msg/s): server pinned to CPU 0, load to CPU 1,
# `perf record -g` on the server pid and `perf stat` (context switches) beside
# it, for --duration seconds. Writes the reports into a results folder.
#
# Needs perf: apt-get install linux-perf (Debian), and root or
# kernel.perf_event_paranoid <= 1.
#
# Usage: scripts/bench/profile.sh [--duration SECONDS] [--server-bin PATH | --server-commit REV]
#          [--call-graph fp|dwarf] [--server-args "OPTIONS"] [-- fanout_bench options]
#   fanout_bench options replace the default "-s 100 -p 1 --rate 1000".
#   --server-args: more chat-server options, e.g. "--batch-linger-us 3000".
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build_dir="$root/build-bench"
# shellcheck source=scripts/bench/common.sh
. "$root/scripts/bench/common.sh"

duration=10
call_graph=fp
SERVER_BIN=""
server_commit=""
load=(-s 100 -p 1 --rate 1000)
server_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --server-bin) SERVER_BIN="$2"; shift 2 ;;
    --server-commit) server_commit="$2"; shift 2 ;;
    --call-graph) call_graph="$2"; shift 2 ;;
    --) shift; load=("$@"); break ;;
    --server-args) read -r -a server_args <<<"$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "profile.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if ! command -v perf >/dev/null 2>&1; then
  echo "profile.sh: perf not found; install it with: apt-get install linux-perf" >&2
  exit 1
fi

bench_prepare "$server_commit"
dir="$build_dir/bench-results/profile-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$dir"
SERVER_LOG="$dir/server.log"
server_pid=""
bench_pid=""
cleanup() {
  [ -z "$bench_pid" ] || kill "$bench_pid" 2>/dev/null || true
  bench_stop_server
}
trap cleanup EXIT

port="$(bench_free_port)"
bench_start_server "$port" "${server_args[@]}"
bench_machine >"$dir/machine.md"
# The bench publishes for duration + 4 s; perf covers the middle, from 1 s
# after the joins are over and publishing started.
rm -f "$dir/publishing"
taskset -c "$LOAD_CPU" "$build_dir/bench/fanout_bench" --server "127.0.0.1:$port" \
  --server-pid "$server_pid" "${load[@]}" --duration "$((duration + 4))" --label profile \
  --join-timeout 120 --ready-file "$dir/publishing" >"$dir/bench.txt" 2>&1 &
bench_pid=$!
until [ -e "$dir/publishing" ]; do
  if ! kill -0 "$bench_pid" 2>/dev/null; then
    cat "$dir/bench.txt" >&2
    exit 1
  fi
  sleep 0.2
done
sleep 1
stat_events=task-clock,context-switches,cpu-migrations,page-faults
# System calls per delivery, where the kernel has the tracepoints.
for call in sendmsg recvmsg write read futex epoll_wait; do
  if perf list "syscalls:sys_enter_$call" 2>/dev/null | grep -q Tracepoint; then
    stat_events="$stat_events,syscalls:sys_enter_$call"
  fi
done
perf stat -e "$stat_events" -p "$server_pid" -o "$dir/perf-stat.txt" -- sleep "$duration" &
stat_pid=$!
perf record -g --call-graph "$call_graph" -p "$server_pid" -o "$dir/perf.data" -- sleep "$duration" \
  2>"$dir/perf-record.log"
wait "$stat_pid" || true
wait "$bench_pid" || true
bench_pid=""

perf report -i "$dir/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null \
  | grep -v '^$' >"$dir/by-dso.txt" || true
perf report -i "$dir/perf.data" --no-children --sort dso,sym --stdio -g none --percent-limit 0.4 \
  2>/dev/null | grep -v '^$' >"$dir/by-symbol.txt" || true
perf report -i "$dir/perf.data" --children --sort sym --stdio -g none --percent-limit 3 \
  2>/dev/null | grep -v '^$' >"$dir/inclusive.txt" || true
perf report -i "$dir/perf.data" --no-children --sort sym --stdio -g caller,0.5,callee,function,percent \
  --percent-limit 2 2>/dev/null >"$dir/callers.txt" || true

cat "$dir/bench.txt"
echo
# Per delivery: the bench's steady rates (subscriber deliveries + publisher
# echoes per second) times the perf window.
writes_per_s="$(awk '/^  sent / {gsub(/[(]/, "", $4); echoes = $4}
  /deliveries to subscribers/ {for (i = 1; i <= NF; i++) if ($i ~ /\/s\)/) {gsub(/[(\/s);]/, "", $i); subs = $i}}
  END {print subs + echoes}' "$dir/bench.txt")"
echo "== perf stat on the server over $duration s (per delivery: / ($writes_per_s deliveries/s x $duration s))"
awk -v w="$writes_per_s" -v d="$duration" '
  /task-clock|context-switches|cpu-migrations|page-faults|syscalls:/ {
    gsub(/,/, "", $1); n = $1; name = ($2 == "msec") ? "task-clock-ms" : $2
    per = (w > 0) ? n / (w * d) : 0
    if (name == "task-clock-ms") printf "  %-32s %14.1f  %8.2f us per delivery\n", name, n, per * 1000
    else printf "  %-32s %14d  %8.3f per delivery\n", name, n, per
  }' "$dir/perf-stat.txt" | tee "$dir/per-delivery.txt"
echo
echo "== by shared object (self time)"
grep -E '^ +[0-9]' "$dir/by-dso.txt" | head -12
echo
echo "== top symbols (self time)"
grep -E '^ +[0-9]' "$dir/by-symbol.txt" | head -40
echo
echo "Reports in $dir (perf report -i $dir/perf.data for more)."
