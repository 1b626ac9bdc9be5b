"""Every service's common behaviour, on the accounts service: 401, refusal
order, invalid JSON, body size, unknown paths, wrong methods, CORS, request ids."""

from client import (admin_token, direct, expect, gateway_root, http, logs, make_user, poll,
                    problem, sfx, validation)

ORDER = 20
ORIGIN = "http://localhost:3000"


def test_401_without_token_garbage_token_or_other_scheme():
    calls = [("GET", "/me", None), ("GET", "/users", None), ("GET", "/users/1", None),
             ("GET", "/departments", None), ("GET", "/departments/1", None), ("GET", "/sessions", None),
             ("DELETE", "/sessions/current", None), ("DELETE", "/sessions/x", None),
             ("POST", "/users", {}), ("PATCH", "/users/1", {}), ("POST", "/users/1/disable", None),
             ("POST", "/users/1/enable", None), ("POST", "/departments", {}),
             ("PUT", "/me/password", {})]
    auths = [None, "Bearer " + "A" * 43, "Bearer ", "Basic YWRtaW46YWRtaW4=", "bearer"]
    for method, path, body in calls:
        for auth in auths:
            r = http(method, path, body, headers={"Authorization": auth} if auth else None)
            problem(r, 401, "unauthorized")
    # RFC 9110: a 401 names the scheme to use.
    r = http("GET", "/me")
    assert (r.header("WWW-Authenticate") or "").lower().startswith("bearer"), \
        f"401 without WWW-Authenticate: Bearer: {r}"


def test_refusals_in_order_401_then_403_then_400():
    applicant = make_user()
    bad = b'{"username": '
    problem(http("POST", "/users", raw=bad), 401, "unauthorized")
    problem(http("POST", "/users", raw=bad, token=applicant["token"]), 403, "forbidden")
    problem(http("POST", "/users", raw=bad, token=admin_token()), 400, "invalid_json")
    problem(http("POST", "/users", {"username": 1}, token=applicant["token"]), 403, "forbidden")
    problem(http("GET", "/users?limit=0", token=applicant["token"]), 403, "forbidden")


BAD_JSON = {
    "truncated": b'{"username": "admin", "password": "x',
    "two values": b'{"username": "a", "password": "b"} {"x": 1}',
    "trailing garbage": b'{"username": "a", "password": "b"}x',
    "invalid utf-8 byte": b'{"username": "\xff\xfe", "password": "bbbbbbbbbbbb"}',
    "overlong utf-8": b'{"username": "\xc0\xaf", "password": "bbbbbbbbbbbb"}',
    "cut utf-8 sequence": b'{"username": "\xe6\x88", "password": "bbbbbbbbbbbb"}',
    "empty body": b"",
    "only whitespace": b"  \n",
    "not json": b"username=admin&password=x",
}


def test_invalid_json_is_400_invalid_json():
    tok = admin_token()
    u = make_user()
    targets = [("POST", "/sessions", None), ("POST", "/users", tok), ("POST", "/departments", tok),
               ("PATCH", f"/users/{u['id']}", tok), ("PUT", "/me/password", u["token"])]
    for method, path, token in targets:
        for name, raw in BAD_JSON.items():
            r = http(method, path, raw=raw, token=token, headers={"Content-Type": "application/json"})
            try:
                problem(r, 400, "invalid_json")
            except AssertionError as e:
                raise AssertionError(f"{name}: {e}") from None
    # whitespace around exactly one value is fine
    raw = f' \n{{"username": "{u["username"]}", "password": "{u["password"]}"}}\r\n '.encode()
    expect(http("POST", "/sessions", raw=raw), 201)


def _sized_body(size):
    """A JSON object of exactly `size` bytes whose fields are all invalid."""
    head = b'{"code": "", "name": "", "kind": "no-such-kind"}'
    return head + b" " * (size - len(head))


def test_body_over_1_mib_is_413_through_gateway_and_direct():
    tok = admin_token()
    for root in (gateway_root(), direct()):
        url = root + "/api/v1/departments"
        problem(http("POST", url, raw=_sized_body(1048576 + 1), token=tok, timeout=30), 413)
        problem(http("POST", url, raw=_sized_body(4 * 1048576), token=tok, timeout=30), 413)
        # exactly 1 MiB is allowed: its fields are checked
        validation(http("POST", url, raw=_sized_body(1048576), token=tok, timeout=30), "code", "name", "kind")


def test_unknown_path_is_404_problem_through_gateway_and_direct():
    tok = admin_token()
    urls = [gateway_root() + "/api/v1/no-such-thing", gateway_root() + "/no-such-thing",
            gateway_root() + "/api/v1/users/1/no-such-thing", gateway_root() + "/api/v2/users",
            direct("/api/v1/no-such-thing"), direct("/no-such-thing"), direct("/api/v1/users/1/x"),
            direct("/api/v1/users/")]
    for url in urls:
        problem(http("GET", url, token=tok), 404)
    problem(http("GET", "/users/999999999", token=tok), 404, "not_found")
    problem(http("GET", "/departments/999999999", token=tok), 404, "not_found")


def _allow(r):
    return {m.strip().upper() for m in (r.header("Allow") or "").split(",") if m.strip()}


def test_wrong_method_is_405_with_allow():
    tok = admin_token()
    cases = [("PUT", "/api/v1/departments", {"GET", "POST"}),
             ("DELETE", "/api/v1/me", {"GET"}),
             ("GET", "/api/v1/users/1/disable", {"POST"}),
             ("PATCH", "/api/v1/sessions/current", {"DELETE"}),
             ("DELETE", "/api/v1/users/1", {"GET", "PATCH"}),
             ("POST", "/api/v1/me/password", {"PUT"})]
    for root in (direct(), gateway_root()):
        for method, path, allowed in cases:
            r = http(method, root + path, {} if method in ("PUT", "POST", "PATCH") else None, token=tok)
            problem(r, 405)
            assert allowed <= _allow(r) and not (_allow(r) - allowed - {"HEAD", "OPTIONS"}), \
                f"Allow should list {sorted(allowed)}: {r}"


def _preflight(root, origin, method="POST"):
    return http("OPTIONS", root + "/api/v1/users", headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, if-match"})


def _tokens(value):
    return {t.strip().lower() for t in (value or "").split(",") if t.strip()}


def test_cors_preflight_for_allowed_origin():
    for root in (gateway_root(), direct()):
        for method in ("POST", "PATCH", "PUT", "DELETE", "GET"):
            r = _preflight(root, ORIGIN, method)
            assert r.status in (200, 204), f"preflight: {r}"
            acao = r.headers.get_all("Access-Control-Allow-Origin") or []
            assert acao == [ORIGIN], f"Access-Control-Allow-Origin must be {ORIGIN} once: {r}"
            assert method.lower() in _tokens(r.header("Access-Control-Allow-Methods")), f"methods: {r}"
            assert {"authorization", "content-type", "if-match"} <= _tokens(
                r.header("Access-Control-Allow-Headers")), f"headers: {r}"
            assert "origin" in _tokens(r.header("Vary")), f"Vary: Origin missing: {r}"


def test_cors_headers_on_answers_and_errors_for_allowed_origin():
    tok = admin_token()
    for root in (gateway_root(), direct()):
        for token, status in ((tok, 200), (None, 401)):
            r = http("GET", root + "/api/v1/me", token=token, headers={"Origin": ORIGIN})
            assert r.status == status, r
            assert (r.headers.get_all("Access-Control-Allow-Origin") or []) == [ORIGIN], \
                f"a browser could not read this answer: {r}"


def test_cors_disallowed_origin_gets_no_allow_origin():
    for root in (gateway_root(), direct()):
        for origin in ("http://evil.example", "http://localhost:3001", "null"):
            r = _preflight(root, origin)
            assert r.header("Access-Control-Allow-Origin") is None, f"preflight from {origin}: {r}"
            assert r.status not in (500, 502), r
            r = http("GET", root + "/api/v1/me", token=admin_token(), headers={"Origin": origin})
            assert r.status == 200 and r.header("Access-Control-Allow-Origin") is None, r


def test_request_id_is_logged():
    rid = "bb-" + sfx()
    expect(http("GET", direct("/api/v1/me"), token=admin_token(), headers={"X-Request-Id": rid}), 200)
    poll(lambda: any(rid in text for name, text in logs().items() if "accounts" in name), 5,
         f"request id {rid} in the accounts log")
