#!/usr/bin/env bash
# Installs what is missing on a fresh clone, and nothing when all is in place: a Node.js the repository supports
# (scripts/node.sh), the Node packages pinned in package-lock.json and the repo-local Python environment (.venv)
# with the pinned Dask. Both README commands run it.
set -euo pipefail
cd "$(dirname "$0")/.."

# Node >= 22.13 from the machine, else the pinned Node 24 fetched from the npm registry into .cache/node (one line
# says so), first on PATH from here on: npm ci and everything after run on it.
source scripts/node.sh

stamp=node_modules/.daskflow-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "daskflow setup: installing Node packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi

bash scripts/setup-python.sh
