#!/usr/bin/env bash
# Sets everything up, builds, and runs the whole test suite (ctest), twice:
#   default: BUILD_DIR (build/) with the default compiler (gcc) and CMAKE_ARGS;
#   clang:   CLANG_BUILD_DIR (build-clang/) with clang, -Werror=thread-safety
#            (the lock annotations) and the suite under ASan+UBSan.
# Both run even if one fails; the exit status is non-zero if either failed.
# Usage: scripts/test.sh [ctest args], e.g. scripts/test.sh -L e2e
# One of them only: CHAT_BUILDS=clang scripts/test.sh (or CHAT_BUILDS=default).
# Other sanitizers: BUILD_DIR=build-tsan CMAKE_ARGS=-DCHAT_TSAN=ON CHAT_BUILDS=default scripts/test.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
builds="${CHAT_BUILDS:-default clang}"
status=0

# Builds in $1 (cmake args after it) and runs ctest there with the script's arguments.
run_build() {
  local dir="$1" start=$SECONDS rc=0
  shift
  "$root/scripts/setup.sh" "$dir" "$@" || rc=$?
  echo "== $dir: build $((SECONDS - start)) s (exit $rc)"
  if [ "$rc" = 0 ]; then
    start=$SECONDS
    (cd "$dir" && ctest --output-on-failure --timeout 300 "${ctest_args[@]}") || rc=$?
    echo "== $dir: ctest $((SECONDS - start)) s (exit $rc)"
  fi
  return "$rc"
}

ctest_args=("$@")
for build in $builds; do
  case "$build" in
    default)
      # shellcheck disable=SC2086
      run_build "${BUILD_DIR:-$root/build}" ${CMAKE_ARGS:-} || status=1
      ;;
    clang)
      # CHAT_FUZZ: the fuzz targets' bounded runs (fuzz/), which need clang's libFuzzer.
      CC=clang CXX=clang++ run_build "${CLANG_BUILD_DIR:-$root/build-clang}" \
        -DCMAKE_CXX_COMPILER=clang++ -DCHAT_ASAN=ON -DCHAT_FUZZ=ON || status=1
      ;;
    *)
      echo "CHAT_BUILDS: unknown build '$build' (default, clang)" >&2
      status=1
      ;;
  esac
done
exit "$status"
