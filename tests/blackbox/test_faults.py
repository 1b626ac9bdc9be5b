"""Crashes (issue 8): `kill -9` of each part of the stack under a steady write
load, then its start again.

First Redis alone: sessions live in its append-only file (flushed each
second), so a crash keeps every session older than a second, and a logout
before the crash stays a logout. Then the fault suite: a thread creates
departments, users and projects through the gateway, submits each project,
and remembers each acknowledged write while accounts, projects, approvals,
audit, the broker, Redis and PostgreSQL are killed in turn (every process of
it, SIGKILL) and started again. Afterwards every acknowledged write reads
back, every change is in the audit log exactly once, each submitted project
has exactly one approval case, the chain verifies, the sessions made before
still work, and every service answered /readyz 200 within READY_BOUND_S of
its dependency's return (the figures are printed).

The tests of this file share one load: the fault tests add to it, the last
one stops it and checks everything it wrote."""
import collections
import os
import signal
import threading
import time

from audit_helpers import CATCH_UP_S, check_log_matches_outboxes, psql, verify
from client import (admin_token, cfg, expect, http, local_sh, make_department, make_user,
                    new_password, poll, problem, sfx)

ORDER = 92
READY_BOUND_S = 5.0  # a correctness bound (issue 8), not a speed figure
BACK_S = 30  # how long a component may take to come back at all
SERVICES = ("accounts", "projects", "approvals", "audit")


# ---------------------------------------------------------------- crashing


def _state(*path):
    return os.path.join(cfg("ITGOV_STATE_DIR"), *path)


def _read_pid(path):
    with open(path) as f:
        return int(f.readline().strip())


def _gone(pid):
    """Not running any more (a zombie counts: PID 1 here may not reap)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def _children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                pass
    return out


def _pids(component):
    """Every process of a running component: PostgreSQL is the postmaster
    and its children, the others one process (deploy/local.sh's pid files)."""
    if component == "postgres":
        with open(_state("pgroot")) as f:
            root = f.readline().strip()
        pm = _read_pid(os.path.join(root, "data", "postmaster.pid"))
        return [pm] + _children(pm)
    return [_read_pid(_state(f"{component}.pid"))]


def crash(component):
    """SIGKILL every process of the component; returns when all are gone."""
    pids = _pids(component)
    assert pids and not _gone(pids[0]), f"{component} is not running"
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    poll(lambda: all(_gone(p) for p in pids), 10, f"{component} gone after SIGKILL", interval=0.05)


# ---------------------------------------------------------------- coming back


def _service_url(svc):
    return cfg(f"ITGOV_TEST_{svc.upper()}_URL").rstrip("/")


def _answers(component):
    """The component itself is back (not yet the services that use it)."""
    try:
        if component == "postgres":
            return psql("SELECT 1").strip() == "1"
        if component == "redis":
            return _redis_answers()
        if component == "broker":
            import socket
            with socket.create_connection(("127.0.0.1", int(cfg("ITGOV_BROKER_XSUB_PORT"))), timeout=1):
                return True
        return http("GET", _service_url(component) + "/healthz", timeout=2).status == 200
    except (AssertionError, OSError):
        return False


def _redis_answers():
    import socket
    with socket.create_connection(("127.0.0.1", int(cfg("ITGOV_TEST_REDIS_PORT"))), timeout=1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64).startswith(b"-NOAUTH")  # a reply, from a server past loading


def _ready(svc):
    try:
        return http("GET", _service_url(svc) + "/readyz", timeout=2).status == 200
    except OSError:
        return False


def restart(component):
    """Starts the component (deploy/local.sh) and returns the monotonic time
    it answered again: its dependants are measured from there."""
    box = {}

    def start():
        try:
            local_sh("start", component)
        except BaseException as e:  # noqa: BLE001 - reported below
            box["exc"] = e

    t = threading.Thread(target=start, daemon=True)
    t.start()
    back = poll(lambda: ("exc" in box and "failed") or (_answers(component) and time.monotonic()),
                BACK_S, f"{component} answers again after its start", interval=0.02)
    t.join(BACK_S)
    assert "exc" not in box, box.get("exc")
    assert back != "failed"
    return back


def ready_times(since):
    """Seconds from `since` until each service answered /readyz 200 (each
    polled every 20 ms for up to BACK_S s)."""
    out, left = {}, set(SERVICES)
    deadline = since + BACK_S
    while left and time.monotonic() < deadline:
        for svc in sorted(left):
            if _ready(svc):
                out[svc] = round(time.monotonic() - since, 2)
                left.discard(svc)
        time.sleep(0.02)
    for svc in left:
        out[svc] = None
    return out


# ---------------------------------------------------------------- the load


class Load:
    """A thread writing through the gateway (departments, users, projects in
    turn) that remembers every acknowledged write: (kind, id, what it sent)."""

    def __init__(self):
        self.admin = admin_token()
        dept = make_department()["id"]
        self.applicant = make_user(("applicant",), dept=dept)
        self.dept = dept
        self.acked = []
        self.refused = collections.Counter()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _one(self, kind):
        s = sfx()
        if kind == "department":
            body = {"code": "F" + s.upper(), "name": f"故障部门{s}", "kind": "department"}
            return body, http("POST", "/departments", body, token=self.admin, timeout=20)
        if kind == "user":
            body = {"username": "ft" + s, "display_name": f"故障用户 {s}", "employee_id": "F" + s,
                    "department_id": self.dept, "roles": ["applicant"], "password": new_password()}
            return body, http("POST", "/users", body, token=self.admin, timeout=20)
        body = {"title": "故障项目 " + s, "kind": "upgrade", "summary": "写于故障之中",
                "budget_cents": 100000, "serves_external_units": False}
        return body, http("POST", "/projects", body, token=self.applicant["token"], timeout=20)

    def _run(self):
        kinds = ("department", "user", "project")
        i = 0
        while not self.stop.is_set():
            kind = kinds[i % 3]
            i += 1
            try:
                body, r = self._one(kind)
            except Exception as e:  # noqa: BLE001 - a write that was not acknowledged
                with self.lock:
                    self.refused[f"{kind}: {type(e).__name__}"] += 1
                time.sleep(0.05)
                continue
            with self.lock:
                if r.status == 201 and isinstance(r.body, dict) and isinstance(r.body.get("id"), int):
                    self.acked.append((kind, r.body["id"], body, time.monotonic()))
                else:
                    self.refused[f"{kind}: {r.status}"] += 1
            if r.status != 201:
                time.sleep(0.05)
            elif kind == "project":
                self._submit(r.body["id"])

    def _submit(self, pid):
        """Submits a project: the approvals service opens its case from the event."""
        try:
            r = http("POST", f"/projects/{pid}/submit", token=self.applicant["token"], timeout=20)
        except Exception as e:  # noqa: BLE001 - not acknowledged
            with self.lock:
                self.refused[f"submit: {type(e).__name__}"] += 1
            return
        with self.lock:
            if r.status == 200:
                self.acked.append(("submit", pid, {}, time.monotonic()))
            else:
                self.refused[f"submit: {r.status}"] += 1

    def acked_since(self, t, kind):
        with self.lock:
            return sum(1 for k, _, _, at in self.acked if k == kind and at > t)

    def first_acked_since(self, t, kind):
        with self.lock:
            return min(at for k, _, _, at in self.acked if k == kind and at > t)

    def close(self):
        self.stop.set()
        self.thread.join(30)
        assert not self.thread.is_alive(), "the load thread does not stop"


_load = {}
_report = {}


def load():
    if "load" not in _load:
        _load["load"] = Load()
        _load["sessions"] = [make_user() for _ in range(2)]  # made before any fault
    return _load["load"]


def _fault(component):
    ld = load()
    poll(lambda: all(ld.acked_since(0, k) for k in ("department", "user", "project")), BACK_S,
         "the load writes before the fault")
    crash(component)
    time.sleep(1.0)  # the load meets the hole meanwhile
    back = restart(component)
    times = ready_times(back)
    _report[component] = times
    print(f"    {component} killed: /readyz 200 after its return (s): "
          + ", ".join(f"{s} {t}" for s, t in times.items()), flush=True)
    slow = {s: t for s, t in times.items() if t is None or t > READY_BOUND_S}
    assert not slow, f"after {component} returned, not ready within {READY_BOUND_S} s: {slow}"
    resumed = {}
    for kind in ("department", "user", "project"):
        poll(lambda k=kind: ld.acked_since(back, k) >= 2, BACK_S,
             f"{kind} writes acknowledged again after {component} returned")
        resumed[kind] = round(ld.first_acked_since(back, kind) - back, 2)
    print(f"    {component} killed: first acknowledged write after its return (s): "
          + ", ".join(f"{k} {t}" for k, t in resumed.items()), flush=True)


# ---------------------------------------------------------------- Redis alone


def _key_of(token):
    import hashlib
    return "itgov:sess:" + hashlib.sha256(token.encode()).hexdigest()


def test_sessions_survive_a_redis_crash():
    old = make_user()
    ended = make_user()
    expect(http("DELETE", "/sessions/current", token=ended["token"]), 204)
    time.sleep(0.5)
    fresh = make_user()  # 1.5 s before the crash: appendfsync everysec has written it
    time.sleep(1.5)
    crash("redis")
    problem(http("GET", "/me", token=old["token"]), 503, "unavailable")
    back = restart("redis")
    poll(lambda: http("GET", "/me", token=old["token"]).status == 200, READY_BOUND_S,
         "a session made before the crash works again")
    print(f"    GET /me 200 again {time.monotonic() - back:.2f} s after Redis returned", flush=True)
    for u in (old, fresh):
        me = expect(http("GET", "/me", token=u["token"]), 200)
        assert me["id"] == u["id"], me
        # through another service too (they read the same record)
        expect(http("GET", "/projects", token=u["token"]), 200)
    problem(http("GET", "/me", token=ended["token"]), 401, "unauthorized")
    # the replay of the append-only file went through: Redis logs a refused
    # MULTI/EXEC (ACL rules) at start-up and starts anyway, without the data
    with open(_state("redis.log"), errors="replace") as f:
        bad = [line for line in f if "AOF-loading-client" in line or "NOPERM" in line]
    assert not bad, f"Redis refused part of its append-only file: {bad[-1][:300]}"
    # logout still ends a session that came back
    expect(http("DELETE", "/sessions/current", token=fresh["token"]), 204)
    problem(http("GET", "/me", token=fresh["token"]), 401, "unauthorized")
    expect(http("GET", "/me", token=old["token"]), 200)


# ---------------------------------------------------------------- the fault suite


def test_kill_accounts_under_load():
    _fault("accounts")


def test_kill_projects_under_load():
    _fault("projects")


def test_kill_approvals_under_load():
    _fault("approvals")


def test_kill_audit_under_load():
    _fault("audit")


def test_kill_broker_under_load():
    _fault("broker")


def test_kill_redis_under_load():
    _fault("redis")


def test_kill_postgres_under_load():
    _fault("postgres")


def _read_back(kind, wid, body, tokens):
    if kind == "department":
        got = expect(http("GET", f"/departments/{wid}", token=tokens["admin"]), 200)
        return got["code"] == body["code"] and got["name"] == body["name"]
    if kind == "user":
        got = expect(http("GET", f"/users/{wid}", token=tokens["admin"]), 200)
        return got["username"] == body["username"] and got["employee_id"] == body["employee_id"]
    got = expect(http("GET", f"/projects/{wid}", token=tokens["applicant"]), 200)
    return got["title"] == body["title"]


def test_after_the_faults_nothing_acknowledged_is_lost_and_the_log_holds_each_change_once():
    ld = load()
    ld.close()
    acked = list(ld.acked)
    print(f"    {len(acked)} acknowledged writes; not acknowledged: {dict(ld.refused)}", flush=True)
    assert len(acked) >= 30, f"only {len(acked)} acknowledged writes: the load hardly ran"
    # every existing session still works, the load's own too
    for u in _load["sessions"] + [ld.applicant]:
        expect(http("GET", "/me", token=u["token"]), 200)
    expect(http("GET", "/me", token=ld.admin), 200)
    # every acknowledged write reads back as it was written
    tokens = {"admin": ld.admin, "applicant": ld.applicant["token"]}
    wrong = [(k, i) for k, i, b, _ in acked if k != "submit" and not _read_back(k, i, b, tokens)]
    assert not wrong, f"acknowledged writes that read back differently: {wrong[:10]}"
    # each change is in the audit log exactly once (and the outboxes are all there)
    check_log_matches_outboxes(CATCH_UP_S)
    types = {"department": ("itgov.account.department.created", "departments/"),
             "user": ("itgov.account.user.created", "users/"),
             "project": ("itgov.project.created", "projects/")}
    for kind, (etype, prefix) in types.items():
        ids = [str(i) for k, i, _, _ in acked if k == kind]
        if not ids:
            continue
        rows = psql(
            f"SELECT w.id, count(e.seq) FROM unnest('{{{','.join(ids)}}}'::bigint[]) AS w(id) "
            f"LEFT JOIN audit.entries e ON e.type = '{etype}' AND e.subject = '{prefix}' || w.id "
            "GROUP BY w.id HAVING count(e.seq) <> 1").split()
        assert not rows, f"{kind}s not in the audit log exactly once (id|count): {rows[:10]}"
    # each acknowledged submission opened exactly one case (the approvals
    # service consumed project.submitted once, whatever was killed meanwhile)
    submitted = [str(i) for k, i, _, _ in acked if k == "submit"]
    assert submitted, "no submission was acknowledged"

    def cases_not_one():
        return psql(
            f"SELECT w.id, count(c.id) FROM unnest('{{{','.join(submitted)}}}'::bigint[]) AS w(id) "
            "LEFT JOIN approvals.cases c ON c.subject = 'projects/' || w.id "
            "GROUP BY w.id HAVING count(c.id) <> 1").split()
    poll(lambda: not cases_not_one(), CATCH_UP_S,
         f"one case per submitted project (id|cases: {cases_not_one()[:10]})")
    got = verify()
    assert got.get("ok") is True, f"/audit/verify after the faults: {got}"
    print("    readiness after each return (s): "
          + "; ".join(f"{c}: " + ", ".join(f"{s} {t}" for s, t in ts.items()) for c, ts in _report.items()),
          flush=True)

