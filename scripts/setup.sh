#!/usr/bin/env bash
# Installs what is missing on a fresh clone, and nothing when all is in place: the Node packages pinned in
# package-lock.json and the repo-local Python environment (.venv) with the pinned Dask. Both README commands run it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1; then
  echo "daskflow setup: Node.js >= 20 is required but 'node' is not on PATH. Install Node.js 20 or newer, then rerun." >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "daskflow setup: Node.js >= 20 is required, found $(node --version). Install Node.js 20 or newer, then rerun." >&2
  exit 1
fi

stamp=node_modules/.daskflow-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "daskflow setup: installing Node packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi

bash scripts/setup-python.sh
