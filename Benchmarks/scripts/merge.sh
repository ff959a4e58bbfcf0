#!/usr/bin/env bash
# `coffer git merge BASE OURS THEIRS PATH` (git's merge driver), whole process, on a 10,000-entry
# vault where each branch changed 10 different entries. Goal (issue "Benchmarks"): < 100 ms beyond
# one unlock.
#
# Two key sources, as a driver without a terminal has them:
#   identity     COFFER_IDENTITY_FILE: the unlock is one X25519 (no KDF)
#   passphrase   COFFER_PASSPHRASE_FILE with a tiny Argon2id (1 pass, 8 MiB)
# "One unlock" is measured as `coffer get NAME` with that key minus `coffer verify` without one
# (slot opened, one value opened); the merge opens both sides with a single unlock.
#
# Usage: Benchmarks/scripts/merge.sh [ENTRIES] [CHANGED]   (COFFER=path to skip the build; RUNS=N)
set -euo pipefail
source "$(dirname "$0")/common.sh"

ENTRIES=${1:-10000}
CHANGED=${2:-10}
RUNS=${RUNS:-30}
need_command hyperfine hyperfine
need_command python3 python3
C=$(coffer_binary)
make_workspace
write_secrets "$ENTRIES" "$WORK/secrets.env"

# Lines FIRST..FIRST+CHANGED-1 of the secrets with new values: one branch's changes.
changes() { # FIRST FILE
    python3 - "$1" "$CHANGED" "$2" <<'PY'
import sys
first, count, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
with open(path, "w") as out:
    for i in range(first, first + count):
        out.write(f"svc.key.{i}=changed-on-branch-{first}-{i:06d}-{'x' * 16}\n")
PY
}
changes 100 "$WORK/ours.env"
changes 200 "$WORK/theirs.env"

# base, ours and theirs for one key source; KEYARGS unlock it.
branches() { # DIR KEYARGS...
    local dir=$1; shift
    mkdir -p "$dir"
    if [ "$1" = --identity ]; then
        "$C" init --vault "$dir/base.coffer" --recipient "$(cat "$WORK/id.pub")" 2>/dev/null
    else
        "$C" init --vault "$dir/base.coffer" --kdf-ops 1 --kdf-memory 8 --passphrase-file "$WORK/passphrase" 2>/dev/null
    fi
    # Writes by identity to a vault a machine never confirmed need its pin (no silent first use).
    export COFFER_VAULT_PIN="${COFFER_VAULT_PIN:-} $(env -u COFFER_VAULT_PIN "$C" pin --vault "$dir/base.coffer")"
    "$C" import "$WORK/secrets.env" --vault "$dir/base.coffer" "$@" 2>/dev/null
    cp "$dir/base.coffer" "$dir/ours.coffer"
    cp "$dir/base.coffer" "$dir/theirs.coffer"
    # Each branch is its own line of history: separate trust stores, as on two machines.
    XDG_STATE_HOME="$dir/state-ours" "$C" import "$WORK/ours.env" --overwrite --vault "$dir/ours.coffer" "$@" 2>/dev/null
    XDG_STATE_HOME="$dir/state-theirs" "$C" import "$WORK/theirs.env" --overwrite --vault "$dir/theirs.coffer" "$@" 2>/dev/null
}

say "creating base/ours/theirs with $ENTRIES entries..."
"$C" keygen -o "$WORK/id.key" > "$WORK/id.pub" 2>/dev/null
branches "$WORK/by-identity" --identity "$WORK/id.key"
branches "$WORK/by-passphrase" --passphrase-file "$WORK/passphrase"

# One merge by hand, checked: both sides' changes present, no conflict.
check_merge() { # DIR KEYARGS...
    local dir=$1; shift
    local -x XDG_STATE_HOME="$dir/state-check"
    cp "$dir/ours.coffer" "$dir/check.coffer"
    "$C" git merge "$dir/base.coffer" "$dir/check.coffer" "$dir/theirs.coffer" secrets.coffer \
        || die "merge failed in $dir"
    local a b
    a=$("$C" get svc.key.100 --vault "$dir/check.coffer" "$@")
    b=$("$C" get svc.key.200 --vault "$dir/check.coffer" "$@")
    case "$a$b" in changed-on-branch-100-*changed-on-branch-200-*) ;; *) die "merged vault lacks a side's change ($dir)";; esac
}
COFFER_IDENTITY_FILE="$WORK/id.key" check_merge "$WORK/by-identity" --identity "$WORK/id.key"
COFFER_PASSPHRASE_FILE="$WORK/passphrase" check_merge "$WORK/by-passphrase" --passphrase-file "$WORK/passphrase"
check_quiet

H=(-N --warmup 3 --runs "$RUNS")
startup=$(median_ms version "${H[@]}" -- "$C --version")
declare -A merge open unlocked
for source in identity passphrase; do
    dir="$WORK/by-$source"
    if [ "$source" = identity ]; then
        export COFFER_IDENTITY_FILE="$WORK/id.key"; unset COFFER_PASSPHRASE_FILE
        key="--identity $WORK/id.key"
    else
        export COFFER_PASSPHRASE_FILE="$WORK/passphrase"; unset COFFER_IDENTITY_FILE
        key="--passphrase-file $WORK/passphrase"
    fi
    merge[$source]=$(median_ms "merge-$source" "${H[@]}" --prepare "cp $dir/ours.coffer $dir/work.coffer" -- \
        "$C git merge $dir/base.coffer $dir/work.coffer $dir/theirs.coffer secrets.coffer")
    open[$source]=$(median_ms "verify-$source" "${H[@]}" -- "env -u COFFER_SESSION -u COFFER_IDENTITY_FILE -u COFFER_PASSPHRASE_FILE $C verify --vault $dir/base.coffer")
    unlocked[$source]=$(median_ms "get-$source" "${H[@]}" -- "$C get svc.key.5 --vault $dir/base.coffer $key")
done
unset COFFER_IDENTITY_FILE COFFER_PASSPHRASE_FILE
check_quiet

calc() { python3 -c "import sys; a=sys.argv[1:]; print('n/a' if 'n/a' in a else '%.1f' % ($1))" "${@:2}"; }
size=$(stat -c %s "$WORK/by-identity/base.coffer")
cat <<EOF

coffer git merge, whole process: $ENTRIES entries ($size bytes), $CHANGED changed on each side, median of $RUNS runs ($(date -u +%Y-%m-%d), $(nproc) cores)

| key source | merge ms | open one version ms (verify) | one unlock ms (get - verify) | merge - one unlock ms | goal < 100 ms |
|------------|---------:|-----------------------------:|-----------------------------:|----------------------:|---------------|
EOF
for source in identity passphrase; do
    u=$(calc 'float(a[0])-float(a[1])' "${unlocked[$source]}" "${open[$source]}")
    beyond=$(calc 'float(a[0])-float(a[1])' "${merge[$source]}" "$u")
    verdict=$(python3 -c 'import sys; v=sys.argv[1]; print("n/a" if v=="n/a" else ("met" if float(v) < 100 else "NOT met"))' "$beyond")
    echo "| $source | ${merge[$source]} | ${open[$source]} | $u | $beyond | $verdict |"
done
echo
echo "start-up (coffer --version): $startup ms"

# Peak memory of one merge (identity), next to the goal's budget of 3 x file size.
if [ -x /usr/bin/time ]; then
    cp "$WORK/by-identity/ours.coffer" "$WORK/by-identity/work.coffer"
    COFFER_IDENTITY_FILE="$WORK/id.key" /usr/bin/time -f '%M' -o "$WORK/rss" \
        "$C" git merge "$WORK/by-identity/base.coffer" "$WORK/by-identity/work.coffer" "$WORK/by-identity/theirs.coffer" secrets.coffer
    echo "peak memory of one merge (max RSS): $(( $(tail -n 1 "$WORK/rss") / 1024 )) MiB; 3 x file size = $(( 3 * size / 1048576 )) MiB"
fi
