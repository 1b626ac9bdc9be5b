#!/usr/bin/python3
"""The audit ingest benchmark (issue 3), against a running stack:

  1. burst: publishes N CloudEvents to the broker (XSUB) as fast as it can and
     counts them on the audit service's public feed (PUB), which sends an
     entry only after it is stored: events/s stored = N / (last stored -
     first published);
  2. latency: publishes at RATE events/s for DURATION s and measures, per
     event, publish -> arrival on the feed (i.e. committed and stored, hash
     chained, Merkle leaf added): p50, p99, max.

    audit_bench.py XSUB_ENDPOINT AUDIT_PUB_ENDPOINT [N] [RATE] [DURATION]

Prints one JSON object with the figures. Events are type itgov.bench.tick,
source /itgov/bench (a source without catch-up: a dropped message is lost,
and is counted as such).

Both sockets are CURVE clients (tests/bench/audit.sh sets the environment):
ITGOV_BROKER_CURVE_PUBLIC and ITGOV_AUDIT_FEED_CURVE_SECRET (the feed's public
key is derived from it) are the server keys, ITGOV_BENCH_PUBLISHER_SECRET a
publisher key the broker admits, ITGOV_BENCH_CLIENT_SECRET the secret of a key
in ITGOV_EVENT_CLIENT_KEYS."""
import json
import os
import sys
import threading
import time
import uuid

import zmq


def now_rfc3339():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int((t % 1) * 1e6)


def event(i, run):
    return json.dumps({"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/itgov/bench",
                       "type": "itgov.bench.tick", "time": now_rfc3339(), "subject": f"bench/{run}",
                       "actor": None, "datacontenttype": "application/json",
                       "data": {"run": run, "i": i, "sent_ns": time.time_ns()}}).encode()


def curve_client(sock, server_key, secret):
    """CURVE with the Z85 secret key (from the environment audit.sh sets)."""
    sock.curve_serverkey = server_key
    sock.curve_secretkey = secret.encode()
    sock.curve_publickey = zmq.curve_public(secret.encode())


class Feed:
    def __init__(self, ctx, endpoint):
        self.sock = ctx.socket(zmq.SUB)
        self.sock.setsockopt(zmq.RCVHWM, 0)
        curve_client(self.sock, zmq.curve_public(os.environ["ITGOV_AUDIT_FEED_CURVE_SECRET"].encode()),
                     os.environ["ITGOV_BENCH_CLIENT_SECRET"])
        self.sock.setsockopt(zmq.SUBSCRIBE, b"bench.")
        self.sock.connect(endpoint)
        self.got = {}  # run -> list of (recv_ns, sent_ns, seq)
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
                    self.got.setdefault(ev["data"]["run"], []).append((t, ev["data"]["sent_ns"], ev["seq"]))

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
        elif time.monotonic() - last_change > 10:
            return c  # nothing more for 10 s: the rest was dropped
        time.sleep(0.05)
    return feed.count(run)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    xsub, audit_pub = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 50000
    rate = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    duration = int(sys.argv[5]) if len(sys.argv) > 5 else 10
    ctx = zmq.Context.instance()
    pub = ctx.socket(zmq.PUB)
    pub.setsockopt(zmq.SNDHWM, 0)
    curve_client(pub, os.environ["ITGOV_BROKER_CURVE_PUBLIC"].encode(),
                 os.environ["ITGOV_BENCH_PUBLISHER_SECRET"])
    pub.connect(xsub)
    feed = Feed(ctx, audit_pub)
    tag = uuid.uuid4().hex[:8]

    # until a probe makes the whole way (subscriptions take a moment to propagate)
    warm = f"{tag}-warm"
    deadline = time.monotonic() + 30
    i = 0
    while feed.count(warm) == 0:
        if time.monotonic() > deadline:
            sys.exit("bench: no event reached the audit feed within 30 s")
        pub.send_multipart([b"bench.tick", event(i, warm)])
        i += 1
        time.sleep(0.2)

    # 1. burst
    burst = f"{tag}-burst"
    msgs = [event(k, burst) for k in range(n)]
    t0 = time.time_ns()
    for m in msgs:
        pub.send_multipart([b"bench.tick", m])
    t_sent = time.time_ns()
    stored = wait_count(feed, burst, n, 300)
    items = feed.items(burst)
    t_last = max(t for t, _, _ in items) if items else t_sent
    seqs = [s for _, _, s in items]
    burst_rate = stored / ((t_last - t0) / 1e9) if stored else 0.0

    # 2. latency at a steady rate
    steady = f"{tag}-steady"
    total = rate * duration
    start = time.monotonic()
    for k in range(total):
        due = start + k / rate
        d = due - time.monotonic()
        if d > 0:
            time.sleep(d)
        pub.send_multipart([b"bench.tick", event(k, steady)])
    got = wait_count(feed, steady, total, 60)
    lat = [(t - s) / 1e6 for t, s, _ in feed.items(steady)]
    feed.stop = True
    print(json.dumps({
        "burst_events": n, "burst_stored": stored, "burst_publish_s": round((t_sent - t0) / 1e9, 3),
        "burst_stored_per_s": round(burst_rate), "burst_seq_in_order": seqs == sorted(seqs),
        "steady_rate": rate, "steady_events": total, "steady_stored": got,
        "latency_ms_p50": round(pct(lat, 50), 2) if lat else None,
        "latency_ms_p99": round(pct(lat, 99), 2) if lat else None,
        "latency_ms_max": round(max(lat), 2) if lat else None,
    }))


if __name__ == "__main__":
    main()
