# Shared by seeds/*/scenario.sh (sourced, never run): a private sandbox and small checks.
# Every check prints "ok: WHAT" or "FAIL: WHAT (why)" and is counted; `finish` prints the tally
# and fails the script if any check failed.

passed=0
failed=0

command -v coffer >/dev/null || { echo "coffer is not on PATH: build it and put its folder first in PATH" >&2; exit 1; }

# A temporary folder with its own HOME and XDG folders, a passphrase file, and a working folder
# (the current folder from now on). Removed when the script exits.
sandbox() {
  SANDBOX=$(mktemp -d "${TMPDIR:-/tmp}/coffer-seed-XXXXXX")
  trap 'rm -rf "$SANDBOX"' EXIT
  export HOME="$SANDBOX/home" XDG_DATA_HOME="$SANDBOX/data" XDG_CONFIG_HOME="$SANDBOX/config" \
    XDG_STATE_HOME="$SANDBOX/state" XDG_CACHE_HOME="$SANDBOX/cache" XDG_RUNTIME_DIR="$SANDBOX/run"
  mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_STATE_HOME" "$XDG_CACHE_HOME" "$SANDBOX/work"
  mkdir -m 700 "$XDG_RUNTIME_DIR"
  unset COFFER_VAULT COFFER_SESSION COFFER_IDENTITY_FILE
  # Scripts and CI give the passphrase as a file; a terminal would ask for it, hidden.
  printf 'seed scenario passphrase\n' >"$SANDBOX/passphrase"
  export COFFER_PASSPHRASE_FILE="$SANDBOX/passphrase"
  cd "$SANDBOX/work"
}

# Argon2id at its cheapest: the scenarios are about behaviour, not key stretching.
tiny_kdf=(--kdf-ops 1 --kdf-memory 8)

pass() { passed=$((passed + 1)); echo "ok: $1"; }
flunk() { failed=$((failed + 1)); echo "FAIL: $1 ($2)"; }

# run_cmd CMD...: runs CMD, keeping its status in $status, stdout in $out, stderr in $err.
run_cmd() {
  if "$@" >"$SANDBOX/out" 2>"$SANDBOX/err"; then status=0; else status=$?; fi
  out=$(cat "$SANDBOX/out")
  err=$(cat "$SANDBOX/err")
}

# expect WHAT CODE CMD...: CMD exits with CODE.
expect() {
  local what=$1 code=$2
  shift 2
  run_cmd "$@"
  if [ "$status" = "$code" ]; then pass "$what"; else flunk "$what" "exit $status, wanted $code; stderr: $err"; fi
}

# expect_out WHAT EXPECTED CMD...: CMD exits 0 and prints EXPECTED (trailing newlines aside).
expect_out() {
  local what=$1 expected=$2
  shift 2
  run_cmd "$@"
  if [ "$status" = 0 ] && [ "$out" = "$expected" ]; then pass "$what"
  else flunk "$what" "exit $status, stdout '$out', wanted '$expected'; stderr: $err"; fi
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
  if [ "$2" = "$3" ]; then pass "$1"; else flunk "$1" "got '$3', wanted '$2'"; fi
}

# expect_has WHAT NEEDLE TEXT / expect_lacks WHAT NEEDLE TEXT: TEXT (does not) contain NEEDLE.
expect_has() {
  case $3 in *"$2"*) pass "$1" ;; *) flunk "$1" "'$2' not in: $3" ;; esac
}
expect_lacks() {
  case $3 in *"$2"*) flunk "$1" "'$2' found in: $3" ;; *) pass "$1" ;; esac
}

# expect_mode WHAT MODE PATH: PATH's permission bits, in octal as stat prints them.
expect_mode() {
  expect_eq "$1" "$2" "$(stat -c %a "$3" 2>&1)"
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
}
