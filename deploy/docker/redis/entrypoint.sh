#!/bin/bash
# Entrypoint of the redis:7 stand-in: `redis-server [args]` or `[--option ...]`
# runs Debian's redis-server with no config file (all interfaces, in /data),
# adding --protected-mode no unless given, as the official image does.
set -euo pipefail
if [ -n "${1:-}" ] && [ "${1#-}" != "$1" ]; then set -- redis-server "$@"; fi
if [ "${1:-}" = redis-server ]; then
  shift
  case " $* " in *" --protected-mode "*) ;; *) set -- --protected-mode no "$@" ;; esac
  exec redis-server "$@"
fi
exec "$@"
