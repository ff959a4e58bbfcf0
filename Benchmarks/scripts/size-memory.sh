#!/usr/bin/env bash
# File size and peak memory, against the goals of issue "Benchmarks":
#   - file size at 10,000 entries of 44-character values: <= 64 bytes per entry beyond name and
#     value; and next to age encrypting the same secrets as one file (NAME=VALUE lines)
#   - peak memory (max RSS of the whole process) < 3 x file size + KDF memory, at 100,000 entries,
#     for get (session), set + save, and rotate (re-key + save)
# Peak memory is /usr/bin/time's maximum resident set size; the start-up RSS (coffer --version) is
# shown too, since it is part of every figure.
#
# Usage: Benchmarks/scripts/size-memory.sh   (COFFER=path to skip the build)
set -euo pipefail
source "$(dirname "$0")/common.sh"

need_command python3 python3
need_command age age
[ -x /usr/bin/time ] || { apt_install time || true; }
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian package 'time')"
C=$(coffer_binary)
make_workspace

# MARK: size at 10k
write_secrets 10000 "$WORK/s10k.env"
"$C" init --vault "$WORK/empty.coffer" --kdf-ops 1 --kdf-memory 8 --passphrase-file "$WORK/passphrase" 2>/dev/null
make_vault 10000 "$WORK/s10k.coffer"
"$C" keygen -o "$WORK/age.key" > "$WORK/age.pub" 2>/dev/null
age -r "$(cat "$WORK/age.pub")" -o "$WORK/s10k.age" "$WORK/s10k.env"
python3 - "$WORK/s10k.env" "$WORK/empty.coffer" "$WORK/s10k.coffer" "$WORK/s10k.age" <<'PY'
import os, sys
env, empty, vault, agefile = sys.argv[1:]
rows = [line.rstrip("\n").split("=", 1) for line in open(env)]
n = len(rows)
payload = sum(len(k) + len(v) for k, v in rows)
e, v, a, p = (os.path.getsize(x) for x in (empty, vault, agefile, env))
per_entry = (v - e) / n - payload / n
print(f"\nfile size, {n} entries of 44-character values (names+values: {payload} bytes)\n")
print("| file | bytes | bytes per entry beyond name and value |")
print("|------|------:|--------------------------------------:|")
print(f"| plaintext NAME=VALUE lines | {p} | {(p - payload) / n:.1f} |")
print(f"| coffer vault (one passphrase slot; empty vault {e} bytes) | {v} | {per_entry:.1f} (+{e} once) |")
print(f"| age, X25519 recipient, same lines as one file | {a} | {(a - payload) / n:.1f} |")
print(f"\ngoal <= 64 bytes per entry beyond name and value: {per_entry:.1f} -> {'met' if per_entry <= 64 else 'NOT met'}; "
      f"coffer/age size ratio {v / a:.2f}")
PY

# MARK: peak memory at 100k
say "creating a vault of 100000 entries..."
make_vault 100000 "$WORK/s100k.coffer"
size=$(stat -c %s "$WORK/s100k.coffer")
eval "$("$C" unlock --vault "$WORK/s100k.coffer" --passphrase-file "$WORK/passphrase" 2>/dev/null)"
V="$WORK/s100k.coffer"
PW="--passphrase-file $WORK/passphrase"
rss() { # prints max RSS in KiB of the command
    /usr/bin/time -f '%M' -o "$WORK/rss" "$@" >/dev/null 2>"$WORK/rss.err" || { echo "n/a"; return; }
    tail -n 1 "$WORK/rss"
}
printf 'new-value' > "$WORK/value"
startup=$(rss "$C" --version)
get=$(rss "$C" get svc.key.50000 --vault "$V")
set_tiny=$(rss env -u COFFER_SESSION "$C" set svc.key.50000 --overwrite --from-file "$WORK/value" --vault "$V" $PW)
rotate=$(rss env -u COFFER_SESSION "$C" rotate --vault "$V" $PW)
# The same set with the interactive preset (64 MiB): the KDF's memory shows up in the peak.
"$C" passwd --vault "$V" $PW --new-passphrase-file "$WORK/passphrase" --kdf interactive 2>/dev/null
set_interactive=$(rss env -u COFFER_SESSION "$C" set svc.key.50000 --overwrite --from-file "$WORK/value" --vault "$V" $PW)

python3 - "$size" "$startup" "$get" "$set_tiny" "$rotate" "$set_interactive" <<'PY'
import sys
size = int(sys.argv[1])
startup, get, set_tiny, rotate, set_inter = sys.argv[2:]
MiB = 1 << 20
rows = [
    ("coffer --version (start-up)", startup, 0),
    ("coffer get NAME (session)", get, 0),
    ("coffer set NAME (Argon2id 1 pass, 8 MiB)", set_tiny, 8 * MiB),
    ("coffer rotate (Argon2id 1 pass, 8 MiB)", rotate, 8 * MiB),
    ("coffer set NAME (Argon2id interactive, 64 MiB)", set_inter, 64 * MiB),
]
print(f"\npeak memory (max RSS), 100000 entries, file {size} bytes ({size / MiB:.1f} MiB)")
print("(the Swift runtime and the binary alone take the start-up RSS; 'above start-up' subtracts it)\n")
print("| command | max RSS MiB | above start-up MiB | budget 3 x file + KDF MiB | goal (max RSS) | goal (above start-up) |")
print("|---------|------------:|-------------------:|--------------------------:|------|------|")
base = int(startup) * 1024 if startup != "n/a" else 0
for name, kib, kdf in rows:
    budget = 3 * size + kdf
    if kib == "n/a":
        print(f"| {name} | n/a | n/a | {budget / MiB:.1f} | n/a | n/a |")
        continue
    peak = int(kib) * 1024
    if name.endswith("(start-up)"):
        print(f"| {name} | {peak / MiB:.1f} | 0 | | | |")
        continue
    above = peak - base
    print(f"| {name} | {peak / MiB:.1f} | {above / MiB:.1f} | {budget / MiB:.1f} | "
          f"{'met' if peak < budget else 'NOT met'} | {'met' if above < budget else 'NOT met'} |")
PY
