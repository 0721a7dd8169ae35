#!/usr/bin/env bash
# Creates or refreshes the repo-local Python environment (.venv) that runs the daskflow bridge and its tests.
# Idempotent and silent when up to date (a second run is a no-op). Base interpreter: $DASKFLOW_PYTHON, else python3.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
VPY="$VENV/bin/python"
LOCK="$ROOT/python/requirements.lock"
PYPROJECT="$ROOT/python/pyproject.toml"
STAMP="$VENV/.daskflow-stamp"
BASE="${DASKFLOW_PYTHON:-python3}"

die() { printf 'daskflow: %s\n' "$*" >&2; exit 1; }

hash_inputs() {
  if command -v sha256sum >/dev/null 2>&1; then cat "$LOCK" "$PYPROJECT" | sha256sum | cut -d' ' -f1
  else cat "$LOCK" "$PYPROJECT" | shasum -a 256 | cut -d' ' -f1; fi
}

# Cheap health check (no heavy imports, so the up-to-date path stays well under a second).
venv_healthy() {
  [ -x "$VPY" ] && "$VPY" -c '
import sys, importlib.util as u
ok = sys.version_info >= (3, 10) and all(u.find_spec(m) for m in ("distributed", "dask", "msgpack", "daskflow_bridge"))
sys.exit(0 if ok else 1)' >/dev/null 2>&1
}

WANT="$(hash_inputs)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && venv_healthy; then
  exit 0
fi

# Serialize concurrent runs (e.g. `npm start` and `npm test` at once) when flock is available.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/daskflow-setup-python-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1).lock"
  flock 9
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && venv_healthy; then exit 0; fi
fi

command -v "$BASE" >/dev/null 2>&1 || die "no Python interpreter found ('$BASE' is not on PATH).
  Install Python >= 3.10 (e.g. 'sudo apt-get install python3 python3-venv' or from https://www.python.org),
  or set DASKFLOW_PYTHON=/path/to/python3.10+ and run 'bash scripts/setup-python.sh' again."
if ! "$BASE" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' >/dev/null 2>&1; then
  FOUND="$("$BASE" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo unknown)"
  die "Python >= 3.10 is required, but '$BASE' is Python $FOUND.
  Install Python >= 3.10, or set DASKFLOW_PYTHON=/path/to/python3.10+ and run 'bash scripts/setup-python.sh' again."
fi

# A venv whose interpreter no longer runs (base Python removed/upgraded) or that lost its packages is rebuilt.
if [ -d "$VENV" ] && { [ ! -x "$VPY" ] || ! "$VPY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' >/dev/null 2>&1 \
     || { [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; }; }; then
  rm -rf "$VENV"
fi

LOG="$(mktemp "${TMPDIR:-/tmp}/daskflow-setup-python.XXXXXX.log")"
trap 'rm -f "$LOG"' EXIT
fail() { cat "$LOG" >&2; die "$1"; }

echo "daskflow: installing the Python environment (distributed, dask, bokeh) into .venv using $BASE"
rm -f "$STAMP"
if [ ! -x "$VPY" ]; then
  "$BASE" -m venv "$VENV" >"$LOG" 2>&1 || { rm -rf "$VENV"; fail "could not create $VENV with '$BASE -m venv'.
  On Debian/Ubuntu install the venv module ('sudo apt-get install python3-venv'), or set DASKFLOW_PYTHON to another
  Python >= 3.10, then run 'bash scripts/setup-python.sh' again."; }
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
"$VPY" -m pip install -q -r "$LOCK" >>"$LOG" 2>&1 \
  || fail "'pip install -r python/requirements.lock' failed (output above). Fix the cause and run 'bash scripts/setup-python.sh' again."
"$VPY" -m pip install -q --no-deps -e "$ROOT/python" >>"$LOG" 2>&1 \
  || fail "'pip install -e python/' failed (output above). Fix the cause and run 'bash scripts/setup-python.sh' again."
"$VPY" -c 'import distributed, msgpack, daskflow_bridge' >>"$LOG" 2>&1 \
  || fail "the Python environment in .venv does not import distributed (output above); delete .venv and run 'bash scripts/setup-python.sh' again."
echo "$WANT" >"$STAMP"
