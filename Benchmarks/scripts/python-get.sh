#!/usr/bin/env bash
# `get` of one secret from Python on a 10,000-entry vault with a session: through the C ABI
# (coffer.Vault over libcoffer.so: open, unlock with the session, get, close) against the CLI
# started from Python (subprocess.run of `coffer get NAME`), in the same Python process, same
# run, interleaved so that both see the same machine load. Prints both medians and the ratio, and
# the time of a get on a handle kept open and unlocked (what a long-running Python program pays).
#
# Usage: Benchmarks/scripts/python-get.sh [ENTRIES]   (COFFER=path to skip the CLI build;
# LIBCOFFER=path to skip `make lib`; RUNS=N, default 200)
set -euo pipefail
source "$(dirname "$0")/common.sh"

ENTRIES=${1:-10000}
RUNS=${RUNS:-200}
need_command python3 python3
C=$(coffer_binary)
if [ -z "${LIBCOFFER:-}" ]; then
    say "building libcoffer.so (make lib)..."
    make -C "$BENCH_ROOT" --no-print-directory lib >&2 || die "make lib failed"
    LIBCOFFER="$BENCH_ROOT/.build/lib/release/libCofferC.so"
fi
make_workspace
V="$WORK/secrets.coffer"
NAME="svc.key.$((ENTRIES / 2))"

say "creating a vault of $ENTRIES entries..."
make_vault "$ENTRIES" "$V"
eval "$("$C" unlock --vault "$V" --passphrase-file "$WORK/passphrase" 2>/dev/null)"
[ -n "${COFFER_SESSION:-}" ] || die "coffer unlock did not print a session token"
check_quiet

COFFER_LIBRARY="$LIBCOFFER" PYTHONPATH="$BENCH_ROOT/python/src" python3 - "$C" "$V" "$NAME" "$RUNS" <<'PY'
import statistics, subprocess, sys, time
import coffer

cli, vault_path, name, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def through_library():
    with coffer.Vault(vault_path) as vault:
        vault.unlock(session=True)
        return vault.get(name)

def through_cli():
    return subprocess.run([cli, "get", name, "--vault", vault_path], capture_output=True, check=True).stdout

held = coffer.Vault(vault_path).unlock(session=True)

def through_held_handle():
    return held.get(name)

assert through_library() == through_cli() == through_held_handle()
library, command, handle = [], [], []
for _ in range(5):
    through_library(); through_cli()
for _ in range(runs):
    for measure, times in ((through_library, library), (through_cli, command), (through_held_handle, handle)):
        start = time.perf_counter()
        measure()
        times.append((time.perf_counter() - start) * 1000)
lib_ms, cli_ms, held_ms = (statistics.median(times) for times in (library, command, handle))
print(f"get from Python, {runs} runs each, median: C ABI {lib_ms:.2f} ms (open, session, get, close), "
      f"CLI via subprocess {cli_ms:.2f} ms, ratio {cli_ms / lib_ms:.1f}x; "
      f"get on a handle kept open {held_ms * 1000:.0f} us")
PY
