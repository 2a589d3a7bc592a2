#!/usr/bin/env bash
# Builds the Go load tools of docs/benchmarks.md ("Go load generator"):
# build-bench/go/chatload and build-bench/go/refserver, from the module
# bench/go (which reuses interop/go's generated chatpb through a replace).
# Uses the Go toolchain scripts/setup.sh installs; runs scripts/setup/go.sh
# (which generates chatpb) only when chatpb is missing or older than
# proto/chat.proto, so a bench build does not redo the interop set-up. Safe to
# run again: go build only rebuilds what changed. Prints nothing on success.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/build-bench/go"

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "build_go.sh: go not found; run scripts/setup.sh first" >&2
  exit 1
fi
chatpb="$root/interop/go/chatpb/chat.pb.go"
if [ ! -f "$chatpb" ] || [ "$root/proto/chat.proto" -nt "$chatpb" ]; then
  "$root/scripts/setup/go.sh"
fi
mkdir -p "$out"
cd "$root/bench/go"
go build -buildvcs=false -o "$out/chatload" ./chatload
go build -buildvcs=false -o "$out/refserver" ./refserver
