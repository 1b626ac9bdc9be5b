"""Usage metrics (issue 12 D, article 23): the metrics key of a system in
operation and the daily usage samples, in the audit service.

The key: issued by the IT office, shown once (never readable again, in no
answer, event or log: client.py registers it and its SHA-256 as secrets the
moment it is issued, so every later answer is checked for them at once and
test_zz_secrets.py scans the whole run), valid for its project's samples
only (403 for another project), on no other route (401, as an unknown
token), a forged, altered or revoked key 401. The samples: one live per
project and day, a second one replacing it (both kept), eight parallel
posts of one day leaving exactly one live and none lost, every bad field
named, a project not in operation refused with invalid_state.

A project's state reaches audit through its events: the tests wait until
the audit log holds the project's newest state before using it."""
import base64
import hashlib
import secrets
import threading
import time

import client
from client import expect, http, make_department, make_user, poll, problem
from projects_flow import approved_project, in_operation_project, tok

ORDER = 64
_cache = {}


def today():
    return time.strftime("%Y-%m-%d", time.gmtime())


def day(offset):
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() + offset * 86400))


def audit_state(pid):
    """The project's state as audit knows it: its newest project event's."""
    b = expect(http("GET", f"/audit?subject=projects/{pid}&type_prefix=itgov.project.&limit=200",
                    token=tok("it")), 200)
    states = [e["data"]["state"] for e in b["items"]
              if isinstance(e.get("data"), dict) and e["data"].get("id") == pid
              and "state" in e["data"] and "department_id" in e["data"]]
    return states[-1] if states else None


def known_to_audit(p):
    poll(lambda: audit_state(p["id"]) == p["state"], 10, f"audit knowing project {p['id']} as {p['state']}",
         interval=0.1)
    return p


def live_project():
    """A project in operation that audit knows as such (made once)."""
    if "p" not in _cache:
        _cache["p"] = known_to_audit(in_operation_project())
    return _cache["p"]


def other_project():
    if "q" not in _cache:
        _cache["q"] = known_to_audit(in_operation_project())
    return _cache["q"]


def issue_key(pid, role="it"):
    return http("POST", f"/projects/{pid}/metrics-key", token=tok(role))


def new_key(pid):
    return expect(issue_key(pid), 201)


def sample(pid, **kw):
    b = {"project_id": pid, "date": today(), "active_users": 120, "requests": 45000,
         "availability_percent": 99.95, "incidents": 0}
    b.update(kw)
    return b


def post(body, token):
    return http("POST", "/metrics/usage", body, token=token)


def samples(pid, role="it", query=""):
    return expect(http("GET", f"/metrics/usage?project_id={pid}{query}", token=tok(role)), 200)


def metrics_events(pid, type_prefix="itgov.metrics."):
    b = expect(http("GET", f"/audit?subject=projects/{pid}&type_prefix={type_prefix}&limit=200",
                    token=tok("it")), 200)
    return b["items"]


def event_of(pid, type_, pred, what):
    return poll(lambda: next((e for e in metrics_events(pid, type_) if pred(e["data"])), None), 10, what,
                interval=0.1)


# ---- the key --------------------------------------------------------------------------


def test_a_key_is_issued_once_and_never_readable_again():
    p = live_project()
    k = new_key(p["id"])
    key = k["key"]
    assert key.startswith("itgk_") and len(key) == 48, k
    assert set(k) == {"key_id", "key", "project_id", "scopes", "issued_at", "issued_by", "replaces"}, k
    assert k["project_id"] == p["id"] and k["scopes"] == ["metrics"], k
    # registered the moment it was shown: every later answer is checked for it and its hash
    assert client.SECRET_KINDS.get(key) == "system key"
    assert hashlib.sha256(key.encode()).hexdigest() in client.SECRETS
    got = expect(http("GET", f"/projects/{p['id']}/metrics-key", token=tok("it")), 200)
    assert got["key_id"] == k["key_id"] and "key" not in got, got
    ev = event_of(p["id"], "itgov.metrics.key.issued", lambda d: d["key_id"] == k["key_id"], "key.issued event")
    assert ev["data"]["project_id"] == p["id"] and ev["actor_id"] == users_it_id(), ev
    assert "key" not in ev["data"] and key not in str(ev), ev
    _cache["key"] = k


def users_it_id():
    return expect(http("GET", "/me", token=tok("it")), 200)["id"]


def the_key():
    if "key" not in _cache:
        _cache["key"] = new_key(live_project()["id"])
    return _cache["key"]


def test_the_key_posts_its_projects_sample():
    p, k = live_project(), the_key()
    s = expect(post(sample(p["id"], active_users=7), k["key"]), 201)
    assert s["project_id"] == p["id"] and s["date"] == today() and s["active_users"] == 7, s
    assert s["recorded_by"] == f"key:{k['key_id']}" and s["replaced_by"] is None, s
    assert s["availability_percent"] == 99.95, s


def test_the_key_for_another_project_is_403():
    k, q = the_key(), other_project()
    problem(post(sample(q["id"]), k["key"]), 403, "forbidden")
    # before any other check of the body: a bad body for another project is still 403
    problem(post(sample(q["id"], active_users=-1, date="x"), k["key"]), 403, "forbidden")
    problem(post(sample(999999999), k["key"]), 403, "forbidden")


def test_the_key_is_no_session_anywhere_else():
    k, p = the_key(), live_project()
    for method, path in (("GET", "/me"), ("GET", "/projects"), ("GET", f"/projects/{p['id']}"),
                         ("GET", f"/metrics/usage?project_id={p['id']}"),
                         ("GET", f"/projects/{p['id']}/metrics-key"),
                         ("POST", f"/projects/{p['id']}/metrics-key"), ("GET", "/audit"),
                         ("GET", "/approvals"), ("GET", "/users")):
        problem(http(method, path, {} if method == "POST" else None, token=k["key"]), 401, "unauthorized")
    # the key still works where it is meant to
    expect(post(sample(p["id"]), k["key"]), 201)


def test_a_forged_or_altered_key_is_401():
    k, p = the_key(), live_project()
    key = k["key"]
    i = 10
    altered = key[:i] + ("A" if key[i] != "A" else "B") + key[i + 1:]
    forged = "itgk_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    for bad in (altered, forged, key[:-1], key + "A", key.upper(), "itgk_", "itgk_x",
                key.replace("itgk_", "itgx_")):
        problem(post(sample(p["id"]), bad), 401, "unauthorized")


def test_a_new_key_revokes_the_old_one():
    p = live_project()
    old = the_key()
    new = new_key(p["id"])
    assert new["replaces"] == old["key_id"] and new["key_id"] != old["key_id"], new
    problem(post(sample(p["id"]), old["key"]), 401, "unauthorized")
    s = expect(post(sample(p["id"]), new["key"]), 201)
    assert s["recorded_by"] == f"key:{new['key_id']}", s
    got = expect(http("GET", f"/projects/{p['id']}/metrics-key", token=tok("auditor")), 200)
    assert got["key_id"] == new["key_id"], got
    _cache["key"] = new


def test_who_may_issue_a_key_and_for_what():
    p = live_project()
    for role in ("applicant", "auditor", "secretary"):
        problem(issue_key(p["id"], role), 403, "forbidden")
    problem(issue_key(999999999), 404, "not_found")
    problem(http("GET", "/projects/999999999/metrics-key", token=tok("it")), 404, "not_found")


# ---- samples ---------------------------------------------------------------------------


def test_the_it_office_posts_a_sample():
    p = live_project()
    s = expect(post(sample(p["id"], active_users=33, requests=0, availability_percent=100,
                           incidents=2), tok("it")), 201)
    assert s["recorded_by"] == f"user:{users_it_id()}" and s["incidents"] == 2, s
    assert s["availability_percent"] == 100 and s["requests"] == 0, s
    got = expect(http("GET", f"/metrics/usage/{s['id']}", token=tok("auditor")), 200)
    assert got == {k: v for k, v in s.items() if k != "replaces"}, (got, s)
    for token in (tok("applicant"), tok("auditor"), tok("secretary"), client.admin_token()):
        problem(post(sample(p["id"]), token), 403, "forbidden")


def test_a_second_sample_of_the_day_replaces_the_first_and_both_stay():
    p = live_project()
    a = expect(post(sample(p["id"], active_users=1), tok("it")), 201)
    b = expect(post(sample(p["id"], active_users=2), tok("it")), 201)
    assert b["replaces"] == a["id"] and b["replaced_by"] is None, b
    old = expect(http("GET", f"/metrics/usage/{a['id']}", token=tok("it")), 200)
    assert old["replaced_by"] == b["id"] and old["active_users"] == 1, old
    live = samples(p["id"])["items"]
    assert [s["id"] for s in live if s["date"] == today()] == [b["id"]], live
    every = samples(p["id"], query="&include_replaced=true")["items"]
    ids = [s["id"] for s in every]
    assert a["id"] in ids and b["id"] in ids and ids.index(a["id"]) < ids.index(b["id"]), every
    ev = event_of(p["id"], "itgov.metrics.usage.replaced", lambda d: d["id"] == b["id"], ".replaced event")
    assert ev["data"]["replaced"]["id"] == a["id"] and ev["data"]["replaced"]["replaced_by"] == b["id"], ev
    assert ev["data"]["active_users"] == 2 and ev["type"] == "itgov.metrics.usage.replaced", ev
    first = samples(p["id"], query="&include_replaced=true&limit=1")["items"][0]
    event_of(p["id"], "itgov.metrics.usage.recorded", lambda d: d["id"] == first["id"], ".recorded event")


def test_eight_parallel_posts_of_one_day_leave_one_live_and_lose_none():
    p = live_project()
    token = tok("it")
    out = [None] * 8

    def one(i):
        try:
            out[i] = post(sample(p["id"], active_users=1000 + i), token)
        except Exception as e:  # noqa: BLE001 - reported below
            out[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = [r for r in out if isinstance(r, Exception)]
    assert not failed, failed
    made = [expect(r, 201) for r in out]
    ids = {s["id"] for s in made}
    assert len(ids) == 8, made
    every = {s["id"]: s for s in samples(p["id"], query=f"&include_replaced=true&from={today()}&to={today()}"
                                         "&limit=200")["items"]}
    assert ids <= set(every), (ids, sorted(every))
    live = [s for s in every.values() if s["replaced_by"] is None]
    assert len(live) == 1 and live[0]["id"] in ids, live
    # a chain: each of the eight but the live one replaced by another of them
    for i in ids - {live[0]["id"]}:
        assert every[i]["replaced_by"] in ids, every[i]
    replaces = [s["replaces"] for s in made]
    assert len(set(replaces)) == 8, replaces  # each replaced a different one: none lost


def test_every_bad_field_is_named():
    p = live_project()
    it = tok("it")
    r = post({"project_id": p["id"], "date": "2026-13-01", "active_users": -1, "requests": "many",
              "availability_percent": 100.5, "incidents": 1.5, "extra": 1}, it)
    fields = {e["field"] for e in problem(r, 400, "validation_failed")["errors"]}
    assert fields == {"date", "active_users", "requests", "availability_percent", "incidents", "extra"}, fields
    r = post({"project_id": p["id"]}, it)
    fields = {e["field"] for e in problem(r, 400, "validation_failed")["errors"]}
    assert fields == {"date", "active_users", "requests", "availability_percent", "incidents"}, fields
    for bad in (99.999, -0.01, "99", None, True):
        r = post(sample(p["id"], availability_percent=bad), it)
        assert [e["field"] for e in problem(r, 400, "validation_failed")["errors"]] == ["availability_percent"]
    # not after today (400); not before the day it went live (today, in this run): 422, after
    # the state's 409 (it depends on the project's history, not on the body alone)
    r = post(sample(p["id"], date=day(1)), it)
    assert [e["field"] for e in problem(r, 400, "validation_failed")["errors"]] == ["date"], r
    for d in (day(-1), "2020-01-01"):
        body = problem(post(sample(p["id"], date=d), it), 422, "before_go_live")
        assert body["went_live_on"] == today(), body
        problem(post(sample(p["id"], date=d, active_users=-1), it), 400, "validation_failed")
    for pid in (0, -3, "7", 1.5, None):
        r = post(sample(pid), it)
        assert "project_id" in {e["field"] for e in problem(r, 400, "validation_failed")["errors"]}, r
    problem(http("POST", "/metrics/usage", raw=b"{not json", token=it), 400, "invalid_json")
    problem(post([1], it), 400, "validation_failed")


def test_unknown_project_is_404_and_one_not_in_operation_is_409():
    it = tok("it")
    problem(post(sample(999999999), it), 404, "not_found")
    a = known_to_audit(approved_project())
    body = problem(post(sample(a["id"]), it), 409, "invalid_state")
    assert body["state"] == "approved", body
    body = problem(post(sample(a["id"], date="2020-01-01"), it), 409, "invalid_state")  # 409 before 422
    # a key may be issued before the go-live, but reports nothing until then
    k = new_key(a["id"])
    body = problem(post(sample(a["id"]), k["key"]), 409, "invalid_state")
    assert body["state"] == "approved", body


def test_who_reads_the_samples():
    p = live_project()
    for role in ("it", "auditor"):
        assert samples(p["id"], role)["items"], role
    admin = client.admin_token()
    expect(http("GET", f"/metrics/usage?project_id={p['id']}", token=admin), 200)
    # the project's department's applicant, yes; another department's, as an unknown project
    assert samples(p["id"], "applicant")["items"]
    other = make_user(("applicant",), dept=make_department()["id"])
    problem(http("GET", f"/metrics/usage?project_id={p['id']}", token=other["token"]), 404, "not_found")
    one = samples(p["id"])["items"][0]["id"]
    expect(http("GET", f"/metrics/usage/{one}", token=tok("applicant")), 200)
    problem(http("GET", f"/metrics/usage/{one}", token=other["token"]), 404, "not_found")
    problem(http("GET", f"/metrics/usage?project_id={p['id']}", token=tok("expert")), 403, "forbidden")
    problem(http("GET", f"/metrics/usage?project_id={p['id']}", token=tok("secretary")), 403, "forbidden")
    problem(http("GET", "/metrics/usage?project_id=999999999", token=tok("it")), 404, "not_found")
    fields = {e["field"] for e in problem(http("GET", "/metrics/usage?from=2026-02-30&include_replaced=yes",
                                               token=tok("it")), 400, "validation_failed")["errors"]}
    assert fields == {"project_id", "from", "include_replaced"}, fields


def test_the_list_pages_by_date():
    p = live_project()
    every = samples(p["id"], query="&include_replaced=true&limit=200")["items"]
    assert len(every) >= 3
    seen, cursor = [], None
    while True:
        q = "&include_replaced=true&limit=2" + (f"&cursor={cursor}" if cursor else "")
        b = samples(p["id"], query=q)
        seen += [s["id"] for s in b["items"]]
        cursor = b["next_cursor"]
        if not cursor:
            break
    assert seen == [s["id"] for s in every], (seen, every)
    assert [s["date"] for s in every] == sorted(s["date"] for s in every)
    assert samples(p["id"], query=f"&to={day(-1)}")["items"] == []


def test_the_secret_scan_would_find_a_leaked_key():
    """test_zz_secrets.py looks for every secret client.py registered: the
    key and its hash are, so a key in any answer, event or log line fails it."""
    import test_zz_secrets as scan
    key = the_key()["key"]
    digest = hashlib.sha256(key.encode()).hexdigest()
    known = scan.known_secrets()
    assert known.get(key) == "system key" and known.get(digest) == "system key hash"
    corpus = scan.Corpus()
    corpus.add('{"msg": "auth with ' + key + '"}', "a log line")
    corpus.add('{"data": {"h": "' + digest + '"}}', "an event")
    corpus.add('{"fine": true}', "a clean answer")
    got = sorted((k, w) for k, w, _ in corpus.findings({key: "system key", digest: "system key hash"}))
    assert got == [("system key", "a log line"), ("system key hash", "an event")], got
