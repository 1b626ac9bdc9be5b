"""HTTP semantics a client library expects (RFC 9110), on every service:
Location on every 201, HEAD wherever GET works, 405 problem+json for
methods no route takes, 415 for a body that is not JSON, entity-tags
compared as RFC 9110 says (strong for If-Match, weak for If-None-Match, lists,
"*", an unquoted tag is 400) and 304 on a current If-None-Match, with the
same ETag behaviour for users and departments as for projects and plans.

A method no server knows (lower case included) is 501 problem+json. What
libevent 2.1 refuses before any service code runs (a malformed request line,
a version other than HTTP/1.x: 400; CONNECT: 405) is answered text/html by
evhttp itself on a service's own port (2.1 has no hook for it); the gateway
answers those first, as problem+json."""
import http.client as hc
import json
import socket
import urllib.parse

from client import (admin_token, cfg, expect, gateway_root, http, login_resp, make_department,
                    make_user, problem, sfx, user_body)
from projects_flow import create_project, submitted_project, tok, users

ORDER = 60


def _root_of(svc):
    return cfg(f"ITGOV_TEST_{svc.upper()}_URL").rstrip("/")


def _follow(r, token):
    """GET the Location of a 201 through the gateway; returns the answer."""
    loc = r.header("Location")
    assert loc and loc.startswith("/api/v1/"), f"201 without a Location under /api/v1: {r}"
    return http("GET", gateway_root() + loc, token=token)


# ---------------------------------------------------------------- Location


def test_location_on_every_201_points_at_the_new_resource():
    adm = admin_token()
    # departments, users, plans, projects, subscriptions: the new member
    r = http("POST", "/departments", {"code": "L" + sfx().upper(), "name": "位置部门 " + sfx(),
                                      "kind": "department"}, token=adm)
    d = expect(r, 201)
    assert r.header("Location") == f"/api/v1/departments/{d['id']}", r
    assert expect(_follow(r, adm), 200)["id"] == d["id"]

    body = user_body(dept=d["id"])
    r = http("POST", "/users", body, token=adm)
    nu = expect(r, 201)
    assert r.header("Location") == f"/api/v1/users/{nu['id']}", r
    assert expect(_follow(r, adm), 200)["id"] == nu["id"]

    r = http("POST", "/plans", {"year": 2027, "title": "位置计划 " + sfx(), "items": [
        {"code": "LOC-" + sfx(), "title": "项", "description": "d", "budget_cents": 100}]},
        token=tok("it"))
    plan = expect(r, 201)
    assert r.header("Location") == f"/api/v1/plans/{plan['id']}", r
    assert expect(_follow(r, tok("it")), 200)["id"] == plan["id"]

    r = http("POST", "/projects", {"title": "位置项目 " + sfx(), "kind": "upgrade", "summary": "s",
                                   "budget_cents": 1000, "serves_external_units": False},
             token=tok("applicant"))
    p = expect(r, 201)
    assert r.header("Location") == f"/api/v1/projects/{p['id']}", r
    assert expect(_follow(r, tok("applicant")), 200)["id"] == p["id"]

    r = http("POST", "/subscriptions", {"name": "位置订阅 " + sfx(), "url": "http://127.0.0.1:9/loc"},
             token=adm)
    s = expect(r, 201)
    assert r.header("Location") == f"/api/v1/subscriptions/{s['id']}", r
    assert expect(_follow(r, adm), 200)["id"] == s["id"]
    expect(http("POST", f"/subscriptions/{s['id']}/disable", token=adm), 200)

    # experts and opinions have no URL of their own: the case they were added to
    u = users()
    _, case = submitted_project()
    cid = case["id"]
    r = http("POST", f"/approvals/{cid}/experts", {"user_id": u["expert"]["id"]}, token=tok("it"))
    expect(r, 201)
    assert r.header("Location") == f"/api/v1/approvals/{cid}", r
    assert expect(_follow(r, tok("it")), 200)["id"] == cid
    r = http("POST", f"/approvals/{cid}/opinions", {"stance": "support", "comment": "可行"},
             token=tok("expert"))
    expect(r, 201)
    assert r.header("Location") == f"/api/v1/approvals/{cid}", r

    # a session: where an admin ends it (DELETE /sessions/:id)
    r = login_resp(nu["username"], body["password"])
    expect(r, 201)
    loc = r.header("Location") or ""
    assert loc.startswith("/api/v1/sessions/") and loc.rsplit("/", 1)[1].isdigit(), r
    sid = int(loc.rsplit("/", 1)[1])
    listed = expect(http("GET", "/sessions?limit=200", token=adm), 200)["items"]
    assert sid in [x.get("id") for x in listed], (loc, listed[:3])


# ---------------------------------------------------------------- HEAD


def _head(port, path, token=None, extra=""):
    """HEAD on a raw connection: (status, headers, bytes that followed the header block)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        s.sendall(f"HEAD {path} HTTP/1.1\r\nHost: x\r\n{auth}{extra}\r\n".encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            assert chunk, f"closed before an answer to HEAD {path}"
            buf += chunk
        head, rest = buf.split(b"\r\n\r\n", 1)
        s.settimeout(0.3)
        try:
            rest += s.recv(65536)
        except socket.timeout:
            pass
        lines = head.decode("latin-1").split("\r\n")
        hs = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hs[k.strip().lower()] = v.strip()
        return int(lines[0].split()[1]), hs, rest
    finally:
        s.close()


def test_head_is_get_without_the_body():
    adm = admin_token()
    d = make_department()
    p = create_project()
    cases = [("accounts", "/api/v1/me", adm), ("accounts", f"/api/v1/departments/{d['id']}", adm),
             ("accounts", "/api/v1/users?limit=2", adm), ("accounts", "/healthz", None),
             ("projects", f"/api/v1/projects/{p['id']}", tok("applicant")),
             ("audit", "/api/v1/audit/checkpoint", None), ("approvals", "/readyz", None)]
    for svc, path, token in cases:
        root = _root_of(svc)
        port = urllib.parse.urlsplit(root).port
        g = http("GET", root + path, token=token)
        assert g.status == 200, g
        st, hs, rest = _head(port, path, token)
        assert st == 200, f"HEAD {svc} {path}: {st} {hs}"
        assert rest == b"", f"HEAD {svc} {path}: a body followed: {rest[:200]!r}"
        assert int(hs.get("content-length", "-1")) == len(g.raw), (path, hs, len(g.raw))
        assert hs.get("content-type", "").split(";")[0] == g.header("Content-Type").split(";")[0], hs
        if g.header("ETag"):
            assert hs.get("etag") == g.header("ETag"), (path, hs)
    # refusals too: HEAD without a token is 401 like GET
    st, hs, rest = _head(urllib.parse.urlsplit(_root_of("accounts")).port, "/api/v1/me")
    assert st == 401 and rest == b"" and int(hs["content-length"]) > 0, (st, hs)
    # through the gateway
    c = hc.HTTPConnection("127.0.0.1", urllib.parse.urlsplit(gateway_root()).port, timeout=5)
    try:
        c.request("HEAD", f"/api/v1/departments/{d['id']}", headers={"Authorization": "Bearer " + adm})
        r = c.getresponse()
        assert r.status == 200 and r.read() == b"" and r.getheader("ETag"), (r.status, r.getheaders())
    finally:
        c.close()


def test_allow_lists_head_wherever_get_is():
    adm = admin_token()
    r = http("DELETE", "/departments", token=adm)
    problem(r, 405, "method_not_allowed")
    allow = {m.strip() for m in r.header("Allow").split(",")}
    assert allow == {"GET", "HEAD", "POST"}, r
    r = http("PUT", "/projects/1/submit", token=adm)
    problem(r, 405, "method_not_allowed")
    assert "HEAD" not in r.header("Allow") and "POST" in r.header("Allow"), r
    r = http("POST", _root_of("accounts") + "/healthz")
    problem(r, 405, "method_not_allowed")
    assert {m.strip() for m in r.header("Allow").split(",")} == {"GET", "HEAD"}, r


def test_methods_no_route_takes_are_405_problem_json():
    paths = {"accounts": "/api/v1/me", "projects": "/api/v1/projects",
             "approvals": "/api/v1/approvals", "audit": "/api/v1/events"}
    for svc, path in paths.items():
        for p in (path, "/healthz"):
            r = http("TRACE", _root_of(svc) + p)
            problem(r, 405, "method_not_allowed")
            assert "GET" in r.header("Allow") and "HEAD" in r.header("Allow"), r


def _raw(port, data):
    """One request on a new connection: (status, lower-case headers, body)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(data)
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            if b"\r\n\r\n" in buf:
                head, body = buf.split(b"\r\n\r\n", 1)
                hs = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    k, _, v = line.partition(":")
                    hs[k.strip().lower()] = v.strip()
                if len(body) >= int(hs.get("content-length", "0")):
                    return int(head.split()[1]), hs, body
        raise AssertionError(f"no complete answer: {buf[:300]!r}")
    finally:
        s.close()


def test_unknown_and_lowercase_methods_are_501_problem_json():
    ports = {svc: urllib.parse.urlsplit(_root_of(svc)).port
             for svc in ("accounts", "projects", "approvals", "audit")}
    for svc, port in ports.items():
        for method, path in (("FOO", "/api/v1/me"), ("get", "/healthz"), ("PROPFIND", "/nowhere"),
                             ("Post", "/api/v1/sessions")):
            st, hs, body = _raw(port, f"{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert st == 501 and hs.get("content-type", "").startswith("application/problem+json"), \
                (svc, method, st, hs, body[:200])
            assert json.loads(body)["code"] == "not_implemented", body
    gw = urllib.parse.urlsplit(gateway_root()).port
    for method in ("FOO", "get"):
        st, hs, body = _raw(gw, f"{method} /api/v1/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        assert st in (400, 501) and hs.get("content-type", "").startswith("application/problem+json"), \
            (method, st, hs, body[:200])


# ---------------------------------------------------------------- 415


def test_a_body_that_is_not_json_is_415():
    adm = admin_token()
    good = {"code": "M" + sfx().upper(), "name": "媒体类型 " + sfx(), "kind": "department"}
    raw = json.dumps(good).encode()
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "text/json",
                  "application/json; charset=iso-8859-1", "multipart/form-data; boundary=x"):
        r = http("POST", "/departments", raw=raw, token=adm, headers={"Content-Type": ctype})
        problem(r, 415, "unsupported_media_type")
    # a public route too, and directly on a service
    r = http("POST", "/sessions", raw=b'{"username":"a","password":"b"}',
             headers={"Content-Type": "application/x-www-form-urlencoded"})
    problem(r, 415, "unsupported_media_type")
    r = http("POST", _root_of("projects") + "/api/v1/projects", raw=b"{}", token=tok("applicant"),
             headers={"Content-Type": "text/plain"})
    problem(r, 415, "unsupported_media_type")
    # JSON in any of its spellings is taken
    for i, ctype in enumerate(("application/json; charset=utf-8", "Application/JSON;charset=\"UTF-8\"",
                               "application/merge-patch+json")):
        body = dict(good, code=good["code"] + str(i))
        r = http("POST", "/departments", raw=json.dumps(body).encode(), token=adm,
                 headers={"Content-Type": ctype})
        expect(r, 201)


# ---------------------------------------------------------------- conditional requests


def _patch_project(pid, if_match, title=None):
    h = {} if if_match is None else {"If-Match": if_match}
    return http("PATCH", f"/projects/{pid}", {"title": title or "改 " + sfx()},
                token=tok("applicant"), headers=h)


def test_if_match_compares_strongly_and_takes_lists():
    p = create_project()
    pid = p["id"]
    g = http("GET", f"/projects/{pid}", token=tok("applicant"))
    tag = g.header("ETag")
    v = expect(g, 200)["version"]
    assert tag == f'"{v}"', g
    problem(_patch_project(pid, f"W/{tag}"), 412, "precondition_failed")
    problem(_patch_project(pid, '"999"'), 412, "precondition_failed")
    problem(_patch_project(pid, str(v)), 400, "bad_request")  # unquoted
    problem(_patch_project(pid, f'"999", {v}'), 400, "bad_request")
    r = _patch_project(pid, f'"999", {tag}')
    v2 = expect(r, 200)["version"]
    assert v2 == v + 1 and r.header("ETag") == f'"{v2}"', r
    problem(_patch_project(pid, tag), 412, "precondition_failed")  # stale now
    r = _patch_project(pid, "*")
    assert expect(r, 200)["version"] == v2 + 1, r
    problem(_patch_project(pid, None), 428, "precondition_required")


def test_if_none_match_gives_304_on_get_and_head():
    p = create_project()
    path = f"/projects/{p['id']}"
    g = http("GET", path, token=tok("applicant"))
    tag = g.header("ETag")
    for inm in (tag, f"W/{tag}", f'"999", {tag}', "*"):
        r = http("GET", path, token=tok("applicant"), headers={"If-None-Match": inm})
        assert r.status == 304 and r.raw == b"" and r.header("ETag") == tag, (inm, str(r))
    r = http("GET", path, token=tok("applicant"), headers={"If-None-Match": '"999"'})
    assert r.status == 200 and r.raw == g.raw, r
    port = urllib.parse.urlsplit(gateway_root()).port
    st, hs, rest = _head(port, "/api/v1" + path, tok("applicant"), f"If-None-Match: {tag}\r\n")
    assert st == 304 and rest == b"" and hs.get("etag") == tag, (st, hs)
    # a 304 is only for a current tag: after a change the full answer comes back
    expect(_patch_project(p["id"], tag), 200)
    r = http("GET", path, token=tok("applicant"), headers={"If-None-Match": tag})
    assert r.status == 200 and r.header("ETag") != tag, r


def test_users_and_departments_carry_etags_like_projects():
    adm = admin_token()
    d = make_department()
    g = http("GET", f"/departments/{d['id']}", token=adm)
    dtag = g.header("ETag")
    assert dtag and dtag.startswith('"') and dtag.endswith('"'), g
    r = http("GET", f"/departments/{d['id']}", token=adm, headers={"If-None-Match": dtag})
    assert r.status == 304 and r.raw == b"", r

    u = make_user(login_now=False)
    path = f"/users/{u['id']}"
    g = http("GET", path, token=adm)
    tag = g.header("ETag")
    assert tag and tag.startswith('"') and g.header("ETag") == http("GET", path, token=adm).header("ETag")
    r = http("GET", path, token=adm, headers={"If-None-Match": tag})
    assert r.status == 304 and r.raw == b"", r

    def patch(if_match, name):
        h = {} if if_match is None else {"If-Match": if_match}
        return http("PATCH", path, {"display_name": name}, token=adm, headers=h)

    problem(patch(f"W/{tag}", "弱"), 412, "precondition_failed")
    problem(patch('"0000000000000000"', "旧"), 412, "precondition_failed")
    problem(patch(tag.strip('"'), "无引号"), 400, "bad_request")
    r = patch(f'"0000000000000000", {tag}', "新名字 " + sfx())
    u2 = expect(r, 200)
    tag2 = r.header("ETag")
    assert tag2 and tag2 != tag and http("GET", path, token=adm).header("ETag") == tag2, r
    problem(patch(tag, "过期"), 412, "precondition_failed")
    assert expect(http("GET", path, token=adm), 200)["display_name"] == u2["display_name"]
    expect(patch("*", "星号 " + sfx()), 200)
    expect(patch(None, "无条件 " + sfx()), 200)  # If-Match is optional for users, as for plans
    problem(http("PATCH", "/users/999999999", {"display_name": "x"}, token=adm,
                 headers={"If-Match": tag}), 404, "not_found")
