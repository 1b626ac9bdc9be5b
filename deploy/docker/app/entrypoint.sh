#!/bin/bash
# Entrypoint of the itgov/app image: turns file-based secrets into the
# environment variables the binaries read, then execs the command.
#
# For every variable NAME_FILE=<path> (NAME being ITGOV_* or PGPASSWORD), NAME
# is set to the file's content (trailing newlines dropped) and NAME_FILE is
# removed. docker-compose.yml uses it for the compose secrets:
#   ITGOV_ADMIN_PASSWORD_FILE=/run/secrets/admin_password
#   PGPASSWORD_FILE=/run/secrets/db_<service>_password   (libpq reads PGPASSWORD
#     when ITGOV_<SERVICE>_DATABASE_URL carries no password)
set -euo pipefail

die() { printf 'itgov-entrypoint: error: %s\n' "$*" >&2; exit 2; }

while read -r name; do
  case $name in
    ITGOV_*_FILE | PGPASSWORD_FILE) ;;
    *) continue ;;
  esac
  var=${name%_FILE}
  file=${!name}
  [ -z "${!var:-}" ] || die "both $var and $name are set; set one"
  if [ ! -f "$file" ] || [ ! -r "$file" ]; then die "$name=$file is not a readable file (is the secret file there?)"; fi
  value=$(<"$file")
  [ -n "$value" ] || die "$name=$file is empty"
  export "$var=$value"
  unset "$name"
done < <(compgen -e)

[ $# -gt 0 ] || die "no command given"
exec "$@"
