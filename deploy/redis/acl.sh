#!/usr/bin/env bash
# Prints itgov's Redis ACL file: one user per service named in the arguments
# (acl.sh accounts projects ...: the services of deploy/services), the default
# user off, each password only as its SHA-256 (#<hex>), never in clear. The
# passwords come from ITGOV_<SERVICE>_REDIS_PASSWORD or, in compose, from the
# secret file /run/secrets/redis_<service>_password. Used by deploy/local.sh
# and by deploy/docker/redis/start.sh, the one place these rules live.
#
#   default      off: no connection can authenticate as it (AUTH default
#                fails whatever the password), and one that has not
#                authenticated gets NOAUTH for every command. Its rules are
#                nonetheless all keys and all commands, for a reason that is
#                not about connections: Redis 7.0 checks the commands of a
#                MULTI/EXEC replayed from the append-only file against the
#                default user's rules, and the effects of our functions are
#                written there as MULTI/EXEC blocks. With `-@all` every such
#                block fails at EXEC on start-up ("NOPERM ACLs rules changed
#                ..."): Redis starts anyway, without the sessions. A narrower
#                rule would lose, just as silently, any block holding a
#                command it forgot. The AOF holds only what the accounts user
#                was allowed to write, and turning the default user on takes
#                ACL SETUSER, which no user here may run.
#   accounts     reads and writes the session keys (itgov:*) and loads and
#                calls its function libraries; nothing dangerous (no EVAL,
#                KEYS, FLUSHALL, FUNCTION DELETE/FLUSH/RESTORE)
#   every other service
#                may only read session hashes (HMGET/HGET itgov:sess:*)
set -euo pipefail

password() {
  local var="ITGOV_${1^^}_REDIS_PASSWORD" file="/run/secrets/redis_$1_password"
  if [ -n "${!var:-}" ]; then printf '%s' "${!var}"
  elif [ -r "$file" ]; then tr -d '\n' <"$file"
  else echo "acl.sh: no Redis password for $1 ($var or $file)" >&2; exit 2
  fi
}
hashed() { password "$1" | sha256sum | cut -d' ' -f1; }

[ $# -gt 0 ] || { echo "usage: acl.sh SERVICE..." >&2; exit 2; }
echo "user default off resetkeys ~* resetchannels +@all"
for s in "$@"; do
  [[ $s =~ ^[a-z][a-z0-9_]*$ ]] || { echo "acl.sh: bad service name '$s'" >&2; exit 2; }
  if [ "$s" = accounts ]; then # the session writer (shared/include/itgov/session.h)
    echo "user accounts on #$(hashed accounts) resetkeys ~itgov:* resetchannels -@all" \
      "+@read +@write +fcall +function|load +ping -@dangerous" \
      "-function|delete -function|flush -function|restore"
  else
    echo "user $s on #$(hashed "$s") resetkeys %R~itgov:sess:* resetchannels -@all +hmget +hget +ping"
  fi
done
