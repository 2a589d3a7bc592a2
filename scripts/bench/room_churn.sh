#!/usr/bin/env bash
# What a burst of rooms costs chat-server, and whether the memory comes back
# (issue 12; results in docs/benchmarks.md, "Rooms"). Starts SERVER_BIN (default:
# build/server/chat-server) on a free port with the given extra options, reads
# its resident memory (VmRSS), has bench/room_churn make JOINS rooms with
# random names (FILL lines of BYTES bytes in each), reads it again once the
# client has gone, and again after WAIT seconds; prints one line.
#
#   scripts/bench/room_churn.sh [chat-server options...]
#   JOINS=50000 WAIT=30 scripts/bench/room_churn.sh --room-idle-seconds 0
#
# The server always gets --rate-limit 0; give it --new-rooms-per-minute 0
# too, or the churn stops at the per-connection limit.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${BUILD_DIR:-$root/build}"
server_bin="${SERVER_BIN:-$build/server/chat-server}"
churn_bin="$build/bench/room_churn"
joins="${JOINS:-50000}" fill="${FILL:-0}" bytes="${BYTES:-1000}" wait_s="${WAIT:-30}"
cmake --build "$build" --target room_churn chat-server >/dev/null

log="$(mktemp)"
"$server_bin" --listen 127.0.0.1:0 --rate-limit 0 "$@" 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$log"' EXIT
port=""
for _ in $(seq 100); do
  port="$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) .*/\1/p' "$log")"
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$log" >&2; exit 1; }
rss() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status"; }

before="$(rss)"
result="$("$churn_bin" --address "127.0.0.1:$port" --joins "$joins" --fill "$fill" --bytes "$bytes")"
sleep 2  # the server's memory trimmer looks once a second
after="$(rss)"
sleep "$wait_s"
later="$(rss)"
echo "options: $* | $result | RSS MB: start $before, after the churn $after, ${wait_s} s later $later"
