#!/usr/bin/env bash
# Runs the whole itgov system on this machine, without Docker: PostgreSQL,
# Redis, the broker, the services and the nginx gateway, each as a background
# process with a pid file and a log in the state directory.
#
#   deploy/local.sh up                 install packages, build, start everything
#   deploy/local.sh down [--purge]     stop what `up` started (--purge: delete data too)
#   deploy/local.sh status             each component, its pid, running or stopped
#   deploy/local.sh start <component>  start one: postgres redis broker, a service
#   deploy/local.sh stop <component>     of deploy/services (accounts ...), gateway
#   deploy/local.sh env                the environment the services get, as exports
#   deploy/local.sh psql [args...]     psql as the superuser on the itgov database
#
# Ports and addresses are the ITGOV_* variables of README.md; besides those:
#   ITGOV_STATE_DIR       pid files, logs, secrets.env, nginx config (default <checkout>/.run)
#   ITGOV_BUILD_DIR       CMake build dir, relative to the checkout (default build)
#   ITGOV_SKIP_BUILD=1    do not run cmake (binaries must already be in $ITGOV_BUILD_DIR/bin)
#   ITGOV_PG_PORT         PostgreSQL port (default 5432)
#   ITGOV_AUDIT_PUB_PORT  audit's ZeroMQ PUB port (default 5560)
#   ITGOV_GATEWAY_TIMEOUT_S  how long the gateway waits for a service (default 60)
# Every other ITGOV_* variable, and ASAN/UBSAN/LSAN_OPTIONS, pass through to
# the services unchanged.
#
# PostgreSQL refuses to run as root, so when run as root its data lives in a
# directory under /tmp owned by the `postgres` OS user (remembered in
# $ITGOV_STATE_DIR/pgroot, so later runs reuse it) and it runs as that user.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The services (deploy/services: name, default port, API prefixes); each has
# a database role and schema, a Redis user, a CURVE key and ITGOV_<NAME>_PORT.
DB_ROLES=()
declare -A DEFAULT_PORT
read_services() {
  local name port _
  while read -r name port _; do
    case $name in '' | '#'*) continue ;; esac
    [[ $name =~ ^[a-z][a-z0-9_]*$ && $port =~ ^[0-9]+$ ]] || {
      echo "local.sh: error: deploy/services: bad line for '$name'" >&2
      exit 1
    }
    DB_ROLES+=("$name")
    DEFAULT_PORT[$name]=$port
  done <"$ROOT/deploy/services"
}
read_services
# Started in this order, stopped in reverse. A service whose binary is not
# built yet is skipped by `up`.
SERVICES=(broker "${DB_ROLES[@]}")
COMPONENTS=(postgres redis "${SERVICES[@]}" gateway)
PGBIN=/usr/lib/postgresql/15/bin
STOP_TIMEOUT_S=10
READY_TIMEOUT_S=20

say() { printf 'local.sh: %s\n' "$*"; }
die() { printf 'local.sh: error: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# --- configuration ---------------------------------------------------------

port_ok() { [[ $1 =~ ^[0-9]{1,5}$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; }

set_defaults() {
  local v r service_ports=()
  for r in "${DB_ROLES[@]}"; do
    v=ITGOV_${r^^}_PORT
    [ -n "${!v:-}" ] || printf -v "$v" '%s' "${DEFAULT_PORT[$r]}"
    service_ports+=("$v")
  done
  : "${ITGOV_GATEWAY_PORT:=8080}" "${ITGOV_BROKER_XSUB_PORT:=5550}" "${ITGOV_BROKER_XPUB_PORT:=5551}"
  : "${ITGOV_AUDIT_PUB_PORT:=5560}"
  : "${ITGOV_PG_PORT:=5432}" "${ITGOV_REDIS_PORT:=6379}" "${ITGOV_GATEWAY_TIMEOUT_S:=60}"
  for v in ITGOV_GATEWAY_PORT "${service_ports[@]}" ITGOV_BROKER_XSUB_PORT \
           ITGOV_BROKER_XPUB_PORT ITGOV_AUDIT_PUB_PORT ITGOV_PG_PORT ITGOV_REDIS_PORT; do
    port_ok "${!v}" || die "$v must be a port number (1-65535), not '${!v}'"
  done
  [[ $ITGOV_GATEWAY_TIMEOUT_S =~ ^[1-9][0-9]*$ ]] ||
    die "ITGOV_GATEWAY_TIMEOUT_S must be a number of seconds, not '$ITGOV_GATEWAY_TIMEOUT_S'"

  ITGOV_BUILD_DIR=${ITGOV_BUILD_DIR:-build}
  case $ITGOV_BUILD_DIR in /*) ;; *) ITGOV_BUILD_DIR=$ROOT/$ITGOV_BUILD_DIR ;; esac
  ITGOV_STATE_DIR=${ITGOV_STATE_DIR:-$ROOT/.run}
  mkdir -p "$ITGOV_STATE_DIR"
  ITGOV_STATE_DIR=$(cd "$ITGOV_STATE_DIR" && pwd)
  # The marker lets `down --purge` delete the directory: only one made for us.
  if [ ! -e "$ITGOV_STATE_DIR/.itgov-state" ]; then
    [ -z "$(ls -A "$ITGOV_STATE_DIR")" ] ||
      die "ITGOV_STATE_DIR=$ITGOV_STATE_DIR is neither empty nor an itgov state dir"
    : >"$ITGOV_STATE_DIR/.itgov-state"
  fi
  STATE=$ITGOV_STATE_DIR
  export ITGOV_BUILD_DIR ITGOV_STATE_DIR
}

gen_secret() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }
# "<secret> <public>" of a new ZeroMQ CURVE key pair (Z85); with an argument,
# the public key of that secret key.
curve_keypair() { python3 "$ROOT/deploy/keygen.py" "$@"; }

# Role passwords and the admin password: generated once, reused afterwards.
# Every secret the stack needs, as NAME=value lines of secrets.env: made once,
# reused afterwards; a secrets.env from an older version gets the ones it
# lacks appended.
new_secrets() {
  local r
  for r in "${DB_ROLES[@]}"; do echo "PW_$r=$(gen_secret)"; done
  echo "GENERATED_ADMIN_PASSWORD=$(gen_secret)"
  for r in "${DB_ROLES[@]}"; do echo "REDIS_PW_$r=$(gen_secret)"; done
  echo "INTERNAL_KEY=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  echo "SESSION_MAC_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  for r in broker audit_feed "${DB_ROLES[@]}"; do
    echo "CURVE_SECRET_$r='$(curve_keypair | cut -d' ' -f1)'"
  done
}

load_secrets() {
  local f=$STATE/secrets.env line
  (
    umask 077
    [ -s "$f" ] || echo "# generated by deploy/local.sh; reused by later runs" >"$f"
    while IFS= read -r line; do
      grep -q "^${line%%=*}=" "$f" || echo "$line" >>"$f"
    done < <(new_secrets)
  )
  # shellcheck disable=SC1090
  . "$f"
  if [ -n "${ITGOV_ADMIN_PASSWORD:-}" ]; then
    ADMIN_PW_GENERATED=0
  else
    ADMIN_PW_GENERATED=1
    ITGOV_ADMIN_PASSWORD=$GENERATED_ADMIN_PASSWORD
  fi
}

role_password() { local v="PW_$1"; printf '%s' "${!v}"; }
secret_of() { local v="$1"; printf '%s' "${!v}"; }

# Everything the services need; other ITGOV_* the caller exported pass through.
export_service_env() {
  local r
  export ITGOV_GATEWAY_PORT ITGOV_AUDIT_PUB_PORT ITGOV_PG_PORT ITGOV_GATEWAY_TIMEOUT_S
  export ITGOV_BROKER_HOST=127.0.0.1 ITGOV_BROKER_XSUB_PORT ITGOV_BROKER_XPUB_PORT
  export ITGOV_REDIS_HOST=127.0.0.1 ITGOV_REDIS_PORT
  export ITGOV_ADMIN_PASSWORD
  for r in "${DB_ROLES[@]}"; do
    export "ITGOV_${r^^}_PORT"
    export "ITGOV_${r^^}_DATABASE_URL=host=127.0.0.1 port=$ITGOV_PG_PORT dbname=itgov user=$r password=$(role_password "$r")"
  done
  # Trust (README, "Keys and secrets"): Redis ACL passwords, the internal
  # credential, the session MAC key and the CURVE keys of the broker, the
  # audit feed and each publishing service.
  local publishers=()
  for r in "${DB_ROLES[@]}"; do
    export "ITGOV_${r^^}_REDIS_PASSWORD=$(secret_of "REDIS_PW_$r")"
    export "ITGOV_${r^^}_CURVE_SECRET=$(secret_of "CURVE_SECRET_$r")"
    publishers+=("$r=$(curve_keypair "$(secret_of "CURVE_SECRET_$r")")")
  done
  export ITGOV_INTERNAL_KEY=$INTERNAL_KEY ITGOV_SESSION_MAC_KEY=$SESSION_MAC_KEY
  export ITGOV_BROKER_CURVE_SECRET=$CURVE_SECRET_broker ITGOV_AUDIT_FEED_CURVE_SECRET=$CURVE_SECRET_audit_feed
  ITGOV_BROKER_CURVE_PUBLIC=$(curve_keypair "$CURVE_SECRET_broker")
  ITGOV_PUBLISHER_KEYS=$(IFS=,; echo "${publishers[*]}")
  export ITGOV_BROKER_CURVE_PUBLIC ITGOV_PUBLISHER_KEYS
  export ITGOV_EVENT_CLIENT_KEYS=${ITGOV_EVENT_CLIENT_KEYS:-}
}

setup() {
  set_defaults
  load_secrets
  export_service_env
}

# --- processes ---------------------------------------------------------------

pid_file() {
  if [ "$1" = postgres ]; then echo "$(pg_root)/data/postmaster.pid"; else echo "$STATE/$1.pid"; fi
}

# A pid that exists and is not a zombie (PID 1 here may not reap orphans).
alive() {
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat:0:1}" != Z ]
}

# What a component's command line contains, so a pid file whose process died
# and whose pid was reused never makes us signal a stranger.
cmdline_mark() {
  case $1 in
    postgres) echo "$(pg_root)/data" ;;
    redis) echo redis-server ;;
    gateway) echo "nginx -p $STATE/nginx" ;;
    *) service_bin "$1" ;;
  esac
}

is_component() {
  local cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$2/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$(cmdline_mark "$1")"* ]]
}

# Prints the pid of a running component; fails if it is not running.
running_pid() {
  local f pid
  f=$(pid_file "$1")
  [ -s "$f" ] || return 1
  read -r pid <"$f" || true
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && is_component "$1" "$pid" && echo "$pid"
}

# SIGTERM, up to STOP_TIMEOUT_S seconds, then SIGKILL (noted in the log, so
# tests/run.sh can tell a service that does not stop on SIGTERM).
stop_pid() {
  local name=$1 pid=$2 log=$3 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < STOP_TIMEOUT_S * 10; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  echo "local.sh: $name (pid $pid) did not stop within ${STOP_TIMEOUT_S} s of SIGTERM; sent SIGKILL" | tee -a "$log" >&2
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do alive "$pid" || return 0; sleep 0.1; done
}

stop_by_pid_file() {
  local name=$1 f pid
  f=$(pid_file "$name")
  if pid=$(running_pid "$name"); then
    say "stopping $name (pid $pid)"
    stop_pid "$name" "$pid" "$STATE/$name.log"
  elif [ -s "$f" ]; then
    say "$name was not running (stale pid file; it may have crashed, see $STATE/$name.log)"
  fi
  rm -f "$f"
}

log_tail() {
  echo "---- last lines of $1 ----" >&2
  tail -n 40 "$1" >&2 2>/dev/null || true
  echo "----" >&2
}

# Waits until "$2 ..." succeeds while pid $1 lives. Fails (and says why) if
# the process exits, or after READY_TIMEOUT_S seconds.
wait_until() {
  local pid=$1 i
  shift
  for ((i = 0; i < READY_TIMEOUT_S * 10; i++)); do
    if ! alive "$pid"; then
      echo "local.sh: pid $pid exited before it was ready" >&2
      return 1
    fi
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "local.sh: pid $pid not ready after ${READY_TIMEOUT_S} s ($*)" >&2
  return 1
}

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
http_healthy() { curl -fsS -m 2 "http://127.0.0.1:$1/healthz"; }
http_answers() { [ "$(curl -sS -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/")" != 000 ]; }

# --- PostgreSQL --------------------------------------------------------------

# The PostgreSQL root under /tmp (data/, sock/, server.log), or "" if none yet.
pg_root() {
  local r=""
  [ -s "$STATE/pgroot" ] && read -r r <"$STATE/pgroot"
  if [ -n "$r" ] && [ -d "$r" ]; then echo "$r"; fi
}

as_pg() { if is_root; then runuser -u postgres -- "$@"; else "$@"; fi; }

psql_super() {
  "$PGBIN/psql" -X -q -h "$(pg_root)/sock" -p "$ITGOV_PG_PORT" -U postgres "$@"
}

ensure_pg_root() {
  local r
  r=$(pg_root)
  if [ -z "$r" ]; then
    r=$(mktemp -d /tmp/itgov-pg.XXXXXX)
    echo "$r" >"$STATE/pgroot"
  fi
  mkdir -p "$r/sock"
  chmod 700 "$r"
  if is_root; then
    id -u postgres >/dev/null 2>&1 ||
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
    chown -R postgres:postgres "$r"
  fi
  echo "$r"
}

init_pg_cluster() {
  local r=$1
  say "initialising a PostgreSQL cluster in $r/data"
  as_pg "$PGBIN/initdb" -D "$r/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$r/initdb.log" 2>&1 || { log_tail "$r/initdb.log"; die "initdb failed"; }
  # The superuser only over the socket (whose directory only postgres may
  # enter); the service roles with their passwords over TCP.
  printf '%s\n' '# generated by deploy/local.sh' \
    'local all postgres                trust' \
    'host  all all      127.0.0.1/32  scram-sha-256' >"$r/data/pg_hba.conf"
  if is_root; then chown postgres:postgres "$r/data/pg_hba.conf"; fi
}

setup_database() {
  local r args=()
  if [ "$(psql_super -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'itgov'")" != 1 ]; then
    psql_super -d postgres -c "CREATE DATABASE itgov"
  fi
  for r in "${DB_ROLES[@]}"; do args+=(-v "${r}_pw=$(role_password "$r")"); done
  # init.sql, then each role's password (the file's header says why)
  { cat "$ROOT/deploy/db/init.sql"
    for r in "${DB_ROLES[@]}"; do printf 'ALTER ROLE "%s" PASSWORD :'"'%s_pw';\n" "$r" "$r"; done
  } | PGOPTIONS="-c client_min_messages=warning" \
    psql_super -v ON_ERROR_STOP=1 -v "roles=${DB_ROLES[*]}" "${args[@]}" -d itgov -f - >/dev/null
}

start_postgres() {
  local r pid
  r=$(ensure_pg_root)
  [ -s "$r/data/PG_VERSION" ] || init_pg_cluster "$r"
  ln -sfn "$r/server.log" "$STATE/postgres.log"
  if pid=$(running_pid postgres); then
    say "postgres already running (pid $pid)"
  else
    say "starting postgres on 127.0.0.1:$ITGOV_PG_PORT (data in $r/data)"
    # A postmaster killed with SIGKILL stays a zombie where PID 1 does not
    # reap orphans, and PostgreSQL takes a lock file naming a zombie (or a
    # reused pid) for a live server. running_pid said it is not ours and
    # alive; PostgreSQL still refuses to start while any old backend holds
    # the cluster's shared memory, so dropping the lock file is safe. The
    # socket's lock file names the same pid and is refused the same way (a
    # live server elsewhere on the port still fails the start: it holds the
    # TCP port).
    rm -f "$r/data/postmaster.pid" "$r"/sock/.s.PGSQL.*.lock
    # PostgreSQL's defaults, durable commits (synchronous_commit on). Group
    # commit (commit_delay) was measured for issue 15 and is not set: the
    # WAL flush already serves ~4 creates under POST /projects at 50
    # connections (pg_stat_wal: 0.27 syncs per create; commit_delay=1000
    # made it 0.24), and the creates are CPU-bound, so it only adds latency.
    as_pg "$PGBIN/pg_ctl" -D "$r/data" -l "$r/server.log" -w -t 30 \
      -o "-p $ITGOV_PG_PORT -k $r/sock -c listen_addresses=127.0.0.1" start >/dev/null ||
      { log_tail "$r/server.log"; die "postgres did not start"; }
  fi
  setup_database
}

stop_postgres() {
  local r pid
  r=$(pg_root)
  if [ -n "$r" ] && pid=$(running_pid postgres); then
    say "stopping postgres (pid $pid)"
    as_pg "$PGBIN/pg_ctl" -D "$r/data" -m fast -w -t 30 stop >/dev/null
  fi
}

# --- Redis -------------------------------------------------------------------

start_redis() {
  local pid
  if pid=$(running_pid redis); then say "redis already running (pid $pid)"; return; fi
  say "starting redis on 127.0.0.1:$ITGOV_REDIS_PORT"
  rm -f "$STATE/redis.pid"
  (umask 077 && "$ROOT/deploy/redis/acl.sh" "${DB_ROLES[@]}" >"$STATE/redis.acl") # the ACL users (that script)
  chmod 600 "$STATE/redis.acl"
  # Sessions survive a crash: every write goes to the append-only file
  # ($STATE/appendonlydir), flushed to disk each second, replayed at start.
  redis-server --bind 127.0.0.1 --port "$ITGOV_REDIS_PORT" --save "" \
    --appendonly yes --appendfsync everysec \
    --aclfile "$STATE/redis.acl" \
    --daemonize yes --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log" --dir "$STATE"
  local i
  for ((i = 0; i < 50; i++)); do [ -s "$STATE/redis.pid" ] && break; sleep 0.1; done
  if ! pid=$(running_pid redis) || ! wait_until "$pid" tcp_open "$ITGOV_REDIS_PORT"; then
    log_tail "$STATE/redis.log"
    die "redis did not start"
  fi
}

stop_redis() { stop_by_pid_file redis; }

# --- broker and services -----------------------------------------------------

service_bin() { echo "$ITGOV_BUILD_DIR/bin/itgov-$1"; }

service_port() { local v="ITGOV_${1^^}_PORT"; echo "${!v}"; }

# $2 = "optional": skip quietly (with a note) when the binary is not built.
start_service() {
  local svc=$1 bin pid log=$STATE/$1.log
  bin=$(service_bin "$svc")
  if [ ! -x "$bin" ]; then
    [ "${2:-}" = optional ] && { say "$svc not built yet ($bin), skipped"; return 0; }
    die "$svc is not built: $bin"
  fi
  if pid=$(running_pid "$svc"); then say "$svc already running (pid $pid)"; return; fi
  say "starting $svc"
  echo "local.sh: $(date -u +%FT%TZ) starting $bin" >>"$log"
  setsid "$bin" >>"$log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$STATE/$svc.pid"
  if [ "$svc" = broker ]; then
    wait_until "$pid" tcp_open "$ITGOV_BROKER_XSUB_PORT" && wait_until "$pid" tcp_open "$ITGOV_BROKER_XPUB_PORT"
  else
    wait_until "$pid" http_healthy "$(service_port "$svc")"
  fi || { log_tail "$log"; die "$svc did not start"; }
}

stop_service() { stop_by_pid_file "$1"; }

# --- gateway -----------------------------------------------------------------

# nginx map lines for ITGOV_CORS_ORIGINS (comma-separated; "*" allows any).
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
      say "ignoring malformed origin in ITGOV_CORS_ORIGINS: $o" >&2
    fi
  done
}

# The services' upstream or location blocks (deploy/nginx/services.sh).
gateway_blocks() (
  local r
  for r in "${DB_ROLES[@]}"; do export "ITGOV_GATEWAY_UPSTREAM_${r^^}=127.0.0.1:$(service_port "$r")"; done
  "$ROOT/deploy/nginx/services.sh" "$1" "$ROOT/deploy/services"
)

render_gateway_conf() {
  local t user_line=""
  t=$(<"$ROOT/deploy/nginx/gateway.conf.in")
  if is_root; then user_line="user root;"; fi
  t=${t//@STATE@/"$STATE"}
  t=${t//@USER_LINE@/"$user_line"}
  t=${t//@GATEWAY_PORT@/"$ITGOV_GATEWAY_PORT"}
  t=${t//@UPSTREAMS@/"$(gateway_blocks upstreams)"}
  t=${t//@LOCATIONS@/"$(gateway_blocks locations)"}
  t=${t//@UPSTREAM_TIMEOUT_S@/"$ITGOV_GATEWAY_TIMEOUT_S"}
  t=${t//@CORS_ORIGINS@/"$(cors_map_lines)"}
  t=${t//@WEB_ROOT@/"$ROOT/services/web/dist"}
  printf '%s\n' "$t"
}

nginx_cmd() { nginx -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf" -e "$STATE/gateway.error.log" "$@"; }

start_gateway() {
  local pid i
  if pid=$(running_pid gateway); then say "gateway already running (pid $pid)"; return; fi
  mkdir -p "$STATE/nginx"
  render_gateway_conf >"$STATE/nginx/nginx.conf"
  nginx_cmd -t -q || die "nginx rejects $STATE/nginx/nginx.conf"
  say "starting gateway on 127.0.0.1:$ITGOV_GATEWAY_PORT"
  rm -f "$STATE/gateway.pid"
  nginx_cmd </dev/null || { log_tail "$STATE/gateway.error.log"; die "nginx did not start"; }
  for ((i = 0; i < 50; i++)); do [ -s "$STATE/gateway.pid" ] && break; sleep 0.1; done
  if ! pid=$(running_pid gateway) || ! wait_until "$pid" http_answers "$ITGOV_GATEWAY_PORT"; then
    log_tail "$STATE/gateway.error.log"
    die "gateway did not start"
  fi
}

stop_gateway() { stop_by_pid_file gateway; }

# --- commands ----------------------------------------------------------------

build() {
  if [ "${ITGOV_SKIP_BUILD:-0}" = 1 ]; then return; fi
  if [ ! -f "$ROOT/CMakeLists.txt" ]; then say "no CMakeLists.txt yet, nothing to build"; return; fi
  cmake -S "$ROOT" -B "$ITGOV_BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake --build "$ITGOV_BUILD_DIR" -j2
  # The web console the gateway serves at / (skipped when dist/ is up to date).
  "$ROOT/services/web/build.sh"
}

start_component() {
  case $1 in
    postgres) start_postgres ;;
    redis) start_redis ;;
    gateway) start_gateway ;;
    *) start_service "$1" "${2:-}" ;;
  esac
}

stop_component() {
  case $1 in
    postgres) stop_postgres ;;
    redis) stop_redis ;;
    gateway) stop_gateway ;;
    *) stop_service "$1" ;;
  esac
}

check_component() {
  local c
  for c in "${COMPONENTS[@]}"; do [ "$c" = "$1" ] && return 0; done
  die "unknown component '$1' (one of: ${COMPONENTS[*]})"
}

cmd_up() {
  "$ROOT/deploy/deps.sh"
  build
  start_postgres
  start_redis
  local svc
  for svc in "${SERVICES[@]}"; do start_service "$svc" optional; done
  start_gateway
  local base="http://127.0.0.1:$ITGOV_GATEWAY_PORT/api/v1" shown='<ITGOV_ADMIN_PASSWORD>'
  if [ "$ADMIN_PW_GENERATED" = 1 ]; then shown=$ITGOV_ADMIN_PASSWORD; fi
  cat <<EOF

itgov is up.
  console:    http://127.0.0.1:$ITGOV_GATEWAY_PORT/  (services/web, in a browser)
  API:        $base
  events:     tcp://127.0.0.1:$ITGOV_BROKER_XPUB_PORT  (ZeroMQ SUB, broker XPUB)
  logs:       $STATE/*.log
  log in:     curl -X POST $base/sessions -H 'Content-Type: application/json' \\
                -d '{"username":"admin","password":"$shown"}'
EOF
  if [ "$ADMIN_PW_GENERATED" = 1 ]; then
    echo "  (admin password generated once, kept in $STATE/secrets.env)"
  fi
}

cmd_down() {
  local purge=0 i r
  [ "${1:-}" = --purge ] && purge=1
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do stop_service "${SERVICES[i]}"; done
  stop_gateway
  stop_redis
  stop_postgres
  if [ "$purge" = 1 ]; then
    r=$(pg_root)
    if [[ $r == /tmp/itgov-pg.* ]]; then say "removing $r"; rm -rf "$r"; fi
    if [ -e "$STATE/.itgov-state" ]; then say "removing $STATE"; rm -rf "$STATE"; fi
  fi
}

cmd_status() {
  local c pid
  for c in "${COMPONENTS[@]}"; do
    if pid=$(running_pid "$c"); then
      printf '%-10s %-8s pid %s\n' "$c" running "$pid"
    elif [[ " ${SERVICES[*]} " == *" $c "* ]] && [ ! -x "$(service_bin "$c")" ]; then
      printf '%-10s %s\n' "$c" "stopped (not built)"
    elif [ "$c" != postgres ] && [ -s "$(pid_file "$c")" ]; then
      printf '%-10s %s\n' "$c" "stopped (stale pid file: it died without being stopped)"
    else
      printf '%-10s %s\n' "$c" stopped
    fi
  done
}

cmd_env() {
  local v
  while read -r v; do
    printf 'export %s=%q\n' "$v" "${!v}"
  done < <(compgen -e | grep -E '^(ITGOV_[A-Z0-9_]+|ASAN_OPTIONS|UBSAN_OPTIONS|LSAN_OPTIONS)$' | sort)
}

usage() {
  sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}" >&2
  exit 2
}

main() {
  local cmd=${1:-}
  [ -n "$cmd" ] || usage
  shift
  case $cmd in
    up | down | status | env | psql | start | stop) ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
  setup
  case $cmd in
    up) cmd_up ;;
    down) cmd_down "$@" ;;
    status) cmd_status ;;
    env) cmd_env ;;
    psql) psql_super -d itgov "$@" ;;
    start | stop)
      [ $# -eq 1 ] || usage
      check_component "$1"
      "${cmd}_component" "$1"
      ;;
  esac
}

main "$@"
