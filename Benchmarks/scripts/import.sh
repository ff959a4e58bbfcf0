#!/usr/bin/env bash
# `coffer import FILE` of N new entries into an empty vault, whole process, names in random order
# (sorted input would hide an insertion per entry). Goal (issue 21): 100,000 entries under 2 s,
# 1,000,000 under 30 s.
#
# Usage: Benchmarks/scripts/import.sh [N...]   (default 100000 1000000; COFFER=path to skip the build)
set -euo pipefail
source "$(dirname "$0")/common.sh"

need_command python3 python3
[ -x /usr/bin/time ] || need_command time time
C=$(coffer_binary)
make_workspace
check_quiet

for count in "${@:-100000 1000000}"; do
    for n in $count; do
        python3 - "$n" "$WORK/import-$n.env" <<'PY'
import random, sys
count, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(20261207)
names = [f"svc.key.{i}" for i in range(count)]
rng.shuffle(names)
with open(path, "w") as out:
    out.writelines(f"{n}={rng.getrandbits(128):032x}\n" for n in names)
PY
        vault="$WORK/import-$n.coffer"
        "$C" init --vault "$vault" --kdf-ops 1 --kdf-memory 8 --passphrase-file "$WORK/passphrase" 2>/dev/null
        load=$(cut -d' ' -f1 /proc/loadavg)
        /usr/bin/time -f "$n entries: %e s wall, %U s user + %S s sys, peak %M KiB, load $load before" \
            "$C" import "$WORK/import-$n.env" --vault "$vault" --passphrase-file "$WORK/passphrase" 2>&1 | grep entries
    done
done
