#!/usr/bin/env bash
# Creates or refreshes .venv-bench, the benchmark-only Python environment with Prefect 3 and prefect-dask (pinned in
# bench/prefect-requirements.txt), which bench/prefect-compare.ts uses for its Prefect side. daskflow never uses it.
# Idempotent and silent when up to date (a stamp holds the hash of the pins). Base interpreter: $BENCH_PYTHON, else
# python3 (the pins were resolved on Python 3.11).
#   bash bench/setup-prefect.sh && npx tsx bench/prefect-compare.ts
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-bench"
VPY="$VENV/bin/python"
REQS="$ROOT/bench/prefect-requirements.txt"
STAMP="$VENV/.bench-stamp"
BASE="${BENCH_PYTHON:-python3}"

die() { printf 'bench/setup-prefect.sh: %s\n' "$*" >&2; exit 1; }

hash_inputs() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum <"$REQS" | cut -d' ' -f1
  else shasum -a 256 <"$REQS" | cut -d' ' -f1; fi
}

# Cheap health check: the packages are there (no heavy imports, so the up-to-date path stays fast).
venv_healthy() {
  [ -x "$VPY" ] && "$VPY" -c '
import importlib.util as u, sys
sys.exit(0 if all(u.find_spec(m) for m in ("prefect", "prefect_dask", "distributed", "dask")) else 1)' >/dev/null 2>&1
}

WANT="$(hash_inputs)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && venv_healthy; then
  exit 0
fi

if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/daskflow-setup-prefect-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1).lock"
  flock 9
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && venv_healthy; then exit 0; fi
fi

command -v "$BASE" >/dev/null 2>&1 || die "no Python interpreter found ('$BASE' is not on PATH).
  Install Python 3.11 (the version bench/prefect-requirements.txt was resolved on), or set
  BENCH_PYTHON=/path/to/python3.11 and run 'bash bench/setup-prefect.sh' again."
FOUND="$("$BASE" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo unknown)"
case "$FOUND" in
  3.1[0-9]) ;;
  *) die "Python >= 3.10 is required for Prefect 3, but '$BASE' is Python $FOUND.
  Set BENCH_PYTHON=/path/to/python3.11 and run 'bash bench/setup-prefect.sh' again." ;;
esac
[ "$FOUND" = 3.11 ] || echo "bench/setup-prefect.sh: note: the pins were resolved on Python 3.11; '$BASE' is $FOUND (pip may not find every pinned wheel)." >&2

# A venv with a broken interpreter, or an outdated one, is rebuilt from scratch (pins changed: start clean).
if [ -d "$VENV" ] && { [ ! -x "$VPY" ] || ! "$VPY" -c 'import sys' >/dev/null 2>&1 || [ -f "$STAMP" ]; }; then
  rm -rf "$VENV"
fi

LOG="$(mktemp "${TMPDIR:-/tmp}/daskflow-setup-prefect.XXXXXX.log")"
trap 'rm -f "$LOG"' EXIT
fail() { tail -n 40 "$LOG" >&2; die "$1"; }

echo "bench: installing Prefect 3 + prefect-dask (bench/prefect-requirements.txt) into .venv-bench using $BASE ($FOUND); this takes a minute or two"
if [ ! -x "$VPY" ]; then
  "$BASE" -m venv "$VENV" >"$LOG" 2>&1 || { rm -rf "$VENV"; fail "could not create .venv-bench with '$BASE -m venv'.
  On Debian/Ubuntu install the venv module ('sudo apt-get install python3-venv'), or set BENCH_PYTHON to another
  Python 3.11, then run 'bash bench/setup-prefect.sh' again."; }
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
"$VPY" -m pip install -q -r "$REQS" >>"$LOG" 2>&1 \
  || fail "'pip install -r bench/prefect-requirements.txt' failed (last lines of pip's output above): PyPI must be
  reachable (or a mirror set with PIP_INDEX_URL), and every pin must have a wheel or build for this Python.
  Fix the cause and run 'bash bench/setup-prefect.sh' again."
"$VPY" -c 'import prefect, prefect_dask, distributed' >>"$LOG" 2>&1 \
  || fail "the environment in .venv-bench does not import prefect, prefect_dask and distributed (output above);
  delete .venv-bench and run 'bash bench/setup-prefect.sh' again."
echo "$WANT" >"$STAMP"
echo "bench: .venv-bench ready ($("$VPY" -c 'import prefect, prefect_dask, distributed; print(f"prefect {prefect.__version__}, prefect-dask {prefect_dask.__version__}, distributed {distributed.__version__}")'))"
