#!/usr/bin/env bash
# The project's single test command (.ci/run calls exactly this).
#
#   1. deploy/deps.sh (installs missing Debian packages)
#   2. builds into build-test/ with AddressSanitizer + UBSan and -Werror, runs
#      the C unit tests (ctest); builds the web console (services/web/build.sh)
#   3. lints the specs (tools/spec-lint/run.sh: npm ci from its lockfile,
#      @redocly/cli lint and @asyncapi/parser with no error and no warning; a
#      client compiled against types generated from openapi.yaml)
#   3b. starts an isolated stack with deploy/local.sh on free ports, with its own
#      state dir (/tmp/itgov-test.*) and PostgreSQL cluster, so it can run next
#      to a `deploy/local.sh up` stack
#   4. runs the black-box tests (tests/blackbox/run.py) against it, then the
#      browser tests (tests/browser/run.mjs: playwright-core driving Debian's
#      headless chromium through the gateway; ITGOV_TEST_BROWSER=0 skips them,
#      ITGOV_TEST_BROWSER_TIMEOUT_S (default 600) bounds them)
#   5. stops the stack (always: an EXIT trap does it on failure or Ctrl-C),
#      then fails if any service log holds a sanitizer report, a service died
#      during the tests, or one had to be SIGKILLed because it ignored SIGTERM;
#      the logs are kept in build-test/test-logs/
#   6. runs the libFuzzer targets (tests/fuzz/run.sh: clang build in
#      build-fuzz/, ITGOV_FUZZ_SECONDS (default 8; 0 skips the stage) each
#      from the checked-in corpus); a crash, leak or UB fails the stage and the
#      input that caused it is kept with the target's log in
#      build-test/test-logs/fuzz/
#   7. with ITGOV_TEST_COMPOSE=1, tests/compose-smoke.sh if it exists (its
#      compose logs kept in build-test/test-logs/compose/)
#   8. prints one line per stage and finally `N passed, M failed` (stages);
#      exits non-zero if any stage failed.
#
# Arguments are passed to tests/blackbox/run.py (substrings of test names).
# ITGOV_TEST_SUITE_TIMEOUT_S (default 3600) bounds the whole black-box run.
#
# What the black-box tests get in their environment:
#   ITGOV_TEST_BASE            gateway base URL, http://127.0.0.1:<port>/api/v1
#   ITGOV_TEST_<SERVICE>_URL   each service of deploy/services directly
#   ITGOV_TEST_BROKER_SUB      tcp://127.0.0.1:<broker XPUB port>
#   ITGOV_TEST_AUDIT_PUB       tcp://127.0.0.1:<audit PUB port>
#   ITGOV_TEST_ADMIN_PASSWORD  password of `admin`
#   ITGOV_TEST_PSQL            command prefix running psql as the PostgreSQL
#                              superuser on database itgov of the test cluster
#                              (over its unix socket); append options and -c SQL
#   ITGOV_TEST_REDIS_PORT      Redis port
#   ITGOV_TEST_LOCAL_SH        absolute path of deploy/local.sh; with the
#                              inherited environment, `$ITGOV_TEST_LOCAL_SH stop
#                              broker` / `start broker` act on the test stack
#   ITGOV_TEST_LOGS            directory of the <component>.log files
#   ITGOV_TEST_EVENT_CLIENT_SECRET, ITGOV_TEST_EVENT_CLIENT_PUBLIC
#                              a CURVE key pair listed in ITGOV_EVENT_CLIENT_KEYS
#   and every ITGOV_* the stack runs with (ITGOV_STATE_DIR, ports, ITGOV_LOGIN_LOCK_S ...)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
BUILD_DIR=build-test
LOCAL_SH=$ROOT/deploy/local.sh
LOGS_KEPT=$ROOT/$BUILD_DIR/test-logs

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

PASSED=0
FAILED=0
RESULTS=()
STACK_UP=0

banner() { printf '\n==== %s ====\n' "$*"; }

# record <stage> <exit status>
record() {
  if [ "$2" -eq 0 ]; then
    PASSED=$((PASSED + 1))
    RESULTS+=("ok   $1")
  else
    FAILED=$((FAILED + 1))
    RESULTS+=("FAIL $1")
  fi
  return "$2"
}

summary() {
  banner summary
  printf '%s\n' "${RESULTS[@]}"
  echo "$PASSED passed, $FAILED failed"
}

finish() {
  summary
  [ "$FAILED" -eq 0 ]
  exit
}

# n distinct free ports, outside the ephemeral range (tests/free-ports.py)
free_ports() { python3 "$ROOT/tests/free-ports.py" "$1"; }

# --- stages ------------------------------------------------------------------

build() {
  cmake -S . -B "$BUILD_DIR" -DITGOV_SANITIZE=ON -DITGOV_WERROR=ON -DCMAKE_BUILD_TYPE=Debug &&
    cmake --build "$BUILD_DIR" -j2
}

# the services of deploy/services
mapfile -t SERVICE_NAMES < <(awk '/^[a-z]/ {print $1}' deploy/services)

start_stack() {
  local ports svc n=$((6 + ${#SERVICE_NAMES[@]})) i=6
  read -ra ports <<<"$(free_ports "$n")"
  [ "${#ports[@]}" -eq "$n" ] || { echo "could not find $n free ports" >&2; return 1; }
  export ITGOV_GATEWAY_PORT=${ports[0]}
  export ITGOV_BROKER_XSUB_PORT=${ports[1]} ITGOV_BROKER_XPUB_PORT=${ports[2]}
  export ITGOV_AUDIT_PUB_PORT=${ports[3]} ITGOV_PG_PORT=${ports[4]} ITGOV_REDIS_PORT=${ports[5]}
  for svc in "${SERVICE_NAMES[@]}"; do export "ITGOV_${svc^^}_PORT=${ports[i++]}"; done
  ITGOV_STATE_DIR=$(mktemp -d /tmp/itgov-test.XXXXXX) || return 1
  export ITGOV_STATE_DIR ITGOV_BUILD_DIR=$BUILD_DIR ITGOV_SKIP_BUILD=1
  ITGOV_ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  export ITGOV_ADMIN_PASSWORD ITGOV_LOGIN_LOCK_S=8 ITGOV_SESSION_TTL_S=3600 ITGOV_SCAN_INTERVAL_S=1 ITGOV_WEBHOOK_BACKOFF_S=1,1,2 ITGOV_WEBHOOK_TIMEOUT_S=3
  export ITGOV_CORS_ORIGINS=http://localhost:3000
  # the tests subscribe to the broker and the audit feed as a university system would
  local pair
  read -ra pair <<<"$(python3 deploy/keygen.py)"
  export ITGOV_TEST_EVENT_CLIENT_SECRET=${pair[0]} ITGOV_TEST_EVENT_CLIENT_PUBLIC=${pair[1]}
  export ITGOV_EVENT_CLIENT_KEYS=${pair[1]}
  export ITGOV_WEBHOOK_ALLOW=127.0.0.0/8
  STACK_UP=1
  "$LOCAL_SH" up
}

blackbox_env() {
  local pgroot
  read -r pgroot <"$ITGOV_STATE_DIR/pgroot" || return 1
  # every ITGOV_* the stack runs with, its keys and secrets included
  eval "$("$LOCAL_SH" env)" || return 1
  export ITGOV_TEST_BASE=http://127.0.0.1:$ITGOV_GATEWAY_PORT/api/v1
  local svc port
  for svc in "${SERVICE_NAMES[@]}"; do
    port=ITGOV_${svc^^}_PORT
    export "ITGOV_TEST_${svc^^}_URL=http://127.0.0.1:${!port}"
  done
  export ITGOV_TEST_BROKER_SUB=tcp://127.0.0.1:$ITGOV_BROKER_XPUB_PORT
  export ITGOV_TEST_AUDIT_PUB=tcp://127.0.0.1:$ITGOV_AUDIT_PUB_PORT
  export ITGOV_TEST_ADMIN_PASSWORD=$ITGOV_ADMIN_PASSWORD
  export ITGOV_TEST_PSQL="/usr/lib/postgresql/15/bin/psql -h $pgroot/sock -p $ITGOV_PG_PORT -U postgres -d itgov"
  export ITGOV_TEST_REDIS_PORT=$ITGOV_REDIS_PORT
  export ITGOV_TEST_LOCAL_SH=$LOCAL_SH
  export ITGOV_TEST_LOGS=$ITGOV_STATE_DIR
}

blackbox() {
  if [ ! -f tests/blackbox/run.py ]; then
    echo "tests/blackbox/run.py is missing" >&2
    return 1
  fi
  blackbox_env || return 1
  timeout --foreground -k 10 "${ITGOV_TEST_SUITE_TIMEOUT_S:-3600}" python3 tests/blackbox/run.py "$@"
}

# The web console in headless Chromium against the same stack (through the
# gateway: ITGOV_TEST_BASE); screenshots into services/web/docs/.
browser_tests() {
  if [ ! -f tests/browser/run.mjs ]; then
    echo "tests/browser/run.mjs is missing" >&2
    return 1
  fi
  blackbox_env || return 1
  timeout --foreground -k 10 "${ITGOV_TEST_BROWSER_TIMEOUT_S:-600}" node tests/browser/run.mjs
}

# Sanitizer reports (with the lines that follow them) in the service logs; the
# logs of PostgreSQL, Redis and nginx are not ours to judge.
SANITIZER_RE='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|LeakSanitizer has encountered a fatal error|did not stop within .* SIGKILL'

scan_logs() {
  local f bad=0
  for f in "$ITGOV_STATE_DIR"/*.log; do
    case ${f##*/} in postgres.log | redis.log | gateway.*) continue ;; esac
    [ -f "$f" ] || continue
    awk -v file="${f##*/}" -v re="$SANITIZER_RE" '
      $0 ~ re { if (!n) print "---- " file ", line " NR ":"; n = 80; found = 1 }
      n > 0   { print "    " $0; n--; if ($0 ~ /^SUMMARY: /) n = 0 }
      END     { exit !found }' "$f" && bad=1
  done
  return "$bad"
}

# Stops the stack (once), judges the logs, keeps them, deletes the stack's data.
stop_stack() {
  [ "$STACK_UP" = 1 ] || return 0
  STACK_UP=0
  trap '' INT # a second Ctrl-C must not leave half a stack behind
  banner "stopping the test stack"
  local out rc=0
  out=$("$LOCAL_SH" down 2>&1) || rc=1
  printf '%s\n' "$out"
  if grep -q 'was not running' <<<"$out"; then
    echo "a service died during the tests (see 'was not running' above and its log)" >&2
    rc=1
  fi
  banner "sanitizer scan"
  if ! scan_logs; then
    echo "sanitizer reports or SIGKILLed services: see above" >&2
    rc=1
  fi
  rm -rf "$LOGS_KEPT"
  mkdir -p "$LOGS_KEPT"
  cp -L "$ITGOV_STATE_DIR"/*.log "$LOGS_KEPT"/ 2>/dev/null
  echo "logs kept in $LOGS_KEPT"
  "$LOCAL_SH" down --purge >/dev/null 2>&1 || echo "warning: could not purge $ITGOV_STATE_DIR" >&2
  record "sanitizer scan (service logs)" "$rc"
}

# shellcheck disable=SC2317 # invoked by the EXIT trap
on_exit() {
  local rc=$?
  if [ "$STACK_UP" = 1 ]; then
    stop_stack
    summary
    [ "$rc" -ne 0 ] || rc=1
  fi
  exit "$rc"
}

# --- main --------------------------------------------------------------------

trap on_exit EXIT
trap 'echo "interrupted" >&2; exit 130' INT
trap 'echo "terminated" >&2; exit 143' TERM

banner "deploy/deps.sh"
deploy/deps.sh
record "deps" $? || finish

banner "build ($BUILD_DIR: sanitizers, -Werror)"
build
record "build" $? || finish

banner "web console build (services/web/build.sh)"
services/web/build.sh
record "web build" $?

banner "C unit tests (ctest)"
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 300
record "ctest" $?

banner "spec lint (tools/spec-lint: @redocly/cli, @asyncapi/parser, generated client)"
tools/spec-lint/run.sh
record "spec lint" $?

banner "starting the test stack"
if start_stack; then
  record "stack up" 0
  banner "black-box tests"
  blackbox "$@"
  record "blackbox" $?
  if [ "${ITGOV_TEST_BROWSER:-1}" != 0 ]; then
    banner "browser tests (tests/browser: playwright-core, headless chromium)"
    browser_tests
    record "browser" $?
  else
    echo "ITGOV_TEST_BROWSER=0: the browser stage is skipped"
  fi
else
  record "stack up" 1
fi
stop_stack

if [ "${ITGOV_FUZZ_SECONDS:-8}" != 0 ]; then
  banner "fuzzing (tests/fuzz/run.sh, ${ITGOV_FUZZ_SECONDS:-8} s a target)"
  rm -rf "$LOGS_KEPT/fuzz"
  ITGOV_FUZZ_ARTIFACTS=$LOGS_KEPT/fuzz tests/fuzz/run.sh
  record "fuzz" $?
else
  echo "ITGOV_FUZZ_SECONDS=0: the fuzz stage is skipped"
fi

if [ "${ITGOV_TEST_COMPOSE:-0}" = 1 ]; then
  if [ -x tests/compose-smoke.sh ]; then
    banner "compose smoke test"
    ITGOV_COMPOSE_KEEP_LOGS=${ITGOV_COMPOSE_KEEP_LOGS:-$LOGS_KEPT/compose} tests/compose-smoke.sh
    record "compose-smoke" $?
  else
    echo "ITGOV_TEST_COMPOSE=1 but tests/compose-smoke.sh is not there (yet); skipped"
  fi
fi

finish
