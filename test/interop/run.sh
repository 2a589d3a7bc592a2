#!/bin/sh
# Runs the interop test under the virtual environment's Python: run.sh PYTHON ARGS...
# Fails with a hint when scripts/setup/python.sh has not made the environment yet.
python="$1"
shift
if [ ! -x "$python" ]; then
  echo "interop: $python does not exist: run scripts/setup/python.sh and scripts/setup/go.sh (scripts/setup.sh runs both)" >&2
  exit 1
fi
PYTHONDONTWRITEBYTECODE=1 exec "$python" "$@"
