#!/usr/bin/env bash
# Installs ghz (the gRPC load tool used in docs/benchmarks.md) with the Go
# toolchain, from the Go module proxy. Idempotent: when the pinned version is
# already installed it only reads the binary's build information.
# Skipped (with a note) when Go is missing: ghz is only needed for benchmarks.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

version="v0.120.0"   # published 2024-05-30; check with: go list -m -versions github.com/bojand/ghz

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "setup: go not found; skipping ghz (only the benchmarks need it)" >&2
  exit 0
fi
bin_dir="$(go env GOBIN)"
[ -n "$bin_dir" ] || bin_dir="$(go env GOPATH)/bin"
# `go install` builds report "dev" for --version; the module version is in the build info.
if [ -x "$bin_dir/ghz" ] &&
   go version -m "$bin_dir/ghz" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/bojand/ghz[[:space:]]+$version([[:space:]]|$)"; then
  exit 0
fi
echo "setup: installing ghz $version into $bin_dir" >&2
go install "github.com/bojand/ghz/cmd/ghz@$version"
echo "setup: ghz is $bin_dir/ghz (add $bin_dir to PATH to call it as ghz)" >&2
