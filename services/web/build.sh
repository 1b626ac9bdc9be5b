#!/usr/bin/env bash
# Builds the web console into services/web/dist/ (served by the gateway at /)
# unless dist/ is newer than every source. deploy/local.sh (build) and
# tests/run.sh (build stage) call it; deploy/deps.sh has run `npm ci`.
# Usage: services/web/build.sh [--force]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [ "${1:-}" != --force ] && [ -f dist/index.html ] &&
  [ -z "$(find src public index.html vite.config.js package.json package-lock.json \
    -newer dist/index.html -print -quit 2>/dev/null)" ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "services/web/build.sh: npm is missing (deploy/deps.sh installs it)" >&2; exit 1; }
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error >/dev/null
rm -rf dist.tmp
# Quiet unless it fails.
if ! out=$(npx --no-install vite build --outDir dist.tmp --emptyOutDir 2>&1); then
  printf '%s\n' "$out" >&2
  rm -rf dist.tmp
  exit 1
fi
rm -rf dist && mv dist.tmp dist
# The build touches no file in dist after index.html's own write; make sure
# the up-to-date check above sees dist as newest.
touch dist/index.html
