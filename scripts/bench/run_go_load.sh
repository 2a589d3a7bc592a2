#!/usr/bin/env bash
# Runs the issue-12 load scenarios with the Go load generator (chatload) and
# writes a markdown table; docs/benchmarks.md, "Go load generator (issue 12)".
# Each scenario gets a fresh server pinned to CPU 0 (taskset -c 0): chat-server
# with its default options except --rate-limit 0, or refserver (the simplest
# grpc-go broadcast server). chatload is pinned to CPU 1, on 127.0.0.1 only,
# each run under `timeout`; servers are stopped by PID.
#
# Usage: scripts/bench/run_go_load.sh [--only a,b,c,cm,d1,d2] [--members-b N]
#          [--join-timeout-b SECONDS] [--duration SECONDS]
#          [--server-bin PATH | --server-commit REV] [--out FILE]
#   --only        run only these scenarios (default: all, in this order):
#                 a   1000 members join one room within 2 s: deliveries the joins cause
#                 b   N members (--members-b, default 10000) join one room: RSS per member
#                 c   1000 readers (no metadata) + 20 chatters x 20 lines/s, in lobby
#                 cm  c with the 1000 as members (chat-user), for servers without readers
#                 d1  100 subscribers x 1 chatter at 1000 lines/s, chat-server then refserver
#                 d2  1000 subscribers x 1 chatter at 100 lines/s, chat-server then refserver
#   --join-timeout-b  bound on b's join phase (default 1500): a server that
#                 broadcasts every JOIN needs minutes for 10,000 members
#   --duration    seconds the chatters send (default 10)
#   --server-bin  a chat-server to measure instead of one built from the work tree
#   --server-commit  build chat-server from this commit (git archive, in
#                 build-bench/server-at/): before/after comparisons
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build_dir="$root/build-bench"
# shellcheck source=scripts/bench/common.sh
. "$root/scripts/bench/common.sh"

only=""
members_b=10000
join_timeout_b=1500
duration=10
SERVER_BIN=""
server_commit=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only=",$2,"; shift 2 ;;
    --members-b) members_b="$2"; shift 2 ;;
    --join-timeout-b) join_timeout_b="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --server-bin) SERVER_BIN="$2"; shift 2 ;;
    --server-commit) server_commit="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "run_go_load.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

"$root/scripts/bench/build_go.sh"
if [ -n "$server_commit" ]; then
  SERVER_BIN="$(bench_build_server_at "$server_commit")"
elif [ -z "$SERVER_BIN" ]; then
  # Only chat-server: the work tree's other targets are not needed here.
  if [ ! -f "$build_dir/build.ninja" ]; then
    cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$build_dir" --target chat-server >/dev/null
  SERVER_BIN="$build_dir/server/chat-server"
fi
chatload="$build_dir/go/chatload"
refserver="$build_dir/go/refserver"
SERVER_CPU=0
LOAD_CPU=1
# 10,000 streams are 10,000 sockets on each side; the server inherits this.
ulimit -n "$(ulimit -Hn)"

results_dir="$build_dir/bench-results"
stamp="$(date +%Y%m%d-%H%M%S)"
run_dir="$results_dir/go-load-$stamp"
mkdir -p "$run_dir"
out="${out:-$results_dir/go-load-$stamp.md}"
raw="$results_dir/go-load-$stamp.txt"
SERVER_LOG="$run_dir/servers.log"
server_pid=""
trap bench_stop_server EXIT

# Starts chat-server (default options, --rate-limit 0) or refserver on
# 127.0.0.1:PORT pinned to SERVER_CPU, waits (at most 10 s) until it accepts
# connections and sets server_pid. Usage: start_server chat-server|refserver PORT
start_server() {
  local kind="$1" port="$2"
  echo "== $kind on port $port" >>"$SERVER_LOG"
  if [ "$kind" = refserver ]; then
    taskset -c "$SERVER_CPU" "$refserver" --listen "127.0.0.1:$port" >>"$SERVER_LOG" 2>&1 &
  else
    # shellcheck disable=SC2046
    taskset -c "$SERVER_CPU" "$SERVER_BIN" --listen "127.0.0.1:$port" --rate-limit 0 \
      $(bench_connection_limits) --log-level warn >>"$SERVER_LOG" 2>&1 &
  fi
  server_pid=$!
  bench_wait_listening "$port" "$kind"
}

# Runs one scenario against a fresh server. Usage:
#   scenario NAME chat-server|refserver TIME_LIMIT_SECONDS chatload-options...
scenario() {
  local name="$1" kind="$2" limit="$3"
  shift 3
  if [ -n "$only" ] && [[ "$only" != *",$name,"* ]]; then return 0; fi
  local port extra=()
  port="$(bench_free_port)"
  start_server "$kind" "$port"
  [ "$kind" = refserver ] && extra+=(--expect-echo=false)
  echo "run_go_load.sh: $name against $kind (pid $server_pid, port $port): $*" >&2
  {
    echo "### $name ($kind): chatload $* ${extra[*]}"
    # timeout: a backstop over chatload's own bounds.
    timeout --kill-after=10 "$limit" taskset -c "$LOAD_CPU" "$chatload" --server "127.0.0.1:$port" \
      --server-pid "$server_pid" --label "$name/$kind" --json "$run_dir/$name-$kind.json" "$@" "${extra[@]}" 2>&1 ||
      echo "chatload exited with status $?"
    echo
  } | tee -a "$raw" >&2
  bench_stop_server
}

d="${duration}s"
scenario a chat-server 300 --join-burst --subscribers 1000 --join-within 2s --join-timeout 240s
scenario b chat-server $((join_timeout_b + 300)) --join-burst --subscribers "$members_b" \
  --join-timeout "${join_timeout_b}s" --dial-timeout 30s
scenario c chat-server 120 --subscribers 1000 --subscriber-metadata none --chatters 20 --rate 20 --duration "$d"
scenario cm chat-server 400 --subscribers 1000 --chatters 20 --rate 20 --duration "$d" --join-timeout 240s
scenario d1 chat-server 120 --subscribers 100 --chatters 1 --rate 1000 --duration "$d"
scenario d1 refserver 120 --subscribers 100 --chatters 1 --rate 1000 --duration "$d"
scenario d2 chat-server 300 --subscribers 1000 --chatters 1 --rate 100 --duration "$d" --join-timeout 240s
scenario d2 refserver 300 --subscribers 1000 --chatters 1 --rate 100 --duration "$d" --join-timeout 240s

{
  echo "## Go load scenarios ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  bench_machine
  echo "- chat-server: $SERVER_BIN, default options except --rate-limit 0 (--log-level warn); refserver: $refserver; both on CPU $SERVER_CPU"
  echo "- load: $chatload on CPU $LOAD_CPU, one TCP connection per stream; ${duration} s of sending"
  echo
  python3 - "$run_dir" <<'PY'
import json, os, sys
d = sys.argv[1]
def ms(us): return "-" if us is None else (f"{us/1000:.1f} ms" if us >= 1000 else f"{us:.0f} us")
def ended(e): return "; ".join(f"{p}: " + ", ".join(f"{c} {n}" for c, n in sorted(v.items())) for p, v in e.items())
print("| scenario | server | streams | join s | join msgs | sent/s | accepted/s | refused | delivered/s | lost | missed | reordered | p50 | p99 | max | ended (phase: status count) | server us/delivery | server us/join msg | server KiB/member | server CPU | chatload CPU | load avg at end |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for f in sorted(os.listdir(d), key=lambda f: os.path.getmtime(os.path.join(d, f))):
    if not f.endswith(".json"): continue
    r = json.load(open(os.path.join(d, f)))
    load = r["mode"] == "load"
    g = lambda k, fmt="{:.0f}": fmt.format(r[k]) if load and k in r else "-"
    print("| " + " | ".join([
        r["label"].split("/")[0], r["label"].split("/")[1],
        f'{r["subscribers"]} {r["subscriber_metadata"]} + {r["chatters"]}',
        f'{r["join_s"]:.2f}' + ("" if r["join_settled"] else " (not settled)"), str(r["join_messages"]),
        g("sent_per_s"), g("accepted_per_s") if r.get("accepted", -1) >= 0 else "n/a", g("refused"),
        g("delivered_per_s"), g("lost") + ("" if not load or r["drained"] else " (not drained)"), g("missed"), g("reordered"),
        ms(r["p50_us"]) if load else "-", ms(r["p99_us"]) if load else "-", ms(r["max_us"]) if load else "-",
        ended(r["ended"]),
        f'{r.get("server_us_per_delivery", 0):.2f}' if load else "-",
        f'{r.get("server_us_per_join_message", 0):.2f}',
        f'{r.get("server_kib_per_member", 0):.1f}',
        f'{r.get("server_cpu_pct_load", 0):.0f}%' if load else f'{r.get("server_cpu_join_s", 0):.1f} s',
        f'{r["chatload_cpu_pct"]:.0f}%', r["loadavg_end"].split()[0]]) + " |")
PY
  echo
  echo "Columns: *join s* first connect to the join phase's last message; *join msgs* everything the"
  echo "streams received then (welcomes, replayed history, JOIN events); *lost* accepted lines an open"
  echo "subscriber never got by the end of the drain, *missed* the same for streams that ended early;"
  echo "*ended* which phase each stream ended in, with its status; *server CPU* share of a core while"
  echo "the chatters sent and drained (join-burst: CPU seconds of the join phase)."
  echo
  echo "Full output: \`$raw\`; JSON per run: \`$run_dir/\`."
} >"$out"
cat "$out"
