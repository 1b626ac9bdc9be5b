#!/usr/bin/env bash
# Lints the specs (tools/spec-lint/lint.mjs): `npm ci` from the lockfile here
# (once; again when package-lock.json changes), then @redocly/cli lint with the
# recommended rules on api-spec/openapi.yaml and @asyncapi/parser on
# api-spec/asyncapi.yaml, then the generated-client check: TypeScript types
# generated from openapi.yaml (openapi-typescript) and client/client.ts, a
# short client using them, compiled with `tsc --noEmit`. Fails on any error
# or warning.
set -euo pipefail
cd "$(dirname "$0")"
command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "spec-lint: node and npm are required (Node.js 20 or later)" >&2; exit 1; }
stamp=node_modules/.itgov-lock
if ! cmp -s package-lock.json "$stamp" 2>/dev/null; then
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
  cp package-lock.json "$stamp"
fi
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true node lint.mjs
node_modules/.bin/openapi-typescript ../../api-spec/openapi.yaml -o client/gen/api.d.ts --silent
node_modules/.bin/tsc -p client/tsconfig.json
echo "client/client.ts: compiles against types generated from openapi.yaml"
