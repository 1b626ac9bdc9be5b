"""Users: create, read, list, change, disable, enable, passwords, roles, one account per person."""
import threading

from client import (SECRETS, admin_token, check_user, direct, expect, gateway_root, http, login,
                    login_resp, make_department, make_user, new_password, problem, sfx,
                    shared_department_id, user_body, validation, walk)

ORDER = 40


def test_create_user_answers_201_with_the_user_and_no_password():
    body = user_body(["applicant", "expert"])
    r = http("POST", "/users", body, token=admin_token())
    u = expect(r, 201)
    check_user(u, "created user")
    for k in ("username", "display_name", "employee_id", "department_id"):
        assert u[k] == body[k], f"{k}: sent {body[k]!r}, got {u[k]!r}"
    assert sorted(u["roles"]) == ["applicant", "expert"], u
    assert u["disabled"] is False and u["last_login_at"] is None, u
    assert "password" not in r.text.lower(), f"the answer mentions a password: {r}"
    got = expect(http("GET", f"/users/{u['id']}", token=admin_token()), 200)
    assert got == u, f"GET /users/{u['id']} differs from the creation answer: {got} vs {u}"


def test_create_user_names_every_bad_field():
    tok = admin_token()
    body = {"username": "", "display_name": 123, "department_id": "x", "roles": ["wizard"],
            "password": "short"}  # employee_id missing
    validation(http("POST", "/users", body, token=tok),
               "username", "display_name", "employee_id", "department_id", "roles", "password")
    s = sfx()
    body = {"username": "bb" + s, "display_name": "x", "employee_id": "E" + s,
            "department_id": 999999999, "roles": [], "password": "bb" + s}
    validation(http("POST", "/users", body, token=tok), "department_id", "roles", "password")
    body = {"username": "bad name/" + s, "display_name": "", "employee_id": "", "roles": "admin",
            "department_id": shared_department_id(), "password": None}
    validation(http("POST", "/users", body, token=tok),
               "username", "display_name", "employee_id", "roles", "password")
    validation(http("POST", "/users", {}, token=tok),
               "username", "display_name", "employee_id", "department_id", "roles", "password")
    problem(http("POST", "/users", [body], token=tok), 400, "validation_failed")
    # nothing was created
    names = {u["username"] for u in walk("/users", tok, limit=200)}
    assert "bb" + s not in names


def test_one_account_per_username_and_per_employee_id():
    tok = admin_token()
    u = make_user(login_now=False)
    same_name = user_body()
    same_name["username"] = u["username"]
    problem(http("POST", "/users", same_name, token=tok), 409, "conflict")
    same_emp = user_body()
    same_emp["employee_id"] = u["employee_id"]
    problem(http("POST", "/users", same_emp, token=tok), 409, "conflict")
    users = walk("/users", tok, limit=200)
    assert [x["username"] for x in users].count(u["username"]) == 1
    assert [x["employee_id"] for x in users].count(u["employee_id"]) == 1
    assert same_emp["username"] not in {x["username"] for x in users}


def test_one_account_per_employee_id_under_parallel_requests():
    tok = admin_token()
    emp = "E" + sfx()
    bodies = []
    for _ in range(8):
        b = user_body()
        b["employee_id"] = emp
        bodies.append(b)
    results = [None] * len(bodies)

    def create(i):
        try:
            results[i] = http("POST", "/users", bodies[i], token=tok, timeout=30)
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = e

    threads = [threading.Thread(target=create, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = sorted(getattr(r, "status", repr(r)) for r in results)
    assert statuses == [201] + [409] * (len(bodies) - 1), f"statuses: {statuses}"
    for r in results:
        if r.status == 409:
            problem(r, 409, "conflict")
    assert [x["employee_id"] for x in walk("/users", tok, limit=200)].count(emp) == 1


def test_who_may_read_users():
    me = make_user(["applicant"])
    other = make_user(["applicant"], login_now=False)
    auditor = make_user(["auditor"])
    staff = make_user(["it_office", "expert", "secretary"])
    for tok in (admin_token(), auditor["token"]):
        expect(http("GET", "/users", token=tok), 200)
        got = expect(http("GET", f"/users/{other['id']}", token=tok), 200)
        check_user(got)
    got = expect(http("GET", f"/users/{me['id']}", token=me["token"]), 200)
    assert got["id"] == me["id"], got
    for tok in (me["token"], staff["token"]):
        problem(http("GET", "/users", token=tok), 403, "forbidden")
        problem(http("GET", f"/users/{other['id']}", token=tok), 403, "forbidden")
    problem(http("GET", "/users/999999999", token=admin_token()), 404, "not_found")


def test_only_admin_changes_accounts():
    target = make_user(login_now=False)
    auditor = make_user(["auditor"])
    applicant = make_user(["applicant"])
    staff = make_user(["it_office", "expert", "secretary"])
    i = target["id"]
    calls = [("POST", "/users", user_body()), ("PATCH", f"/users/{i}", {"display_name": "x"}),
             ("POST", f"/users/{i}/disable", None), ("POST", f"/users/{i}/enable", None),
             ("POST", "/departments", {"code": "X" + sfx(), "name": "x", "kind": "department"}),
             ("GET", "/sessions", None), ("DELETE", "/sessions/x", None)]
    for who in (auditor, applicant, staff):
        for method, path, body in calls:
            problem(http(method, path, body, token=who["token"]), 403, "forbidden")
    got = expect(http("GET", f"/users/{i}", token=admin_token()), 200)
    assert got["disabled"] is False and got["display_name"] == target["display_name"], got


def test_users_list_pages_walk_every_user_once():
    tok = admin_token()
    for _ in range(3):
        make_user(login_now=False)
    all_ids = [u["id"] for u in walk("/users", tok, limit=200)]
    assert len(all_ids) == len(set(all_ids)), "duplicates with limit=200"
    one = [u["id"] for u in walk("/users", tok, limit=1)]
    assert len(one) == len(set(one)), "duplicates when paging with limit=1"
    assert set(one) == set(all_ids), f"limit=1 and limit=200 walks differ: {set(one) ^ set(all_ids)}"
    first = expect(http("GET", "/users", token=tok), 200)
    assert len(first["items"]) == min(50, len(all_ids)), f"default page: {len(first['items'])} items"
    for u in first["items"]:
        check_user(u, "listed user")


def test_list_limit_and_cursor_are_validated():
    tok = admin_token()
    for path in ("/users", "/departments"):
        for bad in ("0", "201", "abc", "-1", "1.5", "10x"):
            validation(http("GET", f"{path}?limit={bad}", token=tok), "limit")
        for bad in ("not-a-cursor", "!!!", "%25", "a" * 300):
            validation(http("GET", f"{path}?cursor={bad}", token=tok), "cursor")
        validation(http("GET", f"{path}?limit=0&cursor=%25", token=tok), "limit", "cursor")
        for ok in ("1", "200"):
            expect(http("GET", f"{path}?limit={ok}", token=tok), 200)


def test_patch_changes_display_name_roles_and_department():
    u = make_user(["applicant"], login_now=False)
    dept = make_department()["id"]
    body = {"display_name": "新名字 " + sfx(), "roles": ["expert", "applicant"], "department_id": dept}
    got = expect(http("PATCH", f"/users/{u['id']}", body, token=admin_token()), 200)
    check_user(got)
    assert got["display_name"] == body["display_name"] and got["department_id"] == dept, got
    assert sorted(got["roles"]) == ["applicant", "expert"], got
    assert got["username"] == u["username"] and got["employee_id"] == u["employee_id"], got
    again = expect(http("GET", f"/users/{u['id']}", token=admin_token()), 200)
    assert again == got, f"{again} vs {got}"
    # a partial change leaves the rest alone
    got = expect(http("PATCH", f"/users/{u['id']}", {"display_name": "只改名"}, token=admin_token()), 200)
    assert got["display_name"] == "只改名" and got["department_id"] == dept and len(got["roles"]) == 2, got


def test_patch_names_every_bad_field():
    u = make_user(login_now=False)
    tok = admin_token()
    validation(http("PATCH", f"/users/{u['id']}",
                     {"display_name": "", "roles": [], "department_id": 999999999}, token=tok),
               "display_name", "roles", "department_id")
    validation(http("PATCH", f"/users/{u['id']}", {"roles": ["admin", "wizard"], "display_name": 7},
                    token=tok), "roles", "display_name")
    validation(http("PATCH", f"/users/{u['id']}", {"department_id": "1"}, token=tok), "department_id")
    problem(http("PATCH", "/users/999999999", {"display_name": "x"}, token=tok), 404, "not_found")
    got = expect(http("GET", f"/users/{u['id']}", token=tok), 200)
    assert got["roles"] == ["applicant"] and got["display_name"] == u["display_name"], got


def test_role_change_applies_on_the_very_next_request():
    u = make_user(["applicant"])
    problem(http("GET", "/users", token=u["token"]), 403, "forbidden")
    expect(http("PATCH", f"/users/{u['id']}", {"roles": ["auditor"]}, token=admin_token()), 200)
    expect(http("GET", "/users", token=u["token"]), 200)
    assert expect(http("GET", "/me", token=u["token"]), 200)["roles"] == ["auditor"]
    expect(http("PATCH", f"/users/{u['id']}", {"roles": ["applicant"]}, token=admin_token()), 200)
    for root in (gateway_root(), direct()):
        problem(http("GET", root + "/api/v1/users", token=u["token"]), 403, "forbidden")
    # and up to admin
    expect(http("PATCH", f"/users/{u['id']}", {"roles": ["admin"]}, token=admin_token()), 200)
    expect(http("GET", "/sessions", token=u["token"]), 200)
    expect(http("PATCH", f"/users/{u['id']}", {"roles": ["applicant"]}, token=admin_token()), 200)
    problem(http("GET", "/sessions", token=u["token"]), 403, "forbidden")


def test_disable_ends_sessions_at_once_and_blocks_login_until_enabled():
    u = make_user()
    t2 = login(u["username"], u["password"])
    got = expect(http("POST", f"/users/{u['id']}/disable", token=admin_token()), 200)
    check_user(got)
    assert got["disabled"] is True and got["id"] == u["id"], got
    for tok in (u["token"], t2):
        for root in (gateway_root(), direct()):
            problem(http("GET", root + "/api/v1/me", token=tok), 401, "unauthorized")
    r = login_resp(u["username"], u["password"])
    problem(r, 401)
    assert expect(http("GET", f"/users/{u['id']}", token=admin_token()), 200)["disabled"] is True
    got = expect(http("POST", f"/users/{u['id']}/enable", token=admin_token()), 200)
    assert got["disabled"] is False, got
    problem(http("GET", "/me", token=u["token"]), 401, "unauthorized")  # ended sessions stay ended
    tok = login(u["username"], u["password"])
    expect(http("GET", "/me", token=tok), 200)
    for action in ("disable", "enable"):
        problem(http("POST", f"/users/999999999/{action}", token=admin_token()), 404, "not_found")


def test_password_change_keeps_this_session_and_ends_the_others():
    u = make_user()
    others = [login(u["username"], u["password"]) for _ in range(2)]
    new = new_password()
    expect(http("PUT", "/me/password", {"current_password": u["password"], "new_password": new},
                token=u["token"]), 204)
    expect(http("GET", "/me", token=u["token"]), 200)
    for tok in others:
        for root in (gateway_root(), direct()):
            problem(http("GET", root + "/api/v1/me", token=tok), 401, "unauthorized")
    problem(login_resp(u["username"], u["password"]), 401, "invalid_credentials")
    tok = login(u["username"], new)
    expect(http("GET", "/me", token=tok), 200)


def test_password_rules():
    u = make_user()
    path, tok = "/me/password", u["token"]
    validation(http("PUT", path, {"current_password": u["password"], "new_password": "Abcdefgh9"}, token=tok),
               "new_password")
    validation(http("PUT", path, {"current_password": u["password"], "new_password": u["username"]},
                    token=tok), "new_password")
    validation(http("PUT", path, {}, token=tok), "current_password", "new_password")
    validation(http("PUT", path, {"current_password": 1, "new_password": None}, token=tok),
               "current_password", "new_password")
    # a wrong current password changes nothing and ends no session
    wrong = http("PUT", path, {"current_password": new_password(), "new_password": new_password()}, token=tok)
    assert wrong.status in (400, 403), f"wrong current password: {wrong}"
    problem(wrong, wrong.status)
    expect(http("GET", "/me", token=tok), 200)
    login(u["username"], u["password"])
    # exactly 10 characters is enough
    ten = "Q" + sfx()[:9]
    SECRETS.add(ten)
    expect(http("PUT", path, {"current_password": u["password"], "new_password": ten}, token=tok), 204)
    login(u["username"], ten)
