"""Nothing waits without bound (issue 8, findings 8 and 9): a query waiting
for a database connection, a statement PostgreSQL does not finish, a flood
of password checks and a long audit verify each end in a bounded time, as
503 unavailable with Retry-After where they cannot be served, while the
service keeps answering everything else; afterwards it serves normally."""
import json
import os
import shlex
import signal
import socket
import subprocess
import threading
import time
import uuid

from client import (admin_token, cfg, direct, expect, http, local_sh, logs, make_user, poll,
                    problem, psql)
from audit_helpers import audit_url, auditor_token, log_size

ORDER = 92
WAIT_S = 5        # ITGOV_DB_WAIT_MS (default): a queued query's deadline
STATEMENT_S = 10  # ITGOV_DB_STATEMENT_TIMEOUT_MS (default)
REDIS_S = 2        # ITGOV_REDIS_TIMEOUT_MS (default)
SLACK_S = 2.5     # sanitizer build, two shared cores


def _unavailable(r, what):
    problem(r, 503, "unavailable")
    v = r.header("Retry-After") or ""
    assert v.isdigit() and int(v) >= 1, f"{what}: 503 without a Retry-After in seconds: {r}"


def _parallel(n, fn):
    """Runs fn(i) in n threads at once; returns [(seconds, result or exception)]."""
    out = [None] * n
    go = threading.Event()

    def run(i):
        go.wait()
        t = time.monotonic()
        try:
            res = fn(i)
        except Exception as e:  # noqa: BLE001 - reported by the caller
            res = e
        out[i] = (time.monotonic() - t, res)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join(120)
    return out


def _latency(url, seconds):
    """GETs url one after the other for seconds; returns the latencies (s)."""
    lat, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.monotonic()
        r = http("GET", url, timeout=10)
        lat.append(time.monotonic() - t)
        assert r.status == 200, f"GET {url} during the test: {r}"
    return lat


def test_postgres_stopped_answers_503_at_once_and_recovers():
    tok = admin_token()
    u = make_user(login_now=False)
    local_sh("stop", "postgres")
    try:
        time.sleep(0.5)
        res = _parallel(12, lambda i: http("GET", direct(f"/api/v1/users/{u['id']}"), token=tok,
                                           timeout=WAIT_S + 10))
        for secs, r in res:
            assert not isinstance(r, Exception), f"a request failed instead of answering: {r}"
            _unavailable(r, "PostgreSQL stopped")
            assert secs < WAIT_S + SLACK_S, f"503 only after {secs:.1f} s (deadline {WAIT_S} s)"
    finally:
        local_sh("start", "postgres")
    poll(lambda: http("GET", direct(f"/api/v1/users/{u['id']}"), token=tok).status == 200, 20,
         "the service serves again after PostgreSQL returns")


def test_a_locked_table_gives_503_within_the_deadlines_and_the_rest_keeps_going():
    """A transaction holds users locked: the statements waiting on the lock
    end at statement_timeout, the queries queued behind them (more than the
    pool has connections) at the queue deadline; both as 503 with
    Retry-After. /healthz keeps answering meanwhile."""
    tok = admin_token()
    u = make_user(login_now=False)
    hold = STATEMENT_S + 4
    lock_sql = (f"BEGIN; LOCK TABLE accounts.users IN ACCESS EXCLUSIVE MODE; "
                f"SELECT pg_sleep({hold}); COMMIT;")
    locker = subprocess.Popen(shlex.split(cfg("ITGOV_TEST_PSQL")) + ["-X", "-q", "-c", lock_sql],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        poll(lambda: psql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                          "WHERE c.relname = 'users' AND l.mode = 'AccessExclusiveLock' "
                          "AND l.granted").strip() != "0", 10, "the lock is taken")
        probe = {}
        t = threading.Thread(target=lambda: probe.setdefault("lat", _latency(direct("/healthz"), 4)))
        t.start()
        n = 20  # more than ITGOV_DB_POOL (8): some wait in the queue
        res = _parallel(n, lambda i: http("GET", direct(f"/api/v1/users/{u['id']}"), token=tok,
                                          timeout=STATEMENT_S + 15))
        t.join(30)
        times = []
        for secs, r in res:
            assert not isinstance(r, Exception), f"a request failed instead of answering: {r}"
            _unavailable(r, "users locked")
            times.append(secs)
        assert max(times) < STATEMENT_S + SLACK_S, f"slowest 503 after {max(times):.1f} s"
        queued = [s for s in times if s < WAIT_S + SLACK_S]
        assert queued, f"no query ended at the queue deadline ({WAIT_S} s): {sorted(times)}"
        assert all(s >= WAIT_S - 0.5 for s in times), f"a 503 came before any deadline: {sorted(times)}"
        lat = probe.get("lat") or []
        assert lat and max(lat) < 1.0, f"/healthz slow while queries waited: max {max(lat or [0]):.3f} s"
    finally:
        try:
            locker.wait(hold + 10)
        except subprocess.TimeoutExpired:
            locker.kill()
    poll(lambda: http("GET", direct(f"/api/v1/users/{u['id']}"), token=tok).status == 200, 10,
         "the service serves again once the lock is gone")


def test_a_flood_of_logins_beyond_the_worker_queue_gets_503_not_a_backlog():
    """More password checks at once than the worker queue holds (64): the
    surplus is refused at once with 503 + Retry-After; every request is
    answered, and a login works right after."""
    n = 240
    tag = uuid.uuid4().hex[:8]
    res = _parallel(n, lambda i: http("POST", direct("/api/v1/sessions"),
                                      {"username": f"flood-{tag}-{i}", "password": "not-this-one"},
                                      timeout=90))
    statuses = {}
    for secs, r in res:
        assert not isinstance(r, Exception), f"a login failed instead of answering: {r}"
        statuses[r.status] = statuses.get(r.status, 0) + 1
        if r.status == 503:
            _unavailable(r, "login flood")
        else:
            problem(r, 401, "invalid_credentials")
    print(f"login flood of {n}: {statuses}, slowest answer {max(s for s, _ in res):.1f} s")
    assert statuses.get(503, 0) > 0, f"no login refused beyond the queue bound: {statuses}"
    assert statuses.get(401, 0) > 0, f"no login checked at all: {statuses}"
    u = make_user(login_now=False)
    expect(http("POST", direct("/api/v1/sessions"), {"username": u["username"], "password": u["password"]}), 201)


def test_verify_of_a_long_log_keeps_the_audit_service_answering():
    """A verify of a log of some ten thousand entries runs in slices: the
    audit service answers other requests meanwhile, and the verify is right."""
    n = 10000
    before = log_size()
    psql("SET search_path TO audit; SELECT count(audit.emit('itgov.bench.tick', 'bench/deadlines', "
         f"NULL, jsonb_build_object('i', g))) FROM generate_series(1, {n}) g")
    poll(lambda: log_size() >= before + n, 120, f"{n} entries logged")
    tok = auditor_token()
    got = {}

    def run_verify():  # three in a row: enough samples for a p99 on a busy machine
        t = time.monotonic()
        for _ in range(3):
            got["r"] = http("GET", audit_url("/verify"), token=tok, timeout=120)
            if got["r"].status != 200:
                break
        got["secs"] = time.monotonic() - t

    v = threading.Thread(target=run_verify)
    v.start()
    lat = []
    while v.is_alive() and len(lat) < 100000:
        t = time.monotonic()
        r = http("GET", audit_url("/checkpoint"), timeout=10)
        lat.append(time.monotonic() - t)
        assert r.status == 200, f"GET /audit/checkpoint during a verify: {r}"
    v.join(120)
    body = expect(got["r"], 200)
    assert body.get("ok") is True, f"verify: {body}"
    lat.sort()
    assert len(lat) >= 50, f"only {len(lat)} requests answered during verifies of {got['secs']:.1f} s"
    worst = lat[-1]
    print(f"3 verifies of {log_size()} entries: {got['secs']:.1f} s; meanwhile {len(lat)} requests, "
          f"p50 {lat[len(lat) // 2] * 1000:.1f} ms, p99 {lat[int(len(lat) * 0.99)] * 1000:.1f} ms, "
          f"max {worst * 1000:.1f} ms")
    # Not a speed goal (those are in tests/bench/verify.sh: p99 < 20 ms in
    # Release): a loop that sat through a verify, or a large slice of one,
    # would make the answers around it wait about as long as that slice. So
    # the bound is relative to one verify's own duration, which a loaded
    # machine stretches alike: 99 % of the answers within a fifth of it.
    p99, one_verify = lat[int(len(lat) * 0.99)], got["secs"] / 3
    assert p99 < one_verify / 5, (f"p99 {p99 * 1000:.0f} ms during verifies of {one_verify:.2f} s each "
                                  f"(p50 {lat[len(lat) // 2] * 1000:.1f} ms, {len(lat)} requests)")


def test_a_frozen_redis_gives_503_within_the_command_timeout_and_recovers():
    """Redis stopped with SIGSTOP (it accepts connections, answers nothing):
    a command ends at ITGOV_REDIS_TIMEOUT_MS (2 s) with 503 + Retry-After
    instead of waiting for ever; after SIGCONT the service reconnects."""
    u = make_user()
    with open(os.path.join(cfg("ITGOV_STATE_DIR"), "redis.pid")) as f:
        pid = int(f.read().split()[0])
    os.kill(pid, signal.SIGSTOP)
    try:
        res = _parallel(6, lambda i: http("GET", direct("/api/v1/me"), token=u["token"], timeout=30))
        for secs, r in res:
            assert not isinstance(r, Exception), f"a request failed instead of answering: {r}"
            _unavailable(r, "Redis frozen")
            assert secs < REDIS_S + SLACK_S, f"503 only after {secs:.1f} s (timeout {REDIS_S} s)"
    finally:
        os.kill(pid, signal.SIGCONT)
    poll(lambda: http("GET", direct("/api/v1/me"), token=u["token"]).status == 200, 20,
         "the session works again once Redis answers")


def test_logins_abandoned_by_their_clients_are_not_checked():
    """Clients that send a login and hang up at once: the password checks
    still queued for them are skipped (the close callback cancels them), so
    hung-up clients cannot keep the worker threads busy; the service logs
    each as a 503 nobody reads, and serves normally afterwards."""
    def gone_count():
        return logs().get("accounts.log", "").count("the client has gone")

    before = gone_count()
    port = int(direct().rsplit(":", 1)[1].split("/")[0])
    tag = uuid.uuid4().hex[:8]
    for i in range(60):  # within the queue bound: every one is admitted
        body = json.dumps({"username": f"gone-{tag}-{i}", "password": "not-this-one"}).encode()
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        s.close()
    poll(lambda: gone_count() > before, 30, "an abandoned login cancelled")
    u = make_user(login_now=False)
    poll(lambda: http("POST", direct("/api/v1/sessions"),
                      {"username": u["username"], "password": u["password"]}).status == 201, 30,
         "a login works after the abandoned ones")
