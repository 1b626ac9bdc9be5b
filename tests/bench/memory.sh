#!/usr/bin/env bash
# Memory of the itgov services (issue 8): each process's resident set (RSS,
# VmRSS of /proc/<pid>/status) idle after start, then after each of
# ITGOV_MEM_ROUNDS rounds of ITGOV_MEM_REQUESTS requests through the gateway.
# Not a timed test and not part of tests/run.sh; run it by hand:
#
#   tests/bench/memory.sh
#
#   1. deploy/deps.sh, a Release build (no sanitizers) into build-bench/, like
#      tests/bench/run.sh (whose build directory it shares)
#   2. an isolated stack with deploy/local.sh on free ports, its own state dir
#      and PostgreSQL cluster under /tmp; an EXIT trap stops and deletes it
#   3. RSS of the broker and every service IDLE_S seconds after the start,
#      before any request ("idle"); then an applicant, a project and an
#      auditor are made through the API
#   4. each round: wrk (-t2 -c16) sends exactly ITGOV_MEM_REQUESTS requests,
#      cycling through 20 slots: 7 × GET /me, 6 × GET /projects/{id},
#      2 × GET /approvals, 2 × GET /audit, 3 × POST /projects (15 % writes:
#      each also reaches the audit log through the outbox); then IDLE_S s of
#      quiet, and the RSS of each process again
#   5. prints a Markdown table (RSS in MiB: idle, after each round, peak VmHWM)
#      and writes it to build-bench/memory-results.md
#
# Growth is judged between rounds, not from idle: the first round fills the
# connection pools, caches and allocator arenas once. Aim (issue 8): every
# service under 20 MB idle, and no growth from one round to the next.
#
# Settings: ITGOV_MEM_REQUESTS (default 100000), ITGOV_MEM_ROUNDS (default 2),
# ITGOV_MEM_IDLE_S (default 5). Other ITGOV_* pass through to the services.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
. "$ROOT/tests/bench/mix.sh"
BUILD_DIR=build-bench
LOCAL_SH=$ROOT/deploy/local.sh
RESULTS_MD=$ROOT/$BUILD_DIR/memory-results.md
PROCS=(broker accounts projects approvals audit)

REQUESTS=${ITGOV_MEM_REQUESTS:-100000}
ROUNDS=${ITGOV_MEM_ROUNDS:-2}
IDLE_S=${ITGOV_MEM_IDLE_S:-5}
THREADS=2
CONNS=16

say() { printf 'memory: %s\n' "$*"; }
die() { printf 'memory: error: %s\n' "$*" >&2; exit 1; }
banner() { printf '\n==== %s ====\n' "$*"; }

for v in REQUESTS ROUNDS IDLE_S; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "ITGOV_MEM_${v} must be a positive integer"
done
[ $((REQUESTS % THREADS)) -eq 0 ] || die "ITGOV_MEM_REQUESTS must be a multiple of $THREADS"

STACK_UP=0
WORK=$(mktemp -d /tmp/itgov-mem-work.XXXXXX)

cleanup() {
  local rc=$?
  trap '' INT TERM
  if [ "$STACK_UP" = 1 ]; then
    say "stopping the stack"
    "$LOCAL_SH" down --purge >"$WORK/down.log" 2>&1 || { cat "$WORK/down.log" >&2; rc=1; }
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_stack() {
  local ports
  read -ra ports <<<"$(python3 "$ROOT/tests/free-ports.py" 10)"
  [ "${#ports[@]}" -eq 10 ] || die "could not find 10 free ports"
  export ITGOV_GATEWAY_PORT=${ports[0]} ITGOV_ACCOUNTS_PORT=${ports[1]} ITGOV_PROJECTS_PORT=${ports[2]}
  export ITGOV_APPROVALS_PORT=${ports[3]} ITGOV_AUDIT_PORT=${ports[4]}
  export ITGOV_BROKER_XSUB_PORT=${ports[5]} ITGOV_BROKER_XPUB_PORT=${ports[6]}
  export ITGOV_AUDIT_PUB_PORT=${ports[7]} ITGOV_PG_PORT=${ports[8]} ITGOV_REDIS_PORT=${ports[9]}
  ITGOV_STATE_DIR=$(mktemp -d /tmp/itgov-mem.XXXXXX)
  export ITGOV_STATE_DIR ITGOV_BUILD_DIR=$BUILD_DIR ITGOV_SKIP_BUILD=1
  ITGOV_ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  export ITGOV_ADMIN_PASSWORD
  STACK_UP=1
  say "starting an isolated stack (state in $ITGOV_STATE_DIR)"
  "$LOCAL_SH" up >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log" >&2; die "the stack did not start"; }
  local p
  for p in "${PROCS[@]}"; do [ -s "$ITGOV_STATE_DIR/$p.pid" ] || die "$p is not running"; done
}

# api METHOD PATH TOKEN [BODY] → the body; fails on a non-2xx answer.
api() {
  local code args=(-sS -m 10 -X "$1" -o "$WORK/api.out" -w '%{http_code}' "$GATEWAY/api/v1$2")
  [ -n "$3" ] && args+=(-H "Authorization: Bearer $3")
  [ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  code=$(curl "${args[@]}") || die "$1 $2: curl failed"
  [[ $code == 2?? ]] || die "$1 $2 answered $code: $(cat "$WORK/api.out")"
  cat "$WORK/api.out"
}
jget() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
login() { api POST /sessions "" "{\"username\":\"$1\",\"password\":\"$2\"}" | jget token; }

make_user() { # make_user NAME ROLE DEPT → token
  local pw
  pw=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  api POST /users "$ADMIN" "{\"username\":\"$1\",\"display_name\":\"$1\",\"employee_id\":\"MEM-$1\",\"department_id\":$3,\"roles\":[\"$2\"],\"password\":\"$pw\"}" >/dev/null
  login "$1" "$pw"
}

# VmRSS or VmHWM of a component, in KiB
kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$(cat "$ITGOV_STATE_DIR/$1.pid")/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

declare -A RSS
snapshot() { # snapshot COLUMN
  local p
  sleep "$IDLE_S"
  for p in "${PROCS[@]}"; do RSS[$p,$1]=$(kib "$p" VmRSS); done
}

# one_round N → runs REQUESTS requests, checks they all succeeded
one_round() {
  say "round $1: $REQUESTS requests (wrk -t$THREADS -c$CONNS)"
  run_mix "$WORK/mix.lua" "$GATEWAY" "$THREADS" "$CONNS" "$REQUESTS" "$WORK/wrk.out"
}

report() {
  local p r head="| process | idle" sep="|---|---:"
  for ((r = 1; r <= ROUNDS; r++)); do head+=" | after $((r * REQUESTS))"; sep+="|---:"; done
  {
    echo "## Memory (RSS, MiB)"
    echo
    echo "$(date -u +%FT%TZ), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)," \
      "Release build, $(nproc) CPUs. RSS of each process $IDLE_S s after the stack started (idle),"
    echo "and $IDLE_S s after each round of $REQUESTS requests through the gateway (35 % GET /me,"
    echo "30 % GET /projects/{id}, 10 % GET /approvals, 10 % GET /audit, 15 % POST /projects)."
    echo "Peak: VmHWM at the end."
    echo
    echo "$head | peak |"
    echo "$sep|---:|"
    for p in "${PROCS[@]}"; do
      printf '| %s | %s' "$p" "$(mib "${RSS[$p,0]}")"
      for ((r = 1; r <= ROUNDS; r++)); do printf ' | %s' "$(mib "${RSS[$p,$r]}")"; done
      printf ' | %s |\n' "$(mib "$(kib "$p" VmHWM)")"
    done
  } >"$RESULTS_MD"
  banner results
  cat "$RESULTS_MD"
  echo
  say "written to $RESULTS_MD"
}

# --- main --------------------------------------------------------------------

banner "Release build ($BUILD_DIR)"
"$ROOT/deploy/deps.sh" >/dev/null
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DITGOV_SANITIZE=OFF -DITGOV_WERROR=OFF >"$WORK/cmake.log" 2>&1 ||
  { cat "$WORK/cmake.log" >&2; die "cmake failed"; }
cmake --build "$BUILD_DIR" -j2 --target "${PROCS[@]/#/itgov-}" >"$WORK/build.log" 2>&1 ||
  { tail -n 60 "$WORK/build.log" >&2; die "build failed"; }

banner stack
start_stack
GATEWAY=http://127.0.0.1:$ITGOV_GATEWAY_PORT
snapshot 0 # idle: before any request
ADMIN=$(login admin "$ITGOV_ADMIN_PASSWORD")
DEPT=$(api POST /departments "$ADMIN" '{"code":"MEM","name":"Memory","kind":"department"}' | jget id)
APPLICANT=$(make_user mem_applicant applicant "$DEPT")
AUDITOR=$(make_user mem_auditor auditor "$DEPT")
PROJECT_ID=$(api POST /projects "$APPLICANT" \
  '{"title":"内存测试","kind":"upgrade","summary":"x","budget_cents":1,"serves_external_units":false}' | jget id)
write_mix_lua "$WORK/mix.lua" "$APPLICANT" "$AUDITOR" "$PROJECT_ID" "$((REQUESTS / THREADS))" tests/bench/memory.sh

banner measuring
for ((r = 1; r <= ROUNDS; r++)); do
  one_round "$r"
  snapshot "$r"
done
report
