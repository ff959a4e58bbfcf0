#!/usr/bin/env bash
# TD Workflows (Digdag) secrets, done with coffer: see README.md beside this file.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
sandbox

P=(--project nasdaq_analysis)
expect "init creates the project vault ./secrets.coffer" 0 coffer init "${tiny_kdf[@]}"

# --- The API key a project's workflows run with. On a terminal `coffer set td.apikey` asks for
# the value with echo off; without one, stdin stands in for the keyboard.
expect "a default td.apikey (the account's own)" 0 coffer set td.apikey <<<'acct-default-key-0001'
expect "td.apikey set for the project, typed hidden, no-reveal" 0 \
  coffer set td.apikey "${P[@]}" --no-reveal <<<'nasdaq-key-AAAA-1111'
expect_out "a task uses the project's key; the log masks it" "querying with ****" \
  coffer run "${P[@]}" --mask --only td.apikey -- \
  sh -c 'test "$TD_APIKEY" = nasdaq-key-AAAA-1111 && echo "querying with $TD_APIKEY"'
expect "the key cannot be read back: get refuses (5)" 5 coffer get td.apikey "${P[@]}"
expect_lacks "...and the refusal does not print it" "nasdaq-key" "$out$err"
expect "list --values shows [no-reveal] in its place (0)" 0 coffer list --values "${P[@]}"
expect_lacks "...and does not print it either" "nasdaq-key" "$out$err"
expect "export refuses too (5)" 5 coffer export --format dotenv "${P[@]}"
expect "changing the key without --overwrite is refused (5)" 5 coffer set td.apikey "${P[@]}" <<<'nasdaq-key-BBBB-2222'
expect "changing it with --overwrite" 0 coffer set td.apikey "${P[@]}" --overwrite <<<'nasdaq-key-BBBB-2222'
expect "a task now uses the new key" 0 coffer run "${P[@]}" --only td.apikey -- sh -c 'test "$TD_APIKEY" = nasdaq-key-BBBB-2222'
expect "the changed key stays no-reveal (5)" 5 coffer get td.apikey "${P[@]}"
expect "reverting: delete the project's key" 0 coffer delete td.apikey "${P[@]}"
expect "a task falls back to the default key" 0 coffer run "${P[@]}" --only td.apikey -- sh -c 'test "$TD_APIKEY" = acct-default-key-0001'

# --- Two keys, one per task (two TD accounts).
expect "apikey1 set" 0 coffer set apikey1 "${P[@]}" <<<'account-one-key-1111'
expect "apikey2 set" 0 coffer set apikey2 "${P[@]}" <<<'account-two-key-2222'
expect "task daily_open gets apikey1 and not apikey2" 0 coffer run "${P[@]}" --only apikey1 -- \
  sh -c 'test "$APIKEY1" = account-one-key-1111 && test -z "${APIKEY2+set}"'
expect "task monthly_open gets apikey2 and not apikey1" 0 coffer run "${P[@]}" --only apikey2 -- \
  sh -c 'test "$APIKEY2" = account-two-key-2222 && test -z "${APIKEY1+set}"'

# --- PostgreSQL: user and password typed hidden, the other pg> options beside them.
expect "pg.user set" 0 coffer set pg.user "${P[@]}" <<<'analyst'
expect "pg.password set" 0 coffer set pg.password "${P[@]}" <<<'pg-pass-7f3a9c'
for option in host=pg.example.internal port=5432 database=market ssl=true connect_timeout=30s \
  socket_timeout=120s schema=nasdaq; do
  coffer set "pg.${option%%=*}" "${P[@]}" --value "${option#*=}" 2>/dev/null  # not secret: --value is fine
done
run_cmd coffer list "${P[@]}"
for name in pg.host pg.port pg.user pg.password pg.database pg.ssl pg.connect_timeout pg.socket_timeout pg.schema; do
  expect_has "listed: $name" "$name " "$out"
done
expect_out "a pg> task gets every option as PG_* variables" \
  "analyst@pg.example.internal:5432/market ssl=true schema=nasdaq timeouts=30s/120s" \
  coffer run "${P[@]}" --no-mask --only pg.user --only pg.host --only pg.port --only pg.database --only pg.ssl \
  --only pg.schema --only pg.connect_timeout --only pg.socket_timeout -- \
  sh -c 'echo "$PG_USER@$PG_HOST:$PG_PORT/$PG_DATABASE ssl=$PG_SSL schema=$PG_SCHEMA timeouts=$PG_CONNECT_TIMEOUT/$PG_SOCKET_TIMEOUT"'
expect "...or under libpq's own names (PGUSER, PGPASSWORD)" 0 \
  coffer run "${P[@]}" --env PGUSER=pg.user --env PGPASSWORD=pg.password -- \
  sh -c 'test "$PGUSER" = analyst && test "$PGPASSWORD" = pg-pass-7f3a9c'

# --- Several named credential sets, uploaded at once from a file.
cat >credentials.yml <<'YAML'
# Two PostgreSQL credential sets; the names db1 and db2 are free to choose.
db1:
  host: reports.example.internal
  user: reader
  password: "r3ad-only-pass"
db2:
  host: warehouse.example.internal
  user: loader
  password: "l0ad-write-pass"
YAML
expect "set @credentials.yml uploads the file" 0 coffer set @credentials.yml "${P[@]}"
expect "uploading it again is refused as a whole (5)" 5 coffer set @credentials.yml "${P[@]}"
expect_out "task1 connects with the db1 set" "reader@reports.example.internal" \
  coffer run "${P[@]}" --no-mask --env PGHOST=db1.host --env PGUSER=db1.user --env PGPASSWORD=db1.password -- \
  sh -c 'test "$PGPASSWORD" = r3ad-only-pass && echo "$PGUSER@$PGHOST"'
expect_out "task2 connects with the db2 set" "loader@warehouse.example.internal" \
  coffer run "${P[@]}" --no-mask --env PGHOST=db2.host --env PGUSER=db2.user --env PGPASSWORD=db2.password -- \
  sh -c 'test "$PGPASSWORD" = l0ad-write-pass && echo "$PGUSER@$PGHOST"'

# --- Listing: names only, and no passphrase needed.
run_cmd env -u COFFER_PASSPHRASE_FILE coffer list "${P[@]}"
expect_eq "list works without any key" 0 "$status"
expect_has "list shows the uploaded names" "db2.password" "$out"
expect_lacks "list shows no value" "l0ad-write-pass" "$out"

# --- Deleting several at once; one unknown name deletes nothing.
expect "delete with an unknown name fails (2)" 2 coffer delete db2.host no.such.secret "${P[@]}"
expect_out "...and deleted nothing" "warehouse.example.internal" coffer get db2.host "${P[@]}"
expect "delete db2.host db2.user db2.password" 0 coffer delete db2.host db2.user db2.password "${P[@]}"
run_cmd coffer list "${P[@]}"
expect_lacks "db2 is gone from the list" "db2." "$out"
expect_has "db1 is still there" "db1.password" "$out"

# --- Local mode: --local uses your own vault, not the project's.
cat >local-credentials.yml <<'YAML'
db1:
  user: dev
  password: dev-only-pass
YAML
expect "init --local creates the local vault" 0 coffer init --local "${tiny_kdf[@]}"
expect "set --local @local-credentials.yml" 0 coffer set --local @local-credentials.yml
expect_out "--local reads the local value" "dev" coffer get db1.user --local
expect_out "the project vault keeps its own" "reader" coffer get db1.user "${P[@]}"
expect "the local vault is XDG_DATA_HOME/coffer/local.coffer" 0 test -f "$XDG_DATA_HOME/coffer/local.coffer"
expect_mode "...readable by its owner only" 600 "$XDG_DATA_HOME/coffer/local.coffer"
mkdir elsewhere
expect_out "outside a project folder the local vault is the default" "dev" sh -c 'cd elsewhere && coffer get db1.user'

finish
