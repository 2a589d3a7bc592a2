#!/usr/bin/env bash
# Sets up everything grpc-chat needs and builds it. Safe to run again: each step
# skips what is already done. Usage: scripts/setup.sh [BUILD_DIR] [extra cmake args]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="${1:-$root/build}"
shift || true

for step in apt python go ghz; do
  if [ -x "$root/scripts/setup/$step.sh" ]; then
    "$root/scripts/setup/$step.sh"
  fi
done

cmake -S "$root" -B "$build_dir" -G Ninja "$@" >/dev/null
cmake --build "$build_dir"
