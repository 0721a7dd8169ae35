#!/usr/bin/env bash
# Lays out the build context of docs/deploy/Dockerfile in DIR: the daskflow-bridge wheel built from python/, the
# lock file with the pinned versions, and the Dockerfile. Needs only Python (pip); Docker is needed to build the image.
#   bash docs/deploy/build-context.sh DIR
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${1:?usage: bash docs/deploy/build-context.sh DIR}"
PY="${DASKFLOW_PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
mkdir -p "$DIR/wheels"
src="$(mktemp -d)"
trap 'rm -rf "$src"' EXIT
cp -r "$ROOT/python/." "$src/"   # a copy: building in python/ would leave build/ and *.egg-info there
rm -rf "$src"/build "$src"/*.egg-info
"$PY" -m pip wheel --quiet --no-deps --cache-dir "$ROOT/.cache/pip" -w "$DIR/wheels" "$src"
cp "$ROOT/python/requirements.lock" "$ROOT/docs/deploy/Dockerfile" "$DIR/"
echo "build context in $DIR: $(cd "$DIR" && ls wheels/*.whl | tr '\n' ' ')"
echo "next: docker build -t daskflow-worker:0.1.0 $DIR"
