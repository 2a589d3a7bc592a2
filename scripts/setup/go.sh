#!/usr/bin/env bash
# Sets up the Go interop client: installs the pinned protoc plugins with
# `go install` into $root/build-go/bin, generates interop/go/chatpb/ from
# proto/chat.proto with Debian's protoc (ignored by git; never edit it) and
# builds $root/build-go/chat-client-go. Modules come from the Go module proxy,
# at the versions in interop/go/go.mod and go.sum. Safe to run again: when
# nothing it depends on changed it only checks a stamp.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
protoc_gen_go_version=v1.36.12      # keep equal to google.golang.org/protobuf in go.mod
protoc_gen_go_grpc_version=v1.6.2
module="$root/interop/go"
out="$root/build-go"
bin="$out/bin"
stamp="$out/.grpc-chat-setup"

for tool in go protoc; do
  if ! command -v "$tool" >/dev/null; then
    echo "setup: '$tool' not found (Go: the machine's toolchain; protoc: scripts/setup/apt.sh)" >&2
    exit 1
  fi
done

# Everything the result depends on; a change to any of them redoes the work.
sources() {
  find "$module" -path "$module/chatpb" -prune -o -type f \
    \( -name '*.go' -o -name go.mod -o -name go.sum \) -print | LC_ALL=C sort
}
wanted="$({ go version; protoc --version; mapfile -t files < <(sources)
            sha256sum "${BASH_SOURCE[0]}" "$root/proto/chat.proto" "${files[@]}"; } | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && [ -x "$out/chat-client-go" ] &&
   [ -f "$module/chatpb/chat.pb.go" ] && [ -f "$module/chatpb/chat_grpc.pb.go" ]; then
  exit 0
fi
rm -f "$stamp"
mkdir -p "$bin"

echo "setup: installing protoc-gen-go $protoc_gen_go_version and protoc-gen-go-grpc $protoc_gen_go_grpc_version into $bin" >&2
GOBIN="$bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$protoc_gen_go_version"
GOBIN="$bin" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$protoc_gen_go_grpc_version"

# Generate into a fresh directory, then swap it in whole.
tmp="$(mktemp -d "$module/.chatpb.XXXXXX")"
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
protoc -I "$root/proto" \
  --plugin=protoc-gen-go="$bin/protoc-gen-go" --go_out="$tmp" --go_opt=paths=source_relative \
  --plugin=protoc-gen-go-grpc="$bin/protoc-gen-go-grpc" --go-grpc_out="$tmp" \
  --go-grpc_opt=paths=source_relative \
  "$root/proto/chat.proto"
rm -rf "$module/chatpb"
mv "$tmp" "$module/chatpb"
trap - EXIT

echo "setup: building $out/chat-client-go" >&2
(cd "$module" && go build -buildvcs=false -o "$out/chat-client-go" ./cmd/chat-client-go)
echo "$wanted" > "$stamp"
