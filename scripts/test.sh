#!/usr/bin/env bash
# The whole suite: typecheck (type tests included), lint, the TypeScript tests, the Python bridge tests.
# Tests that concern Dask start real clusters; see test/dask/.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob
source scripts/node.sh # the Node of scripts/setup.sh (the machine's if >= 22.13, else the pinned one), first on PATH

echo "== typecheck"
npx tsc -p tsconfig.json --noEmit
echo "== build"
npx tsc -p tsconfig.build.json
echo "== lint"
npx eslint .
echo "== TypeScript tests"
bash scripts/setup-test-system.sh # chromium for the UI tests, PostgreSQL for the history store's
export DASKFLOW_LOGGING_LEVEL="${DASKFLOW_LOGGING_LEVEL:-WARNING}"
# Every flow the suite runs is recorded (history is on by default), into a store of this run, not the project's.
history_dir=$(mktemp -d)
trap 'rm -rf "$history_dir"' EXIT
export DASKFLOW_HISTORY_URL="${DASKFLOW_HISTORY_URL:-$history_dir/history.db}"
node --import tsx --test --test-concurrency=1 test/**/*.test.ts
echo "== Python tests"
.venv/bin/python -m pytest python/tests -q -p no:cacheprovider
