# shellcheck shell=bash
# Helpers shared by the benchmark scripts (sourced, not run).
# Expects: root (the repository), build_dir; bench_start_server also
# SERVER_BIN, SERVER_CPU, QUEUE_LIMIT and SERVER_LOG.
# shellcheck disable=SC2154  # set by the sourcing script

# Builds fanout_bench, and chat-server unless SERVER_BIN is already chosen,
# in build_dir (configuring it once).
bench_build() {
  if [ ! -f "$build_dir/build.ninja" ]; then
    cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  local targets=(fanout_bench)
  [ -n "${SERVER_BIN:-}" ] || targets+=(chat-server)
  cmake --build "$build_dir" --target "${targets[@]}" >/dev/null
}

# Builds chat-server from commit REV (git archive into build_dir/server-at/REV,
# so the work tree is not touched) and prints the binary's path. For
# before/after comparisons: --server-commit in the run scripts.
bench_build_server_at() {
  local rev
  rev="$(git -C "$root" rev-parse --short "$1^{commit}")"
  local dir="$build_dir/server-at/$rev"
  if [ ! -x "$dir/build/server/chat-server" ]; then
    rm -rf "$dir"
    mkdir -p "$dir/src"
    git -C "$root" archive "$rev" | tar -x -C "$dir/src"
    cmake -S "$dir/src" -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
    cmake --build "$dir/build" --target chat-server >/dev/null
  fi
  echo "$dir/build/server/chat-server"
}

# Builds what a run needs and sets the standard set-up: SERVER_BIN (the work
# tree's chat-server, or one built from commit $1 when given, or SERVER_BIN
# as chosen by --server-bin), the server on CPU 0 and the load on CPU 1, and a
# queue limit far above any backlog (a point measures lag, not disconnection).
bench_prepare() {
  if [ -n "${1:-}" ]; then SERVER_BIN="$(bench_build_server_at "$1")"; fi
  bench_build
  SERVER_BIN="${SERVER_BIN:-$build_dir/server/chat-server}"
  SERVER_CPU=0
  LOAD_CPU=1
  QUEUE_LIMIT=100000
}

# Prints a TCP port on 127.0.0.1 that nothing listens on right now.
bench_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts SERVER_BIN on 127.0.0.1:PORT pinned to CPU SERVER_CPU (with
# --rate-limit 0 where the server has that option), waits until it accepts
# connections (at most 10 s) and sets server_pid.
# Usage: bench_start_server PORT [extra chat-server options]
# The options that lift the per-address limits of the server binary $1 (each
# 0 = no limit), for those it has: a load generator is thousands of clients
# from one address. Usage: read -r -a args <<<"$(bench_loopback_limits BIN)"
bench_loopback_limits() {
  local help option out=()
  help="$("$1" --help 2>/dev/null)"
  for option in --max-streams-per-ip --max-connections-per-ip; do
    if grep -q -- "$option" <<<"$help"; then out+=("$option" 0); fi
  done
  # The total has no "no limit"; what the load generators can open at most.
  if grep -q -- --max-connections-per-ip <<<"$help"; then out+=(--max-connections 100000); fi
  echo "${out[*]}"
}

bench_start_server() {
  local port="$1"
  shift
  local extra=()
  # Servers with flood control would refuse the publishers' lines: turn it off.
  if "$SERVER_BIN" --help 2>/dev/null | grep -q -- '--rate-limit'; then extra+=(--rate-limit 0); fi
  read -r -a limits <<<"$(bench_loopback_limits "$SERVER_BIN")"
  extra+=("${limits[@]}")
  taskset -c "$SERVER_CPU" "$SERVER_BIN" --listen "127.0.0.1:$port" --queue-limit "$QUEUE_LIMIT" \
    --log-level warn "${extra[@]}" "$@" >>"$SERVER_LOG" 2>&1 &
  server_pid=$!
  bench_wait_listening "$port" chat-server
}

# Waits (at most 10 s) until the server just started as $server_pid accepts
# connections on PORT. Usage: bench_wait_listening PORT NAME
bench_wait_listening() {
  local port="$1" name="$2" tries=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ] || ! kill -0 "$server_pid" 2>/dev/null; then
      echo "bench: $name did not start on port $port; see $SERVER_LOG" >&2
      return 1
    fi
    sleep 0.1
  done
}

# Stops the server started by bench_start_server (SIGTERM, then SIGKILL after 10 s).
bench_stop_server() {
  [ -n "${server_pid:-}" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  local tries=0
  while kill -0 "$server_pid" 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ]; then
      echo "bench: chat-server $server_pid ignored SIGTERM; killing it" >&2
      kill -KILL "$server_pid" 2>/dev/null || true
    fi
    sleep 0.1
  done
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# The machine, as markdown list items.
bench_machine() {
  echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores online"
  echo "- kernel: $(uname -r); memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "- gRPC: $(dpkg-query -W -f='${Version}' libgrpc++1.51 2>/dev/null || echo unknown) (Debian); compiler: $(c++ --version | head -1)"
  if [ -n "${server_commit:-}" ]; then
    echo "- server built from commit $(git -C "$root" rev-parse --short "$server_commit")"
  elif [ "${SERVER_BIN:-}" = "$build_dir/server/chat-server" ]; then
    local dirty=""
    git -C "$root" diff --quiet HEAD -- server common proto 2>/dev/null || dirty=" + uncommitted changes"
    echo "- server built from the work tree: commit $(git -C "$root" rev-parse --short HEAD)$dirty (server/, common/, proto/)"
  fi
  echo "- load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
}
