#!/usr/bin/env bash
# Digital Hub project secrets, done with coffer: see README.md beside this file.
# The create/read/update/list/delete cycle through the Swift library is in
# Tests/CofferTests/SeedLibraryTests.swift; here, the same from the command line and the
# Kubernetes Secret per project.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
sandbox

P=(--project churn-model)
expect "init creates the vault" 0 coffer init "${tiny_kdf[@]}"

# --- Project secrets: entities with a description and timestamps.
expect "create s3.access_key" 0 coffer set s3.access_key "${P[@]}" --description 'object store key id' <<<'AKIA-CHURN-0001'
expect "create s3.secret_key" 0 coffer set s3.secret_key "${P[@]}" --description 'object store secret' <<<'churn-s3-secret/xyz+1'
expect "create api-token" 0 coffer set api-token "${P[@]}" --description 'scoring API' <<<'score-token-aaaa'
expect "another project's secret" 0 coffer set registry-password --project fraud-model <<<'fraud-registry-pass'
expect_out "read a value" "score-token-aaaa" coffer get api-token "${P[@]}"
created_of() { coffer list "${P[@]}" --json | grep -o "\"name\":\"$1\"[^}]*" | sed 's/.*"created":"\([^"]*\)".*/\1/'; }
created_before=$(created_of api-token)
expect "it has a creation time (UTC)" 0 grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' <<<"$created_before"
expect "update the value" 0 coffer set api-token "${P[@]}" --overwrite <<<'score-token-bbbb'
expect_out "read the updated value" "score-token-bbbb" coffer get api-token "${P[@]}"
expect_eq "the update keeps the creation time" "$created_before" "$(created_of api-token)"
expect "list the project's secrets as JSON" 0 coffer list "${P[@]}" --json
expect_has "...with their description" '"name":"api-token","project":"churn-model","domain":"","scope":"project=churn-model"' "$out"
expect_has "...kept by the update" '"description":"scoring API"' "$out"
expect_has "...and their times" '"updated":"' "$out"
expect_lacks "...never their values" 'score-token' "$out"
expect_lacks "...nor another project's secrets" 'registry-password' "$out"
expect "delete api-token" 0 coffer delete api-token "${P[@]}"
expect "read after delete fails (2)" 2 coffer get api-token "${P[@]}"

# --- One Kubernetes Secret per project, holding all of its key-value pairs.
expect "export the project as a Kubernetes Secret" 0 \
  coffer export --format k8s "${P[@]}" --k8s-name churn-model-secrets --k8s-namespace digitalhub -o churn-model.yaml
expect_mode "the manifest is readable by its owner only" 600 churn-model.yaml
manifest=$(cat churn-model.yaml)
expect_has "apiVersion: v1" $'apiVersion: v1\n' "$manifest"
expect_has "kind: Secret" $'kind: Secret\n' "$manifest"
expect_has "named after the project" 'name: "churn-model-secrets"' "$manifest"
expect_has "in the namespace asked for" 'namespace: "digitalhub"' "$manifest"
expect_has "type Opaque, values under data" $'type: Opaque\ndata:\n' "$manifest"
data_keys=$(sed -n 's/^  "\([^"]*\)": .*/\1/p' churn-model.yaml | sort | paste -sd ' ')
expect_eq "data holds exactly the project's keys" "s3.access_key s3.secret_key" "$data_keys"
value_of() { sed -n "s/^  \"$1\": \"\\(.*\\)\"\$/\\1/p" churn-model.yaml | base64 -d; }
expect_eq "s3.access_key is base64 of its value" "AKIA-CHURN-0001" "$(value_of s3.access_key)"
expect_eq "s3.secret_key is base64 of its value" "churn-s3-secret/xyz+1" "$(value_of s3.secret_key)"
expect_lacks "the manifest holds no plaintext value" "churn-s3-secret" "$manifest"
expect_out "the other project gets its own Secret" 'registry-password' sh -c \
  'coffer export --format k8s --project fraud-model --k8s-name fraud-model-secrets | sed -n "s/^  \"\([^\"]*\)\": .*/\1/p"'

finish
