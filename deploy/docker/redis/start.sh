#!/bin/bash
# Starts Redis in the compose stack with itgov's ACL users, made by
# deploy/redis/acl.sh (mounted beside this script) from the compose secrets
# (a user per redis_<service>_password secret docker-compose.yml gives Redis)
# into a 0600 file holding only the passwords' SHA-256s; the arguments go to
# redis-server. Works with the official redis:7 image and its stand-in: the
# image's own entrypoint starts the server (as the redis user).
set -euo pipefail
umask 077
acl=/tmp/itgov-users.acl
services=()
for f in /run/secrets/redis_*_password; do
  [ -e "$f" ] || continue
  f=${f#/run/secrets/redis_}
  services+=("${f%_password}")
done
bash /itgov-redis/acl.sh "${services[@]}" >"$acl"
[ "$(id -u)" != 0 ] || chown redis:redis "$acl"
exec docker-entrypoint.sh redis-server --aclfile "$acl" "$@"
