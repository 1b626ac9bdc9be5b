#!/bin/bash
# Run by docker-compose.yml's one-shot `db-init` service (image postgres:15,
# after the server is healthy) at every `docker-compose up`: applies
# deploy/db/init.sql (mounted at /itgov-db/init.sql; idempotent, as
# deploy/local.sh applies it at every start) to the itgov database as the
# superuser, with a role per compose secret /run/secrets/db_<role>_password
# (the superuser's aside), its password from that file. PGHOST, PGUSER and PGDATABASE come from
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
roles=()
for f in /run/secrets/db_*_password; do
  role=${f#/run/secrets/db_}
  role=${role%_password}
  if [ "$role" = superuser ] || [ ! -e "$f" ]; then continue; fi
  [[ $role =~ ^[a-z][a-z0-9_]*$ ]] || { echo "db-init: bad role name in $f" >&2; exit 1; }
  roles+=("$role")
  args+=(-v "${role}_pw=$(secret "db_${role}_password")")
done
[ ${#roles[@]} -gt 0 ] || { echo "db-init: no /run/secrets/db_<role>_password" >&2; exit 1; }
# init.sql, then each role's password (the file's header says why)
{ cat /itgov-db/init.sql
  for role in "${roles[@]}"; do printf 'ALTER ROLE "%s" PASSWORD :'"'%s_pw';\n" "$role" "$role"; done
} | PGOPTIONS="-c client_min_messages=warning" \
  psql -X -q -v ON_ERROR_STOP=1 -v "roles=${roles[*]}" "${args[@]}" -f -
echo "db-init: deploy/db/init.sql applied to $PGDATABASE on $PGHOST" >&2
