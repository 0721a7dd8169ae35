# One way to make a pinned, repo-local Python environment, shared by scripts/setup-python.sh (.venv: the bridge and
# its tests) and bench/setup-prefect.sh (.venv-bench: benchmarks only). Source it, set the variables, define
# venv_install (the pip commands, output to "$LOG", `|| fail "..."` on each), then call ensure_venv.
#   ME        the calling script, for messages         PREFIX     message prefix ("daskflow", "bench")
#   VENV      the environment's directory             STAMP      file in it holding the hash of INPUTS once complete
#   INPUTS    files whose contents make it up to date (array)
#   BASE      base interpreter; BASE_VAR the variable that picks another one (for messages)
#   PINNED_ON the Python the pins were resolved on ("" if any >= 3.10 will do)
#   MODULES   modules it must have (array): found without importing on the fast path, imported after installing
#   FRESH     1: start from scratch when INPUTS changed; 0: install over the old environment
#   WHAT      what gets installed, for the progress line
# Idempotent and silent when up to date; sets INSTALLED=1 when it installed.

VPY="$VENV/bin/python"
INSTALLED=0

die() { printf '%s: %s\n' "$PREFIX" "$*" >&2; exit 1; }

_venv_hash() {
  if command -v sha256sum >/dev/null 2>&1; then cat "${INPUTS[@]}" | sha256sum | cut -d' ' -f1
  else cat "${INPUTS[@]}" | shasum -a 256 | cut -d' ' -f1; fi
}

# Cheap health check (no heavy imports, so the up-to-date path stays well under a second).
_venv_healthy() {
  [ -x "$VPY" ] && "$VPY" - "${MODULES[@]}" >/dev/null 2>&1 <<'PY'
import sys, importlib.util as u
sys.exit(0 if sys.version_info >= (3, 10) and all(u.find_spec(m) for m in sys.argv[1:]) else 1)
PY
}

_venv_current() { [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && _venv_healthy; }

ensure_venv() {
  WANT="$(_venv_hash)"
  _venv_current && return 0
  # Serialize concurrent runs (e.g. `npm start` and `npm test` at once) when flock is available.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"${TMPDIR:-/tmp}/daskflow-$(basename "$VENV")-$(printf '%s' "$VENV" | cksum | cut -d' ' -f1).lock"
    flock 9
    _venv_current && return 0
  fi

  local want_py="Python ${PINNED_ON:->= 3.10}"
  command -v "$BASE" >/dev/null 2>&1 || die "no Python interpreter found ('$BASE' is not on PATH).
  Install $want_py (e.g. 'sudo apt-get install python3 python3-venv' or from https://www.python.org),
  or set $BASE_VAR=/path/to/python3 and run 'bash $ME' again."
  local found
  found="$("$BASE" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo unknown)"
  "$BASE" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' >/dev/null 2>&1 \
    || die "Python >= 3.10 is required, but '$BASE' is Python $found.
  Install $want_py, or set $BASE_VAR=/path/to/python3 and run 'bash $ME' again."
  if [ -n "$PINNED_ON" ] && [ "$found" != "$PINNED_ON" ]; then
    echo "$PREFIX: note: the pins were resolved on Python $PINNED_ON; '$BASE' is $found (pip may not find every pinned wheel)." >&2
  fi

  # Rebuilt from scratch: an environment whose interpreter no longer runs (base Python removed or upgraded), one
  # that lost its packages although its stamp is current, and with FRESH=1 an outdated one.
  if [ -d "$VENV" ] && { ! "$VPY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' >/dev/null 2>&1 \
       || { [ -f "$STAMP" ] && { [ "$FRESH" = 1 ] || [ "$(cat "$STAMP")" = "$WANT" ]; }; }; }; then
    rm -rf "$VENV"
  fi

  LOG="$(mktemp "${TMPDIR:-/tmp}/daskflow-$(basename "$VENV").XXXXXX.log")"
  trap 'rm -f "$LOG"' EXIT
  echo "$PREFIX: installing $WHAT into $(basename "$VENV") using $BASE ($found); this takes a minute or two"
  rm -f "$STAMP"
  if [ ! -x "$VPY" ]; then
    "$BASE" -m venv "$VENV" >"$LOG" 2>&1 || { rm -rf "$VENV"; fail "could not create $VENV with '$BASE -m venv'.
  On Debian/Ubuntu install the venv module ('sudo apt-get install python3-venv'), or set $BASE_VAR to another
  Python >= 3.10, then run 'bash $ME' again."; }
  fi
  export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
  venv_install
  local imports
  imports="$(IFS=,; echo "${MODULES[*]}")"
  "$VPY" -c "import $imports" >>"$LOG" 2>&1 \
    || fail "the environment in $VENV does not import $imports (output above); delete it and run 'bash $ME' again."
  echo "$WANT" >"$STAMP"
  INSTALLED=1
}

fail() { tail -n 60 "$LOG" >&2; die "$1"; }
