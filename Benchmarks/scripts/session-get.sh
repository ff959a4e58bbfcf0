#!/usr/bin/env bash
# `coffer get NAME` in a fresh process with a valid session, on a 10,000-entry vault (release
# build), and where the time goes. Goal (issue "Benchmarks"): median < 10 ms.
#
# Each part is its own command, timed by hyperfine (-N: no shell in between), so nothing is
# instrumented and the binary is the one users run:
#   start-up      coffer --version                      process start, runtime, argument parsing
#   open          coffer verify (no session, no key)    + read, parse, key chain and signature check, trust store
#   get/session   coffer get NAME  ($COFFER_SESSION)    + session file read/re-sealed, master key check, one value opened
#   get/KDF       coffer get NAME --passphrase-file     + Argon2id (tiny here: 1 pass, 8 MiB) instead of the session
# Differences between consecutive rows give the cost of each step. Where perf is installed, a
# sampled profile of 100 `get` runs then splits the time into start-up, kernel (exec, page faults,
# reading the file), MAC, entry checks and the session and value themselves.
#
# Usage: Benchmarks/scripts/session-get.sh [ENTRIES]   (COFFER=path to skip the build; RUNS=N)
set -euo pipefail
source "$(dirname "$0")/common.sh"

ENTRIES=${1:-10000}
RUNS=${RUNS:-60}
need_command hyperfine hyperfine
need_command python3 python3
C=$(coffer_binary)
make_workspace
V="$WORK/secrets.coffer"
NAME="svc.key.$((ENTRIES / 2))"

say "creating a vault of $ENTRIES entries..."
make_vault "$ENTRIES" "$V"
size=$(stat -c %s "$V")
eval "$("$C" unlock --vault "$V" --passphrase-file "$WORK/passphrase" 2>/dev/null)"
[ -n "${COFFER_SESSION:-}" ] || die "coffer unlock did not print a session token"
"$C" get "$NAME" --vault "$V" >/dev/null || die "coffer get with the session failed"
check_quiet

H=(-N --warmup 5 --runs "$RUNS")
startup=$(median_ms version "${H[@]}" -- "$C --version")
inspect=$(median_ms inspect "${H[@]}" -- "$C inspect --vault $V")
open=$(median_ms verify "${H[@]}" -- "env -u COFFER_SESSION $C verify --vault $V")
get=$(median_ms get-session "${H[@]}" -- "$C get $NAME --vault $V")
getkdf=$(median_ms get-passphrase "${H[@]}" -- "env -u COFFER_SESSION $C get $NAME --vault $V --passphrase-file $WORK/passphrase")
check_quiet

part() { python3 -c 'import sys; a,b=sys.argv[1],sys.argv[2]; print("n/a" if "n/a" in (a,b) else "%.1f" % (float(a)-float(b)))' "$1" "$2"; }
verdict=$(python3 -c 'import sys; v=sys.argv[1]; print("n/a" if v=="n/a" else ("met" if float(v) < 10 else "NOT met"))' "$get")

cat <<EOF

coffer get, fresh process, $ENTRIES entries ($size bytes), median of $RUNS runs ($(date -u +%Y-%m-%d), $(nproc) cores)

| command                                   | median ms | step                                   | step ms |
|-------------------------------------------|----------:|----------------------------------------|--------:|
| coffer --version                          | $startup | start-up                               | $startup |
| coffer inspect                            | $inspect | (open, plus formatting the slot table) |         |
| coffer verify (no key, no session)        | $open | read + parse + verify + trust store    | $(part "$open" "$startup") |
| coffer get NAME (session)                 | $get | session unlock + open one value        | $(part "$get" "$open") |
| coffer get NAME --passphrase-file (tiny KDF) | $getkdf | Argon2id 1 pass/8 MiB instead of session | $(part "$getkdf" "$open") |

goal: coffer get with a session < 10 ms: $get ms -> $verdict
EOF

# Inside the read: the syscalls that wait on the disk (every open rewrites the trust store, fsynced).
if command -v strace >/dev/null; then
    strace -f -T -e trace=fsync,fdatasync,rename -o "$WORK/strace" "$C" get "$NAME" --vault "$V" >/dev/null 2>&1 || true
    python3 - "$WORK/strace" <<'PY'
import re, sys
calls = [(m.group(1), float(m.group(2))) for m in (re.search(r"(fsync|fdatasync|rename)\(.*<([0-9.]+)>", l) for l in open(sys.argv[1])) if m]
fsyncs = [t for c, t in calls if c != "rename"]
print(f"\nin one coffer get (session), under strace: {len(fsyncs)} fsync calls, {sum(fsyncs) * 1000:.1f} ms waiting on them; "
      f"{sum(1 for c, _ in calls if c == 'rename')} renames (the session file is rewritten at most once a second, the trust store only when it changes)")
PY
fi

# Where the time of `coffer get` (session) goes, from perf's samples over 100 runs (self time, by
# shared object and symbol). libsodium's symbols are stripped, but in a get it does the whole-file
# MAC (BLAKE2b over the file, one Ed25519 check); opening the session and the value seals < 1 KB.
if command -v perf >/dev/null && perf record -q -F 20000 -o "$WORK/perf.data" -- \
    sh -c "for i in \$(seq 100); do \"$C\" get $NAME --vault $V >/dev/null; done" >/dev/null 2>&1; then
    perf report -i "$WORK/perf.data" --no-children --sort dso,sym --stdio -q 2>/dev/null | python3 -c '
import re, sys
buckets = {}
order = ["start-up: loader, Swift runtime, ArgumentParser", "kernel: exec, page faults, reading the file, exit",
         "MAC: libsodium (BLAKE2b of the file, Ed25519)", "checking the 10,000 entries (CofferCodec)",
         "session and value (Coffer, CofferCrypto)", "libc", "other"]
for line in sys.stdin:
    m = re.match(r"\s*([0-9.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)", line)
    if not m: continue
    share, dso, sym = float(m.group(1)), m.group(2), m.group(4)
    if dso.startswith("ld-linux") or (dso == "coffer" and (sym.startswith("swift_") or "ArgumentParser" in sym or "swift::" in sym)):
        key = order[0]
    elif dso.startswith("[kernel"): key = order[1]
    elif dso.startswith("libsodium"): key = order[2]
    elif "CofferCodec" in sym: key = order[3]
    elif "Coffer" in sym: key = order[4]
    elif dso.startswith("libc") or dso.startswith("libm"): key = order[5]
    else: key = order[6]
    buckets[key] = buckets.get(key, 0) + share
print("\nwhere the time of coffer get (session) goes (perf, self time, 100 runs):")
for key in order:
    print(f"  {buckets.get(key, 0):5.1f}%  {key}")
'
else
    say "(perf not available: no breakdown; apt-get install linux-perf)"
fi
