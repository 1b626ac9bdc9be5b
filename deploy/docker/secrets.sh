#!/usr/bin/env bash
# Creates the secret files docker-compose.yml reads, in ITGOV_SECRETS_DIR (from
# the environment, else from ./.env, else ./.secrets), each a random password
# unless it exists already; prints where they are. Run once before
# `docker-compose up`; running it again changes nothing.
#
#   admin_password           password of the first `admin` user (accounts)
#   db_superuser_password    PostgreSQL superuser `postgres`
#   db_<service>_password    login role of each service (accounts projects approvals audit)
#   redis_<service>_password Redis ACL user of each service (accounts writes sessions,
#                            the others only read them; the default user is off)
#   internal_key             credential of /internal/... and /metrics on the service ports
#   session_mac_key          MAC key of the session records in Redis (Redis never sees it)
#   curve_<name>_secret      ZeroMQ CURVE secret keys: the broker, the audit feed and each
#                            publishing service (name = broker audit_feed accounts ...)
#   curve_broker_public      the broker's public key, and publisher_keys the publishing
#                            services' (name=key,...): made from the secret keys
#   event_client_keys        public keys (Z85, comma-separated) of the university systems
#                            that may subscribe to the broker and the audit feed; made
#                            empty, the operator adds keys (README "Subscribing to events")
#
# To choose a password, write it into the file before the first `up` (the
# database roles get theirs when the postgres volume is created; changing a
# file later needs `docker-compose down -v` or an ALTER ROLE).
#
# The directory is 0700, the files 0644: compose (1.29, without swarm) bind-
# mounts them into the containers with these modes, and the processes reading
# them there (postgres, itgov) are not root; the directory keeps other host
# users out.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

dir=${ITGOV_SECRETS_DIR:-}
if [ -z "$dir" ] && [ -f .env ]; then
  dir=$(sed -n 's/^[[:space:]]*ITGOV_SECRETS_DIR=//p' .env | tail -n 1)
fi
dir=${dir:-./.secrets}

mkdir -p "$dir"
chmod 700 "$dir"
# Never committed, wherever it is.
[ -e "$dir/.gitignore" ] || echo '*' >"$dir/.gitignore"
# the services of deploy/services
mapfile -t services < <(awk '/^[a-z]/ {print $1}' deploy/services)
# make <file> <command printing the secret>: once, never overwritten
make() {
  local f=$dir/$1
  if [ ! -s "$f" ]; then
    "${@:2}" | tr -d '\n' >"$f"
    echo "secrets.sh: created $f"
  fi
  chmod 644 "$f"
}
password() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }
curve_secret() { python3 deploy/keygen.py | cut -d' ' -f1; }
curve_public() { python3 deploy/keygen.py "$(cat "$dir/curve_$1_secret")"; }

for name in admin_password db_superuser_password; do make "$name" password; done
for s in "${services[@]}"; do
  make "db_${s}_password" password
  make "redis_${s}_password" password
done
make internal_key password
make session_mac_key bash -c "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'"
for name in broker audit_feed "${services[@]}"; do make "curve_${name}_secret" curve_secret; done
publishers=()
for s in "${services[@]}"; do publishers+=("$s=$(curve_public "$s")"); done
# public keys follow the secret ones (rewritten every run)
curve_public broker >"$dir/curve_broker_public"
(IFS=,; echo "${publishers[*]}") >"$dir/publisher_keys"
[ -e "$dir/event_client_keys" ] || : >"$dir/event_client_keys"
chmod 644 "$dir/curve_broker_public" "$dir/publisher_keys" "$dir/event_client_keys"
echo "secrets.sh: secrets in $dir (admin password: cat $dir/admin_password)"
