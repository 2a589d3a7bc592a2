#!/usr/bin/env bash
# Drives chat-server with ghz (whole-stream load: join, N lines, half-close,
# wait for the server's OK) at several concurrency levels and writes a
# markdown table. Server pinned to CPU 0, ghz to CPU 1, 127.0.0.1 only. Each
# level runs max(200, 10 x c) streams (ghz -n) under a 60-second `timeout`, so
# the whole run is bounded. (-n, not -z: at a -z deadline ghz cuts the streams
# in flight, which then show up as Canceled/Unavailable.)
#
# ghz finds chat.ChatService/Chat through server reflection. Names must be
# unique per live stream (the server answers ALREADY_EXISTS otherwise), so
# each ghz worker uses its own: "u{{.WorkerID}}".
#
# Usage: scripts/bench/run_ghz.sh [--levels 1,10,50,200]
#          [--calls-per-stream N] [--out FILE] [--server-bin PATH | --server-commit REV]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build_dir="$root/build-bench"
# shellcheck source=scripts/bench/common.sh
. "$root/scripts/bench/common.sh"

levels="1,10,50,200"
calls=10
out=""
SERVER_BIN=""
server_commit=""
while [ $# -gt 0 ]; do
  case "$1" in
    --levels) levels="$2"; shift 2 ;;
    --calls-per-stream) calls="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --server-bin) SERVER_BIN="$2"; shift 2 ;;
    --server-commit) server_commit="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "run_ghz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

"$root/scripts/setup/ghz.sh"
ghz="$(command -v ghz || true)"
if [ -z "$ghz" ]; then
  gobin="$(go env GOBIN 2>/dev/null || true)"
  ghz="${gobin:-$(go env GOPATH)/bin}/ghz"
fi
bench_prepare "$server_commit"
results_dir="$build_dir/bench-results"
mkdir -p "$results_dir"
stamp="$(date +%Y%m%d-%H%M%S)"
out="${out:-$results_dir/ghz-$stamp.md}"
SERVER_LOG="$results_dir/ghz-$stamp.server.log"
server_pid=""
trap 'bench_stop_server' EXIT

cpu_seconds() {  # utime + stime of a pid, in seconds
  awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); print ($12 + $13) / hz}' "/proc/$1/stat"
}

{
  echo "## ghz ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  bench_machine
  echo "- ghz $(go version -m "$ghz" | awk '$1 == "mod" {print $3}'), pinned to CPU $LOAD_CPU; chat-server pinned to CPU $SERVER_CPU"
  echo "- each stream: join, $calls lines (--stream-call-count $calls), half-close, OK from the server; max(200, 10 x c) streams per row (-n), one HTTP/2 connection (ghz default)"
  echo "- lobby: every worker in the one default room (each line goes to every live stream);"
  echo "  own room: worker W joins room rW (first message's \`room\` field), so no fan-out between workers"
  echo
  echo "| rooms | -c | streams | streams/s | lines in/s | avg | p50 | p99 | statuses | server CPU per stream |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
} >"$out"

for mode in lobby own; do
  for c in ${levels//,/ }; do
    if [ "$mode" = lobby ]; then
      data='{"user":"u{{.WorkerID}}","message":"hi"}'
    else
      data='{"user":"u{{.WorkerID}}","room":"r{{.WorkerID}}","message":"hi"}'
    fi
    port="$(bench_free_port)"
    # ghz puts every stream on one connection: let all -c of them run at once
    # (servers that have the option limit a connection to 100 by default).
    stream_limit=()
    if "$SERVER_BIN" --help 2>/dev/null | grep -q -- '--max-streams-per-connection'; then
      stream_limit=(--max-streams-per-connection "$((c > 100 ? c : 100))")
    fi
    bench_start_server "$port" "${stream_limit[@]}"
    before="$(cpu_seconds "$server_pid")"
    json="$results_dir/ghz-$stamp-$mode-c$c.json"
    n=$((c * 10 > 200 ? c * 10 : 200))
    echo "bench: ghz $mode -c $c -n $n on port $port" >&2
    timeout 60 taskset -c "$LOAD_CPU" "$ghz" --insecure --call chat.ChatService/Chat -c "$c" -n "$n" \
      --stream-call-count "$calls" -d "$data" -O json -o "$json" "127.0.0.1:$port" || true
    after="$(cpu_seconds "$server_pid")"
    bench_stop_server
    python3 - "$json" "$mode" "$c" "$calls" "$before" "$after" >>"$out" <<'EOF'
import json, sys
path, mode, c, calls, before, after = sys.argv[1:]
d = json.load(open(path))
ms = lambda ns: f"{ns / 1e6:.2f} ms"
lat = {p["percentage"]: p["latency"] for p in d.get("latencyDistribution") or []}
statuses = ", ".join(f"{k} {v}" for k, v in sorted(d.get("statusCodeDistribution", {}).items()))
count = d["count"]
seconds = d["total"] / 1e9
ok = d.get("statusCodeDistribution", {}).get("OK", 0)
cpu = (float(after) - float(before)) / count * 1e6 if count else 0
print(f"| {mode} | {c} | {count} | {count / seconds:.0f} | {ok * int(calls) / seconds:.0f} | "
      f"{ms(d['average'])} | {ms(lat.get(50, 0))} | {ms(lat.get(99, 0))} | {statuses} | {cpu:.0f} us |")
EOF
  done
done
cat "$out"
