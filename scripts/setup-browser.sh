#!/usr/bin/env bash
# Installs Debian's chromium for the UI's browser tests (test/ui/) when it is missing. playwright-core never
# downloads a browser; the tests drive /usr/bin/chromium (or $DASKFLOW_CHROMIUM). Idempotent: silent when present.
set -euo pipefail
browser="${DASKFLOW_CHROMIUM:-/usr/bin/chromium}"
[ -x "$browser" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "setup-browser: $browser is missing. Install Debian's chromium as root: apt-get install -y --no-install-recommends chromium (or set DASKFLOW_CHROMIUM to a Chromium binary)." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "setup-browser: $browser is missing and this machine has no apt-get: install Chromium and set DASKFLOW_CHROMIUM to its binary." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y --no-install-recommends chromium; }
[ -x "$browser" ] || { echo "setup-browser: apt-get ran but $browser is still missing." >&2; exit 1; }
