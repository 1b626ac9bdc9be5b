#!/usr/bin/env bash
# Creates the secret files docker-compose.yml reads, in ITGOV_SECRETS_DIR (from
# the environment, else from ./.env, else ./.secrets), each a random password
# unless it exists already; prints where they are. Run once before
# `docker-compose up`; running it again changes nothing.
#
#   admin_password           password of the first `admin` user (accounts)
#   db_superuser_password    PostgreSQL superuser `postgres`
#   db_<service>_password    login role of each service (accounts projects approvals audit)
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
for name in admin_password db_superuser_password \
            db_accounts_password db_projects_password db_approvals_password db_audit_password; do
  f=$dir/$name
  if [ ! -s "$f" ]; then
    head -c 18 /dev/urandom | base64 | tr '+/' '-_' | tr -d '\n' >"$f"
    echo "secrets.sh: created $f"
  fi
  chmod 644 "$f"
done
echo "secrets.sh: secrets in $dir (admin password: cat $dir/admin_password)"
