#!/usr/bin/env bash
# Installs the real client libraries the test suite drives against a running kasten (the official `openai` SDK,
# the MCP TypeScript SDK, the `mem0ai` client) and the OpenAPI tools (`@redocly/cli`, `yaml`, `ajv`: test
# client_openapi, scripts/openapi_json.mjs) into tests/clients/node_modules, at the exact versions of
# tests/clients/package-lock.json. Idempotent: skipped when node_modules matches the lock file.
#
#   scripts/install_clients.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/tests/clients"
say() { printf '\033[1m[clients]\033[0m %s\n' "$*" >&2; }
command -v npm >/dev/null 2>&1 || { echo "install_clients: npm not found (apt-get install npm)" >&2; exit 1; }
stamp="$DIR/node_modules/.kasten-lock-sha256"
want="$(sha256sum "$DIR/package-lock.json" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    say "client libraries present (tests/clients/node_modules)"
    exit 0
fi
say "installing client libraries from npm (tests/clients/package-lock.json)"
(cd "$DIR" && npm ci --legacy-peer-deps --no-audit --no-fund --loglevel=error >/dev/null)
echo "$want" >"$stamp"
