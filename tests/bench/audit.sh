#!/usr/bin/env bash
# The audit ingest benchmark (issue 3): how many events/s the audit service
# stores from a burst published through the broker, and the latency from
# publication (the moment a relay sends a committed event) to the entry
# being stored and on the audit service's public feed, at a steady
# 1,000 events/s. Aims: >= 5,000 events/s stored; p99 < 50 ms.
# Not part of tests/run.sh; run it by hand on an otherwise idle machine:
#
#   tests/bench/audit.sh
#
#   1. a Release build (no sanitizers) of the broker and the audit service
#      into build-bench-audit/
#   2. an isolated stack (deploy/local.sh on free ports, its own state dir and
#      PostgreSQL cluster under /tmp); an EXIT trap stops and deletes it
#   3. tests/bench/audit_bench.py publishes the burst and the steady stream
#      (CloudEvents of type itgov.bench.tick) to the broker's XSUB port and
#      watches the audit service's PUB port, which sends an entry only after
#      it is committed (both with CURVE: the audit service's publisher key,
#      and a client key pair of the bench's own)
#   4. prints a Markdown table and writes it to
#      build-bench-audit/audit-bench-results.md
#
# Settings (environment):
#   ITGOV_BENCH_AUDIT_EVENTS   events in the burst                (default 50000)
#   ITGOV_BENCH_AUDIT_RATE     events/s of the steady stream      (default 1000)
#   ITGOV_BENCH_AUDIT_SECONDS  seconds of the steady stream       (default 10)
#   ITGOV_AUDIT_BATCH          events per INSERT (service setting, default 2000)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BUILD_DIR=build-bench-audit
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
say "Release build into $BUILD_DIR/"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DITGOV_SANITIZE=OFF >/dev/null
cmake --build "$BUILD_DIR" -j2 --target itgov-broker itgov-audit >/dev/null
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
# the feed admits only listed CURVE keys: the bench's own client pair
read -ra PAIR <<<"$(python3 deploy/keygen.py)"
export ITGOV_EVENT_CLIENT_KEYS=${PAIR[1]}
trap '"$LOCAL_SH" down --purge >/dev/null 2>&1 || true' EXIT
"$LOCAL_SH" up >/dev/null
# the stack's keys; the bench publishes with the audit service's own key
# (the broker's XSUB admits only the services' keys)
eval "$("$LOCAL_SH" env)"
export ITGOV_BENCH_CLIENT_SECRET=${PAIR[0]} ITGOV_BENCH_PUBLISHER_SECRET=$ITGOV_AUDIT_CURVE_SECRET

say "burst of $EVENTS events, then $RATE events/s for $SECONDS_STEADY s"
out=$(/usr/bin/python3 "$ROOT/tests/bench/audit_bench.py" "tcp://127.0.0.1:$ITGOV_BROKER_XSUB_PORT" \
  "tcp://127.0.0.1:$ITGOV_AUDIT_PUB_PORT" "$EVENTS" "$RATE" "$SECONDS_STEADY")
echo "$out"
verdict=$(curl -s "http://127.0.0.1:$ITGOV_AUDIT_PORT/api/v1/audit/checkpoint")
mkdir -p "$BUILD_DIR"
python3 - "$out" "$verdict" <<'PY' | tee "$RESULTS_MD"
import json, sys
r, cp = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("| audit ingest | figure | aim |")
print("|---|---|---|")
print(f"| burst: events stored / published | {r['burst_stored']} / {r['burst_events']} | all |")
print(f"| burst: events/s stored | {r['burst_stored_per_s']} | >= 5000 |")
print(f"| burst: feed in seq order | {r['burst_seq_in_order']} | true |")
print(f"| steady {r['steady_rate']}/s: stored / published | {r['steady_stored']} / {r['steady_events']} | all |")
print(f"| steady: publish -> stored p50 | {r['latency_ms_p50']} ms | |")
print(f"| steady: publish -> stored p99 | {r['latency_ms_p99']} ms | < 50 ms |")
print(f"| steady: max | {r['latency_ms_max']} ms | |")
print(f"| log size after the run (signed head) | {cp['size']} | |")
PY
