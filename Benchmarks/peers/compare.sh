#!/usr/bin/env bash
# coffer next to its peers, whole process, medians: coffer and age timed in alternation (round
# after round, each command once per round: scripts/alternate.py), so that the shared machine's
# load weighs on both alike and their ratio holds; KeePassXC and ansible-vault (slow) by hyperfine.
# The 1-minute load before and after every alternating block is in the report.
#   age (one file encrypted to an X25519 recipient), KeePassXC (keepassxc-cli, one .kdbx),
#   ansible-vault (one encrypted YAML file), coffer (passphrase slot; with and without a session).
#   The re-key block times coffer twice: with the passphrase (Argon2id, 5-7 ms of its figure) and
#   with age's own X25519 identity file, through a recipient slot added for its key (no KDF: the
#   like-for-like figure next to age's re-encryption), and beside both the floor: rekey-floor.c,
#   only the work a re-key of this format requires (open, seal and check-open every entry, hash
#   and sign twice, write, read back, fsync), in C on libsodium, on a file of the vault's size.
# For N = 100, 1,000 and 10,000 secrets (names svc.key.I, 44-character values):
#   create a vault of N secrets; read one secret in a fresh process; overwrite one; change the
#   passphrase; re-key. The KDF's cost is reported separately: operations run with each tool's
#   cheapest KDF setting (coffer: Argon2id 1 pass/8 MiB; KeePassXC: import's default, AES-KDF with
#   1,000,000 rounds, cheaper here than its lowest --decryption-time of 100 ms; ansible-vault: its
#   fixed PBKDF2; age: X25519, no KDF).
# An operation a tool does not have is reported as such, with the reason.
#
# Installs what is missing: apt (age, keepassxc, hyperfine), pip (ansible-core).
#
# Usage: Benchmarks/peers/compare.sh
#   SIZES="100 1000 10000"  RUNS=10 (coffer, age)  SLOW_RUNS=5 (KeePassXC, ansible-vault)
#   PEERS="age keepassxc ansible-vault" (the peers to run; `make compare` also runs PEERS=age at
#   SIZES="1000 10000 100000" for the whole-command figures of get, set and rotate)
#   KDF_COSTS=0 (skip the KDF section)  COFFER=path (skip the build)  OUT=file.md (also write the tables there)  KEEP=1
set -uo pipefail
source "$(dirname "$0")/../scripts/common.sh"

SIZES=${SIZES:-100 1000 10000}
RUNS=${RUNS:-10}
SLOW_RUNS=${SLOW_RUNS:-5}
PEERS=${PEERS:-age keepassxc ansible-vault}
KDF_COSTS=${KDF_COSTS:-1}

# MARK: peers
need_command hyperfine hyperfine
need_command python3 python3
declare -A HAVE
HAVE[coffer]=1
for tool in age keepassxc-cli ansible-vault; do
    case " $PEERS " in
        *" ${tool%-cli} "*) ;;
        *) HAVE[$tool]=0; continue ;;
    esac
    if ! command -v "$tool" >/dev/null; then
        say "installing $tool..."
        case $tool in
            age) apt_install age ;;
            keepassxc-cli) apt_install keepassxc ;;
            ansible-vault)
                python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
                python3 -m pip install -q ansible-core >/dev/null 2>&1 \
                    || python3 -m pip install -q --break-system-packages ansible-core >/dev/null 2>&1 \
                    || python3 -m pip install -q --user ansible-core >/dev/null 2>&1
                export PATH="$PATH:$HOME/.local/bin" ;;
        esac
    fi
    if command -v "$tool" >/dev/null; then HAVE[$tool]=1; else HAVE[$tool]=0; say "NOTE: $tool is not available: its columns say so"; fi
done
# ansible-vault lives in the user's HOME; keep its path before HOME moves to the workspace.
ANSIBLE_VAULT=$(command -v ansible-vault || echo ansible-vault)

C=$(coffer_binary) || exit 1
make_workspace
export ANSIBLE_LOCAL_TEMP="$WORK/ansible-tmp" ANSIBLE_HOME="$WORK/ansible"
PW="$WORK/passphrase"
"$C" keygen -o "$WORK/age.key" > "$WORK/age.pub" 2>/dev/null
PUB=$(cat "$WORK/age.pub")
printf 'overwritten-value-0123456789abcdefghijklmnopq' > "$WORK/value"
check_quiet

# Small helper scripts for the peers' pipelines, so hyperfine's command lines stay plain.
mkdir -p "$WORK/bin"
cat > "$WORK/bin/age-read" <<EOF
#!/bin/sh
age -d -i "$WORK/age.key" "\$1" | grep -m1 "^\$2="
EOF
cat > "$WORK/bin/age-overwrite" <<EOF
#!/bin/sh
set -e
age -d -i "$WORK/age.key" "\$1" | sed "s|^\$2=.*|\$2=\$(cat "$WORK/value")|" | age -r "$PUB" -o "\$1.new"
mv "\$1.new" "\$1"
EOF
cat > "$WORK/bin/age-rekey" <<EOF
#!/bin/sh
set -e
# A fresh file key: decrypt and encrypt again (to the same recipient, so the next run can read it).
age -d -i "$WORK/age.key" "\$1" | age -r "$PUB" -o "\$1.new"
mv "\$1.new" "\$1"
EOF
cat > "$WORK/bin/ansible-read" <<EOF
#!/bin/sh
"$ANSIBLE_VAULT" view --vault-password-file "$PW" "\$1" | grep -m1 "^\$2:"
EOF
cat > "$WORK/bin/ansible-overwrite" <<EOF
#!/bin/sh
EDITOR="sed -i s/^\$2:.*/\$2:\\\\ '\$(cat "$WORK/value")'/" "$ANSIBLE_VAULT" edit --vault-password-file "$PW" "\$1"
EOF
cat > "$WORK/bin/kp" <<EOF
#!/bin/sh
# keepassxc-cli reads the database password (and any new one) from stdin: INPUT is one line per prompt.
input=\$1; shift
printf "\$input" | exec keepassxc-cli "\$@"
EOF
chmod +x "$WORK/bin/"*
B="$WORK/bin"
FLOOR=""
if cc -O2 "$BENCH_ROOT/Benchmarks/peers/rekey-floor.c" -lsodium -lpthread -o "$B/rekey-floor" 2>"$WORK/floor.err"; then
    FLOOR="$B/rekey-floor"
else
    say "NOTE: rekey-floor.c did not build ($(head -n 1 "$WORK/floor.err")): no floor row"
fi

RESULTS="$WORK/results.tsv"
: > "$RESULTS"
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$RESULTS"; }

# measure OP N TOOL RUNS [--prepare CMD] -- COMMAND: checks COMMAND once, then times it.
measure() {
    local op=$1 n=$2 tool=$3 runs=$4; shift 4
    local prepare=()
    if [ "$1" = --prepare ]; then prepare=(--prepare "$2"); shift 2; fi
    shift # --
    local command="$*"
    if [ "${#prepare[@]}" -gt 0 ]; then sh -c "${prepare[1]}" >/dev/null 2>&1; fi
    if ! sh -c "$command" >"$WORK/check.out" 2>&1; then
        say "  $op/$n/$tool: the command failed, not timed: $(tail -n 2 "$WORK/check.out" | tr '\n' ' ')"
        record "$op" "$n" "$tool" "failed"
        return
    fi
    local ms
    ms=$(median_ms "$op-$n-$tool" --warmup 1 --runs "$runs" "${prepare[@]}" -- "$command")
    say "  $op/$n/$tool: $ms ms"
    record "$op" "$n" "$tool" "$ms"
}
unavailable() { case " $PEERS " in *" $3 "*) record "$1" "$2" "$3" "n/a: $4" ;; esac; }

# alternate OP N RUNS NAME PREPARE COMMAND [NAME PREPARE COMMAND ...] [--status NAME CODE ...]:
# checks each command once, then times them in alternating rounds (a warm-up round first);
# PREPARE ('' for none) is untimed; --status: the exit code NAME must end with (else 0).
alternate() {
    local op=$1 n=$2 runs=$3; shift 3
    local items=()
    while [ "$#" -ge 3 ]; do
        if [ "$1" = --status ]; then items+=("${@:1:3}"); else items+=(--item "$1" "$2" "$3"); fi
        shift 3
    done
    python3 "$BENCH_ROOT/Benchmarks/scripts/alternate.py" --runs "$runs" --warmup 1 \
        --results "$RESULTS" --op "$op" --n "$n" "${items[@]}"
}
# The age items of a block, or nothing (and the n/a row) when age is missing.
age_item() { # OP N PREPARE COMMAND
    if [ "${HAVE[age]}" = 1 ]; then printf '%s\0%s\0%s\0' age "$3" "$4"; else unavailable "$1" "$2" age "not installed"; fi
}

# MARK: start-up: coffer's fixed cost next to a Swift binary that only prints, linked the same way
# (Swift runtime linked in, libsodium and libyaml, as coffer links them), and to age's.
printf 'print("1.0.0")\n' > "$WORK/bare.swift"
if swiftc -O -static-stdlib "$WORK/bare.swift" -o "$WORK/bare-swift" -Xlinker --no-as-needed -lsodium -lyaml >/dev/null 2>&1; then
    # The fixed cost (issue 22 part 1: process start to first useful work): a command given a
    # vault that does not exist stops at its first useful step, the open (exit 2). `list`: a hot
    # command in its plain spelling (HotCommands.Plain, no swift-argument-parser); `slots list`:
    # any other command (parsed on its own, HotCommands.Alone); `--version`: the whole parser.
    # `list` on an empty vault: the same with a vault opened and checked (earlier figures).
    "$C" init --vault "$WORK/empty.coffer" --kdf-ops 1 --kdf-memory 8 --passphrase-file "$PW" 2>/dev/null
    mapfile -d '' AGE < <(age_item startup - "" "age --version")
    alternate startup - "$((RUNS * 3))" "coffer --version" "" "$C --version" \
        --status "coffer list, no vault" 2 --status "coffer slots list, no vault" 2 \
        "coffer list, no vault" "" "$C list --vault $WORK/missing.coffer" \
        "coffer slots list, no vault" "" "$C slots list --vault $WORK/missing.coffer" \
        "coffer list, empty vault" "" "$C list --vault $WORK/empty.coffer" \
        "bare Swift binary, same libraries" "" "$WORK/bare-swift" "${AGE[@]}"
else
    say "NOTE: swiftc could not build the bare Swift binary: no start-up row"
fi

for n in $SIZES; do
    say "N = $n"
    D="$WORK/n$n"
    mkdir -p "$D"
    write_secrets "$n" "$D/secrets.env" env
    write_secrets "$n" "$D/secrets.yml" yaml
    write_secrets "$n" "$D/secrets.xml" keepass
    NAME="svc.key.$((n / 2))"
    TINY="--kdf-ops 1 --kdf-memory 8"

    # MARK: create
    mapfile -d '' AGE < <(age_item create "$n" "rm -f $D/create.age" "age -r $PUB -o $D/create.age $D/secrets.env")
    alternate create "$n" "$RUNS" "coffer" "rm -rf $D/create.coffer $D/create-state" \
        "export XDG_STATE_HOME=$D/create-state; $C init --vault $D/create.coffer $TINY --passphrase-file $PW 2>/dev/null && $C import $D/secrets.env --vault $D/create.coffer --passphrase-file $PW 2>/dev/null" \
        "${AGE[@]}"
    if [ "${HAVE[keepassxc-cli]}" = 1 ]; then
        measure create "$n" "keepassxc" "$SLOW_RUNS" --prepare "rm -f $D/create.kdbx" -- \
            "$B/kp 'pw\npw\n' import -q -p $D/secrets.xml $D/create.kdbx"
    else unavailable create "$n" keepassxc "not installed"; fi
    if [ "${HAVE[ansible-vault]}" = 1 ]; then
        measure create "$n" "ansible-vault" "$SLOW_RUNS" --prepare "rm -f $D/create.vault" -- \
            "$ANSIBLE_VAULT encrypt --vault-password-file $PW --output $D/create.vault $D/secrets.yml"
    else unavailable create "$n" ansible-vault "not installed"; fi

    # The vaults the other operations work on (not timed).
    V="$D/v.coffer"
    KDF="--kdf-ops 1 --kdf-memory 8" make_vault "$n" "$V"
    eval "$("$C" unlock --vault "$V" --passphrase-file "$PW" 2>/dev/null)"
    [ "${HAVE[age]}" = 1 ] && age -r "$PUB" -o "$D/v.age" "$D/secrets.env"
    [ "${HAVE[keepassxc-cli]}" = 1 ] && printf 'pw\npw\n' | keepassxc-cli import -q -p "$D/secrets.xml" "$D/v.kdbx" >/dev/null 2>&1
    [ "${HAVE[ansible-vault]}" = 1 ] && "$ANSIBLE_VAULT" encrypt --vault-password-file "$PW" --output "$D/v.vault" "$D/secrets.yml" >/dev/null 2>&1
    NOSESSION="env -u COFFER_SESSION"
    # A vault changed less than 2 s before a read is "racy" and verified in full each time
    # (Specs/fast-read.md); a user's vault is older than that: wait it out, so that the reads
    # with a session show the usual case, the file read through its verified state.
    sleep 2

    # MARK: read one
    mapfile -d '' AGE < <(age_item read "$n" "" "$B/age-read $D/v.age $NAME")
    alternate read "$n" "$RUNS" "coffer (session)" "" "$C get $NAME --vault $V" \
        "coffer (passphrase)" "" "$NOSESSION $C get $NAME --vault $V --passphrase-file $PW" "${AGE[@]}"
    if [ "${HAVE[keepassxc-cli]}" = 1 ]; then measure read "$n" keepassxc "$SLOW_RUNS" -- "$B/kp 'pw\n' show -q -s -a Password $D/v.kdbx $NAME"
    else unavailable read "$n" keepassxc "not installed"; fi
    if [ "${HAVE[ansible-vault]}" = 1 ]; then measure read "$n" ansible-vault "$SLOW_RUNS" -- "$B/ansible-read $D/v.vault $NAME"
    else unavailable read "$n" ansible-vault "not installed"; fi

    # MARK: overwrite one
    mapfile -d '' AGE < <(age_item overwrite "$n" "" "$B/age-overwrite $D/v.age $NAME")
    alternate overwrite "$n" "$RUNS" "coffer (session)" "" "$C set $NAME --overwrite --from-file $WORK/value --vault $V" \
        "coffer (passphrase)" "" "$NOSESSION $C set $NAME --overwrite --from-file $WORK/value --vault $V --passphrase-file $PW" \
        "${AGE[@]}"
    if [ "${HAVE[keepassxc-cli]}" = 1 ]; then measure overwrite "$n" keepassxc "$SLOW_RUNS" -- "$B/kp 'pw\nnew-value\n' edit -q -p $D/v.kdbx $NAME"
    else unavailable overwrite "$n" keepassxc "not installed"; fi
    if [ "${HAVE[ansible-vault]}" = 1 ]; then measure overwrite "$n" ansible-vault "$SLOW_RUNS" -- "$B/ansible-overwrite $D/v.vault $NAME"
    else unavailable overwrite "$n" ansible-vault "not installed"; fi

    # MARK: change the passphrase (to the same text: a new salt and wrapping, and the next run still opens it)
    measure passwd "$n" "coffer" "$RUNS" -- "$NOSESSION $C passwd --vault $V --passphrase-file $PW --new-passphrase-file $PW"
    unavailable passwd "$n" age "an age file has no passphrase of its own to change: re-encrypting is the re-key row (and age -p reads passphrases only from a terminal)"
    if [ "${HAVE[keepassxc-cli]}" = 1 ]; then measure passwd "$n" keepassxc "$SLOW_RUNS" -- "$B/kp 'pw\npw\npw\n' db-edit -q -p $D/v.kdbx"
    else unavailable passwd "$n" keepassxc "not installed"; fi
    if [ "${HAVE[ansible-vault]}" = 1 ]; then
        measure passwd "$n" ansible-vault "$SLOW_RUNS" -- "$ANSIBLE_VAULT rekey --vault-password-file $PW --new-vault-password-file $PW $D/v.vault"
    else unavailable passwd "$n" ansible-vault "not installed"; fi

    # MARK: re-key (a fresh data key, every secret re-encrypted); coffer with its passphrase, and
    # with the identity file age uses (a recipient slot for its key: no KDF, as age has none)
    "$C" slots add-recipient "$PUB" --vault "$V" --passphrase-file "$PW" >/dev/null 2>&1
    mapfile -d '' AGE < <(age_item rekey "$n" "" "$B/age-rekey $D/v.age")
    FLOOR_ITEM=()
    if [ -n "$FLOOR" ] && "$FLOOR" make "$D/floor.dat" "$n" 44 "$(stat -c %s "$V")"; then
        FLOOR_ITEM=("floor: required work, in C" "" "$FLOOR run $D/floor.dat")
    fi
    alternate rekey "$n" "$RUNS" "coffer (passphrase)" "" "$NOSESSION $C rotate --vault $V --passphrase-file $PW" \
        "coffer (identity)" "" "$NOSESSION $C rotate --vault $V --identity $WORK/age.key --no-default-identities" \
        "${FLOOR_ITEM[@]}" "${AGE[@]}"
    unavailable rekey "$n" keepassxc "no separate data key: every save re-encrypts the whole file under a fresh master seed, so re-keying is the passphrase change above"
    unavailable rekey "$n" ansible-vault "no separate data key: ansible-vault rekey (the passphrase row) re-encrypts the whole file"
done

# MARK: KDF cost, separately (whole process, 100 secrets)
if [ "$KDF_COSTS" = 1 ]; then
say "KDF costs"
D="$WORK/kdf"
mkdir -p "$D"
write_secrets 100 "$D/secrets.env" env
write_secrets 100 "$D/secrets.xml" keepass
KDF="--kdf-ops 1 --kdf-memory 8" make_vault 100 "$D/tiny.coffer"
KDF="--kdf interactive" make_vault 100 "$D/interactive.coffer"
KDF="--kdf moderate" make_vault 100 "$D/moderate.coffer"
measure kdf 100 "coffer get, Argon2id 1 pass/8 MiB" "$RUNS" -- "env -u COFFER_SESSION $C get svc.key.5 --vault $D/tiny.coffer --passphrase-file $PW"
measure kdf 100 "coffer get, Argon2id interactive (2 passes/64 MiB)" "$RUNS" -- "env -u COFFER_SESSION $C get svc.key.5 --vault $D/interactive.coffer --passphrase-file $PW"
measure kdf 100 "coffer get, Argon2id moderate (3 passes/256 MiB, the default)" "$SLOW_RUNS" -- "env -u COFFER_SESSION $C get svc.key.5 --vault $D/moderate.coffer --passphrase-file $PW"
if [ "${HAVE[keepassxc-cli]}" = 1 ]; then
    printf 'pw\npw\n' | keepassxc-cli import -q -p -t 100 "$D/secrets.xml" "$D/t100.kdbx" >/dev/null 2>&1
    printf 'pw\npw\n' | keepassxc-cli import -q -p "$D/secrets.xml" "$D/default.kdbx" >/dev/null 2>&1
    printf 'pw\npw\n' | keepassxc-cli db-create -q -p "$D/created.kdbx" >/dev/null 2>&1
    measure kdf 100 "keepassxc-cli --version (start-up, no KDF)" "$SLOW_RUNS" -- "keepassxc-cli --version"
    measure kdf 100 "keepassxc show, --decryption-time 100 (its lowest target)" "$SLOW_RUNS" -- "$B/kp 'pw\n' show -q -s -a Password $D/t100.kdbx svc.key.5"
    measure kdf 100 "keepassxc show, import's default KDF (used above)" "$SLOW_RUNS" -- "$B/kp 'pw\n' show -q -s -a Password $D/default.kdbx svc.key.5"
    measure kdf 0 "keepassxc db-info, db-create's default KDF (empty)" "$SLOW_RUNS" -- "$B/kp 'pw\n' db-info -q $D/created.kdbx"
    for db in t100 default created; do
        kdf=$(printf 'pw\n' | keepassxc-cli db-info -q "$D/$db.kdbx" 2>/dev/null | sed -n 's/^KDF: //p')
        record kdf-setting - "keepassxc $db.kdbx" "${kdf:-unknown}"
    done
fi
if [ "${HAVE[ansible-vault]}" = 1 ]; then
    pbkdf2=$(python3 -c 'import hashlib,time; t=time.perf_counter(); [hashlib.pbkdf2_hmac("sha256", b"pw", b"s"*32, 10000, 80) for _ in range(20)]; print("%.1f" % ((time.perf_counter()-t)/20*1000))')
    record kdf 100 "ansible-vault: PBKDF2-HMAC-SHA256, 10,000 iterations (fixed), in-process" "$pbkdf2"
fi
record kdf - "age: X25519 recipient" "n/a: no KDF (age -p would use scrypt, but reads passphrases only from a terminal)"
fi
check_quiet

# MARK: report
python3 - "$RESULTS" "$SIZES" "$(date -u +%Y-%m-%d)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY' | tee "${OUT:-/dev/null}"
import sys, collections
path, sizes, date, cores, load = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4], sys.argv[5]
rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
loads = [(n, op, value) for o, n, op, value in rows if o == "load"]
titles = {
    "create": "Create a vault of N secrets",
    "read": "Read one secret, fresh process",
    "overwrite": "Overwrite one secret",
    "passwd": "Change the passphrase",
    "rekey": "Re-key (fresh data key, all secrets re-encrypted)",
}
titles.update({"cpu-" + op: title + ": CPU time (user + system, the process and its children)" for op, title in titles.items()})
print(f"\nMedians in ms, whole process ({date}, {cores} cores, load {load}); cheapest KDF per tool (see KDF cost).")
notes = {}
for op, title in titles.items():
    table = collections.OrderedDict()
    for o, n, tool, value in rows:
        if o == op:
            table.setdefault(tool, {})[n] = value
    if not table:
        continue
    print(f"\n### {title}\n")
    print("| tool | " + " | ".join(f"N = {int(n):,}" for n in sizes) + " |")
    print("|------|" + "---:|" * len(sizes))
    for tool, values in table.items():
        cells = []
        for n in sizes:
            v = values.get(n, "")
            if v.startswith("n/a"):
                notes[(op, tool)] = v[5:]
                v = "n/a ¹" if tool != "" else v
            cells.append(v)
        print(f"| {tool} | " + " | ".join(cells) + " |")
    def number(text):
        try: return float(text)
        except ValueError: return None
    for tool, values in table.items():
        if not tool.startswith(("coffer", "floor")) or "age" not in table:
            continue
        cells = []
        for n in sizes:
            mine, theirs = number(values.get(n, "")), number(table["age"].get(n, ""))
            cells.append(f"{mine / theirs:.2f}x" if mine and theirs else "")
        if any(cells):
            print(f"| {tool} / age | " + " | ".join(cells) + " |")
    for (o, tool), why in notes.items():
        if o == op:
            print(f"\n¹ {tool}: {why}")
startup = [(tool, value) for o, n, tool, value in rows if o == "startup"]
startup_cpu = {tool: value for o, n, tool, value in rows if o == "cpu-startup"}
if startup:
    print("\n### Start-up (fixed cost of a process)\n")
    print("| command | median ms | CPU ms |")
    print("|------|----------:|---:|")
    for tool, value in startup:
        print(f"| {tool} | {value} | {startup_cpu.get(tool, '')} |")
if loads:
    print("\n1-minute load before -> after each alternating block: " + "; ".join(f"{op} {n}: {v}" for n, op, v in loads))
if any(o == "kdf" for o, *_ in rows):
    print("\n### KDF cost (separately)\n")
    print("| what | median ms |")
    print("|------|----------:|")
for o, n, tool, value in rows:
    if o == "kdf":
        print(f"| {tool} | {value} |")
for o, n, tool, value in rows:
    if o == "kdf-setting":
        print(f"| {tool}: KDF setting | {value} |")
PY
