"""Findings about the systems under watch (issue 14 A, articles 15-17, 22), in the
audit service: the silence rule (log_silent), the list and one finding, resolving
(with the rectification order a finding led to), the IT office's task.

The silence rule: a project with a live key holding log_digests that anchors no
digest for ITGOV_ANCHOR_SILENCE_H hours (default 26, fractions allowed) gets ONE
open log_silent finding, checked every ITGOV_SCAN_INTERVAL_S (1 s in the test
stack). The test stack keeps the default threshold, so no other test's system
falls silent while it runs (B's, C's, D's keys hold log_digests too); instead this
test makes its own key old: it moves that one key's issued_at back past the
threshold in the database (ITGOV_TEST_PSQL), which is exactly what a system silent
for that long looks like to the rule. When the stack runs with a threshold of 20 s
or less (ITGOV_ANCHOR_SILENCE_H), the test waits for it instead. A bad threshold
stops audit before it starts (the binary is run with one).

Every refusal: 401 (a system key is no session), 403 roles, 404 unknown finding
(before the body's 400), 400 every bad field and filter, 409 invalid_state on a
second resolution (before 422), 422 a rectification_id of another project or
unknown to the log."""
import hashlib
import os
import subprocess
import time

from client import admin_token, expect, http, poll, problem, psql, validation
from instance import binary
from projects_flow import (approved_project, audit_knows, halted_project, live_system, rectification, system_key,
                           tok, users)

ORDER = 67
WAIT = 15
SCAN_S = float(os.environ.get("ITGOV_SCAN_INTERVAL_S", "30"))
THRESHOLD_S = float(os.environ.get("ITGOV_ANCHOR_SILENCE_H", "26")) * 3600
_cache = {}


def it_id():
    return users()["it"]["id"]


def make_silent(key_id):
    """The key looks issued longer ago than the threshold (unless the stack's threshold
    is short enough to wait for)."""
    if THRESHOLD_S > 20:
        psql(f"UPDATE audit.system_keys SET issued_at = now() - make_interval(secs => {THRESHOLD_S + 120}) "
             f"WHERE id = {int(key_id)}")


def findings(query="", role="it"):
    return expect(http("GET", "/systems/findings" + query, token=tok(role)), 200)


def silent_findings(pid, status=None):
    q = f"?project_id={pid}&kind=log_silent" + (f"&status={status}" if status else "")
    return findings(q)["items"]


def wait_finding(pid):
    timeout = WAIT + (THRESHOLD_S if THRESHOLD_S <= 20 else 0)
    return poll(lambda: (silent_findings(pid) or [None])[0], timeout, f"a log_silent finding of project {pid}",
                interval=0.2)


def silent_system():
    """A system in operation, with a log_digests key, silent: its finding (made once)."""
    if "f" not in _cache:
        p = live_system()
        kid, _ = system_key(None, p["id"], ["log_digests", "config"])
        make_silent(kid)
        _cache["p"], _cache["kid"], _cache["f"] = p, kid, wait_finding(p["id"])
    return _cache["p"], _cache["f"]


def events(pid, type_):
    b = expect(http("GET", f"/audit?subject=projects/{pid}&type_prefix={type_}&limit=200", token=tok("it")),
               200)
    return b["items"]


def tasks(role="it", status="open"):
    items, cursor = [], None
    while True:
        q = f"?status={status}&limit=200" + (f"&cursor={cursor}" if cursor else "")
        b = expect(http("GET", "/me/tasks" + q, token=tok(role)), 200)
        items += b["items"]
        cursor = b["next_cursor"]
        if cursor is None:
            return items


def task_of(fid, role="it", status="open"):
    return next((t for t in tasks(role, status) if t["kind"] == "system_finding"
                 and t["subject"] == f"systems/findings/{fid}"), None)


def finding(f, role="it"):
    """The finding f as the list now has it."""
    items = findings(f"?project_id={f['project_id']}&kind={f['kind']}", role)["items"]
    return next(x for x in items if x["id"] == f["id"])


def resolve(fid, body, role="it"):
    return http("POST", f"/systems/findings/{fid}/resolve", body, token=tok(role))


# ---- silence ---------------------------------------------------------------------------


def test_a_silent_system_raises_one_log_silent_finding():
    p, f = silent_system()
    assert set(f) == {"id", "project_id", "kind", "detail", "raised_at", "evidence_seq", "status", "resolution",
                      "rectification_id", "resolved_at", "resolved_by"}, f
    assert f["project_id"] == p["id"] and f["kind"] == "log_silent" and f["status"] == "open", f
    assert f["resolution"] is None and f["resolved_at"] is None and f["rectification_id"] is None, f
    d = f["detail"]
    assert set(d) == {"silent_since", "last_digest_at", "threshold_hours"}, d
    assert d["last_digest_at"] is None and isinstance(d["silent_since"], str), d
    assert abs(d["threshold_hours"] * 3600 - THRESHOLD_S) < 1, d
    assert f["evidence_seq"] is None, f  # no digest anchored: nothing to point at
    # its event, raised by the rule (no actor)
    ev = poll(lambda: next((e for e in events(p["id"], "itgov.system.finding.raised")
                            if e["data"]["id"] == f["id"]), None), WAIT, "finding.raised", interval=0.1)
    assert ev["actor_id"] is None and ev["data"]["kind"] == "log_silent", ev
    assert ev["data"]["status"] == "open", ev
    # one while it is open, however many scans run
    time.sleep(max(2.5 * SCAN_S, 2.5) if SCAN_S <= 5 else 0)
    assert [x["id"] for x in silent_findings(p["id"])] == [f["id"]], silent_findings(p["id"])
    got = finding(f, "auditor")
    assert got == f, (got, f)


def test_no_silence_without_a_live_log_digests_key():
    # a metrics/config key only, and a log_digests key revoked: both old, neither silent
    p = live_system()
    k1, _ = system_key(None, p["id"], ["metrics", "config"])
    k2, _ = system_key(None, p["id"], ["log_digests"])
    expect(http("POST", f"/system-keys/{k2}/revoke", token=tok("it")), 200)
    make_silent(k1)
    make_silent(k2)
    silent_system()  # a silent one raised meanwhile: the scans ran
    time.sleep(max(2.5 * SCAN_S, 2.5) if SCAN_S <= 5 else 0)
    assert silent_findings(p["id"]) == [], silent_findings(p["id"])


def test_a_terminated_project_is_not_silent():
    p = audit_knows(approved_project())
    kid, _ = system_key(None, p["id"], ["log_digests"])
    t, _ = halted_project(p, "terminate")
    audit_knows(t, "terminated")
    if THRESHOLD_S <= 20:  # a short threshold may have passed before the termination
        return
    make_silent(kid)
    silent_system()
    time.sleep(max(2.5 * SCAN_S, 2.5) if SCAN_S <= 5 else 0)
    assert silent_findings(p["id"]) == [], silent_findings(p["id"])


def test_the_it_office_gets_a_task_for_the_finding():
    p, f = silent_system()
    t = poll(lambda: task_of(f["id"]), WAIT, "the IT office's system_finding task", interval=0.1)
    assert t["project_id"] == p["id"] and t["actions"] == ["resolve"], t
    assert "log_silent" in t["title"], t
    for role in ("applicant", "auditor", "secretary"):
        assert task_of(f["id"], role) is None, role


# ---- reading ---------------------------------------------------------------------------


def test_who_reads_findings_and_the_filters():
    p, f = silent_system()
    for role in ("it", "auditor"):
        assert f["id"] in [x["id"] for x in findings(f"?project_id={p['id']}", role)["items"]]
    expect(http("GET", "/systems/findings?limit=1", token=admin_token()), 200)
    for role in ("applicant", "secretary", "expert"):
        problem(http("GET", "/systems/findings", token=tok(role)), 403, "forbidden")
    problem(http("GET", "/systems/findings"), 401, "unauthorized")
    assert findings(f"?project_id={p['id']}&kind=log_chain_broken")["items"] == []
    assert findings(f"?project_id={p['id']}&status=open&kind=log_silent")["items"][0]["id"] == f["id"]
    validation(http("GET", "/systems/findings?kind=nope", token=tok("it")), "kind")
    validation(http("GET", "/systems/findings?status=closed", token=tok("it")), "status")
    validation(http("GET", "/systems/findings?project_id=0", token=tok("it")), "project_id")
    validation(http("GET", "/systems/findings?project_id=x&kind=y&status=z&limit=0", token=tok("it")),
               "project_id", "kind", "status", "limit")
    validation(http("GET", "/systems/findings?cursor=x", token=tok("it")), "cursor")


# ---- resolving -------------------------------------------------------------------------


def test_resolve_refusals_before_the_write():
    p, f = silent_system()
    for role in ("applicant", "auditor", "secretary"):
        problem(resolve(f["id"], {"resolution": "x"}, role), 403, "forbidden")
    problem(http("POST", f"/systems/findings/{f['id']}/resolve", {"resolution": "x"}), 401, "unauthorized")
    # unknown finding: 404, before the body's 400
    problem(resolve(999999999, {"resolution": "已核实"}), 404, "not_found")
    problem(resolve(999999999, {}), 404, "not_found")
    for body, fields in (({}, ("resolution",)), ({"resolution": ""}, ("resolution",)),
                         ({"resolution": "x" * 2001}, ("resolution",)), ({"resolution": 5}, ("resolution",)),
                         ({"resolution": "ok", "rectification_id": 0}, ("rectification_id",)),
                         ({"resolution": "ok", "rectification_id": "7"}, ("rectification_id",)),
                         ({"resolution": "ok", "rectification_id": 1.5}, ("rectification_id",)),
                         ({"resolution": "ok", "extra": 1}, ("extra",)),
                         ({"rectification_id": -1}, ("resolution", "rectification_id"))):
        validation(resolve(f["id"], body), *fields)
    problem(http("POST", f"/systems/findings/{f['id']}/resolve", raw=b"{", token=tok("it")), 400, "invalid_json")
    # a rectification unknown to the log, or of another project: 422
    problem(resolve(f["id"], {"resolution": "整改", "rectification_id": 999999999}), 422, "unprocessable")
    q = live_system()
    other = rectification(q["id"])
    wait_rectification_logged(other["id"])
    problem(resolve(f["id"], {"resolution": "整改", "rectification_id": other["id"]}), 422, "unprocessable")
    # nothing changed
    assert finding(f)["status"] == "open"


def wait_rectification_logged(rid):
    poll(lambda: expect(http("GET", f"/audit?subject=rectifications/{rid}&type_prefix=itgov.rectification.issued"
                                    "&limit=5", token=tok("it")), 200)["items"], WAIT,
         f"rectifications/{rid} in the audit log", interval=0.1)


def test_resolve_with_the_rectification_it_led_to_then_twice_is_409():
    p, f = silent_system()
    poll(lambda: task_of(f["id"]), WAIT, "the task", interval=0.1)
    x = rectification(p["id"], issue="受监管系统日志中断，需说明原因并恢复摘要上报")
    wait_rectification_logged(x["id"])
    b = expect(resolve(f["id"], {"resolution": "系统已恢复日志摘要上报", "rectification_id": x["id"]}), 200)
    assert b["id"] == f["id"] and b["status"] == "resolved" and b["rectification_id"] == x["id"], b
    assert b["resolution"] == "系统已恢复日志摘要上报" and b["resolved_by"] == it_id() and b["resolved_at"], b
    assert b["raised_at"] == f["raised_at"] and b["detail"] == f["detail"], (b, f)
    assert finding(f, "auditor") == b
    ev = poll(lambda: next((e for e in events(p["id"], "itgov.system.finding.resolved")
                            if e["data"]["id"] == f["id"]), None), WAIT, "finding.resolved", interval=0.1)
    assert ev["actor_id"] == it_id() and ev["data"] == b, ev
    # the task closes: done by the IT office user who resolved it
    poll(lambda: task_of(f["id"]) is None, WAIT, "the task closing", interval=0.1)
    done = poll(lambda: task_of(f["id"], status="done"), WAIT, "the task among the done ones", interval=0.1)
    assert done["done_at"], done
    # twice: 409 invalid_state, before 422 (a bad rectification) and without changing anything
    for body in ({"resolution": "again"}, {"resolution": "again", "rectification_id": 999999999}):
        e = problem(resolve(f["id"], body), 409, "invalid_state")
        assert e["state"] == "resolved", e
    assert finding(f) == b
    # resolved: silence counts again from the resolution, so no new finding at once
    time.sleep(max(2.5 * SCAN_S, 2.5) if SCAN_S <= 5 and THRESHOLD_S > 20 else 0)
    if THRESHOLD_S > 20:
        assert silent_findings(p["id"], "open") == [], silent_findings(p["id"])
    assert findings(f"?project_id={p['id']}&status=resolved")["items"][0]["id"] == f["id"]


def test_resolve_without_a_rectification():
    p = live_system()
    kid, _ = system_key(None, p["id"], ["log_digests"])
    make_silent(kid)
    f = wait_finding(p["id"])
    b = expect(resolve(f["id"], {"resolution": "系统已下线维护，已知悉", "rectification_id": None}), 200)
    assert b["status"] == "resolved" and b["rectification_id"] is None, b
    # newest first, paged (two findings at least by now)
    first = silent_system()[1]
    ids, cursor = [], None
    for _ in range(1000):
        page = findings("?kind=log_silent&limit=1" + (f"&cursor={cursor}" if cursor else ""), "auditor")
        assert len(page["items"]) <= 1, page
        ids += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert ids == sorted(ids, reverse=True) and {f["id"], first["id"]} <= set(ids), ids


# ---- the threshold -----------------------------------------------------------------------


def test_a_bad_threshold_stops_audit_before_it_starts():
    exe = binary("audit")
    assert os.access(exe, os.X_OK), exe
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITGOV_")}
    for bad in ("abc", "0", "-1", "1e3", "0.0001", "9000"):
        env["ITGOV_ANCHOR_SILENCE_H"] = bad
        r = subprocess.run([exe], env=env, capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and "ITGOV_ANCHOR_SILENCE_H" in r.stderr, (bad, r.returncode, r.stderr[-300:])


# ---- with log digests (issue 14 B): the chain finding, a digest resets the clock --------


def _digest(pid, key, log, previous, data):
    b = {"log_name": log, "segment": f"{log}.{os.urandom(3).hex()}", "first_entry_at": "2026-11-29T00:00:00Z",
         "last_entry_at": "2026-11-29T23:59:59Z", "entries": data.count(b"\n"),
         "sha256": hashlib.sha256(data).hexdigest(), "previous_sha256": previous}
    for _ in range(5):
        r = http("POST", f"/systems/{pid}/log-digests", b, token=key)
        if r.status != 503:  # anchoring slow: retried, as a client does
            break
        time.sleep(1)
    return expect(r, 201)


def test_a_broken_chain_is_listed_with_its_evidence_and_resolved():
    p = live_system()
    kid, key = system_key(None, p["id"], ["log_digests"])
    log = "access-" + os.urandom(4).hex() + ".log"
    s1, s2, s3 = (os.urandom(8).hex().encode() + b"\n" for _ in range(3))
    _digest(p["id"], key, log, None, s1)
    d3 = _digest(p["id"], key, log, hashlib.sha256(s2).hexdigest(), s3)  # s2 skipped
    f = poll(lambda: next(iter(findings(f"?project_id={p['id']}&kind=log_chain_broken")["items"]), None), WAIT,
             "the log_chain_broken finding", interval=0.1)
    assert f["status"] == "open" and f["detail"].get("log_name") == log, f
    # its evidence: the log entry of the digest that broke the chain
    f = poll(lambda: (lambda g: g if g["evidence_seq"] else None)(finding(f)), WAIT, "evidence_seq",
             interval=0.1)
    assert f["evidence_seq"] == d3["seq"], (f, d3)
    poll(lambda: task_of(f["id"]), WAIT, "the IT office's task", interval=0.1)
    b = expect(resolve(f["id"], {"resolution": "第二段日志系误删，已从备份恢复并重新核验"}), 200)
    assert b["status"] == "resolved" and b["evidence_seq"] == d3["seq"], b
    poll(lambda: task_of(f["id"]) is None, WAIT, "the task closing", interval=0.1)
    problem(resolve(f["id"], {"resolution": "again"}), 409, "invalid_state")


def test_a_digest_anchored_keeps_the_system_from_silence():
    p = live_system()
    kid, key = system_key(None, p["id"], ["log_digests"])
    d = _digest(p["id"], key, "app-" + os.urandom(4).hex() + ".log", None, b"one line\n")
    assert d["seq"] >= 1, d
    make_silent(kid)  # the key is old, its last digest is not
    silent_system()  # a silent one raised meanwhile: the scans ran
    time.sleep(max(2.5 * SCAN_S, 2.5) if SCAN_S <= 5 else 0)
    if THRESHOLD_S > 20:
        assert silent_findings(p["id"]) == [], silent_findings(p["id"])


# ---- with configuration fingerprints (issue 14 C) -----------------------------------------


def test_an_unauthorized_config_change_is_resolved_with_its_rectification():
    p = live_system()
    _, key = system_key(None, p["id"], ["config"])
    comp = "nginx-" + os.urandom(3).hex()

    def fp(text):
        b = {"component": comp, "sha256": hashlib.sha256(text.encode()).hexdigest(),
             "observed_at": "2026-11-30T08:00:00Z"}
        return expect(http("POST", f"/systems/{p['id']}/config-fingerprints", b, token=key), 201)
    assert fp("v1")["finding"] is None
    raised = fp("v2")["finding"]
    assert raised and raised["kind"] == "unauthorized_config_change", raised
    f = poll(lambda: next((x for x in findings(f"?project_id={p['id']}&kind=unauthorized_config_change&status=open")
                           ["items"] if x["id"] == raised["id"] and x["evidence_seq"]), None), WAIT,
             "the finding listed with its evidence", interval=0.1)
    poll(lambda: task_of(f["id"]), WAIT, "the IT office's task", interval=0.1)
    x = rectification(p["id"], issue="未经批准变更系统配置，需说明并恢复")
    wait_rectification_logged(x["id"])
    b = expect(resolve(f["id"], {"resolution": "已责令恢复配置并补办变更", "rectification_id": x["id"]}), 200)
    assert b["status"] == "resolved" and b["rectification_id"] == x["id"] and b["evidence_seq"] == f["evidence_seq"], b
    poll(lambda: task_of(f["id"]) is None, WAIT, "the task closing", interval=0.1)
    e = problem(resolve(f["id"], {"resolution": "again"}), 409, "invalid_state")
    assert e["state"] == "resolved", e
