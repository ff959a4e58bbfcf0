#!/usr/bin/env bash
# What masking adds to `coffer run` (issue 20's goals: under 64 MiB of peak memory and under
# 0.5 s of set-up), whole process: peak RSS and wall time of `run --mask -- true` next to
# `run --no-mask -- true` (output to a pipe in both), for
#   - 10,000 secrets of 44 characters (the vault benchmarks' values)
#   - one binary secret of 126 KiB without NUL bytes (Linux caps one environment string at
#     128 KiB including its name, so the masker benchmark's 128 KiB value cannot reach a process)
#
# Usage: Benchmarks/scripts/run-masking.sh   (COFFER=path to skip the build)
set -euo pipefail
source "$(dirname "$0")/common.sh"

need_command python3 python3
[ -x /usr/bin/time ] || { apt_install time || true; }
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian package 'time')"
C=$(coffer_binary)
make_workspace
check_quiet

make_vault 10000 "$WORK/many.coffer"
"$C" init --vault "$WORK/big.coffer" --kdf-ops 1 --kdf-memory 8 --passphrase-file "$WORK/passphrase" 2>/dev/null
python3 -c 'import random, sys; r = random.Random(20); sys.stdout.buffer.write(bytes(r.randrange(1, 256) for _ in range(126 * 1024)))' \
    > "$WORK/big.bin"
"$C" set big.secret --from-file "$WORK/big.bin" --vault "$WORK/big.coffer" --passphrase-file "$WORK/passphrase" 2>/dev/null

# Prints "peak-KiB seconds" of the best (lowest time) of 5 runs.
measure() { # VAULT MASK-FLAG
    for _ in 1 2 3 4 5; do
        /usr/bin/time -f '%M %e' -o "$WORK/time" "$C" run --vault "$1" --passphrase-file "$WORK/passphrase" "$2" -- true \
            | cat >/dev/null
        cat "$WORK/time"
    done | sort -k2 -n | head -1
}

printf '\n| vault | --no-mask: peak KiB, s | --mask: peak KiB, s | added by masking |\n|---|---|---|---|\n'
for vault in many big; do
    read -r plain_kib plain_s < <(measure "$WORK/$vault.coffer" --no-mask)
    read -r mask_kib mask_s < <(measure "$WORK/$vault.coffer" --mask)
    awk -v v="$vault" -v pk="$plain_kib" -v ps="$plain_s" -v mk="$mask_kib" -v ms="$mask_s" \
        'BEGIN { printf "| %s | %s, %s | %s, %s | %.1f MiB, %.2f s |\n", v, pk, ps, mk, ms, (mk - pk) / 1024, ms - ps }'
done
