#!/usr/bin/env bash
# Kestra secrets, done with coffer: see README.md beside this file.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
sandbox

expect "init creates the vault" 0 coffer init "${tiny_kdf[@]}"

# --- A whole .env file imported at once. Its last line has no newline: nothing is lost.
printf '%s\n' '# the variables the old docker-compose setup exported' \
  'API_TOKEN=tok_live_5c2e9a71' 'GITHUB_ACCESS_TOKEN=ghp_example0123456' \
  'AWS_ACCESS_KEY_ID=AKIAEXAMPLE4242' >app.env
printf '%s' 'AWS_SECRET_ACCESS_KEY=wJalr/EXAMPLE+key=' >>app.env
expect "import app.env" 0 coffer import app.env
expect_out "API_TOKEN imported" "tok_live_5c2e9a71" coffer get API_TOKEN
expect_out "the last line, without a newline, imported whole" "wJalr/EXAMPLE+key=" coffer get AWS_SECRET_ACCESS_KEY

# --- A flow whose template asks for secrets by name.
cat >flow.yml <<'YAML'
id: nightly-sync
namespace: company.data
tasks:
  - id: fetch
    type: io.kestra.plugin.core.http.Request
    uri: https://api.example.com/export
    headers:
      Authorization: "Bearer {{ secret('API_TOKEN') }}"
  - id: upload
    accessKeyId: "{{secret("AWS_ACCESS_KEY_ID")}}"
    secretKeyId: "{{ secret('AWS_SECRET_ACCESS_KEY') }}"
    note: "{{ outputs.fetch.uri }} is left for the engine"
YAML
sed -e 's/{{ secret(.API_TOKEN.) }}/tok_live_5c2e9a71/' -e 's/{{secret("AWS_ACCESS_KEY_ID")}}/AKIAEXAMPLE4242/' \
  -e 's|{{ secret(.AWS_SECRET_ACCESS_KEY.) }}|wJalr/EXAMPLE+key=|' flow.yml >expected.yml
expect_out "render fills each secret('NAME') and leaves other {{ }} alone" "$(cat expected.yml)" coffer render flow.yml
expect "render -o writes a file" 0 coffer render flow.yml -o rendered.yml
expect "...whose content is the rendered flow" 0 cmp rendered.yml expected.yml
expect_mode "...readable by its owner only" 600 rendered.yml
printf 'token: {{ secret("NOT_STORED") }}\n' >broken.yml
expect "an unknown name fails (1) and names the line" 1 coffer render broken.yml -o broken.out.yml
expect_has "...the message names file and line" "broken.yml:1" "$err"
expect "...and nothing is written" 1 test -e broken.out.yml

# --- Kestra's open-source form: SECRET_<NAME>=base64(value) environment variables.
expect "export --format kestra -o .env_encoded" 0 coffer export --format kestra -o .env_encoded
expect_mode ".env_encoded is readable by its owner only" 600 .env_encoded
expect_eq "one SECRET_ line per secret" 4 "$(grep -c '^SECRET_[A-Z_]*=' .env_encoded)"
while IFS= read -r line || [ -n "$line" ]; do   # the last line has no newline
  case $line in '' | '#'*) continue ;; esac
  name=${line%%=*} value=${line#*=}
  encoded=$(sed -n "s/^SECRET_$name=//p" .env_encoded)
  expect_eq "SECRET_$name decodes (base64 -d) to the original" "$value" "$(printf '%s' "$encoded" | base64 -d)"
  expect_eq "SECRET_$name is what 'printf %s value | base64' gives" "$(printf '%s' "$value" | base64 -w0)" "$encoded"
done <app.env

# --- Job logs: secret values are masked, plain or base64-encoded.
expect_out "a job that echoes the token logs ****" "token is ****" \
  coffer run --mask -- sh -c 'echo token is $API_TOKEN'
expect_out "...and its base64 form too" "encoded: ****" \
  coffer run --mask --only API_TOKEN -- sh -c 'echo "encoded: $(printf %s "$API_TOKEN" | base64)"'
expect_out "--no-mask shows the job really had it" "token is tok_live_5c2e9a71" \
  coffer run --no-mask --only API_TOKEN -- sh -c 'echo token is $API_TOKEN'

finish
