#!/usr/bin/env bash
# Loads every policy file of a directory into a running policy-engine through its REST
# API (PUT /v1/policies/:key, the key read from each file), with the admin bearer token.
#   ADMIN_TOKEN=… docker/load-policies.sh [dir]      (default dir: examples/policies)
# POLICY_ENGINE_URL defaults to http://127.0.0.1:8080 (compose publishes it there).
set -euo pipefail

dir="${1:-$(dirname "$0")/../examples/policies}"
url="${POLICY_ENGINE_URL:-http://127.0.0.1:8080}"
: "${ADMIN_TOKEN:?set ADMIN_TOKEN to the token the service was started with}"

shopt -s nullglob
files=("$dir"/*.yaml "$dir"/*.yml)
[ ${#files[@]} -gt 0 ] || { echo "no .yaml files in $dir" >&2; exit 1; }

for f in "${files[@]}"; do
  # the top-level `key:` line; quotes around the value are dropped
  key="$(sed -n -E "s/^key:[[:space:]]*['\"]?([^'\"#[:space:]]+)['\"]?.*$/\1/p" "$f" | head -n 1)"
  [ -n "$key" ] || { echo "$f: no top-level key" >&2; exit 1; }
  # --fail-with-body: a 4xx/5xx prints the server's error (field paths) and stops here
  curl --silent --show-error --fail-with-body \
    -X PUT "$url/v1/policies/$key" \
    -H "Authorization: Bearer $ADMIN_TOKEN" \
    -H 'Content-Type: application/yaml' \
    --data-binary "@$f"
  echo
done
echo "loaded ${#files[@]} policies into $url" >&2
