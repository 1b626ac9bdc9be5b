#!/usr/bin/env bash
# The itgov benchmark (issues 2, 4 and 15): every row of issue 15's aims
# table in one run — requests/s of the real endpoints next to what they are
# compared with, measured with the same settings one after the other, and the
# services' memory. Not a timed test and not part of tests/run.sh; run it by
# hand on an otherwise idle machine (about 8 minutes at the defaults):
#
#   tests/bench/run.sh
#
#   1. deploy/deps.sh (installs wrk and the rest if missing)
#   2. a Release build (no sanitizers) into build-bench/ of the broker, every
#      service and itgov-bench-bare (tests/bench/bare.c: plain libevent + cJSON)
#   3. an isolated stack with deploy/local.sh on free ports, its own state dir
#      and PostgreSQL cluster under /tmp (so it runs next to another stack),
#      a random admin password; an EXIT trap stops and deletes it
#   4. memory: the RSS (VmRSS) of the broker and every service idle, before
#      any request; then ITGOV_BENCH_MEM_REQUESTS requests through the gateway
#      (a mix: GET /me, GET /projects/{id}, GET /approvals, GET /audit,
#      POST /projects) and their RSS again; and once more after all the wrk
#      runs below
#   5. wrk (a warm-up run, then ITGOV_BENCH_RUNS runs, same settings for every
#      target) against
#        - the bare handler, serving the very body GET /api/v1/me answered
#        - GET /api/v1/me directly on the accounts port
#        - nginx with the gateway's own rendered configuration in front of the
#          bare handler (the accounts upstream pointed at it), GET /api/v1/me
#        - GET /api/v1/me through the gateway
#        - GET /api/v1/projects/{id} directly on the projects port
#        - POST /api/v1/projects directly on the projects port
#        - pgbench on the same PostgreSQL, one-row INSERT transactions at the
#          same concurrency, as the superuser over the cluster's unix socket
#        - pgbench running the statements of one create, the script printed by
#          tests/bench/create_sql.sh (skipped, with a note, where it is absent),
#          as the projects role over TCP, prepared, as the service runs them
#        - GET /api/v1/projects?limit=50 directly on the projects port (a full
#          page, after the creates), and the bare handler serving that very
#          page byte for byte (PostgreSQL's jsonb text, copied per answer)
#   6. prints a Markdown table (median requests/s, median of the runs' p99
#      latencies, ratios and issue 15's aims) and the memory table, and writes
#      them to build-bench/bench-results.md
#
# Settings (environment):
#   ITGOV_BENCH_THREADS      wrk threads, and pgbench -j        (default 2)
#   ITGOV_BENCH_CONNECTIONS  wrk connections, and pgbench -c    (default 50)
#   ITGOV_BENCH_DURATION_S   seconds per measured run           (default 10)
#   ITGOV_BENCH_WARMUP_S     seconds of the discarded warm-up   (default 3)
#   ITGOV_BENCH_RUNS         measured runs per target           (default 3)
#   ITGOV_BENCH_MEM_REQUESTS requests of the memory round       (default 100000)
# Any other ITGOV_* (e.g. ITGOV_LOG_LEVEL=warn) passes through to the services.
#
# wrk, the servers, Redis, PostgreSQL and nginx all share this machine's
# cores, so the figures are relative: compare ratios measured in one run.
# Exits non-zero if a step fails or a target answered anything but 2xx.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
. "$ROOT/tests/bench/mix.sh"
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
MEM_REQUESTS=${ITGOV_BENCH_MEM_REQUESTS:-100000}
PROCS=(broker accounts projects approvals audit)

say() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }
banner() { printf '\n==== %s ====\n' "$*"; }

for v in THREADS CONNS DURATION RUNS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "ITGOV_BENCH_${v/CONNS/CONNECTIONS} must be a positive integer"
done
[[ $MEM_REQUESTS =~ ^[1-9][0-9]*$ ]] && [ $((MEM_REQUESTS % THREADS)) -eq 0 ] ||
  die "ITGOV_BENCH_MEM_REQUESTS must be a positive multiple of ITGOV_BENCH_THREADS"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "ITGOV_BENCH_WARMUP_S must be a number of seconds"
[ "$CONNS" -ge "$THREADS" ] || die "ITGOV_BENCH_CONNECTIONS must be at least ITGOV_BENCH_THREADS"

# --- the stack and the bare server, stopped by the EXIT trap -----------------

STACK_UP=0
BARE_PID=
BARE_GW_UP=0
WORK=$(mktemp -d /tmp/itgov-bench-work.XXXXXX)

cleanup() {
  local rc=$?
  trap '' INT TERM
  if [ "$BARE_GW_UP" = 1 ]; then
    nginx -p "$WORK/bare-gw" -c "$WORK/bare-gw/nginx.conf" -e "$WORK/bare-gw/error.log" -s quit \
      2>/dev/null || true
  fi
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
  read -ra ports <<<"$(free_ports 12)"
  [ "${#ports[@]}" -eq 12 ] || die "could not find 12 free ports"
  export ITGOV_GATEWAY_PORT=${ports[0]} ITGOV_ACCOUNTS_PORT=${ports[1]} ITGOV_PROJECTS_PORT=${ports[2]}
  export ITGOV_APPROVALS_PORT=${ports[3]} ITGOV_AUDIT_PORT=${ports[4]}
  export ITGOV_BROKER_XSUB_PORT=${ports[5]} ITGOV_BROKER_XPUB_PORT=${ports[6]}
  export ITGOV_AUDIT_PUB_PORT=${ports[7]} ITGOV_PG_PORT=${ports[8]} ITGOV_REDIS_PORT=${ports[9]}
  BARE_PORT=${ports[10]} BARE_GW_PORT=${ports[11]}
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
  local doc=$1 list=${2:-} i
  if [ -n "$BARE_PID" ]; then # a restart, with another list page
    kill -TERM "$BARE_PID" 2>/dev/null || true
    wait "$BARE_PID" 2>/dev/null || true
    BARE_PID=
  fi
  ITGOV_BENCH_USER_JSON=$doc ITGOV_BENCH_LIST_FILE=$list "$ROOT/$BUILD_DIR/bin/itgov-bench-bare" \
    "$BARE_PORT" >"$WORK/bare.log" 2>&1 &
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

# set_ratio INDEX REFERENCE_INDEX REFERENCE_LABEL [AIM_PERCENT]: ratios and
# aims are appended in the order given.
set_ratio() {
  local pct aim
  pct=$(pct_of "${R_RPS[$1]}" "${R_RPS[$2]}")
  R_RATIO[$1]="${R_RATIO[$1]:+${R_RATIO[$1]}; }$pct % of $3"
  if [ -n "${4:-}" ]; then
    if [ "$pct" -ge "$4" ]; then aim="≥ $4 % of $3: met"; else aim="≥ $4 % of $3: **not met**"; fi
    R_AIM[$1]="${R_AIM[$1]:+${R_AIM[$1]}; }$aim"
  fi
}

# --- pgbench -----------------------------------------------------------------

pg_socket() { echo "$(cat "$ITGOV_STATE_DIR/pgroot")/sock"; }

pg_conn() { PG_CONN=(-h "$(pg_socket)" -p "$ITGOV_PG_PORT" -U postgres); }

# The table of the one-row INSERT, and its pgbench script ($WORK/insert.sql).
pgbench_insert_setup() {
  pg_conn
  "$PSQL" -X -q -v ON_ERROR_STOP=1 "${PG_CONN[@]}" -d itgov >/dev/null <<'EOF'
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
}

# bench_pgbench NAME SCRIPT [pgbench connection options] — pgbench -f SCRIPT,
# warm-up and RUNS runs, at wrk's concurrency; by default as the superuser over
# the cluster's unix socket.
bench_pgbench() {
  local name=$1 script=$2 i tps lat tpss=() lats=()
  shift 2
  pg_conn
  [ "$#" -gt 0 ] && PG_CONN=("$@")
  say "$name: warm-up ${WARMUP}s, then $RUNS × ${DURATION}s (pgbench -c $CONNS -j $THREADS)"
  if [ "$WARMUP" -gt 0 ]; then
    "$PGBENCH" -n -c "$CONNS" -j "$THREADS" -T "$WARMUP" -f "$script" "${PG_CONN[@]}" itgov \
      >"$WORK/pgbench.out" 2>&1 || { cat "$WORK/pgbench.out" >&2; return 1; }
  fi
  for ((i = 1; i <= RUNS; i++)); do
    "$PGBENCH" -n -c "$CONNS" -j "$THREADS" -T "$DURATION" -f "$script" "${PG_CONN[@]}" itgov \
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

# The index of the last recorded target.
last() { echo $((${#R_NAME[@]} - 1)); }

# --- nginx with the gateway's configuration in front of the bare handler -----

# The configuration the stack's gateway runs (deploy/nginx/gateway.conf.in as
# deploy/local.sh rendered it), with its own port, pid and logs, and the
# accounts upstream pointed at the bare handler: the same nginx work per
# request (maps, JSON access log, proxy headers, upstream keepalive).
start_bare_gateway() {
  local conf=$ITGOV_STATE_DIR/nginx/nginx.conf dir=$WORK/bare-gw i
  mkdir -p "$dir"
  [ -r "$conf" ] || die "no rendered gateway configuration at $conf"
  local up="127.0.0.1:$ITGOV_ACCOUNTS_PORT"
  grep -q "server $up " "$conf" || die "the gateway configuration has no upstream server $up"
  sed -e "s|server $up |server 127.0.0.1:$BARE_PORT |" \
    -e "s|listen 127.0.0.1:$ITGOV_GATEWAY_PORT;|listen 127.0.0.1:$BARE_GW_PORT;|" \
    -e "s|^pid .*|pid $dir/nginx.pid;|" \
    -e "s|$ITGOV_STATE_DIR/gateway.error.log|$dir/error.log|" \
    -e "s|$ITGOV_STATE_DIR/gateway.access.log|$dir/access.log|" \
    "$conf" >"$dir/nginx.conf"
  grep -q "listen 127.0.0.1:$BARE_GW_PORT;" "$dir/nginx.conf" || die "could not re-port the gateway configuration"
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" </dev/null ||
    { cat "$dir/error.log" >&2; die "nginx in front of the bare handler did not start"; }
  BARE_GW_UP=1
  for ((i = 0; i < 50; i++)); do
    curl -fsS -o /dev/null -m 1 "http://127.0.0.1:$BARE_GW_PORT/api/v1/me" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$dir/error.log" >&2
  die "nginx in front of the bare handler does not answer"
}

# --- memory (RSS of each process, as tests/bench/memory.sh takes it) ---------

declare -A RSS ANON # VmRSS, and its anonymous part (the rest: mapped files, the libraries)
# VmRSS or VmHWM of a component, in KiB
kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$(cat "$ITGOV_STATE_DIR/$1.pid")/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
rss_snapshot() { # rss_snapshot COLUMN: after 5 s of quiet
  local p
  sleep 5
  for p in "${PROCS[@]}"; do
    RSS[$p,$1]=$(kib "$p" VmRSS)
    ANON[$p,$1]=$(kib "$p" RssAnon)
  done
}

# MEM_REQUESTS requests through the gateway, the mix of tests/bench/mix.sh.
memory_round() {
  write_mix_lua "$WORK/mix.lua" "$APPLICANT_TOKEN" "$AUDITOR_TOKEN" "$PROJECT_ID" "$((MEM_REQUESTS / THREADS))" tests/bench/run.sh
  say "memory: $MEM_REQUESTS requests through the gateway (wrk -t$THREADS -c16, a mix)"
  run_mix "$WORK/mix.lua" "$GATEWAY" "$THREADS" 16 "$MEM_REQUESTS" "$WORK/mix.out"
}

pct_growth() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.0f", 100 * (b - a) / a}'; }

memory_table() {
  local p idle one end g ok
  echo "| process | idle | after $MEM_REQUESTS requests | growth | at the end | growth since $MEM_REQUESTS | peak (VmHWM) | anonymous: idle → $MEM_REQUESTS → end | aim: < 20 MB idle, growth < 10 % |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|---|"
  for p in "${PROCS[@]}"; do
    idle=${RSS[$p,0]} one=${RSS[$p,1]} end=${RSS[$p,2]}
    g=$(pct_growth "$idle" "$one")
    ok="met"
    if [ "$idle" -ge $((20 * 1000 * 1000 / 1024)) ] || [ "${g#+}" -ge 10 ]; then ok="**not met**"; fi
    printf '| %s | %s | %s | %s %% | %s | %s %% | %s | %s → %s → %s | %s |\n' "$p" "$(mib "$idle")" "$(mib "$one")" \
      "$g" "$(mib "$end")" "$(pct_growth "$one" "$end")" "$(mib "$(kib "$p" VmHWM)")" \
      "$(mib "${ANON[$p,0]}")" "$(mib "${ANON[$p,1]}")" "$(mib "${ANON[$p,2]}")" "$ok"
  done
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
    if [ -n "${NOTES:-}" ]; then echo; printf '%s\n' "$NOTES"; fi
    echo
    echo "### Memory (RSS)"
    echo
    echo "VmRSS of each process 5 s after the stack started (idle, before any request), 5 s after"
    echo "$MEM_REQUESTS requests through the gateway (35 % GET /me, 30 % GET /projects/{id}, 10 %"
    echo "GET /approvals, 10 % GET /audit, 15 % POST /projects; growth is from idle), and after"
    echo "every wrk run above (\"at the end\": millions of requests more). Peak: VmHWM at the end."
    echo "MiB (the aim's 20 MB is 19.1 MiB). Anonymous: RssAnon, the process's own memory; the"
    echo "rest of the RSS is mapped files, mostly the shared libraries (libpq, libcrypto, libzmq...),"
    echo "which every service maps and counts in full."
    echo
    memory_table
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
cmake --build "$BUILD_DIR" -j2 --target "${PROCS[@]/#/itgov-}" itgov-bench-bare \
  >"$WORK/build.log" 2>&1 || { tail -n 60 "$WORK/build.log" >&2; die "build failed"; }
say "built into $BUILD_DIR/bin"

banner "stack"
start_stack
for p in "${PROCS[@]}"; do [ -s "$ITGOV_STATE_DIR/$p.pid" ] || die "$p is not running"; done
GATEWAY=http://127.0.0.1:$ITGOV_GATEWAY_PORT
ACCOUNTS=http://127.0.0.1:$ITGOV_ACCOUNTS_PORT
PROJECTS=http://127.0.0.1:$ITGOV_PROJECTS_PORT
rss_snapshot 0 # idle: before any request

ADMIN_TOKEN=$(login admin "$ITGOV_ADMIN_PASSWORD")
ME_JSON=$(api GET "$ACCOUNTS/api/v1/me" "$ADMIN_TOKEN")
say "setting up a department, an applicant, an auditor and a project"
DEPT_ID=$(api POST "$GATEWAY/api/v1/departments" "$ADMIN_TOKEN" \
  '{"code":"BENCH","name":"Benchmark department","kind":"department"}' | jget id)
make_user() { # make_user NAME ROLE → token
  local pw
  pw=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  api POST "$GATEWAY/api/v1/users" "$ADMIN_TOKEN" \
    "{\"username\":\"$1\",\"display_name\":\"$1\",\"employee_id\":\"BENCH-$1\",\"department_id\":$DEPT_ID,\"roles\":[\"$2\"],\"password\":\"$pw\"}" \
    >/dev/null
  login "$1" "$pw"
}
APPLICANT_TOKEN=$(make_user bench_applicant applicant)
AUDITOR_TOKEN=$(make_user bench_auditor auditor)
PROJECT_BODY='{"title":"Benchmark project","kind":"new_system","summary":"created by tests/bench/run.sh","budget_cents":100000,"serves_external_units":false}'
PROJECT_ID=$(api POST "$PROJECTS/api/v1/projects" "$APPLICANT_TOKEN" "$PROJECT_BODY" | jget id)
api GET "$PROJECTS/api/v1/projects/$PROJECT_ID" "$APPLICANT_TOKEN" >/dev/null

banner "memory"
memory_round
rss_snapshot 1

start_bare "$ME_JSON"
BARE_JSON=$(curl -fsS "http://127.0.0.1:$BARE_PORT/api/v1/me")
say "GET /api/v1/me answers ${#ME_JSON} bytes of JSON, the bare handler ${#BARE_JSON}"
start_bare_gateway

BUSY_BEFORE=$(cpu_busy)
if [ "$BUSY_BEFORE" -gt 10 ]; then
  say "warning: other processes keep ${BUSY_BEFORE}% of the CPUs busy; the figures will be disturbed"
fi

banner "measuring (wrk -t$THREADS -c$CONNS -d${DURATION}s; wrk and the servers share $(nproc) cores)"
AUTH=(-H "Authorization: Bearer $ADMIN_TOKEN")
APP_AUTH=(-H "Authorization: Bearer $APPLICANT_TOKEN")
NOTES=

bench_wrk "bare evhttp + cJSON handler (GET /api/v1/me's body)" "http://127.0.0.1:$BARE_PORT/api/v1/me"
BARE_I=$(last)
bench_wrk "GET /api/v1/me (accounts, direct)" "$ACCOUNTS/api/v1/me" "${AUTH[@]}"
set_ratio "$(last)" "$BARE_I" bare 75
bench_wrk "nginx (the gateway's configuration) in front of the bare handler" \
  "http://127.0.0.1:$BARE_GW_PORT/api/v1/me" "${AUTH[@]}"
BARE_GW_I=$(last)
set_ratio "$BARE_GW_I" "$BARE_I" bare
bench_wrk "GET /api/v1/me (through the gateway)" "$GATEWAY/api/v1/me" "${AUTH[@]}"
set_ratio "$(last)" "$BARE_GW_I" "nginx + bare" 80
set_ratio "$(last)" "$BARE_I" bare

bench_wrk "GET /api/v1/projects/{id} (projects, direct)" "$PROJECTS/api/v1/projects/$PROJECT_ID" "${APP_AUTH[@]}"
set_ratio "$(last)" "$BARE_I" bare 45

cat >"$WORK/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '$PROJECT_BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $APPLICANT_TOKEN"
EOF
bench_wrk "POST /api/v1/projects (projects, direct)" "$PROJECTS/api/v1/projects" -s "$WORK/post.lua"
POST_I=$(last)
pgbench_insert_setup
bench_pgbench "pgbench: one-row INSERT transaction (same PostgreSQL)" "$WORK/insert.sql"
INSERT_I=$(last)
CREATE_SQL=$ROOT/tests/bench/create_sql.sh
CREATE_I=
if [ -x "$CREATE_SQL" ]; then
  "$CREATE_SQL" >"$WORK/create.sql" || die "tests/bench/create_sql.sh failed"
  # the way the service runs it (create_sql.sh's header): as the projects
  # role, over TCP, prepared
  PGPASSWORD=$(awk -F= '$1 == "PW_projects" {print substr($0, length($1) + 2)}' "$ITGOV_STATE_DIR/secrets.env")
  [ -n "$PGPASSWORD" ] || die "no PW_projects in $ITGOV_STATE_DIR/secrets.env"
  export PGPASSWORD
  bench_pgbench "pgbench: the statements of one create (tests/bench/create_sql.sh, as projects, TCP, prepared)" \
    "$WORK/create.sql" -M prepared -h 127.0.0.1 -p "$ITGOV_PG_PORT" -U projects
  unset PGPASSWORD
  CREATE_I=$(last)
else
  NOTES+="POST /api/v1/projects vs pgbench running the statements of one create: skipped, tests/bench/create_sql.sh is not in this checkout."$'\n'
fi
if [ -n "$CREATE_I" ]; then set_ratio "$POST_I" "$CREATE_I" "pgbench, same statements" 70; fi
set_ratio "$POST_I" "$INSERT_I" "pgbench one-row insert" 35

# a full page (the creates above made thousands), and the bare handler serving
# the very bytes of that page
LIST_URL="$PROJECTS/api/v1/projects?limit=50"
curl -fsS -m 10 -H "Authorization: Bearer $APPLICANT_TOKEN" -o "$WORK/list.json" "$LIST_URL" ||
  die "GET /api/v1/projects?limit=50 failed"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["items"]) == 50, len(d["items"])' \
  "$WORK/list.json" || die "GET /api/v1/projects?limit=50 did not answer a full page"
start_bare "$ME_JSON" "$WORK/list.json"
curl -fsS -o "$WORK/bare-list.json" "http://127.0.0.1:$BARE_PORT/api/v1/projects?limit=50"
cmp -s "$WORK/list.json" "$WORK/bare-list.json" || die "the bare handler does not serve the list page's very bytes"
say "the list page is $(wc -c <"$WORK/list.json") bytes; the bare handler serves the same bytes"
bench_wrk "bare evhttp + cJSON handler (the same list page)" "http://127.0.0.1:$BARE_PORT/api/v1/projects?limit=50"
BARE_LIST_I=$(last)
bench_wrk "GET /api/v1/projects?limit=50 (projects, direct)" "$LIST_URL" "${APP_AUTH[@]}"
set_ratio "$(last)" "$BARE_LIST_I" "bare, same page" 30

rss_snapshot 2
report
if [ "$ERRORS" -gt 0 ]; then die "$ERRORS target(s) answered non-2xx or had socket errors: see above"; fi
