#!/bin/bash
# Starts Redis in the compose stack with itgov's ACL users, made by
# deploy/redis/acl.sh (mounted beside this script) from the compose secrets
# into a 0600 file holding only the passwords' SHA-256s; the arguments go to
# redis-server. Works with the official redis:7 image and its stand-in: the
# image's own entrypoint starts the server (as the redis user).
set -euo pipefail
umask 077
acl=/tmp/itgov-users.acl
bash /itgov-redis/acl.sh >"$acl"
[ "$(id -u)" != 0 ] || chown redis:redis "$acl"
exec docker-entrypoint.sh redis-server --aclfile "$acl" "$@"
