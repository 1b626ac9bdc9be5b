#!/usr/bin/env bash
# Installs the Debian packages itgov needs to build, run and test, if missing.
# Every other script calls this first, so a fresh Debian 12 machine needs
# nothing by hand. Usage: deploy/deps.sh [--docker]   (--docker adds the
# Docker engine, docker-compose and debootstrap for tests/compose-smoke.sh)
set -euo pipefail

pkgs=(build-essential cmake pkg-config
      libevent-dev libzmq3-dev libhiredis-dev libpq-dev libcjson-dev libsodium-dev
      postgresql-15 postgresql-client-15 redis-server nginx-light wrk
      python3 python3-zmq python3-jsonschema python3-yaml ca-certificates curl
      clang libclang-rt-14-dev   # the fuzz targets (tests/fuzz): libFuzzer is clang's
      prometheus)  # promtool: tests/blackbox/test_metrics_format.py checks every /metrics
if [ "${1:-}" = "--docker" ]; then
  pkgs+=(docker.io docker-compose debootstrap)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
