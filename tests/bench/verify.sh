#!/usr/bin/env bash
# The audit verify benchmark (issue 8, finding 9): request latency on the
# audit service's port while GET /api/v1/audit/verify recomputes a long log
# (hash chain, Merkle tree, every stored column). The verify runs on the
# loop in pages of 250 entries (log_api.c), one database round trip apart,
# so the other requests are served between two pages. Aim: p99 < 20 ms
# during a verify of ~200,000 entries.
# Not part of tests/run.sh; run it by hand on an otherwise idle machine:
#
#   tests/bench/verify.sh
#
#   1. a Release build (no sanitizers) into build-bench-verify/
#   2. an isolated stack (deploy/local.sh on free ports, its own state dir and
#      PostgreSQL cluster under /tmp); an EXIT trap stops and deletes it
#   3. fills the log: ITGOV_BENCH_VERIFY_ENTRIES events emitted into the audit
#      schema's outbox with psql (the audit service logs its own outbox like
#      every source's), and waits until all are logged
#   4. wrk on GET /api/v1/audit/checkpoint (public, answered by the loop)
#      for ITGOV_BENCH_VERIFY_SECONDS: once alone (baseline), once while
#      verifies run back to back
#   5. prints a Markdown table and writes it to
#      build-bench-verify/verify-bench-results.md
#
# Settings (environment):
#   ITGOV_BENCH_VERIFY_ENTRIES  entries in the log        (default 200000)
#   ITGOV_BENCH_VERIFY_SECONDS  seconds of each wrk run    (default 20)
#   ITGOV_BENCH_CONNECTIONS     wrk connections            (default 4)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BUILD_DIR=build-bench-verify
LOCAL_SH=$ROOT/deploy/local.sh
RESULTS_MD=$ROOT/$BUILD_DIR/verify-bench-results.md
ENTRIES=${ITGOV_BENCH_VERIFY_ENTRIES:-200000}
SECS=${ITGOV_BENCH_VERIFY_SECONDS:-20}
CONNS=${ITGOV_BENCH_CONNECTIONS:-4}

say() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }
free_ports() { python3 "$ROOT/tests/free-ports.py" "$1"; }

"$ROOT/deploy/deps.sh"
say "Release build into $BUILD_DIR/"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DITGOV_SANITIZE=OFF >/dev/null
cmake --build "$BUILD_DIR" -j2 >/dev/null

read -ra P <<<"$(free_ports 10)"
[ "${#P[@]}" -eq 10 ] || die "could not find 10 free ports"
export ITGOV_GATEWAY_PORT=${P[0]} ITGOV_ACCOUNTS_PORT=${P[1]} ITGOV_PROJECTS_PORT=${P[2]}
export ITGOV_APPROVALS_PORT=${P[3]} ITGOV_AUDIT_PORT=${P[4]} ITGOV_BROKER_XSUB_PORT=${P[5]}
export ITGOV_BROKER_XPUB_PORT=${P[6]} ITGOV_AUDIT_PUB_PORT=${P[7]} ITGOV_PG_PORT=${P[8]} ITGOV_REDIS_PORT=${P[9]}
ITGOV_STATE_DIR=$(mktemp -d /tmp/itgov-bench-verify.XXXXXX)
export ITGOV_STATE_DIR ITGOV_BUILD_DIR=$BUILD_DIR ITGOV_SKIP_BUILD=1 ITGOV_LOG_LEVEL=${ITGOV_LOG_LEVEL:-warn}
export ITGOV_ADMIN_PASSWORD=${ITGOV_ADMIN_PASSWORD:-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')}
read -ra PAIR <<<"$(python3 deploy/keygen.py)"
export ITGOV_EVENT_CLIENT_KEYS=${PAIR[1]}
trap '"$LOCAL_SH" down --purge >/dev/null 2>&1 || true' EXIT
"$LOCAL_SH" up >/dev/null
eval "$("$LOCAL_SH" env)"
read -r PGROOT <"$ITGOV_STATE_DIR/pgroot"
PSQL="/usr/lib/postgresql/15/bin/psql -X -q -At -v ON_ERROR_STOP=1 -h $PGROOT/sock -p $ITGOV_PG_PORT -U postgres -d itgov"
AUDIT=http://127.0.0.1:$ITGOV_AUDIT_PORT

log_size() { $PSQL -c "SELECT coalesce(max(seq), 0) FROM audit.entries"; }

say "filling the log with $ENTRIES entries"
before=$(log_size)
for ((done_ = 0; done_ < ENTRIES; done_ += 50000)); do
  n=$((ENTRIES - done_ < 50000 ? ENTRIES - done_ : 50000))
  $PSQL -c "SET search_path TO audit; SELECT count(audit.emit('itgov.bench.tick', 'bench/verify', NULL, jsonb_build_object('i', g))) FROM generate_series(1, $n) g" >/dev/null
done
for _ in $(seq 600); do
  [ "$(log_size)" -ge $((before + ENTRIES)) ] && break
  sleep 1
done
size=$(log_size)
[ "$size" -ge $((before + ENTRIES)) ] || die "only $size entries logged after 600 s"
say "log holds $size entries"

token=$(curl -sf "http://127.0.0.1:$ITGOV_ACCOUNTS_PORT/api/v1/sessions" -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$ITGOV_ADMIN_PASSWORD\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

wrk_run() { wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "$AUDIT/api/v1/audit/checkpoint"; }
pct() { awk -v p="$1" '$1 == p { print $2 }'; }

say "baseline: wrk alone for $SECS s"
base=$(wrk_run)

say "wrk for $SECS s while verifies run back to back"
verifies=$BUILD_DIR/verify-times.txt
: >"$verifies"
(
  end=$((SECONDS + SECS))
  while [ $SECONDS -lt $end ]; do
    curl -s -o "$BUILD_DIR/verify-last.json" -w '%{http_code} %{time_total}\n' \
      -H "Authorization: Bearer $token" "$AUDIT/api/v1/audit/verify" >>"$verifies"
  done
) &
vpid=$!
load=$(wrk_run)
wait "$vpid"
grep -q '"ok":true' "$BUILD_DIR/verify-last.json" || die "the verify did not say ok: $(head -c 300 "$BUILD_DIR/verify-last.json")"
grep -qv '^200 ' "$verifies" && die "a verify failed: $(grep -v '^200 ' "$verifies" | head -3)"

mkdir -p "$BUILD_DIR"
python3 - "$base" "$load" "$verifies" "$size" <<'PY' | tee "$RESULTS_MD"
import re, sys
base, load, vfile, size = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def lat(out):
    d = {}
    for p in ("50%", "90%", "99%"):
        m = re.search(r"^\s*" + re.escape(p) + r"\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        d[p] = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)] if m else float("nan")
    m = re.search(r"Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)", out)
    d["max"] = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)] if m else float("nan")
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    d["rps"] = float(m.group(1)) if m else float("nan")
    return d
b, l = lat(base), lat(load)
times = [float(x.split()[1]) for x in open(vfile) if x.strip()]
print(f"| GET /api/v1/audit/checkpoint (log of {size} entries) | alone | during verifies | aim |")
print("|---|---|---|---|")
for k in ("50%", "90%", "99%"):
    print(f"| latency p{k[:-1]} | {b[k]:.2f} ms | {l[k]:.2f} ms | {'< 20 ms' if k == '99%' else ''} |")
print(f"| latency max | {b['max']:.2f} ms | {l['max']:.2f} ms | |")
print(f"| requests/s | {b['rps']:.0f} | {l['rps']:.0f} | |")
if times:
    print(f"| verifies completed (each of the whole log) | | {len(times)}, {min(times):.2f}..{max(times):.2f} s each | |")
PY
