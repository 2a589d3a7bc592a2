#!/usr/bin/env bash
# Builds Debian's own abseil (20220623) and gRPC (1.51.1) source packages with
# -fsanitize=thread into a prefix, so that a TSan build of the project sees
# gRPC's synchronisation instead of guessing at it (Debian's binary packages
# are not instrumented, and TSan then reports their hand-offs as races).
#
# Usage: scripts/tsan-stack.sh [PREFIX]   (default: build-tsan-stack/prefix)
# The result is cached: a second run with the same versions does nothing.
# It takes a long time on a small machine (see docs/testing.md for the numbers),
# which is why the README's test command does not run it; scripts/test-tsan.sh
# does.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
stack_dir="$root/build-tsan-stack"
prefix="${1:-$stack_dir/prefix}"
src_dir="$stack_dir/src"
abseil_version="20220623.1-1+deb12u2"
grpc_version="1.51.1-3"
stamp="$prefix/.tsan-stack-$abseil_version-$grpc_version"
flags="-fsanitize=thread -O1 -g1 -fno-omit-frame-pointer"
jobs="$(nproc)"

if [[ -f "$stamp" ]]; then
  echo "tsan-stack: cached in $prefix"
  exit 0
fi

"$root/scripts/setup/apt.sh"
# dpkg-source unpacks the source packages; gRPC's code generator (which its
# reflection library needs) links libprotoc.
if ! command -v dpkg-source >/dev/null || ! dpkg-query -W -f='${Status}' libprotoc-dev 2>/dev/null | grep -q "ok installed"; then
  apt-get install -y -q dpkg-dev libprotoc-dev
fi

# Debian's source packages: deb-src is enabled only for the download and the
# apt sources are restored afterwards, whatever happens.
fetch_sources() {
  local list=/etc/apt/sources.list.d/grpc-chat-tsan-stack-src.sources
  trap 'rm -f "$list"; apt-get update -qq || true' RETURN
  cat >"$list" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  apt-get update -qq
  (cd "$src_dir" && apt-get source -qq --download-only \
    "abseil=$abseil_version" "grpc=$grpc_version")
}

mkdir -p "$src_dir"
if [[ ! -f "$src_dir/grpc_$grpc_version.dsc" || ! -f "$src_dir/abseil_$abseil_version.dsc" ]]; then
  fetch_sources
fi
# Unpacked with Debian's patches applied, so the ABI (abseil's options.h,
# its inline namespace) is the one Debian's packages have.
rm -rf "$src_dir/abseil" "$src_dir/grpc"
dpkg-source -x "$src_dir/abseil_$abseil_version.dsc" "$src_dir/abseil" >/dev/null
dpkg-source -x "$src_dir/grpc_$grpc_version.dsc" "$src_dir/grpc" >/dev/null

start=$(date +%s)
cmake -S "$src_dir/abseil" -B "$stack_dir/abseil-build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" -DCMAKE_C_FLAGS_RELWITHDEBINFO="$flags" \
  -DCMAKE_CXX_STANDARD=17 -DBUILD_SHARED_LIBS=ON -DBUILD_TESTING=OFF \
  -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_RPATH="$prefix/lib" >/dev/null
cmake --build "$stack_dir/abseil-build" -j "$jobs"
cmake --install "$stack_dir/abseil-build" >/dev/null
abseil_done=$(date +%s)

# The C++ libraries and the C++ code generator its own protos need: tests and
# the other languages' plugins are off; the
# other dependencies (protobuf, c-ares, re2, OpenSSL, zlib) stay Debian's.
cmake -S "$src_dir/grpc" -B "$stack_dir/grpc-build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" -DCMAKE_C_FLAGS_RELWITHDEBINFO="$flags" \
  -DCMAKE_CXX_STANDARD=17 -DBUILD_SHARED_LIBS=ON \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DCMAKE_INSTALL_RPATH="$prefix/lib" -DCMAKE_INSTALL_LIBDIR=lib \
  -DgRPC_ABSL_PROVIDER=package -DgRPC_CARES_PROVIDER=package \
  -DgRPC_PROTOBUF_PROVIDER=package -DgRPC_RE2_PROVIDER=package \
  -DgRPC_SSL_PROVIDER=package -DgRPC_ZLIB_PROVIDER=package \
  -DgRPC_BENCHMARK_PROVIDER=none -DgRPC_BUILD_TESTS=OFF \
  -DgRPC_BACKWARDS_COMPATIBILITY_MODE=OFF \
  -DgRPC_BUILD_GRPC_CSHARP_PLUGIN=OFF -DgRPC_BUILD_GRPC_NODE_PLUGIN=OFF \
  -DgRPC_BUILD_GRPC_OBJECTIVE_C_PLUGIN=OFF -DgRPC_BUILD_GRPC_PHP_PLUGIN=OFF \
  -DgRPC_BUILD_GRPC_PYTHON_PLUGIN=OFF -DgRPC_BUILD_GRPC_RUBY_PLUGIN=OFF \
  -DgRPC_BUILD_GRPC_CPP_PLUGIN=ON >/dev/null
cmake --build "$stack_dir/grpc-build" -j "$jobs"
cmake --install "$stack_dir/grpc-build" >/dev/null
grpc_done=$(date +%s)

echo "tsan-stack: abseil $((abseil_done - start)) s, gRPC $((grpc_done - abseil_done)) s on $jobs cores"
echo "tsan-stack: CPU time (user, system) of this script, then of the compilers:"
times
touch "$stamp"
