#!/usr/bin/env bash
# The whole test suite under ThreadSanitizer, against abseil and gRPC built
# with -fsanitize=thread from Debian's source packages (scripts/tsan-stack.sh;
# built once, then cached in build-tsan-stack/). Run it before each release and
# after any change to the hub, the reactor, the linger or the server's threads.
# Usage: scripts/test-tsan.sh [ctest args]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/tsan-stack.sh"
export BUILD_DIR="${BUILD_DIR:-$root/build-tsan}"
prefix="$root/build-tsan-stack/prefix"
# The package directories are named explicitly so that a build dir configured
# before against Debian's gRPC switches over.
export CMAKE_ARGS="-DCHAT_TSAN=ON -DCMAKE_PREFIX_PATH=$prefix -DgRPC_DIR=$prefix/lib/cmake/grpc -Dabsl_DIR=$prefix/lib/cmake/absl"
# Only this build, not the clang one as well.
export CHAT_BUILDS=default
exec "$root/scripts/test.sh" "$@"
