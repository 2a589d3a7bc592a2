#!/usr/bin/env bash
# Builds what is missing or stale, then runs chat-server in the foreground.
# Arguments go to chat-server (see chat-server --help), e.g. --listen 0.0.0.0:50051 --tls-cert
# server.pem --tls-key server.key (beyond loopback: TLS, or --allow-insecure), or
# --config packaging/chat-server.toml.
#
# When build/server/chat-server runs and nothing it is built from is newer,
# it starts at once. Otherwise it installs the Debian packages that are
# missing (scripts/setup/apt.sh) and builds the server and the client; the
# test tools (Python, Go, ghz) are scripts/test.sh's business.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build"
binary="$build/server/chat-server"

up_to_date() {
  # Runs (its libraries are installed), and no source is newer than it.
  "$binary" --help >/dev/null 2>&1 || return 1
  local newer
  newer="$(find "$root/CMakeLists.txt" "$root/proto" "$root/common" "$root/server" \
    "$root/client" "$root/scripts/setup/apt.sh" \
    -newer "$binary" -type f -print -quit 2>/dev/null)"
  [ -z "$newer" ] || { echo "run-server: $newer changed; rebuilding" >&2; return 1; }
}

if ! up_to_date; then
  "$root/scripts/setup/apt.sh"
  cmake -S "$root" -B "$build" -G Ninja >/dev/null
  cmake --build "$build" --target chat-server chat-client
  # Checked now: a file that is not an input (a comment in a CMake file
  # ninja found unchanged) must not make every start rebuild.
  touch "$binary"
fi
exec "$binary" "$@"
