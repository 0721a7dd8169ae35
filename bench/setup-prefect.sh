#!/usr/bin/env bash
# Creates or refreshes .venv-bench, the benchmark-only Python environment with Prefect 3 and prefect-dask (pinned in
# bench/prefect-requirements.txt), which bench/prefect-compare.ts uses for its Prefect side. daskflow never uses it.
# Idempotent and silent when up to date (a stamp holds the hash of the pins). Base interpreter: $BENCH_PYTHON, else
# python3 (the pins were resolved on Python 3.11). `bash bench/run.sh prefect` runs it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ME=bench/setup-prefect.sh
PREFIX=bench
VENV="$ROOT/.venv-bench"
STAMP="$VENV/.bench-stamp"
INPUTS=("$ROOT/bench/prefect-requirements.txt")
BASE="${BENCH_PYTHON:-python3}"
BASE_VAR=BENCH_PYTHON
PINNED_ON=3.11
MODULES=(prefect prefect_dask distributed dask)
FRESH=1 # pins changed: start clean rather than leave packages the new pins no longer name
WHAT="Prefect 3 + prefect-dask (bench/prefect-requirements.txt)"

venv_install() {
  "$VPY" -m pip install -q -r "${INPUTS[0]}" >>"$LOG" 2>&1 \
    || fail "'pip install -r bench/prefect-requirements.txt' failed (last lines of pip's output above): PyPI must be
  reachable (or a mirror set with PIP_INDEX_URL), and every pin must have a wheel or build for this Python.
  Fix the cause and run 'bash $ME' again."
}

# shellcheck source=scripts/venv-lib.sh
source "$ROOT/scripts/venv-lib.sh"
ensure_venv
if [ "$INSTALLED" = 1 ]; then
  echo "bench: .venv-bench ready ($("$VPY" -c 'import prefect, prefect_dask, distributed; print(f"prefect {prefect.__version__}, prefect-dask {prefect_dask.__version__}, distributed {distributed.__version__}")'))"
fi
