#!/usr/bin/env bash
# The benchmarks (`npm run bench` runs scripts/setup.sh, then this). Figures and how to read them: bench/README.md.
#   bash bench/run.sh          # in-process runner, then daskflow vs raw Dask (alternating rounds)
#   BENCH_ROUNDS=5 bash bench/run.sh dask     # only the Dask comparison, 5 rounds per side
#   bash bench/run.sh history [dask|large|list]   # run history: recording on vs off, 100k task runs, runs list
#   bash bench/run.sh prefect | batch 100000 | shared-scheduler 10 2000 | multihost (root: network namespaces)
#   bash bench/run.sh large      # 10/40/100 MiB values vs raw Dask (BENCH_SIZES=10,40,100 BENCH_ROUNDS=3)
#   bash bench/run.sh first-touch  # what fresh memory costs on this machine, alone and while another process frees
#   BENCH_HOLD_FREED_MS=10000 bash bench/run.sh large  # the same with the VM's free page reporting held back (root)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node.sh # the machine's Node if >= 22.13, else the pinned Node 24 (fetched once into .cache/node)

if [ ! -x .venv/bin/python ]; then
  echo "bench: the repo-local Python environment is missing; run \`bash scripts/setup-python.sh\` (or \`npm run bench\`)." >&2
  exit 1
fi
# BENCH_HOLD_FREED_MS=<ms> (root, on a VM whose kernel reports free pages to its host): for this run only, freed
# memory is reported once it has stayed free that long, so the large-value figures show what they cost without the
# VM's slow re-touched pages (bench/README.md, the large-value footnote and `first_touch.py`). A setting of the machine, not of
# daskflow; put back on exit.
if [ -n "${BENCH_HOLD_FREED_MS:-}" ]; then
  hold=/sys/module/page_reporting/parameters/min_free_ms
  if ! [[ "$BENCH_HOLD_FREED_MS" =~ ^[0-9]+$ ]]; then
    echo "bench: BENCH_HOLD_FREED_MS must be a whole number of milliseconds, not '$BENCH_HOLD_FREED_MS'" >&2; exit 2
  fi
  if [ ! -w "$hold" ]; then
    echo "bench: BENCH_HOLD_FREED_MS needs root on a kernel with free page reporting ($hold); unset it to run as the machine is" >&2; exit 2
  fi
  held="$(cat "$hold")"
  trap 'echo "$held" > "$hold"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  echo "$BENCH_HOLD_FREED_MS" > "$hold"
  echo "bench: free pages reported after ${BENCH_HOLD_FREED_MS} ms free for this run (was ${held} ms)"
fi
# Like a user's project: `daskflow` is the built package (dist/), only the benchmark's own files run through tsx.
npm run --silent build
export TSX_TSCONFIG_PATH=bench/tsconfig.dist.json
# No benchmark uses TLS; a NODE_EXTRA_CA_CERTS bundle (this sandbox sets one) costs every Node process start ~80 ms
# of CPU parsing it, a cost of the machine that lands on each sidecar (Python ignores it). BENCH_KEEP_ENV=1 keeps it.
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -z "${BENCH_KEEP_ENV:-}" ]; then
  echo "bench: NODE_EXTRA_CA_CERTS unset for this run (BENCH_KEEP_ENV=1 keeps it)"
  unset NODE_EXTRA_CA_CERTS
fi
# Per-task INFO logs (state changes, worker logs) would otherwise dominate what is measured.
export DASKFLOW_LOGGING_LEVEL="${DASKFLOW_LOGGING_LEVEL:-WARNING}"

echo "machine: $(nproc) cores, $(free -h | awk '/^Mem:/ {print $2}') RAM, node $(node --version), $(.venv/bin/python --version), distributed $(.venv/bin/python -c 'import distributed; print(distributed.__version__)')"
what="${1:-all}"
[ $# -gt 0 ] && shift
case "$what" in
  all | durable | inprocess | dask | history | prefect | batch | shared-scheduler | large | first-touch | dataframe-groupby | dataframe-arrow | bag-wordcount | nested-submit | shipping-startup | shipping-cost | shipping-bundlers | multihost | limits) ;;
  *) echo "bench: unknown benchmark '$what' (all, durable, inprocess, dask, history, prefect, batch, shared-scheduler, large, first-touch, dataframe-groupby, dataframe-arrow, bag-wordcount, nested-submit, shipping-startup, shipping-cost, shipping-bundlers, multihost, limits)" >&2; exit 2 ;;
esac
if [ "$what" = all ] || [ "$what" = inprocess ]; then
  npx tsx bench/inprocess.ts
  echo
fi
if [ "$what" = all ] || [ "$what" = dask ]; then
  npx tsx bench/dask.ts
fi
# Run history (issue 24): recording on vs off on Dask, a recorded 100,000-task-run flow run, the runs list at 10,000
# runs. Not part of `all` (minutes): `bash bench/run.sh history [dask|large|list]`.
if [ "$what" = history ]; then
  npx tsx bench/history.ts "$@"
fi
# Not part of `all`: persisted results, cache hits vs computing, resume (docs/durable-runs.md).
if [ "$what" = durable ]; then
  npx tsx bench/durable.ts
fi
# Not part of `all`: installs .venv-bench (Prefect) on first use, and Prefect needs minutes per round.
if [ "$what" = prefect ]; then
  bash bench/setup-prefect.sh
  npx tsx bench/prefect-compare.ts
fi
# Not part of `all` either (minutes each): `bash bench/run.sh batch 100000`, `bash bench/run.sh shared-scheduler 10 2000`,
# `bash bench/run.sh multihost` (two network-namespace hosts; needs root).
# Code shipping (issue 9): start-up with shipping on vs raw, and what a shipment costs; bundlers compared (installs
# the compared tools into the ignored .cache/bench-bundlers on first use).
if [ "$what" = shipping-startup ] || [ "$what" = shipping-cost ] || [ "$what" = shipping-bundlers ]; then
  npx tsx "bench/$what.ts" "$@"
fi
# DataFrame: `bash bench/run.sh dataframe-groupby 5` (million rows), `bash bench/run.sh dataframe-arrow 1`.
# Also `bash bench/run.sh bag-wordcount [MB] [blockMB]`, `bash bench/run.sh nested-submit <baseline checkout>`, and
# `bash bench/run.sh multihost` (root: network namespaces), `bash bench/run.sh limits` (concurrency limits and hooks).
if [[ "$what" =~ ^(batch|shared-scheduler|dataframe-groupby|dataframe-arrow|bag-wordcount|nested-submit|multihost|limits)$ ]]; then
  npx tsx "bench/$what.ts" "$@"
fi
# Not part of `all` (minutes, and ~1 GiB of memory at 100 MiB): `bash bench/run.sh large`.
if [ "$what" = large ]; then
  npx tsx bench/large-values.ts
fi
# Not a comparison: what the large-value figures depend on (bench/README.md, `first_touch.py`).
if [ "$what" = first-touch ]; then
  .venv/bin/python bench/first_touch.py "$@"
fi
