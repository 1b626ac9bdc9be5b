"""Log in, lockout, log out, online users and force logout."""
import datetime
import time

from client import (SECRETS, admin_token, check_instant, check_user, direct, expect, gateway_root,
                    http, lock_s, login, login_resp, make_user, new_password, problem, redis_dump,
                    sfx, validation, walk)

ORDER = 30
SESSION_FIELDS = {"id", "user_id", "username", "ip", "user_agent", "created_at", "last_seen_at",
                  "expires_at"}


def _parse(instant):
    return datetime.datetime.strptime(instant[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)


def test_login_answers_token_expiry_and_user():
    u = make_user(login_now=False)
    r = login_resp(u["username"], u["password"])
    b = expect(r, 201)
    SECRETS.add(b.get("token", "-"))
    assert set(b) == {"token", "expires_at", "user"}, f"login answer fields: {sorted(b)}"
    check_instant(b["expires_at"], "expires_at")
    now = datetime.datetime.now(datetime.timezone.utc)
    assert _parse(b["expires_at"]) > now + datetime.timedelta(minutes=1), f"expires_at not ahead: {b['expires_at']}"
    check_user(b["user"], "login user")
    assert b["user"]["id"] == u["id"] and b["user"]["username"] == u["username"], b["user"]
    assert b["user"]["last_login_at"] is not None, "last_login_at not set by the login"
    me = expect(http("GET", "/me", token=b["token"]), 200)
    check_user(me, "GET /me")
    assert me["id"] == u["id"] and me["display_name"] == u["display_name"], me
    assert me["last_login_at"] is not None, me
    # two logins, two different tokens
    t2 = login(u["username"], u["password"])
    assert t2 != b["token"]


def test_login_validation():
    validation(http("POST", "/sessions", {}), "username", "password")
    validation(http("POST", "/sessions", {"username": 5, "password": None}), "username", "password")
    problem(http("POST", "/sessions", ["admin", "x"]), 400, "validation_failed")


def test_unknown_user_and_wrong_password_get_the_same_401():
    u = make_user(login_now=False)
    wrong = problem(login_resp(u["username"], new_password()), 401, "invalid_credentials")
    unknown = problem(login_resp("nobody" + sfx(), new_password()), 401, "invalid_credentials")
    keys = ("type", "title", "status", "code", "detail")
    assert {k: wrong.get(k) for k in keys} == {k: unknown.get(k) for k in keys}, \
        f"answers differ: {wrong} vs {unknown}"
    assert set(wrong) == set(unknown), f"answers differ in fields: {sorted(wrong)} vs {sorted(unknown)}"
    # the username is case-sensitive or not, but never a way in with a wrong password
    problem(login_resp(u["username"].upper(), new_password()), 401, "invalid_credentials")


def _lock(username, failures=5):
    for i in range(failures):
        problem(login_resp(username, new_password()), 401, "invalid_credentials")


def _retry_after(r):
    v = r.header("Retry-After") or ""
    assert v.isdigit() and 1 <= int(v) <= lock_s() + 1, f"Retry-After must be 1..{lock_s()} s: {r}"
    return int(v)


def test_five_failures_lock_even_the_right_password_until_the_lock_expires():
    u = make_user(login_now=False)
    _lock(u["username"])
    r = login_resp(u["username"], u["password"])
    problem(r, 429, "login_locked")
    wait = _retry_after(r)
    problem(login_resp(u["username"], new_password()), 429, "login_locked")
    # another user is not affected
    v = make_user(login_now=False)
    login(v["username"], v["password"])
    time.sleep(min(wait, lock_s()) + 1)
    tok = login(u["username"], u["password"])
    expect(http("GET", "/me", token=tok), 200)


def test_lock_is_the_same_through_the_gateway_and_direct():
    u = make_user(login_now=False)
    _lock(u["username"], 3)
    for _ in range(2):
        problem(login_resp(u["username"], new_password(), url=direct("/api/v1/sessions")), 401,
                "invalid_credentials")
    problem(login_resp(u["username"], u["password"]), 429, "login_locked")


def test_a_successful_login_resets_the_failure_count():
    u = make_user(login_now=False)
    _lock(u["username"], 4)
    login(u["username"], u["password"])
    _lock(u["username"], 4)
    login(u["username"], u["password"])


def test_unknown_username_locks_like_a_known_one():
    """Otherwise the 429 would tell which usernames exist."""
    name = "nobody" + sfx()
    _lock(name)
    r = login_resp(name, new_password())
    problem(r, 429, "login_locked")
    _retry_after(r)


def test_logout_ends_the_token_at_once_everywhere():
    u = make_user()
    other = login(u["username"], u["password"])
    expect(http("DELETE", "/sessions/current", token=u["token"]), 204)
    for root in (gateway_root(), direct()):
        problem(http("GET", root + "/api/v1/me", token=u["token"]), 401, "unauthorized")
    problem(http("DELETE", "/sessions/current", token=u["token"]), 401, "unauthorized")
    # the user's other session lives on
    expect(http("GET", "/me", token=other), 200)
    # logging out directly on the service works the same
    expect(http("DELETE", direct("/api/v1/sessions/current"), token=other), 204)
    problem(http("GET", "/me", token=other), 401, "unauthorized")


def _sessions_of(user_id):
    return [s for s in walk("/sessions", admin_token(), limit=200) if s.get("user_id") == user_id]


def test_admin_lists_live_sessions_without_tokens():
    u = make_user(login_now=False)
    agent = "itgov-blackbox/" + sfx()
    t1 = login(u["username"], u["password"], headers={"User-Agent": agent})
    t2 = login(u["username"], u["password"], headers={"User-Agent": agent})
    r = http("GET", "/sessions?limit=200", token=admin_token())
    expect(r, 200)
    for t in (t1, t2):
        assert t not in r.text, "GET /sessions shows a token"
    mine = _sessions_of(u["id"])
    assert len(mine) == 2, f"expected 2 sessions of user {u['id']}, got {mine}"
    ids = set()
    for s in mine:
        assert set(s) == SESSION_FIELDS, f"session fields must be exactly {sorted(SESSION_FIELDS)}: {s}"
        assert s["id"] not in (t1, t2) and "token" not in s, s
        assert s["username"] == u["username"] and s["user_agent"] == agent, s
        assert isinstance(s["ip"], str) and s["ip"], s
        for k in ("created_at", "last_seen_at", "expires_at"):
            check_instant(s[k], f"session.{k}")
        ids.add(str(s["id"]))
    assert len(ids) == 2, mine
    # paging walks all sessions without duplicates
    one = [str(s["id"]) for s in walk("/sessions", admin_token(), limit=1)]
    assert len(one) == len(set(one)), "duplicates when paging sessions with limit=1"
    ids_in_order = [int(i) for i in one]
    assert ids_in_order == sorted(ids_in_order, reverse=True), \
        f"sessions are not newest first: {ids_in_order[:20]}"
    assert ids <= set(one)


def test_admin_force_logout_ends_one_session_at_once():
    u = make_user(login_now=False)
    t1 = login(u["username"], u["password"], headers={"User-Agent": "first"})
    t2 = login(u["username"], u["password"], headers={"User-Agent": "second"})
    target = [s for s in _sessions_of(u["id"]) if s["user_agent"] == "first"]
    assert len(target) == 1, target
    sid = str(target[0]["id"])
    expect(http("DELETE", f"/sessions/{sid}", token=admin_token()), 204)
    for root in (gateway_root(), direct()):
        problem(http("GET", root + "/api/v1/me", token=t1), 401, "unauthorized")
    expect(http("GET", "/me", token=t2), 200)
    assert [s["user_agent"] for s in _sessions_of(u["id"])] == ["second"]
    problem(http("DELETE", f"/sessions/{sid}", token=admin_token()), 404, "not_found")
    problem(http("DELETE", "/sessions/no-such-session", token=admin_token()), 404, "not_found")
    # a user may not end another's session
    v = make_user()
    other = [s for s in _sessions_of(u["id"])][0]
    problem(http("DELETE", f"/sessions/{other['id']}", token=v["token"]), 403, "forbidden")
    expect(http("GET", "/me", token=t2), 200)


def test_sessions_are_admin_only():
    for roles in (["applicant"], ["auditor"], ["it_office", "expert", "secretary"]):
        u = make_user(roles)
        problem(http("GET", "/sessions", token=u["token"]), 403, "forbidden")


def test_sessions_list_rejects_bad_limit_and_cursor():
    tok = admin_token()
    for q in ("limit=0", "limit=201", "limit=abc"):
        validation(http("GET", "/sessions?" + q, token=tok), "limit")
    validation(http("GET", "/sessions?cursor=not-a-cursor", token=tok), "cursor")


def test_redis_holds_no_token():
    u = make_user()
    dump = redis_dump()
    assert dump, "Redis is empty although a session is live"
    assert u["token"] not in dump, "Redis holds a session token in clear"
    assert u["password"] not in dump, "Redis holds a password"
