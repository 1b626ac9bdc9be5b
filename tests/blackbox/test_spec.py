"""api-spec/ and the code agree: every route in a route table is in
openapi.yaml and every operation in openapi.yaml has a route; asyncapi.yaml
lists every account event. Needs no running stack."""
import glob
import json
import os
import re

ORDER = 5
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
ROW = re.compile(r'\{\s*"?(?:[A-Z]+_)*(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)"?\s*,\s*"(/[^"]*)"')
CONTRACT = {
    ("POST", "/api/v1/sessions"), ("GET", "/api/v1/sessions"), ("DELETE", "/api/v1/sessions/current"),
    ("DELETE", "/api/v1/sessions/{}"), ("GET", "/api/v1/me"), ("PUT", "/api/v1/me/password"),
    ("POST", "/api/v1/departments"), ("GET", "/api/v1/departments"), ("GET", "/api/v1/departments/{}"),
    ("POST", "/api/v1/users"), ("GET", "/api/v1/users"), ("GET", "/api/v1/users/{}"),
    ("PATCH", "/api/v1/users/{}"), ("POST", "/api/v1/users/{}/disable"),
    ("POST", "/api/v1/users/{}/enable"), ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
}
EVENTS = ["user.created", "user.updated", "user.disabled", "user.enabled", "password.changed",
          "session.created", "session.ended", "login.failed", "login.locked"]


def norm(path):
    """/api/v1/users/:id and /api/v1/users/{id} both become /api/v1/users/{}."""
    return re.sub(r"\{[^}/]*\}|:[A-Za-z_][A-Za-z0-9_]*", "{}", path)


def spec_operations():
    """(METHOD, path) pairs under `paths:` in openapi.yaml, read line by line."""
    ops, path, in_paths = set(), None, False
    with open(os.path.join(ROOT, "api-spec", "openapi.yaml"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if not line.startswith(" "):
                in_paths = line.startswith("paths:")
                continue
            if not in_paths:
                continue
            m = re.match(r"^  (/\S*?):\s*$", line) or re.match(r"^  '(/\S*?)':\s*$", line)
            if m:
                path = m.group(1)
                continue
            m = re.match(r"^    ([a-z]+):", line)
            if m and path and m.group(1) in METHODS:
                ops.add((m.group(1).upper(), norm(path)))
    return ops


BUILTINS = re.compile(r"builtin\w*\s*\[[^\]]*\]\s*=\s*\{([^}]*)\}")


def code_routes():
    """(METHOD, path) rows of the services' route tables, plus the GET paths
    every service answers itself (shared/src: an array named *builtin*)."""
    routes = {}
    for fn in sorted(glob.glob(os.path.join(ROOT, "services", "*", "src", "routes.c"))
                     + glob.glob(os.path.join(ROOT, "shared", "src", "*.c"))):
        with open(fn, encoding="utf-8") as f:
            text = f.read()
        where = os.path.relpath(fn, ROOT)
        for m in ROW.finditer(text):
            routes.setdefault((m.group(1), norm(m.group(2))), where)
        for m in BUILTINS.finditer(text):
            for path in re.findall(r'"(/[^"]*)"', m.group(1)):
                routes.setdefault(("GET", norm(path)), where)
    return routes


def test_openapi_documents_the_accounts_contract():
    missing = CONTRACT - spec_operations()
    assert not missing, f"openapi.yaml lacks {sorted(missing)}"


def test_every_route_in_code_is_in_the_spec_and_every_spec_operation_has_a_route():
    assert glob.glob(os.path.join(ROOT, "services", "*", "src", "routes.c")), "no services/*/src/routes.c"
    code, spec = code_routes(), spec_operations()
    undocumented = sorted(f"{m} {p} ({code[(m, p)]})" for m, p in set(code) - spec)
    unrouted = sorted(f"{m} {p}" for m, p in spec - set(code))
    assert not undocumented and not unrouted, \
        f"in code but not in api-spec/openapi.yaml: {undocumented}; in the spec but in no route table: {unrouted}"


def test_asyncapi_lists_every_event_type_named_in_code():
    emitted = {}
    for fn in sorted(glob.glob(os.path.join(ROOT, "services", "*", "src", "*.c"))
                     + glob.glob(os.path.join(ROOT, "services", "*", "migrations", "*.sql"))):
        with open(fn, encoding="utf-8") as f:
            for t in re.findall(r"['\"]itgov\.([a-z_]+(?:\.[a-z_]+)+)['\"]", f.read()):
                emitted.setdefault(t, os.path.relpath(fn, ROOT))
    assert emitted, "no event types found in services/*/src"
    with open(os.path.join(ROOT, "api-spec", "asyncapi.yaml"), encoding="utf-8") as f:
        listed = set(re.findall(r"^\s+name: itgov\.(\S+)\s*$", f.read(), re.M))
    missing = sorted(f"itgov.{t} ({where})" for t, where in emitted.items() if t not in listed)
    assert not missing, f"named in code but not in api-spec/asyncapi.yaml: {missing}"


def test_asyncapi_lists_every_account_event():
    with open(os.path.join(ROOT, "api-spec", "asyncapi.yaml"), encoding="utf-8") as f:
        text = f.read()
    assert re.search(r"^asyncapi: [23]\.", text, re.M), "not an AsyncAPI document"
    for ev in EVENTS:
        assert re.search(rf"^\s+address: account\.{re.escape(ev)}\s*$", text, re.M), f"no channel account.{ev}"
        assert re.search(rf"^\s+name: itgov\.account\.{re.escape(ev)}\s*$", text, re.M), f"no message itgov.account.{ev}"


# ---- the validator every answer and event passes through (spec_check.py) ----

def _answer(method, url, status, body, ctype="application/json", headers=None):
    from client import Resp
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Resp(method, url, status, dict({"Content-Type": ctype}, **(headers or {})), raw)


def _refused(check, *args):
    try:
        check(*args)
    except AssertionError as e:
        return str(e)
    raise AssertionError(f"spec_check accepted {args[0]}")


def test_the_response_check_refuses_what_the_spec_does_not_declare():
    import spec_check
    svc = "http://127.0.0.1:1"  # a service port: no request is sent
    problem = {"type": "about:blank", "title": "Not Found", "status": 404, "code": "not_found",
               "detail": "no such user", "request_id": "x"}
    ok = {"items": [], "next_cursor": None}
    spec_check.check_response(_answer("GET", svc + "/api/v1/users", 200, ok))
    spec_check.check_response(_answer("GET", svc + "/api/v1/users/7", 404, problem,
                                      "application/problem+json"))
    # an undeclared status, a body that does not match, a wrong content type
    assert "not declared" in _refused(spec_check.check_response,
                                      _answer("GET", svc + "/api/v1/users", 404, problem,
                                              "application/problem+json"))
    assert "does not match" in _refused(spec_check.check_response,
                                        _answer("GET", svc + "/api/v1/users", 200, {"items": []}))
    assert "Content-Type" in _refused(spec_check.check_response,
                                      _answer("GET", svc + "/api/v1/users", 200, ok, "text/html"))
    # a path in no route must answer a Problem 404
    assert "problem+json" in _refused(spec_check.check_response,
                                      _answer("GET", svc + "/nowhere", 404, b"<html>", "text/html"))
    # the secret is part of a created subscription, and of nothing else
    sub = {"id": 1, "name": "n", "url": "https://example.org/h", "type_prefixes": [], "cursor": 0,
           "disabled": False, "delivered": 0, "attempts": 0, "last_attempt_at": None,
           "last_success_at": None, "last_error": None, "failing_since": None,
           "next_attempt_at": None, "created_by": 1, "created_at": "2026-01-01T00:00:00Z",
           "updated_at": "2026-01-01T00:00:00Z", "disabled_at": None}
    secret = "whsec_" + "A" * 43 + "="
    spec_check.check_response(_answer("POST", svc + "/api/v1/subscriptions", 201, dict(sub, secret=secret)))
    _refused(spec_check.check_response, _answer("GET", svc + "/api/v1/subscriptions/1", 200,
                                                dict(sub, secret=secret)))
    _refused(spec_check.check_response, _answer("POST", svc + "/api/v1/subscriptions", 201,
                                                dict(sub, extra=1, secret=secret)))


def test_the_event_check_refuses_what_asyncapi_does_not_declare():
    import spec_check
    ev = {"specversion": "1.0", "id": "0f8fad5b-d9cb-469f-a165-70867728950e", "source": "/itgov/accounts",
          "type": "itgov.account.department.created", "subject": "departments/3",
          "time": "2026-01-02T03:04:05Z", "actor": 1, "datacontenttype": "application/json",
          "data": {"id": 3, "code": "X", "name": "x", "kind": "department"}, "sourceseq": 4}
    raw = json.dumps(ev).encode()
    spec_check.check_event("account.department.created", raw, ev)
    for bad, why in ((dict(ev, type="itgov.account.nothing"), "no message"),
                     (dict(ev, specversion="0.3"), "does not match"),
                     ({k: v for k, v in ev.items() if k != "id"}, "id"),
                     (dict(ev, **{"Bad-Name": 1}), "attribute name"),
                     (dict(ev, data={"id": "3"}), "does not match")):
        assert why in _refused(spec_check.check_event, bad["type"][len("itgov."):], raw, bad)
    assert "topic" in _refused(spec_check.check_event, "account.user.created", raw, ev)
