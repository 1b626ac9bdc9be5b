#!/bin/bash
# Run by docker-compose.yml's one-shot `db-init` service (image postgres:15,
# after the server is healthy) at every `docker-compose up`: applies
# deploy/db/init.sql (mounted at /itgov-db/init.sql; idempotent, as
# deploy/local.sh applies it at every start) to the itgov database as the
# superuser, with each service role's password from its compose secret
# /run/secrets/db_<role>_password. PGHOST, PGUSER and PGDATABASE come from
# the compose file, the superuser's password from
# /run/secrets/db_superuser_password.
set -euo pipefail

secret() {
  local f=/run/secrets/$1 v
  [ -r "$f" ] || { echo "db-init: $f is missing or unreadable" >&2; exit 1; }
  v=$(<"$f")
  [ -n "$v" ] || { echo "db-init: $f is empty" >&2; exit 1; }
  printf '%s' "$v"
}

PGPASSWORD=$(secret db_superuser_password)
export PGPASSWORD
args=()
for role in accounts projects approvals audit; do
  args+=(-v "${role}_pw=$(secret "db_${role}_password")")
done
PGOPTIONS="-c client_min_messages=warning" \
  psql -X -q -v ON_ERROR_STOP=1 "${args[@]}" -f /itgov-db/init.sql
echo "db-init: deploy/db/init.sql applied to $PGDATABASE on $PGHOST" >&2
