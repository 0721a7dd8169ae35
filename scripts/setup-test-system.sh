#!/usr/bin/env bash
# The system programs the tests drive, installed from Debian's packages when missing (silent when present):
#   chromium     the UI's browser tests (test/ui/); playwright-core never downloads a browser, it drives
#                /usr/bin/chromium (or $DASKFLOW_CHROMIUM)
#   postgresql   the history store's PostgreSQL tests, which initdb a throwaway server (test/history/postgres.ts)
# scripts/test.sh runs it; as root it installs, otherwise it says what to install.
set -euo pipefail
browser="${DASKFLOW_CHROMIUM:-/usr/bin/chromium}"
missing=()
[ -x "$browser" ] || missing+=(chromium)
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then missing+=(postgresql); fi
[ ${#missing[@]} -eq 0 ] && exit 0

say() { echo "setup-test-system: $*" >&2; }
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  say "missing: ${missing[*]}. Install them (Debian/Ubuntu, as root: apt-get install -y --no-install-recommends ${missing[*]}), or set DASKFLOW_CHROMIUM to a Chromium binary / put PostgreSQL's bin folder on PATH."
  exit 1
fi
say "installing ${missing[*]} from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
[ -x "$browser" ] || { say "apt-get ran but $browser is still missing."; exit 1; }
