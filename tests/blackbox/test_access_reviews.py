"""Access reviews (issue 11, articles 18-19): the findings of a review on
accounts this test prepares, one test per kind (the fifth,
system_account_holder_disabled, needs a system in operation: it is in
test_system_accounts.py); a certification recorded, kept and applied
(keep, disable with its sessions ended, change_roles), and every refusal
(roles, bad bodies, unknown users, the last admin); dormant accounts
disabled automatically.

Dormancy without waiting 90 days: a second accounts instance
(instance.py) with ITGOV_DORMANT_S=3 (the threshold in seconds, overriding
ITGOV_DORMANT_DAYS) finds a user created 3 s ago who never logged in. The
automatic disabling runs in another instance (ITGOV_DORMANT_AUTO_DISABLE=true)
with the default 90 days, on a user whose last login this test moves 100 days
back in the database: a threshold of seconds there would disable every other
user of the suite as well, since all instances share one database.

Shared accounts: the gateway gives the services the client's address
(X-Forwarded-For = $remote_addr); this test logs one user in from 127.0.0.1
and from 127.0.0.2 (both loopback) through the gateway."""
import http.client as httpclient
import json
import time
import urllib.parse

from client import (Subscriber, admin_id, admin_token, base, expect, http, login, make_department,
                    make_user, poll, problem, psql, remember, validation, walk)
from instance import instance

ORDER = 55


def it_office_department():
    return next(d["id"] for d in walk("/departments", admin_token()) if d["kind"] == "it_office")


def findings(token=None, url="/access-reviews/findings"):
    b = expect(http("GET", url, token=token or admin_token()), 200)
    assert isinstance(b, dict) and set(b) == {"items"}, b
    for f in b["items"]:
        assert set(f) == {"user_id", "username", "kind", "detail"}, f
        assert isinstance(f["detail"], str) and f["detail"], f
    return b["items"]


def kinds_of(items, user):
    return {f["kind"] for f in items if f["user_id"] == user["id"]}


def login_from(address, user):
    """Logs user in through the gateway from a local address of our choice."""
    u = urllib.parse.urlsplit(base())
    conn = httpclient.HTTPConnection(u.hostname, u.port, timeout=15, source_address=(address, 0))
    try:
        conn.request("POST", u.path + "/sessions",
                     json.dumps({"username": user["username"], "password": user["password"]}),
                     {"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
    finally:
        conn.close()
    assert r.status == 201, f"login from {address}: {r.status} {data[:300]!r}"
    return remember(json.loads(data)["token"], "session token")


def test_findings_only_admins_and_auditors():
    applicant = make_user(("applicant",))
    it = make_user(("it_office",), dept=it_office_department())
    auditor = make_user(("auditor",))
    for u in (applicant, it):
        problem(http("GET", "/access-reviews/findings", token=u["token"]), 403, "forbidden")
    problem(http("GET", "/access-reviews/findings"), 401)
    findings(auditor["token"])


def test_roles_outside_the_it_office_are_findings():
    ito = it_office_department()
    dept = make_department()["id"]
    admin_out = make_user(("admin",), dept=dept, login_now=False)
    it_out = make_user(("it_office", "applicant"), dept=dept, login_now=False)
    admin_in = make_user(("admin",), dept=ito, login_now=False)
    it_in = make_user(("it_office",), dept=ito, login_now=False)
    gone = make_user(("admin", "it_office"), dept=dept, login_now=False)
    expect(http("POST", f"/users/{gone['id']}/disable", token=admin_token()), 200)
    items = findings()
    assert kinds_of(items, admin_out) == {"admin_outside_it_office"}, items
    assert kinds_of(items, it_out) == {"it_office_role_outside_it_office"}, items
    assert kinds_of(items, admin_in) == set() and kinds_of(items, it_in) == set(), items
    assert kinds_of(items, gone) == set(), "a disabled user is not a finding of its roles"
    f = next(f for f in items if f["user_id"] == admin_out["id"])
    assert f["username"] == admin_out["username"], f
    # an admin moved to the IT office is no longer one
    expect(http("PATCH", f"/users/{admin_out['id']}", {"department_id": ito}, token=admin_token()), 200)
    assert kinds_of(findings(), admin_out) == set()


def test_live_sessions_from_two_addresses_are_a_shared_account():
    shared = make_user(login_now=False)
    single = make_user(login_now=False)
    login_from("127.0.0.1", shared)
    second = login_from("127.0.0.2", shared)
    login_from("127.0.0.1", single)
    login_from("127.0.0.1", single)
    # the address each session came from, as the gateway saw the client
    sessions = [s for s in walk("/sessions", admin_token(), limit=200) if s["user_id"] == shared["id"]]
    assert sorted(s["ip"] for s in sessions) == ["127.0.0.1", "127.0.0.2"], sessions
    items = findings()
    assert kinds_of(items, shared) == {"shared_account"}, items
    f = next(f for f in items if f["user_id"] == shared["id"])
    assert "127.0.0.1" in f["detail"] and "127.0.0.2" in f["detail"], f
    assert kinds_of(items, single) == set(), "two sessions from one address are not shared"
    # once the second address's session ends, the account is used from one place
    expect(http("DELETE", "/sessions/current", token=second), 204)
    assert kinds_of(findings(), shared) == set()


def test_dormancy_with_a_threshold_of_seconds():
    never = make_user(login_now=False)
    active = make_user(login_now=False)
    gone = make_user(login_now=False)
    expect(http("POST", f"/users/{gone['id']}/disable", token=admin_token()), 200)
    time.sleep(3.5)
    login(active["username"], active["password"])
    # the stack's threshold is 90 days: nobody here is dormant yet
    assert kinds_of(findings(), never) == set()
    with instance("accounts", "the accounts instance with ITGOV_DORMANT_S=3", "accounts-dormant.log",
                  env_changes={"ITGOV_DORMANT_S": "3"}) as i:
        items = findings(url=i.root + "/api/v1/access-reviews/findings")
        assert kinds_of(items, never) == {"dormant"}, [f for f in items if f["user_id"] == never["id"]]
        f = next(f for f in items if f["user_id"] == never["id"])
        assert "never logged in" in f["detail"], f
        assert "dormant" not in kinds_of(items, active), "a login 0 s ago is not dormant"
        assert kinds_of(items, gone) == set(), "a disabled user is not dormant"


def test_a_recorded_review_is_kept_and_applied():
    keep = make_user()
    drop = make_user()
    move = make_user(("applicant",))
    body = {"findings_reviewed": [{"user_id": drop["id"], "kind": "dormant", "username": drop["username"],
                                   "detail": "last login at 2026-01-01T00:00:00Z"},
                                  {"user_id": move["id"], "kind": "it_office_role_outside_it_office"}],
            "decisions": [{"user_id": keep["id"], "action": "keep"},
                          {"user_id": drop["id"], "action": "disable"},
                          {"user_id": move["id"], "action": "change_roles", "roles": ["auditor", "auditor"]}]}
    with Subscriber() as sub:
        sub.ready()
        r = http("POST", "/access-reviews", body, token=admin_token())
        rv = expect(r, 201)
        assert r.header("Location") == f"/api/v1/access-reviews/{rv['id']}", r
        assert rv["reviewer_id"] == admin_id(), rv
        assert rv["findings_reviewed"] == body["findings_reviewed"], rv
        assert rv["decisions"] == [{"user_id": keep["id"], "action": "keep"},
                                   {"user_id": drop["id"], "action": "disable"},
                                   {"user_id": move["id"], "action": "change_roles", "roles": ["auditor"]}], rv
        sub.wait(lambda e: e.get("type") == "itgov.account.access_review.recorded"
                 and e.get("subject") == f"access-reviews/{rv['id']}" and e["data"] == rv, what="review recorded")
        sub.wait(lambda e: e.get("type") == "itgov.account.user.disabled"
                 and e.get("subject") == f"users/{drop['id']}", what="user disabled")
        sub.wait(lambda e: e.get("type") == "itgov.account.session.ended"
                 and e["data"].get("user_id") == drop["id"] and e["data"].get("reason") == "user_disabled",
                 what="the disabled user's session ended")
        sub.wait(lambda e: e.get("type") == "itgov.account.user.updated"
                 and e.get("subject") == f"users/{move['id']}" and e["data"]["roles"] == ["auditor"],
                 what="roles changed")
        assert not sub.matching(lambda e: e.get("subject") == f"users/{keep['id']}"
                                and e.get("type") != "itgov.account.user.created"), "keep changed something"
    # applied: the disabled user's session is gone, the moved user's session has the new roles
    problem(http("GET", "/me", token=drop["token"]), 401)
    assert expect(http("GET", f"/users/{drop['id']}", token=admin_token()), 200)["disabled"] is True
    assert expect(http("GET", "/me", token=move["token"]), 200)["roles"] == ["auditor"]
    assert expect(http("GET", "/me", token=keep["token"]), 200)["disabled"] is False
    # kept: readable as recorded, by admins and auditors
    auditor = make_user(("auditor",))
    assert expect(http("GET", f"/access-reviews/{rv['id']}", token=auditor["token"]), 200) == rv
    assert rv in walk("/access-reviews", admin_token(), limit=200)
    problem(http("GET", f"/access-reviews/{rv['id']}", token=keep["token"]), 403)
    problem(http("GET", "/access-reviews/999999999", token=admin_token()), 404)
    # never changed: no route changes or deletes one
    for method in ("PUT", "PATCH", "DELETE"):
        assert http(method, f"/access-reviews/{rv['id']}", {}, token=admin_token()).status == 405
    # an empty certification (everything kept) is a record too
    expect(http("POST", "/access-reviews", {"findings_reviewed": [], "decisions": []}, token=admin_token()), 201)


def test_recording_refusals():
    auditor = make_user(("auditor",))
    someone = make_user(login_now=False)
    ok = {"findings_reviewed": [], "decisions": [{"user_id": someone["id"], "action": "keep"}]}
    problem(http("POST", "/access-reviews", ok, token=auditor["token"]), 403, "forbidden")
    problem(http("POST", "/access-reviews", ok), 401)
    before = len(walk("/access-reviews", admin_token(), limit=200))

    def post(body):
        return http("POST", "/access-reviews", body, token=admin_token())

    validation(post({}), "findings_reviewed", "decisions")
    validation(post({"findings_reviewed": {}, "decisions": "x"}), "findings_reviewed", "decisions")
    validation(post(dict(ok, extra=1)), "extra")
    validation(post({"findings_reviewed": [{"user_id": someone["id"], "kind": "bogus"}, 5], "decisions": []}),
               "findings_reviewed[0].kind", "findings_reviewed[1]")
    validation(post({"findings_reviewed": [], "decisions": [
        {"user_id": someone["id"], "action": "delete"},
        {"user_id": 0, "action": "keep"},
        {"user_id": someone["id"], "action": "change_roles"},
    ]}), "decisions[0].action", "decisions[1].user_id", "decisions[2].roles")
    validation(post({"findings_reviewed": [], "decisions": [
        {"user_id": someone["id"], "action": "keep", "roles": ["auditor"]}]}), "decisions[0].roles")
    validation(post({"findings_reviewed": [], "decisions": [
        {"user_id": someone["id"], "action": "change_roles", "roles": ["wizard"]}]}), "decisions[0].roles")
    validation(post({"findings_reviewed": [], "decisions": [
        {"user_id": someone["id"], "action": "change_roles", "roles": []}]}), "decisions[0].roles")
    validation(post({"findings_reviewed": [], "decisions": [
        {"user_id": someone["id"], "action": "keep"}, {"user_id": someone["id"], "action": "disable"}]}),
        "decisions[1].user_id")
    # a user that does not exist: named, and nothing of the review applied
    b = validation(post({"findings_reviewed": [], "decisions": [
        {"user_id": someone["id"], "action": "disable"}, {"user_id": 999999999, "action": "keep"}]}),
        "decisions[1].user_id")
    assert "decisions[0].user_id" not in {e["field"] for e in b["errors"]}, b
    assert expect(http("GET", f"/users/{someone['id']}", token=admin_token()), 200)["disabled"] is False
    # the last enabled admin: demoting every enabled admin at once is refused, nothing recorded
    admins = [u for u in walk("/users", admin_token(), limit=200) if "admin" in u["roles"] and not u["disabled"]]
    r = post({"findings_reviewed": [], "decisions": [
        {"user_id": u["id"], "action": "change_roles", "roles": ["auditor"]} for u in admins]})
    problem(r, 409, "last_admin")
    r = post({"findings_reviewed": [], "decisions": [{"user_id": u["id"], "action": "disable"} for u in admins]})
    problem(r, 409, "last_admin")
    assert "admin" in expect(http("GET", "/me", token=admin_token()), 200)["roles"]
    assert len(walk("/access-reviews", admin_token(), limit=200)) == before, "a refused review was recorded"


def test_dormant_accounts_are_disabled_automatically():
    dormant = make_user()
    fresh = make_user(login_now=False)
    # the last login 100 days back (the stack's threshold is the default 90 days)
    psql(f"UPDATE accounts.users SET last_login_at = now() - interval '100 days', "
         f"created_at = now() - interval '200 days' WHERE id = {dormant['id']}")
    items = findings()
    assert kinds_of(items, dormant) == {"dormant"}, items
    assert "last login at" in next(f for f in items if f["user_id"] == dormant["id"])["detail"]
    with Subscriber() as sub:
        sub.ready()
        with instance("accounts", "the accounts instance with ITGOV_DORMANT_AUTO_DISABLE=true",
                      "accounts-auto-disable.log",
                      env_changes={"ITGOV_DORMANT_AUTO_DISABLE": "true", "ITGOV_SCAN_INTERVAL_S": "1"}):
            poll(lambda: expect(http("GET", f"/users/{dormant['id']}", token=admin_token()), 200)["disabled"],
                 15, "the dormant user disabled by the scan")
            sub.wait(lambda e: e.get("type") == "itgov.account.access_review.auto_disabled"
                     and e.get("subject") == f"users/{dormant['id']}"
                     and e["data"]["user_id"] == dormant["id"] and e["data"]["dormant_s"] == 90 * 86400,
                     what="auto_disabled")
            sub.wait(lambda e: e.get("type") == "itgov.account.user.disabled"
                     and e.get("subject") == f"users/{dormant['id']}", what="user disabled")
            sub.wait(lambda e: e.get("type") == "itgov.account.session.ended"
                     and e["data"].get("user_id") == dormant["id"], what="its session ended")
    problem(http("GET", "/me", token=dormant["token"]), 401)
    assert expect(http("GET", f"/users/{fresh['id']}", token=admin_token()), 200)["disabled"] is False
    assert expect(http("GET", "/me", token=admin_token()), 200)["disabled"] is False
    # a disabled user is no longer a dormancy finding
    assert kinds_of(findings(), dormant) == set()
