#!/usr/bin/env bash
# Flyte secrets, done with coffer: see README.md beside this file.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
sandbox

expect "init creates the vault" 0 coffer init "${tiny_kdf[@]}"

# --- One name at each of the four scopes.
expect "organization-wide (no --project, no --domain)" 0 coffer set WAREHOUSE_TOKEN <<<'org-wide-token'
expect "project forecasting, every domain" 0 coffer set WAREHOUSE_TOKEN --project forecasting <<<'forecasting-token'
expect "domain development, every project" 0 coffer set WAREHOUSE_TOKEN --domain development <<<'development-token'
expect "project forecasting in domain development only" 0 \
  coffer set WAREHOUSE_TOKEN --project forecasting --domain development <<<'forecasting-dev-token'
expect "a secret of project billing only" 0 coffer set BILLING_KEY --project billing <<<'billing-only-key'
expect "the same name in the same scope again is refused (5)" 5 coffer set WAREHOUSE_TOKEN --domain development <<<'x'

# --- Listing. Everything, one line per entry and scope; then the view from one project and
# domain, which shows for each name the entry that applies and the scope it comes from.
scope_of() { coffer list "$@" | awk '$1 == "WAREHOUSE_TOKEN" { print $2 }' | paste -sd ' '; }
expect_eq "list shows WAREHOUSE_TOKEN once per scope" \
  "global domain=development project=forecasting project=forecasting,domain=development" "$(scope_of)"
expect_eq "forecasting/development sees its own entry" project=forecasting,domain=development \
  "$(scope_of --project forecasting --domain development)"
expect_eq "forecasting/production sees the project's" project=forecasting "$(scope_of --project forecasting --domain production)"
expect_eq "marketing/development sees the domain's" domain=development "$(scope_of --project marketing --domain development)"
expect_eq "marketing/production sees the organization's" global "$(scope_of --project marketing --domain production)"
run_cmd coffer list --project forecasting --domain development
expect_lacks "a scope's view leaves out other projects' secrets" BILLING_KEY "$out"
expect_lacks "...and shows no value" forecasting-dev-token "$out"
expect_out "get resolves the same way" "forecasting-token" coffer get WAREHOUSE_TOKEN --project forecasting --domain production

# --- A task receives the secret in the variable it names (Flyte's as_env_var).
expect_out "the task reads WAREHOUSE_ENV_VAR, and nothing else is passed" "forecasting-dev-token unset" \
  coffer run --project forecasting --domain development --no-mask --env WAREHOUSE_ENV_VAR=WAREHOUSE_TOKEN -- \
  sh -c 'echo "$WAREHOUSE_ENV_VAR ${WAREHOUSE_TOKEN-unset}"'
expect "a task outside billing cannot have BILLING_KEY (2)" 2 \
  coffer run --project forecasting --env KEY=BILLING_KEY -- touch task-ran
expect "...and the task did not start" 1 test -e task-ran
expect_out "a task that prints its secret shows it masked" "returning ****" \
  coffer run --project forecasting --mask --env T=WAREHOUSE_TOKEN -- sh -c 'echo "returning $T"'

# --- Deleting: each scope on its own.
expect "delete the forecasting/development entry" 0 coffer delete WAREHOUSE_TOKEN --project forecasting --domain development
expect_eq "forecasting/development now falls back to the project's" project=forecasting \
  "$(scope_of --project forecasting --domain development)"
expect "delete the organization-wide entry" 0 coffer delete WAREHOUSE_TOKEN
expect "marketing/production has none left (2)" 2 coffer get WAREHOUSE_TOKEN --project marketing --domain production
expect "deleting a name absent from a scope fails (2)" 2 coffer delete BILLING_KEY

finish
