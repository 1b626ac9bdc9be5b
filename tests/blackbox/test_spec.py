"""api-spec/ and the code agree: every route in a route table is in
openapi.yaml and every operation in openapi.yaml has a route; asyncapi.yaml
lists every account event. Needs no running stack."""
import glob
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
