# Shared helpers for the whole-process benchmark scripts (sourced, not run).
#
#   COFFER=/path/to/coffer   use this binary instead of building it with `make release`
#   RUNS=N                   hyperfine runs per measurement (default per script)
#   KEEP=1                   keep the temporary folder (its path is printed)

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# apt-get install PACKAGE... when COMMAND is missing (one update per script run).
APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null || return 1
    if [ "$APT_UPDATED" = 0 ]; then $SUDO apt-get update -qq >/dev/null 2>&1 || true; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1
}

need_command() { # COMMAND DEBIAN-PACKAGE
    command -v "$1" >/dev/null && return 0
    say "installing $2 (for $1)..."
    apt_install "$2" || true
    command -v "$1" >/dev/null || die "$1 is missing and '$2' could not be installed"
}

# The release build of the CLI, built once unless $COFFER names one.
coffer_binary() {
    if [ -n "${COFFER:-}" ]; then
        [ -x "$COFFER" ] || die "COFFER=$COFFER is not an executable"
        printf '%s\n' "$COFFER"
        return
    fi
    say "building coffer (make release)..."
    make -C "$BENCH_ROOT" --no-print-directory release >&2 || die "make release failed"
    printf '%s/coffer\n' "$(cd "$BENCH_ROOT" && swift build -c release --show-bin-path)"
}

# Warns when the machine is busy: figures taken then are not to be reported.
check_quiet() {
    local load
    load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
    if awk -v l="$load" 'BEGIN { exit !(l >= 1.0) }'; then
        say "WARNING: 1-minute load is $load (>= 1.0): other work is running; re-take these figures on a quiet machine."
    else
        say "load $load: quiet enough to measure."
    fi
}

# A fresh folder with its own HOME/XDG folders, so no session, trust record or vault of the user's is touched.
make_workspace() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/coffer-bench.XXXXXX")
    if [ "${KEEP:-0}" = 1 ]; then say "workspace: $WORK (kept)"; else trap 'rm -rf "$WORK"' EXIT; fi
    mkdir -p "$WORK/home" "$WORK/state" "$WORK/data"
    mkdir -m 700 "$WORK/run"
    export HOME="$WORK/home" XDG_RUNTIME_DIR="$WORK/run" XDG_STATE_HOME="$WORK/state" XDG_DATA_HOME="$WORK/data"
    unset COFFER_VAULT COFFER_SESSION COFFER_PASSPHRASE_FILE COFFER_IDENTITY_FILE
    printf 'correct horse battery staple\n' > "$WORK/passphrase"
    printf 'a different staple entirely\n' > "$WORK/passphrase2"
}

# secrets file: N lines `svc.key.I=<44 characters>`, in byte order, with a fixed seed.
# FORMAT: env (NAME=VALUE), yaml (NAME: VALUE) or keepass (KeePass 2 XML).
write_secrets() { # N FILE [FORMAT]
    python3 - "$1" "$2" "${3:-env}" <<'PY'
import random, sys
from xml.sax.saxutils import escape
count, path, form = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rng = random.Random(20261125)
alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
names = sorted((f"svc.key.{i}" for i in range(count)), key=lambda s: s.encode())
rows = [(n, "".join(rng.choice(alphabet) for _ in range(44))) for n in names]
with open(path, "w") as out:
    if form == "env":
        out.writelines(f"{n}={v}\n" for n, v in rows)
    elif form == "yaml":
        out.writelines(f"{n}: '{v}'\n" for n, v in rows)
    elif form == "keepass":
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<KeePassFile><Meta><Generator>coffer-bench</Generator>'
                  '<DatabaseName>bench</DatabaseName></Meta><Root><Group><Name>Root</Name>\n')
        for i, (n, v) in enumerate(rows):
            out.write(f'<Entry><UUID>{(i + 1).to_bytes(16, "big").hex()}</UUID>'
                      f'<String><Key>Title</Key><Value>{escape(n)}</Value></String>'
                      f'<String><Key>Password</Key><Value ProtectOnOutput="True">{escape(v)}</Value></String></Entry>\n')
        out.write('</Group></Root></KeePassFile>\n')
PY
}

# A vault of N secrets at PATH with a passphrase slot (KDF options in $KDF, default tiny: 1 pass, 8 MiB).
make_vault() { # N PATH
    local env="$WORK/secrets-$1.env"
    [ -f "$env" ] || write_secrets "$1" "$env"
    "$C" init --vault "$2" ${KDF:---kdf-ops 1 --kdf-memory 8} --passphrase-file "$WORK/passphrase" 2>/dev/null
    "$C" import "$env" --vault "$2" --passphrase-file "$WORK/passphrase" 2>/dev/null
}

# Runs hyperfine on one command; prints its median in milliseconds (or "n/a").
# Usage: median_ms NAME [hyperfine options...] -- COMMAND
median_ms() {
    local name=$1; shift
    local options=()
    while [ "$#" -gt 0 ] && [ "$1" != -- ]; do options+=("$1"); shift; done
    shift
    local json="$WORK/hf-$(printf '%s' "$name" | tr -c 'A-Za-z0-9._-' '_').json"
    if hyperfine --style none --export-json "$json" "${options[@]}" -n "$name" -- "$*" >"$json.log" 2>&1; then
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.1f" % (r["median"]*1000))' "$json"
    else
        say "  ($name failed: $(tail -n 3 "$json.log" | tr '\n' ' '))"
        echo "n/a"
    fi
}
