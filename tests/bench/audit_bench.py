#!/usr/bin/python3
"""The audit ingest benchmark (issues 3 and 7), against a running stack.

The audit log takes only what a configured source's outbox holds (a message
on the broker is only a hint), so the events are written the way every
service writes them: emit() in a transaction, here into the audit service's
own outbox (it is one of its sources), through psql as the superuser. The
relay publishes them, the audit service reads them from the outbox, stores
them and sends them on its public feed (PUB) only after the commit.

  1. burst: one transaction emits N events; events/s stored = N / (last on
     the feed - start of the transaction);
  2. latency: one event per transaction at RATE events/s for DURATION s; per
     event, its commit-time clock (sent_ns, set by PostgreSQL) -> arrival on
     the feed (committed, relayed, read back from the outbox, stored, hash
     chained, Merkle leaf added): p50, p99, max.

    audit_bench.py PSQL_COMMAND AUDIT_PUB_ENDPOINT [N] [RATE] [DURATION]

PSQL_COMMAND: a shell command prefix running psql as the superuser on the
itgov database. With ITGOV_BENCH_BROKER_SUB (the broker's XPUB endpoint),
the steady stream is also watched on the broker, and the latency from the
relay's publication to the stored entry is given too. Prints one JSON object
with the figures. Events are type itgov.bench.tick, source /itgov/audit.

Both subscribers are CURVE clients (tests/bench/audit.sh sets the
environment): ITGOV_BROKER_CURVE_PUBLIC and ITGOV_AUDIT_FEED_CURVE_SECRET (the
feed's public key is derived from it) are the server keys,
ITGOV_BENCH_CLIENT_SECRET the secret of a key in ITGOV_EVENT_CLIENT_KEYS."""
import json
import os
import shlex
import subprocess
import sys
import threading
import time
import uuid

import zmq


def emit_sql(run, i_expr, from_clause=""):
    """A statement emitting bench events into the audit schema's outbox."""
    return ("SELECT count(audit.emit('itgov.bench.tick', 'bench/" + run + "', NULL, "
            "jsonb_build_object('run', '" + run + "', 'i', " + i_expr + ", 'sent_ns', "
            "(extract(epoch FROM clock_timestamp()) * 1e9)::bigint)))" + from_clause + ";\n")


class Psql:
    """One psql session fed statements on its stdin (search_path audit, so
    emit() names the audit service as the source)."""

    def __init__(self, cmd):
        self.p = subprocess.Popen(shlex.split(cmd) + ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.send("SET search_path TO audit;\n")

    def send(self, sql):
        self.p.stdin.write(sql)
        self.p.stdin.flush()

    def close(self):
        self.p.stdin.close()
        if self.p.wait(timeout=600) != 0:
            sys.exit("bench: psql failed")


def curve_client(sock, server_key, secret):
    """CURVE with the Z85 secret key (from the environment audit.sh sets)."""
    sock.curve_serverkey = server_key
    sock.curve_secretkey = secret.encode()
    sock.curve_publickey = zmq.curve_public(secret.encode())


class Feed:
    def __init__(self, ctx, endpoint, server_key):
        self.sock = ctx.socket(zmq.SUB)
        self.sock.setsockopt(zmq.RCVHWM, 0)
        curve_client(self.sock, server_key, os.environ["ITGOV_BENCH_CLIENT_SECRET"])
        self.sock.setsockopt(zmq.SUBSCRIBE, b"bench.")
        self.sock.connect(endpoint)
        self.got = {}  # run -> list of (recv_ns, sent_ns, seq, event id)
        self.lock = threading.Lock()
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        while not self.stop:
            if not poller.poll(100):
                continue
            while True:
                try:
                    _, body = self.sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                t = time.time_ns()
                ev = json.loads(body)
                with self.lock:
                    self.got.setdefault(ev["data"]["run"], []).append(
                        (t, int(ev["data"]["sent_ns"]), ev.get("seq"), ev["id"]))

    def count(self, run):
        with self.lock:
            return len(self.got.get(run, []))

    def items(self, run):
        with self.lock:
            return list(self.got.get(run, []))


def wait_count(feed, run, n, timeout):
    deadline = time.monotonic() + timeout
    last, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        c = feed.count(run)
        if c >= n:
            return c
        if c != last:
            last, last_change = c, time.monotonic()
        elif c > 0 and time.monotonic() - last_change > 10:
            return c  # nothing more for 10 s: the rest was dropped (the
            # first may take long: a loaded machine writes the burst slowly)
        time.sleep(0.05)
    return feed.count(run)


STATS = os.environ.get("ITGOV_BENCH_AUDIT_STATS") == "1"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_split():
    """CPU seconds used so far (utime + stime, /proc) by the audit service
    (ITGOV_BENCH_AUDIT_PID), by PostgreSQL's backends serving it (role
    audit), and by the rest of the cluster (ITGOV_BENCH_PG_PID, the
    postmaster: the bench's own psql session, WAL writer, checkpointer,
    autovacuum; exited children through the postmaster's cutime): CPU per
    event is what a shared machine's noise does not change much."""
    def stat(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                v = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            return v, cmd
        except OSError:
            return None, ""
    out = {"audit": 0.0, "pg_audit": 0.0, "pg_other": 0.0}
    apid, pm = os.environ.get("ITGOV_BENCH_AUDIT_PID"), os.environ.get("ITGOV_BENCH_PG_PID")
    if apid:
        v, _ = stat(apid)
        if v:
            out["audit"] = (int(v[11]) + int(v[12])) / TICK
    if pm:
        v, _ = stat(pm)
        if v:
            out["pg_other"] += (int(v[11]) + int(v[12]) + int(v[13]) + int(v[14])) / TICK
        try:
            with open(f"/proc/{pm}/task/{pm}/children") as f:
                kids = f.read().split()
        except OSError:
            kids = []
        for k in kids:
            v, cmd = stat(k)
            if v:
                key = "pg_audit" if cmd.startswith("postgres: audit ") else "pg_other"
                out[key] += (int(v[11]) + int(v[12])) / TICK
    return out


def cpu_per_event(before, after, n):
    """Microseconds of CPU per event, by part, between two cpu_split()s."""
    return {k: round((after[k] - before[k]) / n * 1e6, 1) if n else None for k in before}


def stats(psql_cmd, what):
    """With ITGOV_BENCH_AUDIT_STATS=1 (audit.sh preloads pg_stat_statements):
    "reset", or print PostgreSQL's time per statement since the reset to
    stderr under the heading what."""
    if not STATS:
        return
    run = lambda sql: subprocess.run(shlex.split(psql_cmd) + ["-X", "-q", "-At", "-F", " | ", "-c", sql],
                                     check=True, capture_output=True, text=True).stdout
    if what == "reset":
        run("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        run("ALTER SYSTEM SET pg_stat_statements.track = 'all'")  # inside functions too
        run("SELECT pg_reload_conf()")
        run("SELECT pg_stat_statements_reset()")
        return
    out = run("SELECT round(total_exec_time)::text || ' ms', calls, rows, "
              "regexp_replace(left(query, 110), '\\s+', ' ', 'g') FROM pg_stat_statements "
              "ORDER BY total_exec_time DESC LIMIT 12")
    print(f"bench: PostgreSQL time per statement, {what} (total ms | calls | rows | statement)",
          file=sys.stderr)
    print(out, file=sys.stderr)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    psql_cmd, audit_pub = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 50000
    rate = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    duration = int(sys.argv[5]) if len(sys.argv) > 5 else 10
    ctx = zmq.Context.instance()
    feed = Feed(ctx, audit_pub, zmq.curve_public(os.environ["ITGOV_AUDIT_FEED_CURVE_SECRET"].encode()))
    broker = None
    if os.environ.get("ITGOV_BENCH_BROKER_SUB"):
        broker = Feed(ctx, os.environ["ITGOV_BENCH_BROKER_SUB"],
                      os.environ["ITGOV_BROKER_CURVE_PUBLIC"].encode())
    tag = uuid.uuid4().hex[:8]

    # until a probe makes the whole way (the feed's subscription takes a moment)
    warm = f"{tag}-warm"
    deadline = time.monotonic() + 30
    db = Psql(psql_cmd)
    while feed.count(warm) == 0:
        if time.monotonic() > deadline:
            sys.exit("bench: no event reached the audit feed within 30 s")
        db.send(emit_sql(warm, "0"))
        time.sleep(0.2)

    # 1. burst: one transaction
    burst = f"{tag}-burst"
    stats(psql_cmd, "reset")
    cpu0 = cpu_split()
    t0 = time.time_ns()
    db.send(emit_sql(burst, "g", f" FROM generate_series(1, {n}) g"))
    t_sent = time.time_ns()
    stored = wait_count(feed, burst, n, 300)
    cpu_burst = cpu_per_event(cpu0, cpu_split(), stored)
    items = feed.items(burst)
    t_last = max(it[0] for it in items) if items else t_sent
    seqs = [it[2] for it in items]
    burst_rate = stored / ((t_last - t0) / 1e9) if stored else 0.0
    # the ingest's own rate: from the burst's commit (the last event's
    # sent_ns, PostgreSQL's clock at its emit(), just before the commit) to
    # the last entry on the feed; the rate above also counts the source's
    # own transaction writing the 50,000 rows
    t_commit = max(it[1] for it in items) if items else t_sent
    commit_rate = stored / ((t_last - t_commit) / 1e9) if stored and t_last > t_commit else 0.0

    stats(psql_cmd, "burst")
    stats(psql_cmd, "reset")

    # 2. latency at a steady rate
    steady = f"{tag}-steady"
    total = rate * duration
    cpu0 = cpu_split()
    start = time.monotonic()
    for k in range(total):
        due = start + k / rate
        d = due - time.monotonic()
        if d > 0:
            time.sleep(d)
        db.send(emit_sql(steady, str(k)))
    got = wait_count(feed, steady, total, 60)
    cpu_steady = cpu_per_event(cpu0, cpu_split(), got)
    db.close()
    stats(psql_cmd, "steady")
    lat = [(it[0] - it[1]) / 1e6 for it in feed.items(steady)]
    published = {it[3]: it[0] for it in broker.items(steady)} if broker else {}
    lat_pub = [(it[0] - published[it[3]]) / 1e6 for it in feed.items(steady) if it[3] in published]
    feed.stop = True
    if broker:
        broker.stop = True
    print(json.dumps({
        "burst_events": n, "burst_stored": stored, "burst_publish_s": round((t_sent - t0) / 1e9, 3),
        "burst_stored_per_s": round(burst_rate),
        "burst_stored_per_s_from_commit": round(commit_rate),
        "burst_source_tx_s": round((t_commit - t0) / 1e9, 3) if items else None, "burst_seq_in_order": seqs == sorted(seqs),
        "steady_rate": rate, "steady_events": total, "steady_stored": got,
        "latency_ms_p50": round(pct(lat, 50), 2) if lat else None,
        "latency_ms_p99": round(pct(lat, 99), 2) if lat else None,
        "latency_ms_max": round(max(lat), 2) if lat else None,
        "published_latency_ms_p50": round(pct(lat_pub, 50), 2) if lat_pub else None,
        "published_latency_ms_p99": round(pct(lat_pub, 99), 2) if lat_pub else None,
        "cpu_us_per_event_burst": cpu_burst, "cpu_us_per_event_steady": cpu_steady,
    }))


if __name__ == "__main__":
    main()
