#!/usr/bin/env bash
# Sets everything up, builds, and runs the whole test suite (ctest).
# Usage: scripts/test.sh [ctest args], e.g. scripts/test.sh -L e2e
# Sanitizers: BUILD_DIR=build-asan CMAKE_ARGS=-DCHAT_ASAN=ON scripts/test.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build}"
# shellcheck disable=SC2086
"$root/scripts/setup.sh" "$build_dir" ${CMAKE_ARGS:-}
cd "$build_dir"
ctest --output-on-failure --timeout 300 "$@"
