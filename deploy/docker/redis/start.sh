#!/bin/bash
# Starts Redis in the compose stack with itgov's ACL users (deploy/redis/acl.sh,
# mounted beside this script), made from the compose secrets into a 0600 file
# only the server reads; the arguments go to redis-server.
set -euo pipefail
umask 077
acl=$(mktemp /tmp/itgov-redis-acl.XXXXXX)
bash /itgov-redis/acl.sh >"$acl"
exec redis-server --aclfile "$acl" --protected-mode no "$@"
