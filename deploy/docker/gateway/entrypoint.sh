#!/bin/bash
# Entrypoint of the itgov/gateway image: renders /etc/itgov/gateway.conf.in
# (deploy/nginx/gateway.conf.in, the template deploy/local.sh renders too)
# into /run/itgov-gateway/nginx.conf, checks it with `nginx -t`, then runs
# nginx in the foreground with that file (master as root, workers as www-data;
# access log to stdout, error log to stderr). The web console's files are in
# /usr/share/itgov/web (the image's copy of services/web/dist).
#
# Environment:
#   ITGOV_GATEWAY_PORT        port nginx listens on, all interfaces (default 8080)
#   ITGOV_GATEWAY_UPSTREAM_<SERVICE>
#                             host:port of each service of deploy/services
#                             (/etc/itgov/services: ACCOUNTS=accounts:8081 ...).
#                             A service not set is not deployed: its paths
#                             answer 502 problem+json, as they do under
#                             local.sh when a service is not built.
#   ITGOV_GATEWAY_TIMEOUT_S   how long to wait for a service (default 60)
#   ITGOV_CORS_ORIGINS        comma-separated origins ("*": any) the gateway's
#                             own error answers allow
set -euo pipefail

TEMPLATE=/etc/itgov/gateway.conf.in
SERVICES=/etc/itgov/services
BLOCKS=/etc/itgov/services.sh # deploy/nginx/services.sh
STATE=/run/itgov-gateway

say() { printf 'itgov-gateway: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 2; }

# Same rules as deploy/local.sh's cors_map_lines.
cors_map_lines() {
  local o
  local -a origins
  IFS=, read -ra origins <<<"${ITGOV_CORS_ORIGINS:-}"
  for o in "${origins[@]}"; do
    o=${o//[[:space:]]/}
    [ -z "$o" ] && continue
    if [ "$o" = "*" ]; then
      printf '        "~."  %s;\n' "\$http_origin"
    elif [[ $o =~ ^[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9.:_-]+$ ]]; then
      printf '        "%s"  %s;\n' "$o" "\$http_origin"
    else
      say "ignoring malformed origin in ITGOV_CORS_ORIGINS: $o"
    fi
  done
}

render() {
  local t svc var addr rest port=${ITGOV_GATEWAY_PORT:-8080} timeout=${ITGOV_GATEWAY_TIMEOUT_S:-60}
  if ! [[ $port =~ ^[0-9]{1,5}$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
    die "ITGOV_GATEWAY_PORT must be a port number (1-65535), not '$port'"
  fi
  [[ $timeout =~ ^[1-9][0-9]*$ ]] || die "ITGOV_GATEWAY_TIMEOUT_S must be a number of seconds, not '$timeout'"
  t=$(<"$TEMPLATE")
  # The template listens on and proxies to 127.0.0.1:<port>; here nginx
  # listens on every interface and the services are other containers.
  t=${t//127.0.0.1:@GATEWAY_PORT@/"$port"}
  while read -r svc rest; do
    case $svc in '' | '#'*) continue ;; esac
    var=ITGOV_GATEWAY_UPSTREAM_${svc^^}
    addr=${!var:-}
    if [ -z "$addr" ]; then
      # Nothing listens there inside this container: 502, never a stranger.
      addr=127.0.0.1:9
      say "$svc not deployed ($var unset): its paths answer 502"
    elif ! [[ $addr =~ ^[A-Za-z0-9.-]+:[0-9]{1,5}$ ]]; then
      die "$var must be host:port, not '$addr'"
    fi
    export "$var=$addr"
  done <"$SERVICES"
  t=${t//@UPSTREAMS@/"$(bash "$BLOCKS" upstreams "$SERVICES")"}
  t=${t//@LOCATIONS@/"$(bash "$BLOCKS" locations "$SERVICES")"}
  t=${t//@STATE@/"$STATE"}
  t=${t//@USER_LINE@/"user www-data;"}
  t=${t//@UPSTREAM_TIMEOUT_S@/"$timeout"}
  t=${t//@CORS_ORIGINS@/"$(cors_map_lines)"}
  t=${t//@WEB_ROOT@/"/usr/share/itgov/web"}
  # A template change this script does not know must fail here, not route
  # somewhere unexpected.
  if [[ $t == *@[A-Z_]*@* ]] || [[ $t == *127.0.0.1:@* ]]; then
    die "$TEMPLATE has placeholders this entrypoint does not render: $(grep -o '@[A-Z_]*@' <<<"$t" | sort -u | tr '\n' ' ')"
  fi
  printf '%s\n' "$t"
}

if [ "${1:-}" = nginx ]; then
  mkdir -p "$STATE/nginx"
  # Logs go to the container's stdout/stderr (the master opens them as root).
  ln -sfn /dev/stdout "$STATE/gateway.access.log"
  ln -sfn /dev/stderr "$STATE/gateway.error.log"
  render >"$STATE/nginx.conf"
  shift
  nginx -t -q -c "$STATE/nginx.conf" -e "$STATE/gateway.error.log" || die "nginx rejects the rendered configuration"
  exec nginx -c "$STATE/nginx.conf" -e "$STATE/gateway.error.log" "$@"
fi
exec "$@"
