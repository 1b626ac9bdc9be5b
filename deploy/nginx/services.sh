#!/usr/bin/env bash
# Prints the gateway's per-service nginx blocks for deploy/nginx/gateway.conf.in
# from the list of services (deploy/services: name, default port, prefixes):
#
#   services.sh upstreams LIST   an upstream itgov_<name> per service, at
#                                ITGOV_GATEWAY_UPSTREAM_<NAME> (host:port)
#   services.sh locations LIST   a location per service routing
#                                /api/v1/<prefix> and /api/v1/<prefix>/... to it;
#                                a prefix with a "*" segment (projects/*/metrics-key:
#                                a route of one service under another's path) gets
#                                its own location, printed before all the others so
#                                that it wins (nginx tries regex locations in order)
#
# Used by deploy/local.sh and the gateway image's entrypoint, which set the
# addresses and put the output in place of @UPSTREAMS@ and @LOCATIONS@.
set -euo pipefail

what=${1:-}
list=${2:-}
[ -r "$list" ] || { echo "services.sh: cannot read the list of services '$list'" >&2; exit 2; }

# pass 1 prints the nested prefixes' locations, pass 2 the others
for pass in 1 2; do
while read -r name port prefixes; do
  case $name in '' | '#'*) continue ;; esac
  if ! [[ $name =~ ^[a-z][a-z0-9_]*$ && $port =~ ^[0-9]+$ && $prefixes =~ ^[a-z0-9_\ */-]+$ ]]; then
    echo "services.sh: $list: bad line: $name $port $prefixes" >&2
    exit 2
  fi
  case $what in
    upstreams)
      [ "$pass" = 1 ] || continue
      var=ITGOV_GATEWAY_UPSTREAM_${name^^}
      [ -n "${!var:-}" ] || { echo "services.sh: $var is not set" >&2; exit 2; }
      printf '    upstream itgov_%s {\n' "$name"
      printf '        server %s max_fails=0;\n' "${!var}"
      printf '        keepalive 32;\n'
      printf '        keepalive_timeout 30s;\n'
      printf '        keepalive_requests 100000;\n'
      printf '    }\n'
      ;;
    locations)
      read -ra words <<<"$prefixes"
      flat=() nested=()
      for w in "${words[@]}"; do
        if [[ $w == */* ]]; then nested+=("${w//\*/[^/]+}"); else flat+=("$w"); fi
      done
      if [ "$pass" = 1 ]; then group=("${nested[@]}"); else group=("${flat[@]}"); fi
      [ "${#group[@]}" -gt 0 ] || continue
      printf '        location ~ ^/api/v1/(%s)(/|$) {\n' "$(IFS='|'; echo "${group[*]}")"
      printf '            proxy_pass http://itgov_%s;\n' "$name"
      printf '        }\n'
      ;;
    *) echo "usage: services.sh upstreams|locations LIST" >&2; exit 2 ;;
  esac
done <"$list"
done
