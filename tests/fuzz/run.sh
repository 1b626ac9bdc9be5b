#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) into build-fuzz/ and runs
# each for a bounded time, starting from its checked-in seed corpus.
#
#   tests/fuzz/run.sh [-t SECONDS] [TARGET...]
#
#   -t SECONDS   time per target (default: ITGOV_FUZZ_SECONDS or 8)
#   TARGET       json route envelope webhook (default: all)
#
# Each target reads tests/fuzz/corpus/<target>/ (never written) and keeps
# what it finds in build-fuzz/corpus/<target>/, which grows from run to run.
# A crash, a leak, undefined behaviour or a slow input (over 5 s) fails the
# run; the input that caused it and the target's log are kept in
# $ITGOV_FUZZ_ARTIFACTS (default build-fuzz/artifacts/) as <target>-crash-...,
# <target>-leak-..., <target>-timeout-..., <target>.log. Exits non-zero if any
# target failed. The long run and how to minimize a crash: tests/fuzz/README.md.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
BUILD=$ROOT/build-fuzz
SECONDS_EACH=${ITGOV_FUZZ_SECONDS:-8}
ARTIFACTS=${ITGOV_FUZZ_ARTIFACTS:-$BUILD/artifacts}
ALL=(json route envelope webhook)

if [ "${1:-}" = "-t" ]; then
  SECONDS_EACH=$2
  shift 2
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL[@]}")

CC=clang cmake -S . -B "$BUILD" -DITGOV_FUZZ=ON -DITGOV_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null &&
  cmake --build "$BUILD" -j2 --target fuzz >/dev/null || {
  echo "fuzz: the build failed (cmake --build $BUILD --target fuzz shows why)" >&2
  exit 1
}

SUPP=$ROOT/tests/fuzz/known.supp
known=$(grep -v '^#' "$SUPP" | grep -v '^$' || true)
[ -z "$known" ] || echo "fuzz: known defects suppressed (tests/fuzz/known.supp): $known"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$SUPP

mkdir -p "$ARTIFACTS"
failed=0
for t in "${targets[@]}"; do
  bin=$BUILD/bin/fuzz_$t
  seeds=$ROOT/tests/fuzz/corpus/$t
  [ -x "$bin" ] && [ -d "$seeds" ] || { echo "fuzz: no target $t" >&2; failed=1; continue; }
  work=$BUILD/corpus/$t
  mkdir -p "$work"
  log=$ARTIFACTS/$t.log
  started=$(date +%s)
  "$bin" -max_total_time="$SECONDS_EACH" -timeout=5 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$ARTIFACTS/$t-" "$work" "$seeds" >"$log" 2>&1
  rc=$?
  took=$(($(date +%s) - started))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  if [ "$rc" -eq 0 ]; then
    printf 'fuzz %-9s ok    %s runs in %ss, corpus %s files\n' "$t" "${runs:-?}" "$took" \
      "$(find "$work" -type f | wc -l)"
  else
    failed=1
    printf 'fuzz %-9s FAIL  (exit %s) log: %s\n' "$t" "$rc" "$log"
    grep -E 'ERROR: |runtime error|SUMMARY|Test unit written|^artifact_prefix' "$log" | head -12 | sed 's/^/    /'
  fi
done
exit "$failed"
