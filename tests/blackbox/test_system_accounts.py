"""The system account register (issue 11, articles 18-19): the IT office
assigns back-end administration accounts, the owning department registers
the accounts it manages, on systems in operation; one holder per account
name at a time (also under parallel requests); revoked accounts stay in
the register; nothing like a credential is ever taken, logged or sent on.
Every refusal: the wrong role for the kind, the wrong state, a
password-like member, a name held twice, a revoke of a revoked account.
The access review (accounts service) then finds a live account held by a
disabled user, from the projects service's events."""
import threading

from client import (Subscriber, admin_token, expect, http, make_user, poll, problem, remember,
                    sfx, validation)
from projects_flow import create_project, in_operation_project, invalid_state, tok, users

ORDER = 63


_live = {}


def live_project():
    """One project in operation for the tests that need no fresh one."""
    if "p" not in _live:
        _live["p"] = in_operation_project()
    return _live["p"]


def holder():
    return make_user(("applicant",), login_now=False)


def account_body(kind="backend_admin", **kw):
    b = {"account_name": "sysadmin-" + sfx(), "holder_user_id": holder()["id"], "kind": kind,
         "privileges": "root on the application servers; database owner", "assigned_at": "2026-12-02T08:00:00Z"}
    b.update(kw)
    return b


def assign(pid, body, role):
    return http("POST", f"/projects/{pid}/system-accounts", body, token=tok(role))


def revoke(aid, role, **kw):
    b = {"reason": "离岗交接", "revoked_at": "2026-12-20T08:00:00Z"}
    b.update(kw)
    return http("POST", f"/system-accounts/{aid}/revoke", b, token=tok(role))


def register(pid, role="auditor", include_revoked=None):
    q = "" if include_revoked is None else f"?include_revoked={include_revoked}"
    b = expect(http("GET", f"/projects/{pid}/system-accounts{q}", token=tok(role)), 200)
    assert set(b) == {"items", "next_cursor"}, b
    return b["items"]


def test_assign_read_revoke_and_reassign():
    p = live_project()
    pid = p["id"]
    with Subscriber("") as sub:
        sub.ready()
        body = account_body("backend_admin")
        r = assign(pid, body, "it")
        admin_acc = expect(r, 201)
        assert r.header("Location") == f"/api/v1/system-accounts/{admin_acc['id']}", r
        for k in ("account_name", "holder_user_id", "kind", "privileges", "assigned_at"):
            assert admin_acc[k] == body[k], (k, admin_acc)
        assert admin_acc["project_id"] == pid and admin_acc["revoked"] is False and admin_acc["revoked_at"] is None
        assert admin_acc["assigned_by"] == users()["it"]["id"], admin_acc
        dept_acc = expect(assign(pid, account_body("department_managed"), "applicant"), 201)
        assert dept_acc["kind"] == "department_managed" and dept_acc["assigned_by"] == users()["applicant"]["id"]
        for acc in (admin_acc, dept_acc):
            sub.wait(lambda e, a=acc: e.get("type") == "itgov.project.system_account.assigned"
                     and e.get("subject") == f"projects/{pid}" and e["data"]["id"] == a["id"]
                     and e["data"]["holder_user_id"] == a["holder_user_id"]
                     and e["data"]["account_name"] == a["account_name"] and e["data"]["kind"] == a["kind"]
                     and e["data"]["project_id"] == pid, what="assigned")
        # whoever sees the project reads the register
        for role in ("applicant", "applicant2", "it", "auditor", "secretary"):
            ids = [a["id"] for a in register(pid, role)]
            assert admin_acc["id"] in ids and dept_acc["id"] in ids, (role, ids)
            assert expect(http("GET", f"/system-accounts/{dept_acc['id']}", token=tok(role)), 200) == dept_acc
        # revoked, kept in the register
        gone = expect(revoke(dept_acc["id"], "applicant2"), 200)
        assert gone["revoked"] is True and gone["revoked_at"] == "2026-12-20T08:00:00Z"
        assert gone["revoke_reason"] == "离岗交接" and gone["revoked_by"] == users()["applicant2"]["id"]
        assert {k: v for k, v in gone.items() if not k.startswith("revoke") and k != "updated_at"} == \
            {k: v for k, v in dept_acc.items() if not k.startswith("revoke") and k != "updated_at"}
        gone_admin = expect(revoke(admin_acc["id"], "it"), 200)
        for acc in (gone, gone_admin):
            sub.wait(lambda e, a=acc: e.get("type") == "itgov.project.system_account.revoked"
                     and e.get("subject") == f"projects/{pid}" and e["data"]["id"] == a["id"]
                     and e["data"]["revoked"] is True and e["data"]["project_id"] == pid, what="revoked")
    live = [a["id"] for a in register(pid)]
    assert admin_acc["id"] not in live and dept_acc["id"] not in live, live
    assert register(pid, include_revoked="false") == register(pid)
    every = {a["id"]: a for a in register(pid, include_revoked="true")}
    assert every[dept_acc["id"]] == expect(http("GET", f"/system-accounts/{dept_acc['id']}", token=tok("it")), 200)
    assert every[admin_acc["id"]]["revoked"] is True
    validation(http("GET", f"/projects/{pid}/system-accounts?include_revoked=yes", token=tok("it")),
               "include_revoked")
    # the name is free again: the next holder takes it
    again = expect(assign(pid, account_body("backend_admin", account_name=admin_acc["account_name"]), "it"), 201)
    assert again["id"] != admin_acc["id"]


def test_who_may_assign_and_revoke_which_kind():
    pid = live_project()["id"]
    # route roles
    for role in ("expert", "secretary", "auditor"):
        problem(assign(pid, account_body(), role), 403, "forbidden")
    # the kind decides: back-end administration is the IT office's, the department's its applicants'
    problem(assign(pid, account_body("backend_admin"), "applicant"), 403, "forbidden")
    problem(assign(pid, account_body("department_managed"), "it"), 403, "forbidden")
    # another department's applicant does not see the project
    problem(assign(pid, account_body("department_managed"), "other"), 404, "not_found")
    problem(assign(999999999, account_body(), "it"), 404, "not_found")
    # the kind's refusal comes before the body's
    problem(assign(pid, dict(account_body("backend_admin"), password="x", privileges=""), "applicant"),
            403, "forbidden")
    backend = expect(assign(pid, account_body("backend_admin"), "it"), 201)
    managed = expect(assign(pid, account_body("department_managed"), "applicant"), 201)
    problem(revoke(backend["id"], "applicant"), 403, "forbidden")
    problem(revoke(managed["id"], "other"), 404, "not_found")
    problem(http("GET", f"/system-accounts/{managed['id']}", token=tok("other")), 404, "not_found")
    problem(http("GET", f"/projects/{pid}/system-accounts", token=tok("other")), 404, "not_found")
    for role in ("expert", "secretary", "auditor"):
        problem(revoke(managed["id"], role), 403, "forbidden")
    problem(revoke(999999999, "it"), 404, "not_found")
    # the IT office may revoke a department's account too
    expect(revoke(managed["id"], "it"), 200)
    expect(revoke(backend["id"], "it"), 200)


def test_only_systems_in_operation():
    draft = create_project()
    invalid_state(assign(draft["id"], account_body("backend_admin"), "it"), "draft")
    invalid_state(assign(draft["id"], account_body("department_managed"), "applicant"), "draft")
    # the body is checked before the state
    validation(assign(draft["id"], account_body(privileges=""), "it"), "privileges")
    assert register(draft["id"], include_revoked="true") == []


def test_bad_bodies_and_credentials():
    pid = live_project()["id"]
    validation(assign(pid, {}, "it"), "account_name", "holder_user_id", "kind", "privileges", "assigned_at")
    validation(assign(pid, account_body(account_name="a" * 101, holder_user_id=0, kind="shared",
                                        privileges="p" * 2001, assigned_at="2026-12-02"), "it"),
               "account_name", "holder_user_id", "kind", "privileges", "assigned_at")
    validation(assign(pid, dict(account_body(), note="x"), "it"), "note")
    # anything like a credential: refused, named, never stored, logged or sent on
    secret = remember("Gov-Sys-" + sfx() + "-pw", "password")
    for name in ("password", "Password", "db_passwd", "client_secret", "credentials", "api_token",
                 "ssh_key", "privateKey"):
        r = assign(pid, dict(account_body(), **{name: secret}), "it")
        b = validation(r, name)
        assert any("credential" in e["message"] for e in b["errors"] if e["field"] == name), b
        assert secret not in r.text
        assert [e["field"] for e in b["errors"]] == [name], f"only the credential is named: {b}"
    b = validation(assign(pid, dict(account_body("department_managed"), extra={"root_password": secret}),
                          "applicant"), "extra.root_password")
    assert "extra" in {e["field"] for e in b["errors"]}, b
    acc = expect(assign(pid, account_body(), "it"), 201)
    validation(revoke(acc["id"], "it", password=secret), "password")
    validation(revoke(acc["id"], "it", reason="", revoked_at="soon"), "reason", "revoked_at")
    # revoked before it was assigned (assigned_at 2026-12-02T08:00:00Z)
    validation(revoke(acc["id"], "it", revoked_at="2026-12-02T07:59:59Z"), "revoked_at")
    validation(revoke(acc["id"], "it", revoked_at="2026-12-02T08:00:00+00:01"), "revoked_at")
    assert expect(http("GET", f"/system-accounts/{acc['id']}", token=tok("it")), 200)["revoked"] is False
    assert all(secret not in str(a) for a in register(pid, include_revoked="true"))


def test_one_holder_per_account_name():
    pid = live_project()["id"]
    name = "dba-" + sfx()
    first = expect(assign(pid, account_body(account_name=name), "it"), 201)
    b = problem(assign(pid, account_body(account_name=name), "it"), 409, "conflict")
    assert "account_name" in {e.get("field") for e in b.get("errors") or []}, b
    # also when the second is the department's (one name, one holder, whatever the kind)
    problem(assign(pid, account_body("department_managed", account_name=name), "applicant"), 409, "conflict")
    # another system may use the same name
    other = in_operation_project()
    expect(assign(other["id"], account_body(account_name=name), "it"), 201)
    # revoking a revoked account
    expect(revoke(first["id"], "it"), 200)
    invalid_state(revoke(first["id"], "it"), "revoked")
    invalid_state(revoke(first["id"], "it", reason="再次收回"), "revoked")


def test_one_holder_per_account_name_under_parallel_requests():
    pid = live_project()["id"]
    name = "ops-" + sfx()
    bodies = [account_body(account_name=name) for _ in range(8)]
    results = [None] * len(bodies)

    def go(i):
        results[i] = assign(pid, bodies[i], "it")

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    statuses = sorted(r.status for r in results)
    assert statuses == [201] + [409] * 7, statuses
    for r in results:
        if r.status == 409:
            problem(r, 409, "conflict")
    live = [a for a in register(pid) if a["account_name"] == name]
    assert len(live) == 1, live
    # parallel revokes: one succeeds, the others find it revoked
    aid = live[0]["id"]
    results = [None] * 6

    def rv(i):
        results[i] = revoke(aid, "it")

    threads = [threading.Thread(target=rv, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r.status for r in results) == [200] + [409] * 5, [r.status for r in results]
    for r in results:
        if r.status == 409:
            invalid_state(r, "revoked")


def test_a_disabled_holder_of_a_live_account_is_an_access_review_finding():
    pid = live_project()["id"]
    leaver = make_user(("applicant",), login_now=False)
    stayer = make_user(("applicant",), login_now=False)
    acc = expect(assign(pid, account_body(holder_user_id=leaver["id"]), "it"), 201)
    expect(assign(pid, account_body("department_managed", holder_user_id=stayer["id"]), "applicant"), 201)
    expect(http("POST", f"/users/{leaver['id']}/disable", token=admin_token()), 200)

    def kinds(user):
        b = expect(http("GET", "/access-reviews/findings", token=admin_token()), 200)
        return [f for f in b["items"] if f["user_id"] == user["id"]]

    got = poll(lambda: [f for f in kinds(leaver) if f["kind"] == "system_account_holder_disabled"] or None,
               15, "the disabled holder's finding")
    assert acc["account_name"] in got[0]["detail"] and str(pid) in got[0]["detail"], got
    assert kinds(stayer) == [], "an enabled holder is no finding"
    # revoked: no longer a finding
    expect(revoke(acc["id"], "it"), 200)
    poll(lambda: not any(f["kind"] == "system_account_holder_disabled" for f in kinds(leaver)), 15,
         "the finding gone once the account is revoked")
