#!/usr/bin/env bash
# Sets up Python for the interop client and tests: a virtual environment in
# $root/.venv with the pinned packages of interop/python/requirements.txt, and
# the gRPC code generated from proto/chat.proto into interop/python/gen/
# (ignored by git; never edit it). Safe to run again: when nothing it depends
# on changed it only checks a stamp. Base interpreter: $PYTHON, else python3.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv"
requirements="$root/interop/python/requirements.txt"
proto_dir="$root/proto"
gen="$root/interop/python/gen"
stamp="$venv/.grpc-chat-setup"
base_python="${PYTHON:-python3}"

# Everything the result depends on; a change to any of them redoes the work.
wanted="$(cat "$requirements" "$proto_dir/chat.proto" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] &&
   [ -f "$gen/chat_pb2.py" ] && [ -f "$gen/chat_pb2_grpc.py" ] &&
   "$venv/bin/python" -c '' 2>/dev/null; then
  exit 0
fi

if ! "$venv/bin/python" -c '' 2>/dev/null; then
  echo "setup: creating the Python virtual environment $venv" >&2
  rm -rf "$venv"
  if ! "$base_python" -m venv "$venv"; then
    echo "setup: '$base_python -m venv' failed; install python3-venv (scripts/setup/apt.sh) or set PYTHON" >&2
    exit 1
  fi
fi
rm -f "$stamp"
echo "setup: installing the pinned Python packages into $venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"

# Generate into a fresh directory, then swap it in whole.
tmp="$(mktemp -d "$root/interop/python/.gen.XXXXXX")"
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
"$venv/bin/python" -m grpc_tools.protoc -I "$proto_dir" \
  --python_out="$tmp" --grpc_python_out="$tmp" "$proto_dir/chat.proto"
rm -rf "$gen"
mv "$tmp" "$gen"
trap - EXIT
echo "$wanted" > "$stamp"
