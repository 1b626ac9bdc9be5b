#!/usr/bin/env bash
# The audit ingest benchmark (issues 3, 7 and 15): the two aims of issue 15
# and the audit service's memory, in one table:
#   - events/s stored: a burst committed in one transaction to a source's
#     outbox (the audit service's own: it follows itself like every source),
#     from that commit to the last entry on the audit feed (aim >= 20,000/s);
#   - publish -> stored p99 at a steady 1,000 events/s: from the relay's
#     publication on the broker to the entry on the audit feed, which sends
#     an entry only after its commit (aim <= 10 ms);
#   - the audit service's RSS after the run, and its peak.
# Below the table: the checks (every event stored, the feed in seq order),
# and the CPU per event stored of the audit process, of its PostgreSQL
# backends and of the rest of the cluster (/proc), which a shared machine's
# noise changes far less than the rates: compare runs by it.
# Not part of tests/run.sh; run it by hand on an otherwise idle machine:
#
#   tests/bench/audit.sh
#
#   1. a Release build (no sanitizers) of the broker and the audit service
#      into build-bench-audit/
#   2. an isolated stack (deploy/local.sh on free ports, its own state dir and
#      PostgreSQL cluster under /tmp); an EXIT trap stops and deletes it
#   3. tests/bench/audit_bench.py emits the burst and the steady stream
#      (CloudEvents of type itgov.bench.tick) into the audit schema's outbox
#      with psql (the relay publishes them, the audit service reads them back
#      from the outbox as it does for every source) and watches the audit
#      service's PUB port and the broker's XPUB (both with CURVE: a client
#      key pair of its own)
#   4. prints a Markdown table and writes it to
#      build-bench-audit/audit-bench-results.md
#
# Settings (environment):
#   ITGOV_BENCH_AUDIT_EVENTS   events in the burst                (default 50000)
#   ITGOV_BENCH_AUDIT_RATE     events/s of the steady stream      (default 1000)
#   ITGOV_BENCH_AUDIT_SECONDS  seconds of the steady stream       (default 10)
#   ITGOV_BENCH_AUDIT_STATS=1  pg_stat_statements in the throwaway cluster:
#                              PostgreSQL's time per statement, burst and steady
#   ITGOV_BENCH_AUDIT_BUILD_DIR, ITGOV_BENCH_AUDIT_NO_BUILD=1: run binaries
#                              built elsewhere (another commit), for A/B runs
#   ITGOV_AUDIT_BATCH          events per INSERT (service setting, default 2000)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BUILD_DIR=${ITGOV_BENCH_AUDIT_BUILD_DIR:-build-bench-audit}
LOCAL_SH=$ROOT/deploy/local.sh
RESULTS_MD=$ROOT/$BUILD_DIR/audit-bench-results.md
EVENTS=${ITGOV_BENCH_AUDIT_EVENTS:-50000}
RATE=${ITGOV_BENCH_AUDIT_RATE:-1000}
SECONDS_STEADY=${ITGOV_BENCH_AUDIT_SECONDS:-10}

say() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

# n distinct free ports, outside the ephemeral range (tests/free-ports.py)
free_ports() { python3 "$ROOT/tests/free-ports.py" "$1"; }

"$ROOT/deploy/deps.sh"
if [ "${ITGOV_BENCH_AUDIT_NO_BUILD:-0}" != 1 ]; then
  say "Release build into $BUILD_DIR/"
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DITGOV_SANITIZE=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j2 --target itgov-broker itgov-audit >/dev/null
fi
# only what is measured runs: no other service binary in this build dir
rm -f "$BUILD_DIR"/bin/itgov-{accounts,projects,approvals}

read -ra P <<<"$(free_ports 10)"
[ "${#P[@]}" -eq 10 ] || die "could not find 10 free ports"
export ITGOV_GATEWAY_PORT=${P[0]} ITGOV_ACCOUNTS_PORT=${P[1]} ITGOV_PROJECTS_PORT=${P[2]}
export ITGOV_APPROVALS_PORT=${P[3]} ITGOV_AUDIT_PORT=${P[4]} ITGOV_BROKER_XSUB_PORT=${P[5]}
export ITGOV_BROKER_XPUB_PORT=${P[6]} ITGOV_AUDIT_PUB_PORT=${P[7]} ITGOV_PG_PORT=${P[8]} ITGOV_REDIS_PORT=${P[9]}
ITGOV_STATE_DIR=$(mktemp -d /tmp/itgov-bench-audit.XXXXXX)
export ITGOV_STATE_DIR ITGOV_BUILD_DIR=$BUILD_DIR ITGOV_SKIP_BUILD=1 ITGOV_LOG_LEVEL=${ITGOV_LOG_LEVEL:-warn}
export ITGOV_ADMIN_PASSWORD=${ITGOV_ADMIN_PASSWORD:-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')}
# the audit service follows only itself here: no other service runs
export ITGOV_AUDIT_SOURCES=audit=http://127.0.0.1:$ITGOV_AUDIT_PORT
# the feed and the broker's XPUB admit only listed CURVE keys: the bench's own client pair
read -ra PAIR <<<"$(python3 deploy/keygen.py)"
export ITGOV_EVENT_CLIENT_KEYS=${PAIR[1]}
trap '"$LOCAL_SH" down --purge >/dev/null 2>&1 || true' EXIT
if [ "${ITGOV_BENCH_AUDIT_STATS:-0}" = 1 ]; then
  # pg_stat_statements in this throwaway cluster: PostgreSQL's time per statement
  "$LOCAL_SH" start postgres >/dev/null
  read -r PGROOT <"$ITGOV_STATE_DIR/pgroot"
  /usr/lib/postgresql/15/bin/psql -X -q -h "$PGROOT/sock" -p "$ITGOV_PG_PORT" -U postgres -d itgov \
    -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
  "$LOCAL_SH" stop postgres >/dev/null
fi
"$LOCAL_SH" up >/dev/null
eval "$("$LOCAL_SH" env)" # the stack's keys (the feed's server key)
export ITGOV_BENCH_CLIENT_SECRET=${PAIR[0]}
read -r PGROOT <"$ITGOV_STATE_DIR/pgroot"
# CPU per event, by process (audit_bench.py reads /proc)
read -r ITGOV_BENCH_AUDIT_PID <"$ITGOV_STATE_DIR/audit.pid"
ITGOV_BENCH_PG_PID=$(head -1 "$PGROOT/data/postmaster.pid")
export ITGOV_BENCH_AUDIT_PID ITGOV_BENCH_PG_PID
PSQL="/usr/lib/postgresql/15/bin/psql -h $PGROOT/sock -p $ITGOV_PG_PORT -U postgres -d itgov"

say "burst of $EVENTS events, then $RATE events/s for $SECONDS_STEADY s"
out=$(ITGOV_BENCH_BROKER_SUB=tcp://127.0.0.1:$ITGOV_BROKER_XPUB_PORT \
  /usr/bin/python3 "$ROOT/tests/bench/audit_bench.py" "$PSQL" \
  "tcp://127.0.0.1:$ITGOV_AUDIT_PUB_PORT" "$EVENTS" "$RATE" "$SECONDS_STEADY")
echo "$out"
verdict=$(curl -s "http://127.0.0.1:$ITGOV_AUDIT_PORT/api/v1/audit/checkpoint")
# the audit service's memory after the run: resident now and its peak
rss=$(awk '/^VmRSS|^VmHWM/ {printf "%s ", $2}' "/proc/$ITGOV_BENCH_AUDIT_PID/status")
mkdir -p "$BUILD_DIR"
python3 - "$out" "$verdict" "$rss" <<'PY' | tee "$RESULTS_MD"
import json, sys
r, cp = json.loads(sys.argv[1]), json.loads(sys.argv[2])
hwm, rss = (int(x) for x in sys.argv[3].split())  # kB, as /proc lists them
print("| audit ingest | figure | aim |")
print("|---|---|---|")
print(f"| events/s stored (a burst of {r['burst_events']} committed in one transaction: its commit -> last entry stored) "
      f"| {r['burst_stored_per_s_from_commit']} | >= 20000 |")
print(f"| publish -> stored p99 at {r['steady_rate']} events/s (relay's publication -> entry on the feed) "
      f"| {r['published_latency_ms_p99']} ms | <= 10 ms |")
print(f"| audit RSS after the run (peak) | {rss / 1024:.1f} MB ({hwm / 1024:.1f} MB), log of {cp['size']} entries | |")
ok = (r["burst_stored"] == r["burst_events"] and r["burst_seq_in_order"]
      and r["steady_stored"] == r["steady_events"])
print(f"\nchecks: burst {r['burst_stored']}/{r['burst_events']} stored, feed in seq order: "
      f"{r['burst_seq_in_order']}; steady {r['steady_stored']}/{r['steady_events']} stored"
      f"{'' if ok else ' -- FAILED'}. Also: {r['burst_stored_per_s']} events/s counting the source's own "
      f"transaction ({r['burst_source_tx_s']} s), commit -> stored p99 {r['latency_ms_p99']} ms, "
      f"publish -> stored p50 {r['published_latency_ms_p50']} ms.")
c = r["cpu_us_per_event_burst"]
print(f"CPU per event stored, burst: audit {c['audit']} us, its PostgreSQL backends {c['pg_audit']} us "
      f"(the relay's and the reads of the outbox included: audit follows itself here), the rest of "
      f"PostgreSQL {c['pg_other']} us (the source's transaction, WAL writer, ...)")
sys.exit(0 if ok else 1)
PY
