#!/usr/bin/env bash
# Creates or refreshes the repo-local Python environment (.venv) that runs the daskflow bridge and its tests.
# Idempotent and silent when up to date (a second run is a no-op). Base interpreter: $DASKFLOW_PYTHON, else python3.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ME=scripts/setup-python.sh
PREFIX=daskflow
VENV="$ROOT/.venv"
STAMP="$VENV/.daskflow-stamp"
# The repo's environment also has what the tests use: s3fs (the s3 extra) and moto's S3 server (durable-s3 tests).
LOCKS=("$ROOT/python/requirements.lock" "$ROOT/python/requirements-s3.lock" "$ROOT/python/requirements-s3-test.lock")
INPUTS=("${LOCKS[@]}" "$ROOT/python/pyproject.toml")
BASE="${DASKFLOW_PYTHON:-python3}"
# pip's downloads in the repo's ignored .cache/pip, shared with test/package/install.test.ts (a clone downloads once).
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$ROOT/.cache/pip}"
BASE_VAR=DASKFLOW_PYTHON
PINNED_ON=""
MODULES=(distributed dask msgpack daskflow_bridge)
FRESH=0
WHAT="the Python environment (distributed, dask, bokeh)"

venv_install() {
  "$VPY" -m pip install -q "${LOCKS[@]/#/-r}" >>"$LOG" 2>&1 \
    || fail "'pip install' of python/requirements*.lock failed (output above). Fix the cause and run 'bash $ME' again."
  "$VPY" -m pip install -q --no-deps -e "$ROOT/python" >>"$LOG" 2>&1 \
    || fail "'pip install -e python/' failed (output above). Fix the cause and run 'bash $ME' again."
}

# shellcheck source=scripts/venv-lib.sh
source "$ROOT/scripts/venv-lib.sh"
ensure_venv
