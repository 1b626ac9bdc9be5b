#!/usr/bin/env bash
# Smoke test of docker-compose.yml on a machine with no registry (run as root;
# tests/run.sh runs it with ITGOV_TEST_COMPOSE=1, as .ci/run does):
#
#   1. deploy/deps.sh --docker; every services/<svc> with a CMakeLists.txt must
#      be a compose service, and (but the broker) a gateway upstream
#   2. starts its own dockerd (data, exec root, socket under a mktemp dir; no
#      iptables, no default bridge), as ../shared/docs/environment.md says
#   3. debian:bookworm-slim = `debootstrap --variant=minbase bookworm` +
#      `docker import` (the rootfs tarball is cached in
#      $ITGOV_COMPOSE_CACHE, default /var/cache/itgov-compose, for 7 days);
#      stand-ins tagged postgres:15 and redis:7 from deploy/docker/{postgres,redis}
#   4. `docker-compose -p itgov-smoke up` with its own env file, secrets and
#      free host ports (so it runs next to a `deploy/local.sh up` stack)
#   5. through the gateway: the web console at / (built on the host first by
#      services/web/build.sh; CSP, assets), admin logs in, every service answers, admin
#      creates a user (201), the user logs in; itgov.account.user.created
#      arrives on the broker's XPUB and on audit's public feed (both published;
#      subscribed with CURVE: client key pairs made here, one listed in the
#      env file's ITGOV_EVENT_CLIENT_KEYS, one in the secrets'
#      event_client_keys, the server keys from GET /api/v1/events/keys)
#   6. `docker-compose down` and `up -d` again: the admin's session (Redis
#      volume) and the user (PostgreSQL volume) are still there; every
#      container healthy, db-init exited 0; each stops on its stop signal
#      within 10 s (`docker-compose stop`; exit 137 = needed SIGKILL)
#   7. always (EXIT trap): `docker-compose down -v`, stops dockerd, unmounts
#      and deletes the temp dir
#
# Exits non-zero with a message naming the failed step and the tail of
# `docker-compose logs`. Every step has a time limit, and the whole run at
# most ITGOV_COMPOSE_SMOKE_TIMEOUT_S seconds (default 840).
# ITGOV_COMPOSE_KEEP_LOGS=<dir>: keep the logs there (compose.log and
# compose-before-restart.log: every container's; build, up, dockerd logs),
# replacing what an earlier run left.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEEP_LOGS=${ITGOV_COMPOSE_KEEP_LOGS:-}
case $KEEP_LOGS in "" | /*) ;; *) KEEP_LOGS=$PWD/$KEEP_LOGS ;; esac
cd "$ROOT"
PROJECT=itgov-smoke
CACHE=${ITGOV_COMPOSE_CACHE:-/var/cache/itgov-compose}
BUDGET_S=${ITGOV_COMPOSE_SMOKE_TIMEOUT_S:-840}
T0=$SECONDS
# Debian's python3, with python3-zmq (deploy/deps.sh) and python3-yaml (a
# dependency of docker-compose); not whatever python3 comes first on PATH.
PY=/usr/bin/python3

# The script's own stdout and stderr: a trap may run inside a function whose
# output is redirected into a log under $D, which the teardown deletes.
exec 3>&1 4>&2

say() { printf 'compose-smoke: [%3ds] %s\n' "$((SECONDS - T0))" "$*"; }

# --- bounded steps, teardown -------------------------------------------------

D=""
CHILD=""
DOCKERD_UP=0
COMPOSE_UP=0
WATCHDOG=""
BUILDS=() # background builds

# bounded <seconds> <command...>: runs it in the background and waits, so a
# signal (the watchdog's, Ctrl-C) interrupts the wait at once.
bounded() {
  local t=$1 rc=0
  shift
  timeout --kill-after=10 "$t" "$@" &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=""
  [ "$rc" -ne 124 ] || say "timed out after ${t}s: $*"
  return "$rc"
}

# docker-compose on this test's project (DC also for `bounded`).
DC=()
dc() { "${DC[@]}" "$@"; }

compose_logs() {
  [ "$COMPOSE_UP" = 1 ] || return 0
  if [ -s "$D/up.log" ]; then
    echo "---- docker-compose up ----" >&2
    tail -n 30 "$D/up.log" >&2
  fi
  echo "---- docker-compose ps ----" >&2
  timeout 30 docker-compose -p "$PROJECT" -f "$ROOT/docker-compose.yml" --env-file "$D/env" ps >&2 || true
  echo "---- docker-compose logs (last 60 lines per container) ----" >&2
  timeout 60 docker-compose -p "$PROJECT" -f "$ROOT/docker-compose.yml" --env-file "$D/env" \
    logs --no-color --tail=60 >&2 || true
  echo "----" >&2
}

fail() {
  say "FAILED: $*" >&2
  compose_logs
  exit 1
}

cleanup() {
  local rc=$? i pid
  set +e
  exec 1>&3 2>&4
  trap - EXIT INT TERM
  [ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null
  for pid in $CHILD "${BUILDS[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  [ -n "${SUB_PID:-}" ] && kill "$SUB_PID" 2>/dev/null
  if [ -n "$D" ]; then
    if [ "$COMPOSE_UP" = 1 ]; then
      if [ -n "$KEEP_LOGS" ]; then
        timeout 60 docker-compose -p "$PROJECT" -f "$ROOT/docker-compose.yml" --env-file "$D/env" \
          logs --no-color --timestamps >"$D/compose.log" 2>&1
      fi
      say "docker-compose down -v"
      timeout 120 docker-compose -p "$PROJECT" -f "$ROOT/docker-compose.yml" --env-file "$D/env" \
        down -v --remove-orphans --timeout 10 >"$D/down.log" 2>&1 || { say "down failed:"; tail -n 20 "$D/down.log"; }
      cat "$D/down.log"
    fi
    if [ "$DOCKERD_UP" = 1 ] && [ -s "$D/dockerd.pid" ]; then
      pid=$(cat "$D/dockerd.pid")
      say "stopping dockerd (pid $pid)"
      kill -TERM "$pid" 2>/dev/null
      for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then
        say "dockerd did not stop in 30 s; SIGKILL"
        kill -KILL "$pid" 2>/dev/null
        sleep 1
      fi
    fi
    if [ -n "$KEEP_LOGS" ]; then
      rm -rf "$KEEP_LOGS"
      mkdir -p "$KEEP_LOGS" && cp "$D"/*.log "$KEEP_LOGS/" 2>/dev/null
      say "logs kept in $KEEP_LOGS"
    fi
    umount "$D/exec/netns/"* 2>/dev/null
    # Whatever a killed dockerd left mounted under $D, deepest first.
    awk -v d="$D/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null
    rm -rf "$D"
  fi
  if [ "$rc" -eq 0 ]; then say "ok (${SECONDS}s)"; else say "failed (exit $rc, ${SECONDS}s)"; fi
  exit "$rc"
}

# --- checks before anything heavy -------------------------------------------

[ "$(id -u)" -eq 0 ] || { echo "compose-smoke: must run as root (it starts dockerd)" >&2; exit 1; }

trap cleanup EXIT
trap 'exec 1>&3 2>&4; say "interrupted"; exit 130' INT
trap 'exec 1>&3 2>&4; say "terminated (the time budget is ${BUDGET_S} s)"; exit 143' TERM
MAIN_PID=$$
(
  trap 'kill "$sp" 2>/dev/null; exit 0' TERM
  sleep "$BUDGET_S" &
  sp=$!
  wait "$sp" && kill -TERM "$MAIN_PID"
) 2>/dev/null &
WATCHDOG=$!

say "deploy/deps.sh --docker"
bounded 600 deploy/deps.sh --docker || fail "deploy/deps.sh --docker"

D=$(mktemp -d /tmp/itgov-compose.XXXXXX)
chmod 700 "$D"
DC=(docker-compose -p "$PROJECT" -f "$ROOT/docker-compose.yml" --env-file "$D/env")

# Only this script's settings reach compose: nothing from the caller's
# ITGOV_*/COMPOSE_*/DOCKER_* (tests/run.sh exports its own stack's ports).
while read -r v; do unset "$v"; done < <(compgen -e | grep -E '^(ITGOV_|COMPOSE_|DOCKER_)')

read -r GW_PORT XPUB_PORT AUDIT_PUB_PORT <<<"$("$PY" "$ROOT/tests/free-ports.py" 3)"
# This test subscribes as two university systems would, each with a CURVE key
# pair whose public key the operator listed (README "Subscribing to events"):
# one in .env's ITGOV_EVENT_CLIENT_KEYS (a key without '$', which compose's
# .env would read as a variable), one in the secrets' event_client_keys file.
while :; do
  read -r ENV_SECRET ENV_PUBLIC <<<"$("$PY" deploy/keygen.py)"
  [[ $ENV_PUBLIC == *'$'* ]] || break
done
cat >"$D/env" <<EOF
ITGOV_EVENT_CLIENT_KEYS=$ENV_PUBLIC
ITGOV_GATEWAY_PORT=$GW_PORT
ITGOV_BROKER_XPUB_PORT=$XPUB_PORT
ITGOV_AUDIT_PUB_PORT=$AUDIT_PUB_PORT
ITGOV_SECRETS_DIR=$D/secrets
ITGOV_LOG_LEVEL=info
EOF
ITGOV_SECRETS_DIR=$D/secrets deploy/docker/secrets.sh >/dev/null || fail "deploy/docker/secrets.sh"
read -r FILE_SECRET FILE_PUBLIC <<<"$("$PY" deploy/keygen.py)"
printf '%s' "$FILE_PUBLIC" >"$D/secrets/event_client_keys"
ADMIN_PW=$(<"$D/secrets/admin_password")

say "checking that docker-compose.yml runs every service"
dc config -q || fail "docker-compose config rejects docker-compose.yml"
dc config >"$D/compose-config.yml" || fail "docker-compose config"
# The services running itgov/app must be exactly the services/<svc> with a
# CMakeLists.txt, and each (but the broker) must be a gateway upstream.
DEPLOYED=$("$PY" - "$D/compose-config.yml" services/*/CMakeLists.txt <<'EOF'
import sys, yaml
cfg = yaml.safe_load(open(sys.argv[1]))["services"]
dirs = {p.split("/")[1] for p in sys.argv[2:]}
app = {n for n, s in cfg.items() if str(s.get("image", "")).split(":")[0] == "itgov/app"}
gw = cfg.get("gateway", {}).get("environment", {}) or {}
bad = []
for d in sorted(dirs - app):
    bad.append(f"services/{d} exists but docker-compose.yml runs no '{d}' (see ADDING A SERVICE there)")
for a in sorted(app - dirs):
    bad.append(f"docker-compose.yml runs '{a}' but there is no services/{a}/CMakeLists.txt")
for d in sorted(dirs & app - {"broker"}):
    if not gw.get("ITGOV_GATEWAY_UPSTREAM_" + d.upper()):
        bad.append(f"the gateway has no ITGOV_GATEWAY_UPSTREAM_{d.upper()} for '{d}'")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
print(" ".join(sorted(app - {"broker"})))
EOF
) || fail "docker-compose.yml does not match services/"
say "services in docker-compose.yml: broker $DEPLOYED"

# --- dockerd -----------------------------------------------------------------

say "starting dockerd in $D"
setsid dockerd --iptables=false --ip6tables=false --ip-masq=false --bridge=none \
  --storage-driver=overlay2 --data-root "$D/data" --exec-root "$D/exec" \
  --pidfile "$D/dockerd.pid" --host "unix://$D/docker.sock" >"$D/dockerd.log" 2>&1 </dev/null 3>&- 4>&- &
DOCKERD_UP=1
export DOCKER_HOST="unix://$D/docker.sock"
for ((i = 0; ; i++)); do
  docker info >/dev/null 2>&1 && break
  if [ "$i" -ge 600 ]; then tail -n 30 "$D/dockerd.log" >&2; fail "dockerd did not answer within 60 s"; fi
  sleep 0.1
done
# From here on, `docker-compose down` in the trap is meaningful.
COMPOSE_UP=1

# --- images --------------------------------------------------------------------

ROOTFS_TAR=$CACHE/bookworm-minbase.tar
make_rootfs() {
  local r=$D/rootfs
  say "debootstrap --variant=minbase bookworm (cached afterwards in $ROOTFS_TAR)"
  bounded 600 debootstrap --variant=minbase bookworm "$r" >"$D/debootstrap.log" 2>&1 ||
    { tail -n 30 "$D/debootstrap.log" >&2; return 1; }
  # As in Debian's official images: daemons do not start while packages are
  # installed, no docs or man pages, package lists from every suite.
  printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
  chmod 755 "$r/usr/sbin/policy-rc.d"
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' >"$r/etc/dpkg/dpkg.cfg.d/docker"
  rm -f "$r/etc/apt/sources.list"
  cat >"$r/etc/apt/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*
  mkdir -p "$CACHE"
  tar -C "$r" -cf "$ROOTFS_TAR.tmp" . && mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  rm -rf "$r"
}
if [ ! -s "$ROOTFS_TAR" ] || [ -n "$(find "$ROOTFS_TAR" -mtime +7)" ]; then
  make_rootfs || fail "could not build the bookworm rootfs"
else
  say "reusing $ROOTFS_TAR"
fi
say "docker import -> debian:bookworm-slim"
bounded 300 docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["bash"]' "$ROOTFS_TAR" debian:bookworm-slim >/dev/null || fail "docker import"

# The gateway image copies the web console's built files (services/web/dist).
say "building the web console (services/web/build.sh)"
bounded 300 services/web/build.sh || fail "services/web/build.sh"

# The two stand-ins and the compose images build at the same time (mostly
# waiting for Debian's mirror); each logs into $D/build-<name>.log.
say "building postgres:15 and redis:7 stand-ins, itgov/app and itgov/gateway"
timeout 600 docker build --network host -t postgres:15 deploy/docker/postgres >"$D/build-postgres.log" 2>&1 &
B_PG=$!
BUILDS+=("$B_PG")
timeout 600 docker build --network host -t redis:7 deploy/docker/redis >"$D/build-redis.log" 2>&1 &
B_REDIS=$!
BUILDS+=("$B_REDIS")
# One build per image: broker and accounts share itgov/app.
bounded 600 "${DC[@]}" build --parallel broker gateway >"$D/build-compose.log" 2>&1 ||
  { tail -n 40 "$D/build-compose.log" >&2; fail "docker-compose build"; }
for b in "postgres:$B_PG" "redis:$B_REDIS"; do
  CHILD=${b#*:}
  if ! wait "$CHILD"; then
    CHILD=""
    tail -n 30 "$D/build-${b%%:*}.log" >&2
    fail "building the ${b%%:*} stand-in"
  fi
  CHILD=""
done
BUILDS=()
say "images built"

# --- the stack -----------------------------------------------------------------

say "docker-compose up -d (127.0.0.1: gateway $GW_PORT, broker XPUB $XPUB_PORT, audit PUB $AUDIT_PUB_PORT)"
bounded 300 "${DC[@]}" up -d >"$D/up.log" 2>&1 || { cat "$D/up.log" >&2; fail "docker-compose up -d"; }

BASE=http://127.0.0.1:$GW_PORT/api/v1
status_of() { curl -sS -o /dev/null -m 5 -w '%{http_code}' "$@" 2>/dev/null || true; }
wait_gateway() {
  local i code
  for ((i = 0; ; i++)); do
    code=$(status_of "$BASE/me")
    [ "$code" = 401 ] && break
    [ "$i" -ge 120 ] && fail "the gateway does not route to accounts: GET /api/v1/me answers $code, not 401, after 60 s"
    sleep 0.5
  done
  say "gateway answers (GET /api/v1/me without a token: 401)"
}
wait_gateway

# The web console at /: index.html (no-cache) with the CSP, a hashed asset.
console_check() {
  local h asset
  h=$(curl -sS -m 5 -D - -o "$D/index.html" -H 'Accept: text/html' "http://127.0.0.1:$GW_PORT/projects") || return 1
  grep -qi "^content-security-policy: default-src 'self'" <<<"$h" || { echo "no CSP on the console: $h" >&2; return 1; }
  asset=$(grep -o '/assets/[^"]*\.js' "$D/index.html" | head -n 1)
  [ -n "$asset" ] || { echo "index.html names no script" >&2; return 1; }
  [ "$(status_of "http://127.0.0.1:$GW_PORT$asset")" = 200 ] || { echo "$asset is not served" >&2; return 1; }
}
console_check || fail "the gateway does not serve the web console at /"
say "gateway serves the web console at / (CSP, assets)"

# Events: subscribers on the broker's XPUB (the .env key) and on audit's
# public feed (the file's key), both CURVE with the server keys from
# GET /api/v1/events/keys, print "<feed> <type>" of each event
# ([topic][CloudEvent JSON]).
KEYS=$(curl -sS -m 5 "$BASE/events/keys") || fail "GET /api/v1/events/keys"
SECRET_broker=$ENV_SECRET SECRET_audit_feed=$FILE_SECRET \
  "$PY" -u - "broker=tcp://127.0.0.1:$XPUB_PORT=$ENV_PUBLIC" \
  "audit_feed=tcp://127.0.0.1:$AUDIT_PUB_PORT=$FILE_PUBLIC" "$KEYS" \
  >"$D/events.txt" 2>"$D/events.err" <<'EOF' &
import json, os, sys, zmq
ctx = zmq.Context()
poller = zmq.Poller()
names = {}
keys = json.loads(sys.argv[3])
for arg in sys.argv[1:3]:
    name, rest = arg.split("=", 1)
    endpoint, public = rest.split("=", 1)  # tcp://host:port=<key, which may hold '='>
    s = ctx.socket(zmq.SUB)
    s.curve_serverkey = keys[name].encode()
    s.curve_secretkey = os.environ["SECRET_" + name].encode()  # not on a command line
    s.curve_publickey = public.encode()
    s.setsockopt(zmq.SUBSCRIBE, b"")
    s.connect(endpoint)
    poller.register(s, zmq.POLLIN)
    names[s] = name
print("ready")
while True:
    ready = dict(poller.poll(120000))
    if not ready:
        break
    for s in ready:
        parts = s.recv_multipart()
        try:
            print(names[s], json.loads(parts[-1])["type"])
        except Exception:
            print(names[s], "unparsable event, topic", parts[0].decode(errors="replace"))
EOF
SUB_PID=$!
for ((i = 0; i < 50; i++)); do grep -q ready "$D/events.txt" 2>/dev/null && break; sleep 0.1; done
sleep 1 # the subscriptions travel to the publishers

# api <method> <path> [json] [token]: the HTTP status in $CODE, the body in $body.
api() {
  local args=(-sS -m 20 -o "$D/body" -w '%{http_code}' -X "$1" "$BASE$2" -H 'Accept: application/json')
  [ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  [ -n "${4:-}" ] && args+=(-H "Authorization: Bearer $4")
  : >"$D/body"
  CODE=$(curl "${args[@]}" 2>"$D/curl.err") || CODE=000
  body=$(<"$D/body")
}
json() { "$PY" -c 'import json,sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' "$@"; }
field() { "$PY" -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1:]: v=v[int(k)] if isinstance(v,list) else v[k]
print(v)' "$@"; }

api POST /sessions "$(json username admin password "$ADMIN_PW")"
[ "$CODE" = 201 ] || fail "admin login through the gateway: $CODE $body"
TOKEN=$(field token <<<"$body") || fail "no token in $body"
say "admin logged in (POST /sessions: 201)"

api GET /departments "" "$TOKEN"
[ "$CODE" = 200 ] || fail "GET /departments: $CODE $body"
DEPT=$("$PY" -c 'import json,sys
items=json.load(sys.stdin)["items"]
print(next((d["id"] for d in items if d.get("code")=="ITO"), items[0]["id"]))' <<<"$body") ||
  fail "no department in $body"

# Every deployed service answers through the gateway (whatever its answer,
# as long as the gateway reached it).
for svc in $DEPLOYED; do
  case $svc in
    accounts) path=/me ;; projects) path=/plans ;; approvals) path=/approvals ;;
    audit) path=/audit ;; *) path=/$svc ;;
  esac
  api GET "$path" "" "$TOKEN"
  case $CODE in 000 | 502 | 503 | 504) fail "GET /api/v1$path ($svc) through the gateway: $CODE $body" ;; esac
  say "$svc reached through the gateway (GET /api/v1$path: $CODE)"
done

USER_PW=smoke-$(head -c 9 /dev/urandom | base64 | tr '+/' '-_')
new_user=$("$PY" -c 'import json,sys
print(json.dumps({"username":"smoke","display_name":"Compose Smoke","employee_id":"S0001",
  "department_id":int(sys.argv[1]),"roles":["applicant"],"password":sys.argv[2]}))' "$DEPT" "$USER_PW")
api POST /users "$new_user" "$TOKEN"
[ "$CODE" = 201 ] || fail "POST /users: $CODE $body"
say "user created (POST /users: 201, id $(field id <<<"$body"))"

api POST /sessions "$(json username smoke password "$USER_PW")"
[ "$CODE" = 201 ] || fail "the new user's login: $CODE $body"
[ "$(field user username <<<"$body")" = smoke ] || fail "login as smoke returned another user: $body"
say "new user logged in"

for feed in broker audit_feed; do
  for ((i = 0; ; i++)); do
    grep -qx "$feed itgov.account.user.created" "$D/events.txt" && break
    if [ "$i" -ge 300 ]; then
      cat "$D/events.err" >&2
      fail "no itgov.account.user.created from the $feed feed within 30 s; got: $(grep -v ready "$D/events.txt" | tr '\n' ',')"
    fi
    sleep 0.1
  done
  say "event itgov.account.user.created arrived on the $feed feed"
done
kill "$SUB_PID" 2>/dev/null || true
SUB_PID=""

# The data outlives the containers: PostgreSQL's and Redis's volumes.
say "docker-compose down (volumes kept), up -d again"
if [ -n "$KEEP_LOGS" ]; then
  timeout 60 "${DC[@]}" logs --no-color --timestamps >"$D/compose-before-restart.log" 2>&1 || true
fi
bounded 120 "${DC[@]}" down --timeout 10 >"$D/down-keep.log" 2>&1 ||
  { cat "$D/down-keep.log" >&2; fail "docker-compose down (volumes kept)"; }
bounded 300 "${DC[@]}" up -d >"$D/up.log" 2>&1 || { cat "$D/up.log" >&2; fail "docker-compose up -d, second time"; }
wait_gateway
api GET /me "" "$TOKEN"
[ "$CODE" = 200 ] || fail "admin's session did not survive the restart (Redis volume): GET /me $CODE $body"
api POST /sessions "$(json username smoke password "$USER_PW")"
[ "$CODE" = 201 ] || fail "the user did not survive the restart (PostgreSQL volume): login $CODE $body"
say "after the restart: the session still valid, the user logs in"

# Healthchecks run every 3 s: the gateway may still be "starting".
for ((i = 0; ; i++)); do
  unhealthy=$(dc ps | grep -Ev 'Up \(healthy\)|^ *Name|^-+$|_db-init_1 .* Exit 0 ' || true)
  [ -z "$unhealthy" ] && break
  [ "$i" -ge 30 ] && fail "containers not healthy after 30 s: $unhealthy"
  sleep 1
done
say "all containers healthy, db-init exited 0"

# Each container stops on its stop signal, without the SIGKILL that follows
# 10 s later (exit status 137).
t=$SECONDS
bounded 120 "${DC[@]}" stop --timeout 10 >"$D/stop.log" 2>&1 || { cat "$D/stop.log" >&2; fail "docker-compose stop"; }
killed=""
for c in $(dc ps -q); do
  st=$(docker inspect -f '{{.Name}} {{.State.ExitCode}}' "$c")
  case $st in *" 137") killed+=" ${st% *}" ;; esac
done
[ -z "$killed" ] || fail "did not stop within 10 s of their stop signal (SIGKILLed):$killed"
say "every container stopped on its stop signal ($((SECONDS - t)) s)"
