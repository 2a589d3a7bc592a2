#!/usr/bin/env bash
# Sets everything up, builds, and runs chat-server in the foreground.
# Arguments go to chat-server (see chat-server --help), e.g. --listen 0.0.0.0:50051 --tls-cert
# server.pem --tls-key server.key (beyond loopback: TLS, or --allow-insecure).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh" "$root/build"
exec "$root/build/server/chat-server" "$@"
