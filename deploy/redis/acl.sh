#!/usr/bin/env bash
# Prints the Redis ACL file of itgov (one user per service, the default user
# off) from the services' passwords: ITGOV_<SERVICE>_REDIS_PASSWORD, or the
# file /run/secrets/redis_<service>_password (compose). Used by
# deploy/local.sh and, in compose, deploy/docker/redis/start.sh; the file it
# makes is 0600 and never a command-line argument.
#
#   accounts     reads and writes the session keys (itgov:*) and loads the
#                session functions library
#   projects, approvals, audit
#                may only read the session keys (HMGET of a session hash)
set -euo pipefail

password() {
  local var="ITGOV_${1^^}_REDIS_PASSWORD" file="/run/secrets/redis_$1_password"
  if [ -n "${!var:-}" ]; then printf '%s' "${!var}"
  elif [ -r "$file" ]; then tr -d '\n' <"$file"
  else echo "acl.sh: no Redis password for $1 ($var or $file)" >&2; exit 2
  fi
}

echo "user default off resetkeys resetchannels -@all"
echo "user accounts on >$(password accounts) resetchannels ~itgov:* -@all +@connection +@read +@write +@keyspace +@scripting -@dangerous +info"
for s in projects approvals audit; do
  echo "user $s on >$(password "$s") resetchannels %R~itgov:* -@all +@connection -@dangerous +hmget +hget +info"
done
