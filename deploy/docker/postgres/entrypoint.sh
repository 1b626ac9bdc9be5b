#!/bin/bash
# Entrypoint of the postgres:15 stand-in. Like the official image's, when the
# command is `postgres` and $PGDATA holds no cluster yet:
#   - initdb with superuser POSTGRES_USER (default postgres) and password
#     POSTGRES_PASSWORD (or the content of POSTGRES_PASSWORD_FILE; required);
#     local connections trusted, TCP from anywhere with scram-sha-256
#   - a temporary server on the unix socket only; CREATE DATABASE POSTGRES_DB
#     (default: POSTGRES_USER) unless it is `postgres`
#   - /docker-entrypoint-initdb.d/* in name order: *.sh executed if executable,
#     sourced otherwise; *.sql run with psql on POSTGRES_DB (PGUSER/PGPASSWORD
#     set, as the official image does for its init scripts)
#   - stop it, then exec postgres listening on every interface.
# Runs as the postgres OS user (the image's USER).
set -Eeuo pipefail

say() { printf 'postgres-entrypoint: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# file_env VAR [default]: VAR, or the content of VAR_FILE, or the default.
file_env() {
  local var=$1 fvar=${1}_FILE def=${2:-}
  if [ -n "${!var:-}" ] && [ -n "${!fvar:-}" ]; then die "both $var and $fvar are set"; fi
  local val=$def
  if [ -n "${!var:-}" ]; then
    val=${!var}
  elif [ -n "${!fvar:-}" ]; then
    [ -r "${!fvar}" ] || die "$fvar=${!fvar} is not readable"
    val=$(<"${!fvar}")
  fi
  export "$var=$val"
  unset "$fvar"
}

init_cluster() {
  [ -n "$POSTGRES_PASSWORD" ] || die "POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE must be set"
  say "initialising a cluster in $PGDATA"
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  printf '%s\n' 'host all all all scram-sha-256' >>"$PGDATA/pg_hba.conf"

  pg_ctl -D "$PGDATA" -w -t 60 -o "-c listen_addresses='' -p 5432" start >/dev/null
  export PGUSER=$POSTGRES_USER PGPASSWORD=$POSTGRES_PASSWORD PGHOST=/var/run/postgresql
  if [ "$POSTGRES_DB" != postgres ]; then
    psql -X -q -v ON_ERROR_STOP=1 -d postgres -v db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case $f in
      *.sh)
        # shellcheck disable=SC1090
        if [ -x "$f" ]; then say "running $f"; "$f"; else say "sourcing $f"; . "$f"; fi ;;
      *.sql) say "running $f"; psql -X -q -v ON_ERROR_STOP=1 -d "$POSTGRES_DB" -f "$f" ;;
      *) say "ignoring $f" ;;
    esac
  done
  unset PGUSER PGPASSWORD PGHOST
  pg_ctl -D "$PGDATA" -m fast -w -t 60 stop >/dev/null
  say "cluster initialised"
}

if [ "${1:-}" = postgres ]; then
  file_env POSTGRES_USER postgres
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_DB "$POSTGRES_USER"
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    # A failed first start leaves no half-made cluster for the next one to trust.
    trap 'say "initialisation failed; removing $PGDATA/*"; pg_ctl -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true; rm -rf "${PGDATA:?}"/*' ERR
    init_cluster
    trap - ERR
  fi
  unset POSTGRES_PASSWORD
  shift
  exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
fi
exec "$@"
