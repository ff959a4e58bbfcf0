#!/usr/bin/env bash
# The history check (Specs/git.md): `coffer verify --history` over a vault file with COMMITS
# versions in git (default 1,000; a rotation every 100 and a merge every 250 commits among them),
# and what the automatic check costs an ordinary command: `coffer list` when the key recorded in
# the history state matches (nothing run) and when it does not (the whole history checked once).
#
# Usage: Benchmarks/scripts/history.sh [COMMITS] [ENTRIES]   (COFFER=path to skip the build; RUNS=N)
set -euo pipefail
source "$(dirname "$0")/common.sh"

COMMITS=${1:-1000}
ENTRIES=${2:-100}
RUNS=${RUNS:-10}
need_command hyperfine hyperfine
C=$(coffer_binary)
make_workspace
export COFFER_PASSPHRASE_FILE="$WORK/passphrase"
export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
write_secrets "$ENTRIES" "$WORK/secrets.env"

say "building a history of $COMMITS commits ($ENTRIES entries)..."
repo="$WORK/repo"
git init -q -b main "$repo"
cd "$repo"
"$C" git setup 2>/dev/null
"$C" init --kdf-ops 1 --kdf-memory 8 2>/dev/null
"$C" import "$WORK/secrets.env" 2>/dev/null
git add -A && git commit -qm init
for i in $(seq 2 "$COMMITS"); do
    if [ $((i % 250)) = 0 ]; then
        # A branch with one change, merged through the driver: two commits (the change, the merge).
        git checkout -qb "b$i"
        printf 'branch-%06d\n' "$i" | "$C" set "branch.$i" 2>/dev/null
        git commit -qam "branch $i"
        git checkout -q main
        printf 'main-%06d\n' "$i" | "$C" set "main.$i" 2>/dev/null
        git commit -qam "main $i"
        git merge -q --no-edit "b$i" >/dev/null
    elif [ $((i % 100)) = 0 ]; then
        "$C" rotate 2>/dev/null
        git commit -qam "rotate $i"
    else
        printf 'value-%06d\n' "$i" | "$C" set "svc.key.$((i % ENTRIES))" --overwrite 2>/dev/null
        git commit -qam "change $i"
    fi
done
commits=$(git rev-list --count HEAD)
"$C" verify --history
check_quiet

state="$XDG_STATE_HOME/coffer/history"
H=(-N --warmup 2 --runs "$RUNS")
history_ms=$(median_ms history "${H[@]}" -- "$C verify --history")
recorded_ms=$(median_ms list-recorded "${H[@]}" -- "$C list")
first_ms=$(median_ms list-first "${H[@]}" --prepare "rm -f $state" -- "$C list")
check_quiet
size=$(stat -c %s secrets.coffer)
cat <<EOF

history check: $commits commits, $(git log --format=%H -- secrets.coffer | wc -l) of them changing the vault file ($size bytes now), median of $RUNS runs ($(date -u +%Y-%m-%d), $(nproc) cores)

| what | ms |
|------|---:|
| coffer verify --history (every edge, every version verified) | $history_ms |
| coffer list, key as recorded (no check) | $recorded_ms |
| coffer list, no record (the whole history checked once) | $first_ms |
EOF
