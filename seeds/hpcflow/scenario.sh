#!/usr/bin/env bash
# hpcflow secrets, done with coffer: see README.md beside this file.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
sandbox

umask 022   # a permissive umask: the vault must still be private
expect "init creates the vault" 0 coffer init "${tiny_kdf[@]}"
expect_mode "the vault file is readable and writable by its owner only" 600 secrets.coffer

# --- set, set again, overwrite, get
expect "set CLUSTER_TOKEN" 0 coffer set CLUSTER_TOKEN --value 'tok-first-9c1d'
expect "setting it again without --overwrite is refused (5)" 5 coffer set CLUSTER_TOKEN --value 'tok-second-44e0'
expect_out "...and the old value stays" "tok-first-9c1d" coffer get CLUSTER_TOKEN
expect "set --overwrite replaces it" 0 coffer set CLUSTER_TOKEN --overwrite --value 'tok-second-44e0'
expect_out "get prints the new value" "tok-second-44e0" coffer get CLUSTER_TOKEN
expect "a value from stdin (kept out of argv)" 0 coffer set API_USER <<<'svc-hpc-runner'
expect "get of an unknown name fails (2)" 2 coffer get NO_SUCH_SECRET

# --- list, without and with values
expect "list" 0 coffer list
expect_has "list shows the names" "CLUSTER_TOKEN" "$out"
expect_lacks "list hides the values" "tok-second-44e0" "$out"
expect "list --values" 0 coffer list --values
expect_has "list --values shows each value" "tok-second-44e0" "$out"
expect_has "...every one" "svc-hpc-runner" "$out"

# --- An environment definition names the secrets it needs (never their values) and its
# command receives them as environment variables.
cat >environments.yml <<'YAML'
- name: cluster_env
  secrets:
    - CLUSTER_TOKEN
    - API_USER
  executables:
    - label: submit
      command: ./submit.sh
YAML
echo 'secret used by another environment' | coffer set UNRELATED
# The names under `secrets:` become --only arguments.
only=()
while read -r name; do only+=(--only "$name"); done < <(sed -n '/^  secrets:/,/^  [a-z]/s/^    - //p' environments.yml)
expect_eq "the definition names two secrets" "--only CLUSTER_TOKEN --only API_USER" "${only[*]}"
expect_out "its command gets them as environment variables" "svc-hpc-runner tok-second-44e0 -" \
  coffer run "${only[@]}" --no-mask -- sh -c 'echo "$API_USER $CLUSTER_TOKEN ${UNRELATED:--}"'
expect_lacks "the definition holds no value" "tok-" "$(cat environments.yml)"

# --- delete
expect "delete CLUSTER_TOKEN" 0 coffer delete CLUSTER_TOKEN
expect "get after delete fails (2)" 2 coffer get CLUSTER_TOKEN
expect "deleting it again fails (2)" 2 coffer delete CLUSTER_TOKEN

# --- The store: still owner-only after every write, and (unlike hpcflow's) encrypted.
expect_mode "the vault is still mode 600 after the writes" 600 secrets.coffer
expect "no value appears in the file's bytes" 1 grep -c -a -e svc-hpc-runner -e tok-first secrets.coffer

finish
