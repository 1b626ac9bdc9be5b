"""Systems in operation (issue 11 part F): spot checks (article 14), backups,
storage media and their chain of custody, the stale-backup list (article
17). Every refusal the issue names: wrong role, wrong state, a custody
transfer of unknown media, bad filters named, storage_media without
media_id; the stale list's three reasons; the chain's order, that it never
forks under concurrent transfers, and that the database refuses to change
or remove a link even to the projects role itself."""
import datetime
import shlex
import subprocess
import threading

from client import Subscriber, admin_token, cfg, expect, http, problem, sfx, validation
from projects_flow import create_project, in_operation_project, invalid_state, tok, users

ORDER = 60
MISSING = 999999999

_cache = {}


def _iso(days_ago=0, hours_ago=0):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_ago, hours=hours_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def live_project():
    """One project in operation shared by the tests that need no fresh one."""
    if "live" not in _cache:
        _cache["live"] = in_operation_project()
    return _cache["live"]


def _tok(role):
    return admin_token() if role == "admin" else tok(role)


def _all(path, role, limit=200):
    """Every item of a list, following next_cursor (path may hold a query)."""
    items, cursor = [], None
    for _ in range(1000):
        sep = "&" if "?" in path else "?"
        url = f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        b = expect(http("GET", url, token=_tok(role)), 200)
        assert set(b) == {"items", "next_cursor"}, b
        items += b["items"]
        cursor = b["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError(f"{path}: too many pages")


# ---------------------------------------------------------------- media


def medium_body(**kw):
    b = {"label": "备份磁带 " + sfx(), "kind": "tape", "custodian_id": users()["it"]["id"],
         "location": "信息中心机房 A-3 保险柜"}
    b.update(kw)
    return b


def register(**kw):
    r = http("POST", "/media", medium_body(**kw), token=tok("it"))
    m = expect(r, 201)
    assert r.header("Location") == f"/api/v1/media/{m['id']}", r
    assert r.header("ETag") == '"1"', r
    return m


def transfer(mid, to, at=None, reason="移交保管", role="it"):
    return http("POST", f"/media/{mid}/transfers",
                {"to_custodian_id": to, "at": at or _iso(), "reason": reason}, token=tok(role))


def test_media_register_and_the_chain_oldest_first():
    u = users()
    a, b, c = u["it"]["id"], u["auditor"]["id"], u["secretary"]["id"]
    with Subscriber("") as sub:
        sub.ready()
        m = register(custodian_id=a)
        mid = m["id"]
        assert m["custody"] == [] and m["custodian_id"] == a and m["kind"] == "tape"
        for k in ("id", "label", "kind", "custodian_id", "location"):
            assert k in m, k
        r = transfer(mid, b, at=_iso(days_ago=2), reason="调往异地库")
        m1 = expect(r, 201)
        assert r.header("Location") == f"/api/v1/media/{mid}" and r.header("ETag") == '"2"', r
        assert m1["custodian_id"] == b and len(m1["custody"]) == 1
        m2 = expect(transfer(mid, c, at=_iso(days_ago=1), reason="年度盘点"), 201)
        assert m2["custodian_id"] == c
        got = expect(http("GET", f"/media/{mid}", token=tok("auditor")), 200)
        chain = [(x["from_custodian_id"], x["to_custodian_id"], x["reason"]) for x in got["custody"]]
        assert chain == [(a, b, "调往异地库"), (b, c, "年度盘点")], chain
        assert got["custody"][0]["at"] == m1["custody"][0]["at"]
        assert got["custodian_id"] == c and got["label"] == m["label"] and got["location"] == m["location"]
        subj = f"media/{mid}"
        sub.wait(lambda e: e.get("type") == "itgov.media.registered" and e.get("subject") == subj,
                 what="itgov.media.registered")
        evs = sub.wait(lambda e: e.get("type") == "itgov.media.transferred" and e.get("subject") == subj,
                       count=2, what="itgov.media.transferred")
        assert sorted(e["data"]["transfer"]["to_custodian_id"] for e in evs) == sorted([b, c])
    r = http("GET", f"/media/{mid}", token=tok("it"), headers={"If-None-Match": '"3"'})
    assert r.status == 304, r
    listed = [x["id"] for x in _all(f"/media?custodian_id={c}", "admin")]
    assert mid in listed
    assert all(x["custodian_id"] == c for x in _all(f"/media?custodian_id={c}", "it"))


def test_media_refusals_roles_unknown_media_same_custodian_and_fields():
    u = users()
    body = medium_body()
    for role in ("applicant", "auditor", "secretary", "expert"):
        problem(http("POST", "/media", body, token=tok(role)), 403, "forbidden")
    problem(http("POST", "/media", body), 401, "unauthorized")
    validation(http("POST", "/media", {"label": "", "kind": 3, "custodian_id": 0, "extra": 1},
                    token=tok("it")), "label", "kind", "custodian_id", "location", "extra")
    m = register()
    mid = m["id"]
    # a custody transfer of unknown media: 404, before the body is looked at
    problem(transfer(MISSING, u["auditor"]["id"]), 404, "not_found")
    problem(http("POST", f"/media/{MISSING}/transfers", {"bogus": True}, token=tok("it")), 404, "not_found")
    problem(http("GET", f"/media/{MISSING}", token=tok("it")), 404, "not_found")
    for role in ("applicant", "auditor", "secretary"):
        problem(transfer(mid, u["auditor"]["id"], role=role), 403, "forbidden")
    for role in ("applicant", "secretary", "expert"):
        problem(http("GET", f"/media/{mid}", token=tok(role)), 403, "forbidden")
        problem(http("GET", "/media", token=tok(role)), 403, "forbidden")
    validation(http("POST", f"/media/{mid}/transfers", {"to_custodian_id": "x", "at": "yesterday"},
                    token=tok("it")), "to_custodian_id", "at", "reason")
    # to the custodian who holds it already: 409 conflict naming the custodian
    b = problem(transfer(mid, m["custodian_id"]), 409, "conflict")
    assert b.get("custodian_id") == m["custodian_id"], b
    expect(transfer(mid, u["auditor"]["id"], at=_iso(hours_ago=1)), 201)
    b = problem(transfer(mid, u["auditor"]["id"]), 409, "conflict")
    assert b.get("custodian_id") == u["auditor"]["id"], b
    # earlier than the chain's last link: 422 naming at
    b = problem(transfer(mid, u["secretary"]["id"], at=_iso(days_ago=3)), 422, "unprocessable")
    assert {e["field"] for e in b.get("errors") or []} == {"at"}, b
    got = expect(http("GET", f"/media/{mid}", token=tok("it")), 200)
    assert len(got["custody"]) == 1 and got["custodian_id"] == u["auditor"]["id"], got
    validation(http("GET", "/media?custodian_id=abc", token=tok("it")), "custodian_id")


def _psql_fails(sql):
    p = subprocess.run(f"{cfg('ITGOV_TEST_PSQL')} -X -q -At -v ON_ERROR_STOP=1 -c {shlex.quote(sql)}",
                       shell=True, capture_output=True, text=True, timeout=60)
    assert p.returncode != 0, f"psql accepted: {sql}"
    return p.stderr


def test_the_chain_of_custody_is_append_only_in_the_database():
    u = users()
    m = register()
    expect(transfer(m["id"], u["auditor"]["id"]), 201)
    where = f"WHERE media_id = {m['id']}"
    for stmt in (f"UPDATE projects.media_custody SET reason = 'forged' {where}",
                 f"UPDATE projects.media_custody SET to_custodian_id = 1 {where}",
                 f"DELETE FROM projects.media_custody {where}",
                 "TRUNCATE projects.media_custody"):
        out = _psql_fails(f"SET ROLE projects; {stmt}")
        assert "append-only" in out, f"{stmt}: {out}"
    got = expect(http("GET", f"/media/{m['id']}", token=tok("it")), 200)
    assert [x["reason"] for x in got["custody"]] == ["移交保管"], got
    out = _psql_fails(f"SET ROLE projects; DELETE FROM projects.media WHERE id = {m['id']}")
    assert "never deleted" in out, out


def _parallel(fns):
    out = [None] * len(fns)

    def run(i):
        out[i] = fns[i]()
    ts = [threading.Thread(target=run, args=(i,)) for i in range(len(fns))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    return out


def test_concurrent_transfers_never_fork_the_chain():
    u = users()
    start = u["it"]["id"]
    m = register(custodian_id=start)
    targets = [start + 100000 + i for i in range(12)]  # custodians by id; none holds it now
    at = _iso()
    rs = _parallel([lambda t=t: transfer(m["id"], t, at=at) for t in targets])
    assert all(r.status == 201 for r in rs), [str(r) for r in rs if r.status != 201]
    got = expect(http("GET", f"/media/{m['id']}", token=tok("it")), 200)
    chain = got["custody"]
    assert len(chain) == len(targets), chain
    assert chain[0]["from_custodian_id"] == start
    for prev, nxt in zip(chain, chain[1:]):
        assert nxt["from_custodian_id"] == prev["to_custodian_id"], chain
    assert chain[-1]["to_custodian_id"] == got["custodian_id"]
    assert sorted(x["to_custodian_id"] for x in chain) == sorted(targets)
    # many transfers to one custodian at once: exactly one, the rest 409
    one = start + 200000
    rs = _parallel([lambda: transfer(m["id"], one, at=at) for _ in range(8)])
    assert sorted(r.status for r in rs) == [201] + [409] * 7, [r.status for r in rs]
    got = expect(http("GET", f"/media/{m['id']}", token=tok("it")), 200)
    assert len(got["custody"]) == len(targets) + 1 and got["custodian_id"] == one


# ---------------------------------------------------------------- spot checks


def spot(pid, role="it", **kw):
    b = {"checked_at": _iso(hours_ago=2), "result": "pass", "findings": ""}
    b.update(kw)
    return http("POST", f"/projects/{pid}/spot-checks", b, token=tok(role))


def test_spot_checks_record_read_and_refuse():
    p = live_project()
    pid = p["id"]
    with Subscriber("") as sub:
        sub.ready()
        r = spot(pid)
        s = expect(r, 201)
        assert r.header("Location") == f"/api/v1/projects/{pid}/spot-checks", r
        assert s["project_id"] == pid and s["result"] == "pass" and s["checked_by"] == users()["it"]["id"]
        s2 = expect(spot(pid, result="issues_found", findings="日志未按规定保留六个月"), 201)
        assert s2["findings"] == "日志未按规定保留六个月"
        sub.wait(lambda e: e.get("type") == "itgov.project.spot_check.recorded"
                 and e.get("subject") == f"projects/{pid}" and e["data"]["id"] == s2["id"],
                 what="itgov.project.spot_check.recorded")
    # findings are required, and not blank, when issues were found
    validation(spot(pid, result="issues_found", findings=None), "findings")
    validation(spot(pid, result="issues_found", findings="  \n"), "findings")
    validation(spot(pid, checked_at="2026-02-30T00:00:00Z", result="fine"), "checked_at", "result")
    # wrong role, unknown project, wrong state
    for role in ("applicant", "auditor", "secretary", "expert"):
        problem(spot(pid, role=role), 403, "forbidden")
    problem(spot(MISSING), 404, "not_found")
    draft = create_project()
    invalid_state(spot(draft["id"]), "draft")
    # whoever sees the project reads its checks, oldest first
    mine = _all(f"/projects/{pid}/spot-checks", "applicant", limit=1)
    assert [x["id"] for x in mine][-2:] == [s["id"], s2["id"]], mine
    problem(http("GET", f"/projects/{pid}/spot-checks", token=tok("other")), 404, "not_found")


def test_spot_checks_across_projects_with_filters():
    p = live_project()
    pid = p["id"]
    old = expect(spot(pid, checked_at=_iso(days_ago=40), result="issues_found", findings="补丁未更新"), 201)
    new = expect(spot(pid, checked_at=_iso(hours_ago=1)), 201)
    def ids(q, role="auditor"):
        return [x["id"] for x in _all(f"/spot-checks?project_id={pid}{q}", role)]
    both = ids("")
    assert old["id"] in both and new["id"] in both
    assert old["id"] in ids("&result=issues_found") and new["id"] not in ids("&result=issues_found")
    assert new["id"] in ids("&result=pass", role="admin") and old["id"] not in ids("&result=pass")
    recent = ids(f"&from={_iso(days_ago=5)}", role="it")
    assert new["id"] in recent and old["id"] not in recent
    earlier = ids(f"&to={_iso(days_ago=30)}")
    assert old["id"] in earlier and new["id"] not in earlier
    assert ids(f"&from={_iso(days_ago=41)}&to={_iso(days_ago=39)}&result=issues_found") == [old["id"]]
    # bad filters, each named
    validation(http("GET", "/spot-checks?result=fine&from=yesterday&to=2026-13-01T00:00:00Z&project_id=x",
                    token=tok("it")), "result", "from", "to", "project_id")
    for role in ("applicant", "secretary", "expert"):
        problem(http("GET", "/spot-checks", token=tok(role)), 403, "forbidden")


# ---------------------------------------------------------------- backups


def backup_body(**kw):
    b = {"taken_at": _iso(hours_ago=3), "method": "disaster_recovery", "location": "异地灾备中心"}
    b.update(kw)
    return b


def backup(pid, role="applicant", **kw):
    return http("POST", f"/projects/{pid}/backups", backup_body(**kw), token=tok(role))


def test_backups_record_read_and_refuse():
    p = live_project()
    pid = p["id"]
    m = register()
    with Subscriber("") as sub:
        sub.ready()
        r = backup(pid)
        b1 = expect(r, 201)
        assert r.header("Location") == f"/api/v1/projects/{pid}/backups", r
        assert b1["method"] == "disaster_recovery" and b1["media_id"] is None and b1["restore_tested_at"] is None
        b2 = expect(backup(pid, role="it", method="storage_media", media_id=m["id"], location="A-3 保险柜",
                           restore_tested_at=_iso(hours_ago=1)), 201)
        assert b2["media_id"] == m["id"] and b2["restore_tested_at"] and b2["recorded_by"] == users()["it"]["id"]
        expect(backup(pid, role="applicant2"), 201)
        sub.wait(lambda e: e.get("type") == "itgov.backup.recorded" and e.get("subject") == f"projects/{pid}"
                 and e["data"]["id"] == b2["id"], what="itgov.backup.recorded")
    # storage_media without media_id, and a media_id no medium has: 400 naming media_id
    validation(backup(pid, method="storage_media"), "media_id")
    validation(backup(pid, method="storage_media", media_id=None), "media_id")
    validation(backup(pid, method="storage_media", media_id=MISSING), "media_id")
    validation(backup(pid, method="tape", taken_at="2026-11-31T00:00:00Z", location=""),
               "method", "taken_at", "location")
    # wrong role, another department's applicant, unknown project, wrong state
    for role in ("auditor", "secretary", "expert"):
        problem(backup(pid, role=role), 403, "forbidden")
    problem(backup(pid, role="other"), 404, "not_found")
    problem(backup(MISSING, role="it"), 404, "not_found")
    draft = create_project()
    invalid_state(backup(draft["id"]), "draft")
    invalid_state(backup(draft["id"], role="it"), "draft")
    listed = _all(f"/projects/{pid}/backups", "applicant", limit=2)
    assert [x["id"] for x in listed][:2] == [b1["id"], b2["id"]], listed
    problem(http("GET", f"/projects/{pid}/backups", token=tok("other")), 404, "not_found")


def _stale(days=None, role="it"):
    return {x["project_id"]: x for x in _all("/backups/stale" + (f"?days={days}" if days else ""), role)}


def test_stale_backups_name_each_reason():
    none = in_operation_project()
    old = in_operation_project()
    untested = in_operation_project()
    fine = in_operation_project()
    draft = create_project()
    expect(backup(old["id"], taken_at=_iso(days_ago=30), restore_tested_at=_iso(days_ago=29)), 201)
    expect(backup(untested["id"], taken_at=_iso(hours_ago=5)), 201)
    expect(backup(fine["id"], taken_at=_iso(days_ago=40)), 201)
    expect(backup(fine["id"], taken_at=_iso(hours_ago=2), restore_tested_at=_iso(hours_ago=1)), 201)

    s = _stale()  # default: 7 days
    assert s[none["id"]]["reason"] == "no_backup", s[none["id"]]
    assert s[none["id"]]["reasons"] == ["no_backup", "no_restore_test"], s[none["id"]]
    assert s[none["id"]]["last_backup_at"] is None and s[none["id"]]["restore_tested_at"] is None
    assert s[none["id"]]["title"] == none["title"]
    assert s[old["id"]]["reason"] == "too_old" and s[old["id"]]["reasons"] == ["too_old"], s[old["id"]]
    assert s[old["id"]]["last_backup_at"] and s[old["id"]]["restore_tested_at"]
    assert s[untested["id"]]["reason"] == "no_restore_test", s[untested["id"]]
    assert s[untested["id"]]["reasons"] == ["no_restore_test"] and s[untested["id"]]["last_backup_at"]
    assert fine["id"] not in s and draft["id"] not in s
    s60 = _stale(days=60, role="auditor")
    assert old["id"] not in s60 and none["id"] in s60 and untested["id"] in s60
    s1 = _stale(days=1, role="admin")
    assert old["id"] in s1 and fine["id"] not in s1
    for bad in ("0", "3651", "abc", "7.5"):
        validation(http("GET", f"/backups/stale?days={bad}", token=tok("it")), "days")
    for role in ("applicant", "secretary", "expert"):
        problem(http("GET", "/backups/stale", token=tok(role)), 403, "forbidden")
