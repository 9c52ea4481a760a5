#!/usr/bin/env bash
# Developer helper: rebuild the editable install of impactkit._core, serialised with a lock so
# that several people working in one checkout never run two builds in the same build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
exec flock /tmp/impactkit-build.lock .venv/bin/python -m pip install --no-build-isolation -q -e . "$@"
