"""System keys (issue 14 A, articles 15-17): the keys a governed system acts with,
in the audit service.

Issued by the IT office with scopes (metrics, log_digests, config), many live per
project, shown once (client.py registers each key and its SHA-256 as secrets the
moment it is issued, so every later answer is checked for them and
test_zz_secrets.py scans the whole run); listed without secrets, revoked ones too;
revoked one by one — a revoked key is 401 at once, a second revocation 409. A key
acts for its project and its scopes only: on the metrics route (the one route of
this branch a key calls) a key of another project or without the scope is 403, on
any other route it is 401 (never a session). Every refusal of the issue: 400 bad
scopes, 404 unknown project (before the body's 400), 403 roles, 409 suspended."""
import hashlib
import threading
import time

import client
from client import expect, http, poll, problem, validation
from projects_flow import (audit_knows, halted_project, issue_system_key, live_system, system_key,
                           tok, users)

ORDER = 66
_cache = {}


def project():
    if "p" not in _cache:
        _cache["p"] = live_system()
    return _cache["p"]


def other_project():
    if "q" not in _cache:
        _cache["q"] = live_system()
    return _cache["q"]


def keys_of(pid, role="it", query=""):
    token = client.admin_token() if role == "admin" else tok(role)
    return expect(http("GET", f"/projects/{pid}/system-keys{query}", token=token), 200)


def revoke(key_id, role="it"):
    return http("POST", f"/system-keys/{key_id}/revoke", token=tok(role))


def it_id():
    return users()["it"]["id"]


def events(pid, type_):
    b = expect(http("GET", f"/audit?subject=projects/{pid}&type_prefix={type_}&limit=200", token=tok("it")),
               200)
    return b["items"]


def event_of(pid, type_, key_id):
    return poll(lambda: next((e for e in events(pid, type_) if e["data"].get("key_id") == key_id), None), 10,
                f"{type_} of key {key_id}", interval=0.1)


def sample(pid):
    return {"project_id": pid, "date": time.strftime("%Y-%m-%d", time.gmtime()), "active_users": 3,
            "requests": 10, "availability_percent": 99.5, "incidents": 0}


def usage(pid, key):
    return http("POST", "/metrics/usage", sample(pid), token=key)


# ---- issuing ---------------------------------------------------------------------------


def test_a_key_is_issued_with_its_scopes_and_shown_once():
    p = project()
    r = issue_system_key(p["id"], ["config", "log_digests"])
    b = expect(r, 201)
    key = b["key"]
    assert key.startswith("itgk_") and len(key) == 48, b
    assert set(b) == {"key_id", "key", "project_id", "kind", "scopes", "issued_at", "issued_by", "revoked_at",
                      "revoked_by", "replaced_by"}, b
    assert b["project_id"] == p["id"] and b["kind"] == "system" and b["issued_by"] == it_id(), b
    assert b["scopes"] == ["log_digests", "config"], b  # canonical order
    assert b["revoked_at"] is None and b["revoked_by"] is None and b["replaced_by"] is None, b
    assert r.header("Location") == f"/api/v1/projects/{p['id']}/system-keys", r.headers
    # registered the moment it was shown: every later answer is checked for it and its hash
    assert client.SECRET_KINDS.get(key) == "system key"
    assert hashlib.sha256(key.encode()).hexdigest() in client.SECRETS
    listed = keys_of(p["id"])["items"]
    mine = [k for k in listed if k["key_id"] == b["key_id"]]
    assert len(mine) == 1 and "key" not in mine[0], listed
    assert mine[0] == {k: v for k, v in b.items() if k != "key"}, (mine, b)
    ev = event_of(p["id"], "itgov.system.key.issued", b["key_id"])
    assert ev["actor_id"] == it_id() and ev["data"]["scopes"] == ["log_digests", "config"], ev
    assert key not in str(ev) and hashlib.sha256(key.encode()).hexdigest() not in str(ev), ev


def test_many_live_keys_per_project_and_the_metrics_key_beside_them():
    p = project()
    a = system_key(None, p["id"], ["metrics"])
    b = system_key("it", p["id"], ["metrics", "log_digests", "config"])
    m = expect(http("POST", f"/projects/{p['id']}/metrics-key", token=tok("it")), 201)
    # all three live: each reports usage
    for _, key in (a, b):
        expect(usage(p["id"], key), 201)
    expect(usage(p["id"], m["key"]), 201)
    listed = {k["key_id"]: k for k in keys_of(p["id"], "auditor")["items"]}
    assert {a[0], b[0], m["key_id"]} <= set(listed), listed
    assert listed[m["key_id"]]["kind"] == "metrics" and listed[a[0]]["kind"] == "system", listed
    assert all(listed[i]["revoked_at"] is None for i in (a[0], b[0], m["key_id"])), listed
    # a new metrics key replaces the metrics key only
    m2 = expect(http("POST", f"/projects/{p['id']}/metrics-key", token=tok("it")), 201)
    assert m2["replaces"] == m["key_id"], m2
    problem(usage(p["id"], m["key"]), 401, "unauthorized")
    expect(usage(p["id"], a[1]), 201)
    listed = {k["key_id"]: k for k in keys_of(p["id"], "admin")["items"]}
    assert listed[m["key_id"]]["replaced_by"] == m2["key_id"] and listed[m["key_id"]]["revoked_at"], listed


def test_parallel_issues_all_land():
    p = project()
    out, lock = [], threading.Lock()

    def one():
        r = issue_system_key(p["id"], ["log_digests"])
        with lock:
            out.append(r)
    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = {expect(r, 201)["key_id"] for r in out}
    assert len(ids) == 6, out
    listed = {k["key_id"] for k in client.walk(f"/projects/{p['id']}/system-keys", tok("it"), limit=2)}
    assert ids <= listed, (ids, listed)


def test_bad_scopes_are_400_naming_the_field():
    p = project()
    for body, field in (({}, "scopes"), ({"scopes": []}, "scopes"), ({"scopes": "metrics"}, "scopes"),
                        ({"scopes": None}, "scopes"), ({"scopes": ["nope"]}, "scopes[0]"),
                        ({"scopes": ["metrics", "metrics"]}, "scopes[1]"),
                        ({"scopes": ["config", 1]}, "scopes[1]"), ({"scopes": ["METRICS"]}, "scopes[0]"),
                        ({"scopes": ["metrics"], "project_id": p["id"]}, "project_id")):
        b = validation(http("POST", f"/projects/{p['id']}/system-keys", body, token=tok("it")), field)
        assert field in client.fields_named(b), (body, b)
    b = validation(http("POST", f"/projects/{p['id']}/system-keys", {"scopes": ["x", "metrics", "x"]},
                        token=tok("it")), "scopes[0]", "scopes[2]")
    problem(http("POST", f"/projects/{p['id']}/system-keys", raw=b"{", token=tok("it")), 400, "invalid_json")
    problem(http("POST", f"/projects/{p['id']}/system-keys", [], token=tok("it")), 400)


def test_who_may_issue_list_and_revoke():
    p = project()
    kid, _ = system_key(None, p["id"], ["config"])
    for role in ("applicant", "auditor", "secretary", "expert"):
        problem(issue_system_key(p["id"], ["metrics"], role), 403, "forbidden")
        problem(revoke(kid, role), 403, "forbidden")
    for role in ("applicant", "secretary", "expert"):
        problem(http("GET", f"/projects/{p['id']}/system-keys", token=tok(role)), 403, "forbidden")
    problem(http("POST", f"/projects/{p['id']}/system-keys", {"scopes": ["metrics"]}, token=client.admin_token()),
            403, "forbidden")
    # unknown project: 404, before the body's 400
    problem(issue_system_key(999999999, ["metrics"]), 404, "not_found")
    problem(http("POST", "/projects/999999999/system-keys", {"scopes": []}, token=tok("it")), 404, "not_found")
    problem(http("GET", "/projects/999999999/system-keys", token=tok("it")), 404, "not_found")
    problem(revoke(999999999), 404, "not_found")
    validation(http("GET", f"/projects/{p['id']}/system-keys?limit=0", token=tok("it")), "limit")


# ---- a key acts for its project and its scopes only ------------------------------------


def test_a_key_for_another_project_is_403():
    p, q = project(), other_project()
    _, key = system_key(None, p["id"], ["metrics", "log_digests", "config"])
    problem(usage(q["id"], key), 403, "forbidden")
    expect(usage(p["id"], key), 201)


def test_a_key_without_the_scope_is_403():
    p = project()
    for scopes in (["log_digests"], ["config"], ["log_digests", "config"]):
        _, key = system_key(None, p["id"], scopes)
        problem(usage(p["id"], key), 403, "forbidden")


def test_a_key_is_no_session_anywhere_else():
    p = project()
    _, key = system_key(None, p["id"], ["metrics", "log_digests", "config"])
    for method, path in (("GET", "/me"), ("GET", "/me/tasks"), ("GET", f"/projects/{p['id']}/system-keys"),
                         ("POST", f"/projects/{p['id']}/system-keys"), ("GET", "/systems/findings"),
                         ("POST", "/system-keys/1/revoke"), ("GET", f"/projects/{p['id']}")):
        problem(http(method, path, {"scopes": ["metrics"]} if method == "POST" else None, token=key), 401,
                "unauthorized")


# ---- revoking --------------------------------------------------------------------------


def test_a_revoked_key_is_401_at_once_and_revoking_twice_is_409():
    p = project()
    kid, key = system_key(None, p["id"], ["metrics"])
    keep_id, keep = system_key(None, p["id"], ["metrics"])
    expect(usage(p["id"], key), 201)
    b = expect(revoke(kid), 200)
    assert b["key_id"] == kid and b["revoked_by"] == it_id() and b["revoked_at"], b
    client.check_instant(b["revoked_at"], "revoked_at")
    assert "key" not in b, b
    problem(usage(p["id"], key), 401, "unauthorized")
    expect(usage(p["id"], keep), 201)  # the other key of the project is untouched
    again = problem(revoke(kid), 409, "invalid_state")
    assert again["state"] == "revoked", again
    listed = {k["key_id"]: k for k in keys_of(p["id"])["items"]}
    assert listed[kid]["revoked_at"] == b["revoked_at"] and listed[keep_id]["revoked_at"] is None, listed
    ev = event_of(p["id"], "itgov.system.key.revoked", kid)
    assert ev["actor_id"] == it_id() and ev["data"]["revoked_at"] == b["revoked_at"], ev
    assert key not in str(ev), ev


def test_parallel_revocations_one_wins():
    p = project()
    kid, _ = system_key(None, p["id"], ["config"])
    out, lock = [], threading.Lock()

    def one():
        r = revoke(kid)
        with lock:
            out.append(r.status)
    threads = [threading.Thread(target=one) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(out) == [200, 409, 409, 409, 409], out
    revoked = [e for e in events(p["id"], "itgov.system.key.revoked") if e["data"]["key_id"] == kid]
    assert len(revoked) <= 1, revoked


# ---- a halted project gets no key ----------------------------------------------------


def test_a_suspended_project_gets_no_key():
    s, _ = halted_project()
    audit_knows(s, "suspended")
    b = problem(issue_system_key(s["id"], ["log_digests"]), 409, "project_suspended")
    assert b["state"] == "suspended", b
    # its keys can still be listed
    assert keys_of(s["id"])["items"] == []
