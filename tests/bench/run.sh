#!/usr/bin/env bash
# The itgov benchmark (issues 2 and 4): requests/s of the real endpoints next
# to a bare evhttp handler, with wrk. Not a timed test and not part of
# tests/run.sh; run it by hand on an otherwise idle machine:
#
#   tests/bench/run.sh
#
#   1. deploy/deps.sh (installs wrk and the rest if missing)
#   2. a Release build (no sanitizers) into build-bench/ of what is measured:
#      the broker, accounts, projects (if it is in the build yet) and
#      itgov-bench-bare (tests/bench/bare.c: plain libevent + cJSON)
#   3. an isolated stack with deploy/local.sh on free ports, its own state dir
#      and PostgreSQL cluster under /tmp (so it runs next to another stack),
#      a random admin password; an EXIT trap stops and deletes it
#   4. logs in as admin, starts the bare server serving the very body
#      GET /api/v1/me answered, and runs wrk (a warm-up run, then
#      ITGOV_BENCH_RUNS runs, same settings for every target) against
#        - the bare handler
#        - GET /api/v1/me directly on the accounts port
#        - GET /api/v1/me through the nginx gateway
#      and, when the projects service is built and running:
#        - GET /api/v1/projects/{id} and POST /api/v1/projects directly on the
#          projects port (an applicant, its department and a project are
#          created through the API first)
#        - pgbench on the same PostgreSQL, one-row INSERT transactions at the
#          same concurrency, as the superuser over the cluster's unix socket
#   5. prints a Markdown table (median requests/s, median of the runs' p99
#      latencies, ratio to the bare handler, or to pgbench for creates) and
#      writes it to build-bench/bench-results.md
#
# Settings (environment):
#   ITGOV_BENCH_THREADS      wrk threads, and pgbench -j        (default 2)
#   ITGOV_BENCH_CONNECTIONS  wrk connections, and pgbench -c    (default 50)
#   ITGOV_BENCH_DURATION_S   seconds per measured run           (default 10)
#   ITGOV_BENCH_WARMUP_S     seconds of the discarded warm-up   (default 3)
#   ITGOV_BENCH_RUNS         measured runs per target           (default 3)
# Any other ITGOV_* (e.g. ITGOV_LOG_LEVEL=warn) passes through to the services.
#
# wrk, the servers, Redis, PostgreSQL and nginx all share this machine's
# cores, so the figures are relative: compare ratios measured in one run.
# Exits non-zero if a step fails or a target answered anything but 2xx.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BUILD_DIR=build-bench
LOCAL_SH=$ROOT/deploy/local.sh
RESULTS_MD=$ROOT/$BUILD_DIR/bench-results.md
PSQL=/usr/lib/postgresql/15/bin/psql
PGBENCH=/usr/lib/postgresql/15/bin/pgbench

THREADS=${ITGOV_BENCH_THREADS:-2}
CONNS=${ITGOV_BENCH_CONNECTIONS:-50}
DURATION=${ITGOV_BENCH_DURATION_S:-10}
WARMUP=${ITGOV_BENCH_WARMUP_S:-3}
RUNS=${ITGOV_BENCH_RUNS:-3}

say() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }
banner() { printf '\n==== %s ====\n' "$*"; }

for v in THREADS CONNS DURATION RUNS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "ITGOV_BENCH_${v/CONNS/CONNECTIONS} must be a positive integer"
done
[[ $WARMUP =~ ^[0-9]+$ ]] || die "ITGOV_BENCH_WARMUP_S must be a number of seconds"
[ "$CONNS" -ge "$THREADS" ] || die "ITGOV_BENCH_CONNECTIONS must be at least ITGOV_BENCH_THREADS"

# --- the stack and the bare server, stopped by the EXIT trap -----------------

STACK_UP=0
BARE_PID=
WORK=$(mktemp -d /tmp/itgov-bench-work.XXXXXX)

cleanup() {
  local rc=$?
  trap '' INT TERM
  if [ -n "$BARE_PID" ]; then
    kill -TERM "$BARE_PID" 2>/dev/null || true
    wait "$BARE_PID" 2>/dev/null || true
  fi
  if [ "$STACK_UP" = 1 ]; then
    if [ "$rc" -ne 0 ]; then
      local f
      for f in "$ITGOV_STATE_DIR"/{accounts,projects}.log; do
        [ -f "$f" ] && { echo "---- last lines of ${f##*/} ----"; tail -n 15 "$f"; } >&2
      done
    fi
    say "stopping the benchmark stack"
    "$LOCAL_SH" down --purge >"$WORK/down.log" 2>&1 || { cat "$WORK/down.log" >&2; rc=1; }
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# n distinct free ports, outside the ephemeral range (tests/free-ports.py)
free_ports() { python3 "$ROOT/tests/free-ports.py" "$1"; }

start_stack() {
  local ports
  read -ra ports <<<"$(free_ports 11)"
  [ "${#ports[@]}" -eq 11 ] || die "could not find 11 free ports"
  export ITGOV_GATEWAY_PORT=${ports[0]} ITGOV_ACCOUNTS_PORT=${ports[1]} ITGOV_PROJECTS_PORT=${ports[2]}
  export ITGOV_APPROVALS_PORT=${ports[3]} ITGOV_AUDIT_PORT=${ports[4]}
  export ITGOV_BROKER_XSUB_PORT=${ports[5]} ITGOV_BROKER_XPUB_PORT=${ports[6]}
  export ITGOV_AUDIT_PUB_PORT=${ports[7]} ITGOV_PG_PORT=${ports[8]} ITGOV_REDIS_PORT=${ports[9]}
  BARE_PORT=${ports[10]}
  ITGOV_STATE_DIR=$(mktemp -d /tmp/itgov-bench.XXXXXX)
  export ITGOV_STATE_DIR ITGOV_BUILD_DIR=$BUILD_DIR ITGOV_SKIP_BUILD=1
  ITGOV_ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  export ITGOV_ADMIN_PASSWORD
  STACK_UP=1
  say "starting an isolated stack (state in $ITGOV_STATE_DIR)"
  "$LOCAL_SH" up >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log" >&2; die "the stack did not start"; }
  grep -E '^local.sh: (starting|.* not built)' "$WORK/up.log" | sed 's/^/  /' || true
}

start_bare() {
  local doc=$1 i
  ITGOV_BENCH_USER_JSON=$doc "$ROOT/$BUILD_DIR/bin/itgov-bench-bare" "$BARE_PORT" \
    >"$WORK/bare.log" 2>&1 &
  BARE_PID=$!
  for ((i = 0; i < 50; i++)); do
    curl -fsS -o /dev/null -m 1 "http://127.0.0.1:$BARE_PORT/api/v1/me" 2>/dev/null && return 0
    kill -0 "$BARE_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$WORK/bare.log" >&2
  die "itgov-bench-bare did not start"
}

# --- the API, for setting up users and projects ------------------------------

# api METHOD URL TOKEN [BODY] → prints the body; fails on a non-2xx answer.
api() {
  local method=$1 url=$2 token=$3 body=${4:-} out code
  local args=(-sS -m 10 -X "$method" -o "$WORK/api.out" -w '%{http_code}' "$url")
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  code=$(curl "${args[@]}") || { echo "bench: $method $url: curl failed" >&2; return 1; }
  out=$(cat "$WORK/api.out")
  if [[ $code != 2?? ]]; then
    echo "bench: $method $url answered $code: $out" >&2
    return 1
  fi
  printf '%s' "$out"
}

# jget FIELD < json
jget() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

login() {
  api POST "$GATEWAY/api/v1/sessions" "" "{\"username\":\"$1\",\"password\":\"$2\"}" | jget token
}

# --- measuring ---------------------------------------------------------------

# Results, one entry per target.
R_NAME=() R_RPS=() R_P99=() R_RATIO=() R_AIM=() R_RUNS=() R_NOTE=()
ERRORS=0

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# wrk's "99%   3.84ms" → milliseconds.
to_ms() {
  awk -v t="$1" 'BEGIN {
    if (match(t, /[a-z]+$/)) { n = substr(t, 1, RSTART - 1); u = substr(t, RSTART) } else { n = t; u = "s" }
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : 3600000
    printf "%.2f", n * f }'
}

# one_wrk SECONDS URL [wrk args] → "req/s p99_ms bad_responses", output in $WORK/wrk.out
one_wrk() {
  local secs=$1 url=$2
  shift 2
  wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --latency "$@" "$url" >"$WORK/wrk.out" 2>&1 ||
    { cat "$WORK/wrk.out" >&2; return 1; }
  local rps p99 non2xx sockerr
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.out")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.out")
  non2xx=$(awk -F': *' '/Non-2xx or 3xx responses/ {print $2}' "$WORK/wrk.out")
  sockerr=$(awk '/Socket errors/ {s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) s += $i; print s}' "$WORK/wrk.out")
  if [ -z "$rps" ] || [ -z "$p99" ]; then cat "$WORK/wrk.out" >&2; return 1; fi
  echo "$rps $(to_ms "$p99") $((${non2xx:-0} + ${sockerr:-0}))"
}

# bench_wrk NAME URL [wrk args] — warm-up, RUNS runs, records the medians.
bench_wrk() {
  local name=$1 url=$2 i line rps p99 bad rpss=() p99s=() badsum=0
  shift 2
  say "$name: warm-up ${WARMUP}s, then $RUNS × ${DURATION}s"
  if [ "$WARMUP" -gt 0 ]; then one_wrk "$WARMUP" "$url" "$@" >/dev/null; fi
  for ((i = 1; i <= RUNS; i++)); do
    line=$(one_wrk "$DURATION" "$url" "$@")
    read -r rps p99 bad <<<"$line"
    printf '  run %d: %10.0f req/s   p99 %7.2f ms%s\n' "$i" "$rps" "$p99" \
      "$([ "$bad" -gt 0 ] && echo "   $bad non-2xx answers or socket errors")"
    rpss+=("$rps")
    p99s+=("$p99")
    badsum=$((badsum + bad))
  done
  local note=""
  if [ "$badsum" -gt 0 ]; then
    note="$badsum non-2xx answers or socket errors"
    ERRORS=$((ERRORS + 1))
    echo "  last run's wrk output:" && sed 's/^/    /' "$WORK/wrk.out"
  fi
  record "$name" "$(median "${rpss[@]}")" "$(median "${p99s[@]}")" "$(printf '%.0f ' "${rpss[@]}")" "$note"
}

record() {
  R_NAME+=("$1") R_RPS+=("$2") R_P99+=("$3") R_RUNS+=("${4% }") R_NOTE+=("$5")
  R_RATIO+=("") R_AIM+=("")
}

pct_of() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", 100 * a / b}'; }

# set_ratio INDEX REFERENCE_INDEX REFERENCE_LABEL [AIM_PERCENT]: the first ratio
# given is the one the aim is about; a second one is appended.
set_ratio() {
  local pct
  pct=$(pct_of "${R_RPS[$1]}" "${R_RPS[$2]}")
  R_RATIO[$1]="${R_RATIO[$1]:+${R_RATIO[$1]}; }$pct % of $3"
  if [ -n "${4:-}" ]; then
    if [ "$pct" -ge "$4" ]; then R_AIM[$1]="≥ $4 % of $3: met"; else R_AIM[$1]="≥ $4 % of $3: **not met**"; fi
  fi
}

# --- pgbench -----------------------------------------------------------------

pg_socket() { echo "$(cat "$ITGOV_STATE_DIR/pgroot")/sock"; }

bench_pgbench() {
  local name=$1 sock i out tps lat tpss=() lats=()
  sock=$(pg_socket)
  local conn=(-h "$sock" -p "$ITGOV_PG_PORT" -U postgres)
  "$PSQL" -X -q -v ON_ERROR_STOP=1 "${conn[@]}" -d itgov >/dev/null <<'EOF'
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bench_scratch CASCADE;
CREATE SCHEMA bench_scratch;
CREATE TABLE bench_scratch.t (
    id bigserial PRIMARY KEY,
    n integer NOT NULL,
    title text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
EOF
  cat >"$WORK/insert.sql" <<'EOF'
\set n random(1, 1000000000)
INSERT INTO bench_scratch.t (n, title) VALUES (:n, 'bench row');
EOF
  say "$name: warm-up ${WARMUP}s, then $RUNS × ${DURATION}s (pgbench -c $CONNS -j $THREADS)"
  if [ "$WARMUP" -gt 0 ]; then
    "$PGBENCH" -n -c "$CONNS" -j "$THREADS" -T "$WARMUP" -f "$WORK/insert.sql" "${conn[@]}" itgov \
      >"$WORK/pgbench.out" 2>&1 || { cat "$WORK/pgbench.out" >&2; return 1; }
  fi
  for ((i = 1; i <= RUNS; i++)); do
    "$PGBENCH" -n -c "$CONNS" -j "$THREADS" -T "$DURATION" -f "$WORK/insert.sql" "${conn[@]}" itgov \
      >"$WORK/pgbench.out" 2>&1 || { cat "$WORK/pgbench.out" >&2; return 1; }
    tps=$(awk '/^tps = / {print $3}' "$WORK/pgbench.out")
    lat=$(awk '/^latency average = / {print $4}' "$WORK/pgbench.out")
    if [ -z "$tps" ] || [ -z "$lat" ]; then cat "$WORK/pgbench.out" >&2; return 1; fi
    printf '  run %d: %10.0f tx/s    avg %7.2f ms\n' "$i" "$tps" "$lat"
    tpss+=("$tps")
    lats+=("$lat")
  done
  record "$name" "$(median "${tpss[@]}")" "$(median "${lats[@]}")" "$(printf '%.0f ' "${tpss[@]}")" \
    "tx/s; latency is pgbench's average, not p99"
}

# Percent of all CPUs busy over one second (nothing of ours runs then, so it
# is what other processes take from the benchmark).
cpu_busy() {
  local a b
  a=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6; exit}' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6; exit}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN {
    split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; idle = y[2] - x[2]
    printf "%.0f", (busy + idle) ? 100 * busy / (busy + idle) : 0 }'
}

# --- report ------------------------------------------------------------------

table() {
  local i
  echo "| target | median req/s | p99 latency (ms) | ratio | aim | runs (req/s) | note |"
  echo "|---|---:|---:|---|---|---|---|"
  for i in "${!R_NAME[@]}"; do
    printf '| %s | %.0f | %.2f | %s | %s | %s | %s |\n' "${R_NAME[i]}" "${R_RPS[i]}" "${R_P99[i]}" \
      "${R_RATIO[i]:-}" "${R_AIM[i]:-}" "${R_RUNS[i]}" "${R_NOTE[i]:-}"
  done
}

report() {
  local commit cpu dirty=""
  if commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null); then
    git -C "$ROOT" diff --quiet HEAD 2>/dev/null || dirty=" (with uncommitted changes)"
  else
    commit="unknown (not a git checkout)"
  fi
  cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  {
    echo "## Benchmark results"
    echo
    echo "$(date -u +%FT%TZ), commit $commit$dirty, $(nproc) CPUs ($cpu)."
    echo "wrk -t$THREADS -c$CONNS -d${DURATION}s --latency, a ${WARMUP}s warm-up then $RUNS runs per"
    echo "target; figures are the medians of the runs (p99: the median of the runs' p99s)."
    echo "Release build, ITGOV_LOG_LEVEL=${ITGOV_LOG_LEVEL:-info}. wrk, the services, Redis, PostgreSQL"
    echo "and nginx share the same $(nproc) cores, so wrk takes CPU the servers would otherwise"
    echo "have: compare the ratios, measured in the same run, rather than absolute figures."
    echo "Before measuring, other processes kept ${BUSY_BEFORE}% of the CPUs busy$(
      [ "$BUSY_BEFORE" -gt 10 ] && echo " (**the figures are disturbed**)")."
    echo
    table
    if [ -n "${SKIPPED:-}" ]; then echo; echo "$SKIPPED"; fi
  } >"$RESULTS_MD"
  banner results
  cat "$RESULTS_MD"
  echo
  say "written to $RESULTS_MD"
}

# --- main --------------------------------------------------------------------

banner "dependencies and Release build"
"$ROOT/deploy/deps.sh"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DITGOV_SANITIZE=OFF -DITGOV_WERROR=OFF >"$WORK/cmake.log" 2>&1 ||
  { cat "$WORK/cmake.log" >&2; die "cmake failed"; }
# Only what is measured: another service's build is not the benchmark's business.
cmake --build "$BUILD_DIR" -j2 --target itgov-broker itgov-accounts itgov-bench-bare \
  >"$WORK/build.log" 2>&1 || { tail -n 60 "$WORK/build.log" >&2; die "build failed"; }
PROJECTS_BUILD=absent
if [[ $'\n'$(cmake --build "$BUILD_DIR" --target help 2>/dev/null)$'\n' == *' itgov-projects'$'\n'* ]]; then
  if cmake --build "$BUILD_DIR" -j2 --target itgov-projects >"$WORK/build-projects.log" 2>&1; then
    PROJECTS_BUILD=built
  else
    tail -n 30 "$WORK/build-projects.log" >&2
    say "warning: the projects service does not build; its part is skipped"
    PROJECTS_BUILD=failed
    rm -f "$BUILD_DIR/bin/itgov-projects" # never measure a stale binary
  fi
fi
say "built into $BUILD_DIR/bin (projects service: $PROJECTS_BUILD)"

banner "stack"
start_stack
GATEWAY=http://127.0.0.1:$ITGOV_GATEWAY_PORT
ACCOUNTS=http://127.0.0.1:$ITGOV_ACCOUNTS_PORT
PROJECTS=http://127.0.0.1:$ITGOV_PROJECTS_PORT
ADMIN_TOKEN=$(login admin "$ITGOV_ADMIN_PASSWORD")
ME_JSON=$(api GET "$ACCOUNTS/api/v1/me" "$ADMIN_TOKEN")
start_bare "$ME_JSON"
BARE_JSON=$(curl -fsS "http://127.0.0.1:$BARE_PORT/api/v1/me")
say "GET /api/v1/me answers ${#ME_JSON} bytes of JSON, the bare handler ${#BARE_JSON}"

BUSY_BEFORE=$(cpu_busy)
if [ "$BUSY_BEFORE" -gt 10 ]; then
  say "warning: other processes keep ${BUSY_BEFORE}% of the CPUs busy; the figures will be disturbed"
fi

banner "measuring (wrk -t$THREADS -c$CONNS -d${DURATION}s; wrk and the servers share $(nproc) cores)"
AUTH=(-H "Authorization: Bearer $ADMIN_TOKEN")
bench_wrk "bare evhttp + cJSON handler" "http://127.0.0.1:$BARE_PORT/api/v1/me"
BARE_I=0
bench_wrk "GET /api/v1/me (accounts, direct)" "$ACCOUNTS/api/v1/me" "${AUTH[@]}"
set_ratio 1 "$BARE_I" bare 60
bench_wrk "GET /api/v1/me (through the gateway)" "$GATEWAY/api/v1/me" "${AUTH[@]}"
set_ratio 2 "$BARE_I" bare 60

SKIPPED=
if [ "$PROJECTS_BUILD" = absent ]; then
  SKIPPED="Projects service not in the build yet: GET/POST /api/v1/projects and pgbench were skipped."
elif [ "$PROJECTS_BUILD" = failed ]; then
  SKIPPED="Projects service failed to build: GET/POST /api/v1/projects and pgbench were skipped."
elif ! grep -Eq '^projects +running' <<<"$("$LOCAL_SH" status)"; then
  SKIPPED="Projects service built but not running: GET/POST /api/v1/projects and pgbench were skipped."
fi

if [ -n "$SKIPPED" ]; then
  say "$SKIPPED"
else
  say "setting up an applicant and a project"
  DEPT_ID=$(api POST "$GATEWAY/api/v1/departments" "$ADMIN_TOKEN" \
    '{"code":"BENCH","name":"Benchmark department","kind":"department"}' | jget id)
  APPLICANT_PW=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  api POST "$GATEWAY/api/v1/users" "$ADMIN_TOKEN" \
    "{\"username\":\"bench_applicant\",\"display_name\":\"Bench applicant\",\"employee_id\":\"BENCH-1\",\"department_id\":$DEPT_ID,\"roles\":[\"applicant\"],\"password\":\"$APPLICANT_PW\"}" \
    >/dev/null
  APPLICANT_TOKEN=$(login bench_applicant "$APPLICANT_PW")
  PROJECT_BODY='{"title":"Benchmark project","kind":"new_system","summary":"created by tests/bench/run.sh","budget_cents":100000,"serves_external_units":false}'
  PROJECT_ID=$(api POST "$PROJECTS/api/v1/projects" "$APPLICANT_TOKEN" "$PROJECT_BODY" | jget id)
  api GET "$PROJECTS/api/v1/projects/$PROJECT_ID" "$APPLICANT_TOKEN" >/dev/null
  cat >"$WORK/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '$PROJECT_BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $APPLICANT_TOKEN"
EOF

  bench_wrk "GET /api/v1/projects/{id} (projects, direct)" "$PROJECTS/api/v1/projects/$PROJECT_ID" \
    -H "Authorization: Bearer $APPLICANT_TOKEN"
  set_ratio 3 "$BARE_I" bare 40
  bench_wrk "POST /api/v1/projects (projects, direct)" "$PROJECTS/api/v1/projects" -s "$WORK/post.lua"
  bench_pgbench "pgbench: one-row INSERT transaction (same PostgreSQL)"
  set_ratio 4 5 pgbench 50
  set_ratio 4 "$BARE_I" bare
  set_ratio 5 "$BARE_I" bare
fi

report
if [ "$ERRORS" -gt 0 ]; then die "$ERRORS target(s) answered non-2xx or had socket errors: see above"; fi
