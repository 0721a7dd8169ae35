#!/usr/bin/env bash
# What the multi-host tests and benchmark need, installed when missing, silent when in place:
#   - `ip` (iproute2) and `unshare`/`mount` (util-linux): from apt-get, only when run as root on a Debian-like system;
#   - the remote hosts' Python environment: a venv outside the repository (workers must not see the repository)
#     with `pip install ./python[node]` at the pinned versions, built once per content of python/ and cached in
#     ${DASKFLOW_TEST_VENVS:-/var/tmp/daskflow-test-venvs}/<hash>; pip's download cache in the repo's .cache/pip.
# Prints the venv's directory as its last line.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ME=test/multihost/setup.sh

missing=()
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
{ command -v unshare >/dev/null 2>&1 && command -v mount >/dev/null 2>&1; } || missing+=(util-linux mount)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "multihost setup: installing ${missing[*]} (apt-get)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 \
      || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2; }
  else
    echo "multihost setup: ${missing[*]} missing; install them (as root: apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

INPUTS=()
while IFS= read -r f; do INPUTS+=("$f"); done < <(cd "$ROOT" && find python/pyproject.toml python/requirements.lock python/daskflow_bridge \
  -type f -not -path '*/__pycache__/*' -not -name '*.pyc' | LC_ALL=C sort | sed "s|^|$ROOT/|")
HASH="$( (printf '%s\n' "${INPUTS[@]#"$ROOT/"}"; cat "${INPUTS[@]}") | sha256sum | cut -c1-16)"
VENV="${DASKFLOW_TEST_VENVS:-/var/tmp/daskflow-test-venvs}/$HASH"
mkdir -p "$(dirname "$VENV")"

PREFIX="multihost setup"
STAMP="$VENV/.daskflow-stamp"
BASE="${DASKFLOW_PYTHON:-python3}"
BASE_VAR=DASKFLOW_PYTHON
PINNED_ON=""
MODULES=(distributed dask msgpack daskflow_bridge)
FRESH=1
WHAT="the remote hosts' Python environment (pip install ./python[node])"

venv_install() {
  # A copy of python/ (not the repository path itself): a non-editable install, as on a real remote host.
  local src
  src="$(mktemp -d "${TMPDIR:-/tmp}/daskflow-bridge-src.XXXXXX")"
  cp -r "$ROOT/python/." "$src/"
  rm -rf "$src"/*.egg-info "$src"/build
  "$VPY" -m pip install -q --cache-dir "$ROOT/.cache/pip" -c "$ROOT/python/requirements.lock" "$src[node]" >>"$LOG" 2>&1 \
    || { rm -rf "$src"; fail "'pip install ./python[node]' failed (output above). Fix the cause and run 'bash $ME' again."; }
  rm -rf "$src"
}

# shellcheck source=scripts/venv-lib.sh
source "$ROOT/scripts/venv-lib.sh"
ensure_venv >&2
echo "$VENV"
