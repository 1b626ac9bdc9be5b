#!/bin/bash
# Entrypoint of the itgov/app image: turns file-based secrets into the
# environment variables the binaries read, then execs the command.
#
# For each of the variables below given as NAME_FILE=<path> instead, NAME is
# set to the file's content (trailing newlines dropped) and NAME_FILE is
# removed. docker-compose.yml uses it for the compose secrets:
#   ITGOV_ADMIN_PASSWORD_FILE=/run/secrets/admin_password
#   PGPASSWORD_FILE=/run/secrets/db_<service>_password   (libpq reads PGPASSWORD
#     when ITGOV_<SERVICE>_DATABASE_URL carries no password)
# Only these: other *_FILE variables (ITGOV_AUDIT_KEY_FILE) are the services'
# own and pass through untouched.
SECRET_VARS=(ITGOV_ADMIN_PASSWORD PGPASSWORD)
set -euo pipefail

die() { printf 'itgov-entrypoint: error: %s\n' "$*" >&2; exit 2; }

for var in "${SECRET_VARS[@]}"; do
  name=${var}_FILE
  [ -n "${!name:-}" ] || continue
  file=${!name}
  [ -z "${!var:-}" ] || die "both $var and $name are set; set one"
  if [ ! -f "$file" ] || [ ! -r "$file" ]; then die "$name=$file is not a readable file (is the secret file there?)"; fi
  value=$(<"$file")
  [ -n "$value" ] || die "$name=$file is empty"
  export "$var=$value"
  unset "$name"
done

[ $# -gt 0 ] || die "no command given"
exec "$@"
