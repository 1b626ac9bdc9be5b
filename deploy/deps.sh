#!/usr/bin/env bash
# Installs the Debian packages itgov needs to build, run and test, if missing.
# Every other script calls this first, so a fresh Debian 12 machine needs
# nothing by hand. Usage: deploy/deps.sh [--docker]   (--docker adds the
# Docker engine, docker-compose and debootstrap for tests/compose-smoke.sh)
# Then `npm ci` for the web console (services/web) and its browser tests
# (tests/browser) when their lockfile changed since the last install.
set -euo pipefail

pkgs=(build-essential cmake pkg-config
      libevent-dev libzmq3-dev libhiredis-dev libpq-dev libcjson-dev libsodium-dev
      postgresql-15 postgresql-client-15 redis-server nginx-light wrk
      python3 python3-zmq python3-jsonschema python3-yaml ca-certificates curl
      clang libclang-rt-14-dev   # the fuzz targets (tests/fuzz): libFuzzer is clang's
      prometheus   # promtool: tests/blackbox/test_metrics_format.py checks every /metrics
      chromium     # tests/browser: headless, driven by playwright-core
      fonts-wqy-microhei   # a Chinese font, so the console's screenshots show its text
      libssl-dev openssl)  # itgov-anchor's https:// (libevent_openssl); test_anchor's test certificate
# The web console's build (services/web): Debian's Node 18 and npm, unless a
# node and npm are already there (a NodeSource node brings its own npm, which
# Debian's npm package would fight).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  pkgs+=(nodejs npm)
fi
if [ "${1:-}" = "--docker" ]; then
  pkgs+=(docker.io docker-compose debootstrap)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci <dir>: node_modules from the lockfile, again only when the lockfile
# is newer than the last install (npm writes node_modules/.package-lock.json).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
npm_ci() {
  local dir=$1
  [ -f "$dir/package-lock.json" ] || return 0
  if [ -f "$dir/node_modules/.package-lock.json" ] &&
    [ ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    return 0
  fi
  echo "deps.sh: npm ci in ${dir#"$ROOT"/}" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || {
    echo "deps.sh: npm ci failed in $dir" >&2
    exit 1
  }
}
npm_ci "$ROOT/services/web"
npm_ci "$ROOT/tests/browser"
