#!/bin/bash
# Entrypoint of the itgov/app image: turns file-based secrets into the
# environment variables the binaries read, then execs the command.
#
# For each of the variables below given as NAME_FILE=<path> instead, NAME is
# set to the file's content (trailing newlines dropped) and NAME_FILE is
# removed. docker-compose.yml uses it for the compose secrets
# (deploy/docker/secrets.sh makes them):
#   ITGOV_ADMIN_PASSWORD_FILE=/run/secrets/admin_password
#   PGPASSWORD_FILE=/run/secrets/db_<service>_password   (libpq reads PGPASSWORD
#     when ITGOV_<SERVICE>_DATABASE_URL carries no password)
#   ITGOV_<SERVICE>_REDIS_PASSWORD_FILE, ITGOV_<SERVICE>_CURVE_SECRET_FILE,
#   ITGOV_INTERNAL_KEY_FILE, ITGOV_SESSION_MAC_KEY_FILE, ITGOV_BROKER_CURVE_SECRET_FILE,
#   ITGOV_BROKER_CURVE_PUBLIC_FILE, ITGOV_PUBLISHER_KEYS_FILE,
#   ITGOV_AUDIT_FEED_CURVE_SECRET_FILE, ITGOV_EVENT_CLIENT_KEYS_FILE (may be empty)
# A list may come from both (MERGED): ITGOV_EVENT_CLIENT_KEYS from compose's
# .env and the keys of .secrets/event_client_keys are admitted together.
# Only these: other *_FILE variables (ITGOV_AUDIT_KEY_FILE) are the services'
# own and pass through untouched.
SECRET_VARS=(ITGOV_ADMIN_PASSWORD PGPASSWORD ITGOV_INTERNAL_KEY ITGOV_SESSION_MAC_KEY
             ITGOV_BROKER_CURVE_SECRET ITGOV_BROKER_CURVE_PUBLIC ITGOV_PUBLISHER_KEYS
             ITGOV_AUDIT_FEED_CURVE_SECRET ITGOV_EVENT_CLIENT_KEYS
             ITGOV_{ACCOUNTS,PROJECTS,APPROVALS,AUDIT}_{REDIS_PASSWORD,CURVE_SECRET})
MAY_BE_EMPTY=" ITGOV_EVENT_CLIENT_KEYS "
MERGED=" ITGOV_EVENT_CLIENT_KEYS "
set -euo pipefail

die() { printf 'itgov-entrypoint: error: %s\n' "$*" >&2; exit 2; }

for var in "${SECRET_VARS[@]}"; do
  name=${var}_FILE
  [ -n "${!name:-}" ] || continue
  file=${!name}
  [ -z "${!var:-}" ] || [[ $MERGED == *" $var "* ]] || die "both $var and $name are set; set one"
  if [ ! -f "$file" ] || [ ! -r "$file" ]; then die "$name=$file is not a readable file (is the secret file there?)"; fi
  value=$(<"$file")
  [ -n "$value" ] || [[ $MAY_BE_EMPTY == *" $var "* ]] || die "$name=$file is empty"
  if [ -n "${!var:-}" ]; then value=${!var}${value:+,$value}; fi
  export "$var=$value"
  unset "$name"
done

[ $# -gt 0 ] || die "no command given"
exec "$@"
