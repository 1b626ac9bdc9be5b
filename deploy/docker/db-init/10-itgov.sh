#!/bin/bash
# PostgreSQL init script (mounted into /docker-entrypoint-initdb.d/ by
# docker-compose.yml; run once, when the postgres volume is new, by the
# official postgres image or its stand-in, as the postgres OS user): the
# itgov roles and schemas of deploy/db/init.sql (mounted at
# /itgov-db/init.sql), each role's password read from its compose secret
# /run/secrets/db_<role>_password.
set -euo pipefail

args=()
for role in accounts projects approvals audit; do
  f=/run/secrets/db_${role}_password
  [ -r "$f" ] || { echo "10-itgov.sh: $f is missing or unreadable" >&2; exit 1; }
  pw=$(<"$f")
  [ -n "$pw" ] || { echo "10-itgov.sh: $f is empty" >&2; exit 1; }
  args+=(-v "${role}_pw=$pw")
done
PGOPTIONS="-c client_min_messages=warning" \
  psql -X -q -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  "${args[@]}" -f /itgov-db/init.sql
echo "10-itgov.sh: itgov roles and schemas created" >&2
