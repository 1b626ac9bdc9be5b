"""What exists after the first start, GET /me, and departments."""
from client import (admin_password, admin_token, check_user, expect, http, login_resp, make_department,
                    make_user, problem, sfx, validation, walk, SECRETS)

ORDER = 10
ITO = {"code": "ITO", "name": "节能与信息化办公室", "kind": "it_office"}


def _ito():
    found = [d for d in walk("/departments", admin_token(), limit=200) if d.get("code") == "ITO"]
    assert len(found) == 1, f"departments with code ITO: {found}"
    return found[0]


def test_admin_logs_in_with_the_configured_password():
    b = expect(login_resp("admin", admin_password()), 201)
    SECRETS.add(b.get("token", "-"))
    assert set(b) == {"token", "expires_at", "user"}, sorted(b)
    check_user(b["user"], "login user")
    assert b["user"]["username"] == "admin" and "admin" in b["user"]["roles"], b["user"]


def test_first_start_creates_department_ito_and_user_admin_in_it():
    ito = _ito()
    assert {k: ito[k] for k in ITO} == ITO, ito
    assert type(ito["id"]) is int
    assert expect(http("GET", f"/departments/{ito['id']}", token=admin_token()), 200) == ito
    me = expect(http("GET", "/me", token=admin_token()), 200)
    check_user(me, "GET /me")
    assert me["username"] == "admin" and me["department_id"] == ito["id"], me
    assert "admin" in me["roles"] and me["disabled"] is False and me["last_login_at"] is not None, me
    admins = [u for u in walk("/users", admin_token(), limit=200) if u["username"] == "admin"]
    assert len(admins) == 1 and admins[0]["id"] == me["id"], admins


def test_me_is_the_caller_with_exactly_the_contract_fields():
    u = make_user(["applicant", "expert"])
    me = expect(http("GET", "/me", token=u["token"]), 200)
    check_user(me, "GET /me")
    for k in ("id", "username", "display_name", "employee_id", "department_id"):
        assert me[k] == u[k], f"{k}: {me[k]!r} vs {u[k]!r}"
    assert sorted(me["roles"]) == ["applicant", "expert"] and me["disabled"] is False, me
    assert me["last_login_at"] is not None, me


def test_create_and_read_departments():
    tok = admin_token()
    s = sfx()
    for kind in ("department", "it_office", "external"):
        body = {"code": f"D{kind[:2].upper()}{s}", "name": f"后勤{kind}{s}", "kind": kind}
        d = expect(http("POST", "/departments", body, token=tok), 201)
        assert {k: d.get(k) for k in body} == body and type(d.get("id")) is int, d
        assert expect(http("GET", f"/departments/{d['id']}", token=tok), 200) == d
    # every logged-in user may read departments
    u = make_user()
    listed = walk("/departments", u["token"], limit=200)
    assert d in listed, f"{d} not in the list"
    expect(http("GET", f"/departments/{d['id']}", token=u["token"]), 200)
    problem(http("POST", "/departments", {"code": "N" + s, "name": "x", "kind": "department"},
                 token=u["token"]), 403, "forbidden")


def test_department_code_is_unique():
    d = make_department()
    r = http("POST", "/departments", {"code": d["code"], "name": "另一个", "kind": "department"},
             token=admin_token())
    problem(r, 409, "conflict")
    problem(http("POST", "/departments", {"code": "ITO", "name": "x", "kind": "it_office"},
                 token=admin_token()), 409, "conflict")


def test_department_validation_names_every_bad_field():
    tok = admin_token()
    validation(http("POST", "/departments", {}, token=tok), "code", "name", "kind")
    validation(http("POST", "/departments", {"code": 5, "name": [], "kind": "ministry"}, token=tok),
               "code", "name", "kind")
    validation(http("POST", "/departments", {"code": "", "name": "", "kind": None}, token=tok),
               "code", "name", "kind")


def test_departments_paging_default_50_and_limit_1_walk():
    tok = admin_token()
    have = len(walk("/departments", tok, limit=200))
    for _ in range(max(0, 51 - have)):
        make_department()
    first = expect(http("GET", "/departments", token=tok), 200)
    assert len(first["items"]) == 50 and isinstance(first["next_cursor"], str), \
        f"default page of >50 departments: {len(first['items'])} items, next_cursor {first['next_cursor']!r}"
    all_ids = [d["id"] for d in walk("/departments", tok, limit=200)]
    one = [d["id"] for d in walk("/departments", tok, limit=1)]
    assert len(one) == len(set(one)), "duplicates when paging with limit=1"
    assert set(one) == set(all_ids) and len(all_ids) == len(set(all_ids)), "walks differ"
    seven = [d["id"] for d in walk("/departments", tok, limit=7)]
    assert seven == one, "pages of 7 and of 1 give different orders"
