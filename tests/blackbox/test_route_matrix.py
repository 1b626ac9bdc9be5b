"""Role × route matrix (issue 7, "Suites that keep it so").

The routes come from the binaries: `itgov-<service> --routes` prints each
service's route table (its own routes and the internal ones every service
adds, shared/src/service.c), plus the built-ins every HTTP server answers
(s_builtin_paths in shared/src/http.c). Every route is called as every
caller: no token, one user of each role (all six in one department), a
disabled user's token, and the system-level key (ITGOV_INTERNAL_KEY as a
Bearer token). /api/v1 routes go through the gateway; internal routes and the
built-ins to each service's own port.

What each caller may do is ONE table below (MATRIX): the callers that get
past authorization. A caller not in the row gets 401 when it has no valid
session (no token, a disabled user's, the internal key on the public API)
and 403 otherwise (or 404 where the row says the codebase hides existence);
a caller in the row gets anything but 401/403 (and no 5xx). A route without
a row, or a row without a route, fails the test. Path ids are filled per row:
an existing record where reading it is harmless, else an id that does not
exist; writes send {} — only authorization is judged, so nothing changes.
The gateway must answer 404 to the internal routes and the built-ins, even
with the internal key.
"""
import glob
import json
import os
import re
import subprocess
import sys

from client import admin_token, cfg, expect, http, login, make_department, make_user
from projects_flow import project_body

ORDER = 60
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVICES = ("accounts", "projects", "approvals", "audit")
ROLES = ("admin", "it_office", "applicant", "expert", "secretary", "auditor")
NO_SESSION = ("none", "disabled", "internal_key")  # callers without a valid session
CALLERS = NO_SESSION[:1] + ROLES + NO_SESSION[1:]

# who gets past authorization
PUBLIC = frozenset(CALLERS)
ANY_ROLE = frozenset(ROLES)
INTERNAL = frozenset({"internal_key"})
MISSING = "999999999"  # an id no record has
# in --routes: a system key (shared/include/itgov/syskey.h) may call the route
# too; not a caller here (test_metrics_usage.py proves a key on every other
# route is 401)
SYSTEM = frozenset({"system"})

# (METHOD, path as in the route table): (callers allowed, id to fill in, query,
# callers for whom a 404 is an allowed refusal because the codebase hides existence)
MATRIX = {
    # accounts
    ("POST", "/api/v1/sessions"): (PUBLIC, None, ""),
    ("GET", "/api/v1/sessions"): ({"admin"}, None, "?limit=1"),
    ("DELETE", "/api/v1/sessions/current"): (ANY_ROLE, None, ""),  # with a throwaway session each
    ("DELETE", "/api/v1/sessions/:id"): ({"admin"}, MISSING, ""),
    ("GET", "/api/v1/me"): (ANY_ROLE, None, ""),
    ("PUT", "/api/v1/me/password"): (ANY_ROLE, None, ""),  # {}: 400, nothing counted or changed
    ("POST", "/api/v1/departments"): ({"admin"}, None, ""),
    ("GET", "/api/v1/departments"): (ANY_ROLE, None, "?limit=1"),
    ("GET", "/api/v1/departments/:id"): (ANY_ROLE, "dept", ""),
    ("POST", "/api/v1/users"): ({"admin"}, None, ""),
    ("GET", "/api/v1/users"): ({"admin", "auditor"}, None, "?limit=1"),
    # another user's account: admins and auditors only (one's own: everyone)
    ("GET", "/api/v1/users/:id"): ({"admin", "auditor"}, "target", ""),
    ("PATCH", "/api/v1/users/:id"): ({"admin"}, "target", ""),  # {}: changes nothing
    ("POST", "/api/v1/users/:id/disable"): ({"admin"}, MISSING, ""),
    ("POST", "/api/v1/users/:id/enable"): ({"admin"}, MISSING, ""),
    # projects
    ("POST", "/api/v1/plans"): ({"it_office"}, None, ""),
    ("GET", "/api/v1/plans"): (ANY_ROLE, None, "?limit=1"),
    ("GET", "/api/v1/plans/:id"): (ANY_ROLE, MISSING, ""),
    ("PATCH", "/api/v1/plans/:id"): ({"it_office"}, MISSING, ""),
    ("POST", "/api/v1/plans/:id/submit"): ({"it_office"}, MISSING, ""),
    ("POST", "/api/v1/projects"): ({"applicant"}, None, ""),
    ("GET", "/api/v1/projects"): (ANY_ROLE, None, "?limit=1"),
    ("GET", "/api/v1/projects/:id"): (ANY_ROLE, "project", ""),
    ("PATCH", "/api/v1/projects/:id"): ({"applicant"}, MISSING, ""),
    ("POST", "/api/v1/projects/:id/submit"): ({"applicant"}, MISSING, ""),
    ("GET", "/api/v1/projects/:id/history"): (ANY_ROLE, "project", ""),
    # issue 10: implementation plan and milestones
    ("PUT", "/api/v1/projects/:id/implementation-plan"): ({"applicant"}, MISSING, ""),
    ("GET", "/api/v1/projects/:id/implementation-plan"): (ANY_ROLE, "project", ""),
    ("GET", "/api/v1/projects/:id/implementation-plan/revisions"): (ANY_ROLE, "project", "?limit=1"),
    ("GET", "/api/v1/projects/:id/milestones"): (ANY_ROLE, "project", "?limit=1"),
    ("POST", "/api/v1/projects/:id/milestones/:mid/complete"): ({"applicant"}, MISSING, ""),
    ("GET", "/api/v1/milestones/overdue"): ({"it_office", "auditor"}, None, "?limit=1"),

    # issue 10: contracts, deliverables, acceptance
    ("POST", "/api/v1/projects/:id/contracts"): ({"applicant"}, MISSING, ""),
    ("GET", "/api/v1/projects/:id/contracts"): (ANY_ROLE, "project", "?limit=1"),
    ("GET", "/api/v1/contracts/:cid"): (ANY_ROLE, MISSING, ""),
    ("POST", "/api/v1/projects/:id/deliverables"): ({"applicant"}, MISSING, ""),
    ("GET", "/api/v1/projects/:id/deliverables"): (ANY_ROLE, "project", "?all=true&limit=1"),
    ("POST", "/api/v1/projects/:id/acceptance-request"): ({"applicant"}, MISSING, ""),

    # issue 10: asset, payments, go-live
    ("POST", "/api/v1/projects/:id/asset"): ({"applicant"}, MISSING, ""),
    ("GET", "/api/v1/projects/:id/asset"): (ANY_ROLE, MISSING, ""),
    ("POST", "/api/v1/projects/:id/payments"): ({"applicant"}, MISSING, ""),
    ("GET", "/api/v1/projects/:id/payments"): (ANY_ROLE, MISSING, "?limit=1"),
    ("GET", "/api/v1/projects/:id/payments/:pid"): (ANY_ROLE, MISSING, ""),
    ("POST", "/api/v1/projects/:id/go-live"): ({"applicant"}, MISSING, ""),
    ("GET", "/api/v1/projects/:id/go-live"): (ANY_ROLE, MISSING, ""),

    # issue 10: dossier
    ("GET", "/api/v1/projects/:id/dossier"): (ANY_ROLE, "project", ""),

    # issue 11 E: system accounts, access reviews
    ("POST", "/api/v1/projects/:id/system-accounts"): ({"it_office", "applicant"}, MISSING, ""),
    ("GET", "/api/v1/projects/:id/system-accounts"): (ANY_ROLE, "project", "?limit=1"),
    ("GET", "/api/v1/system-accounts/:aid"): (ANY_ROLE, MISSING, ""),
    ("POST", "/api/v1/system-accounts/:aid/revoke"): ({"it_office", "applicant"}, MISSING, ""),
    ("GET", "/api/v1/access-reviews/findings"): ({"admin", "auditor"}, None, ""),
    ("POST", "/api/v1/access-reviews"): ({"admin"}, None, ""),  # {}: 400, nothing recorded
    ("GET", "/api/v1/access-reviews"): ({"admin", "auditor"}, None, "?limit=1"),
    ("GET", "/api/v1/access-reviews/:id"): ({"admin", "auditor"}, MISSING, ""),

    # issue 11 F: spot checks, backups, media
    ("POST", "/api/v1/projects/:id/spot-checks"): ({"it_office"}, MISSING, ""),
    ("GET", "/api/v1/projects/:id/spot-checks"): (ANY_ROLE, "project", "?limit=1"),
    ("GET", "/api/v1/spot-checks"): ({"it_office", "auditor", "admin"}, None, "?limit=1"),
    ("POST", "/api/v1/projects/:id/backups"): ({"applicant", "it_office"}, MISSING, ""),
    ("GET", "/api/v1/projects/:id/backups"): (ANY_ROLE, "project", "?limit=1"),
    ("GET", "/api/v1/backups/stale"): ({"it_office", "auditor", "admin"}, None, "?limit=1"),
    ("POST", "/api/v1/media"): ({"it_office"}, None, ""),  # {}: 400, nothing registered
    ("GET", "/api/v1/media"): ({"it_office", "auditor", "admin"}, None, "?limit=1"),
    ("GET", "/api/v1/media/:id"): ({"it_office", "auditor", "admin"}, MISSING, ""),
    ("POST", "/api/v1/media/:id/transfers"): ({"it_office"}, MISSING, ""),

    # issue 11 G: changes
    ("POST", "/api/v1/projects/:id/changes"): ({"applicant"}, MISSING, ""),
    ("GET", "/api/v1/projects/:id/changes"): (ANY_ROLE, "project", "?limit=1"),
    ("GET", "/api/v1/changes/:id"): (ANY_ROLE, MISSING, ""),
    ("POST", "/api/v1/changes/:id/implemented"): ({"applicant"}, MISSING, ""),

    # issue 11 H: fees
    ("PUT", "/api/v1/projects/:id/fee-agreement"): ({"it_office"}, MISSING, ""),
    ("GET", "/api/v1/projects/:id/fee-agreement"): (ANY_ROLE, "project", ""),
    ("GET", "/api/v1/projects/:id/fee-agreement/revisions"): (ANY_ROLE, "project", "?limit=1"),
    ("POST", "/api/v1/projects/:id/fees"): ({"it_office"}, MISSING, ""),
    ("GET", "/api/v1/projects/:id/fees"): (ANY_ROLE, "project", "?limit=1"),
    ("GET", "/api/v1/fees/summary"): ({"it_office", "auditor", "admin"}, None, "?year=2026"),
    ("GET", "/api/v1/fees/:id"): (ANY_ROLE, MISSING, ""),
    ("POST", "/api/v1/fee-uses"): ({"it_office"}, None, ""),  # {}: 400, nothing recorded
    ("GET", "/api/v1/fee-uses"): ({"it_office", "auditor", "admin"}, None, "?limit=1"),
    ("GET", "/api/v1/fee-uses/:id"): ({"it_office", "auditor", "admin"}, MISSING, ""),

    # issue 12 A: information requests, rectifications, shared results
    ("POST", "/api/v1/projects/:id/rectifications"): ({"it_office"}, MISSING, ""),
    ("GET", "/api/v1/projects/:id/rectifications"): (ANY_ROLE, "project", "?limit=1"),
    ("GET", "/api/v1/rectifications/:id"): (ANY_ROLE, MISSING, ""),
    ("POST", "/api/v1/rectifications/:id/response"): ({"applicant"}, MISSING, ""),
    ("POST", "/api/v1/rectifications/:id/verify"): ({"it_office"}, MISSING, ""),
    ("POST", "/api/v1/projects/:id/info-requests"): ({"it_office"}, MISSING, ""),
    ("GET", "/api/v1/projects/:id/info-requests"): (ANY_ROLE, "project", "?limit=1"),
    ("GET", "/api/v1/info-requests/:id"): (ANY_ROLE, MISSING, ""),
    ("POST", "/api/v1/info-requests/:id/answer"): ({"applicant"}, MISSING, ""),
    ("POST", "/api/v1/projects/:id/shared-results"): ({"it_office"}, MISSING, ""),
    ("GET", "/api/v1/shared-results"): (ANY_ROLE, None, "?limit=1"),
    ("GET", "/api/v1/shared-results/:id"): (ANY_ROLE, MISSING, ""),

    # issue 12 B: escalation, suspension, termination, resume
    ("POST", "/api/v1/projects/:id/resume"): ({"it_office"}, MISSING, ""),
    ("GET", "/api/v1/projects/:id/resume-requests"): (ANY_ROLE, "project", "?limit=1"),

    # issue 12 D: usage metrics and metrics keys
    ("POST", "/api/v1/projects/:id/metrics-key"): ({"it_office"}, MISSING, ""),
    ("GET", "/api/v1/projects/:id/metrics-key"): ({"it_office", "auditor", "admin"}, MISSING, ""),
    ("POST", "/api/v1/metrics/usage"): ({"it_office"}, None, ""),  # {}: 400
    ("GET", "/api/v1/metrics/usage"): ({"it_office", "auditor", "admin", "applicant"}, None,
                                       "?project_id=" + MISSING),
    ("GET", "/api/v1/metrics/usage/:id"): ({"it_office", "auditor", "admin", "applicant"}, MISSING, ""),

    # issue 12 E: evaluations
    # readers: every role but experts (applicants: their own department's)
    ("GET", "/api/v1/evaluations/projects/:id"): (ANY_ROLE - {"expert"}, "project", ""),
    ("GET", "/api/v1/evaluations/departments/:id"): (ANY_ROLE - {"expert"}, "dept", ""),
    ("POST", "/api/v1/evaluations/departments/:id/publish"): ({"it_office"}, MISSING, ""),  # 404
    ("GET", "/api/v1/evaluations/departments/:id/published"): (ANY_ROLE - {"expert"}, "dept", "?limit=1"),

    # issue 13: tasks (me/tasks)
    ("GET", "/api/v1/me/tasks"): (ANY_ROLE, None, "?limit=1"),
    ("GET", "/api/v1/me/tasks/summary"): (ANY_ROLE, None, ""),

    # issue 14 A: system keys and findings
    ("POST", "/api/v1/projects/:id/system-keys"): ({"it_office"}, MISSING, ""),
    ("GET", "/api/v1/projects/:id/system-keys"): ({"it_office", "auditor", "admin"}, MISSING, ""),
    ("POST", "/api/v1/system-keys/:key_id/revoke"): ({"it_office"}, MISSING, ""),
    ("GET", "/api/v1/systems/findings"): ({"it_office", "auditor", "admin"}, None, "?limit=1"),
    ("POST", "/api/v1/systems/findings/:id/resolve"): ({"it_office"}, MISSING, ""),
    # issue 14 B: log digests
    # a system key of the project only (no person); test_log_digests.py proves the keys
    ("POST", "/api/v1/systems/:id/log-digests"): (frozenset(), "project", ""),
    ("POST", "/api/v1/log-digests/verify"): ({"it_office", "auditor", "admin"}, None, ""),  # {}: 400
    ("GET", "/api/v1/log-digests/:id"): ({"it_office", "auditor", "admin"}, MISSING, ""),
    # issue 14 C: configuration fingerprints
    # a system key with the scope config only (test_config_fingerprints.py): every person 403
    ("POST", "/api/v1/systems/:id/config-fingerprints"): (frozenset(), MISSING, ""),

    # approvals
    ("GET", "/api/v1/approvals"): (ANY_ROLE, None, "?limit=1"),
    ("GET", "/api/v1/approvals/:id"): (ANY_ROLE, MISSING, ""),
    ("POST", "/api/v1/approvals/:id/experts"): ({"it_office"}, MISSING, ""),
    ("POST", "/api/v1/approvals/:id/opinions"): ({"it_office", "expert"}, MISSING, ""),
    ("POST", "/api/v1/approvals/:id/review"): ({"it_office"}, MISSING, ""),
    ("POST", "/api/v1/approvals/:id/decision"): ({"secretary"}, MISSING, ""),
    # audit
    ("GET", "/api/v1/audit"): ({"admin", "it_office", "auditor"}, None, "?limit=1"),
    ("GET", "/api/v1/audit/verify"): ({"admin", "auditor"}, None, ""),
    ("GET", "/api/v1/audit/checkpoint"): (PUBLIC, None, ""),
    ("GET", "/api/v1/audit/public-key"): (PUBLIC, None, ""),
    ("GET", "/api/v1/audit/proof/inclusion"): (PUBLIC, None, ""),
    ("GET", "/api/v1/audit/proof/consistency"): (PUBLIC, None, ""),
    # a session of an admin or auditor, or a subscription secret (never the internal key)
    ("GET", "/api/v1/events"): ({"admin", "auditor"}, None, "?after=0&limit=1"),
    ("GET", "/api/v1/events/keys"): (PUBLIC, None, ""),  # the CURVE server keys subscribers need
    ("POST", "/api/v1/subscriptions"): ({"admin"}, None, ""),
    ("GET", "/api/v1/subscriptions"): ({"admin"}, None, "?limit=1"),
    ("GET", "/api/v1/subscriptions/:id"): ({"admin"}, MISSING, ""),
    ("POST", "/api/v1/subscriptions/:id/replay"): ({"admin"}, MISSING, ""),
    ("POST", "/api/v1/subscriptions/:id/disable"): ({"admin"}, MISSING, ""),
    # every service, on its own port: the internal API and the scraper's /metrics
    # take the internal key and nothing else (issue 7 item 4); the probes are open
    ("GET", "/internal/v1/outbox"): (INTERNAL, None, "?after=0&limit=1"),
    ("GET", "/metrics"): (INTERNAL, None, ""),
    ("GET", "/healthz"): (PUBLIC, None, ""),
    ("GET", "/readyz"): (PUBLIC, None, ""),
}
# Rows whose refused callers may get 404 instead of 403 (existence hidden): none today.
HIDES = {}


def binary(service):
    d = os.environ.get("ITGOV_BUILD_DIR") or os.path.join(ROOT, "build-test")
    d = d if os.path.isabs(d) else os.path.join(ROOT, d)
    return os.path.join(d, "bin", f"itgov-{service}")


def service_routes(service):
    """[{method, path, roles}] printed by the binary."""
    exe = binary(service)
    assert os.access(exe, os.X_OK), f"{exe} is not built"
    p = subprocess.run([exe, "--routes"], capture_output=True, text=True, timeout=30,
                       env={k: v for k, v in os.environ.items() if not k.startswith("ITGOV_")})
    assert p.returncode == 0, f"{exe} --routes: exit {p.returncode}: {p.stderr[-500:]}"
    rows = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    assert rows, f"{exe} --routes printed no route"
    for r in rows:
        assert set(r) == {"method", "path", "roles"} and (r["roles"] in ("public", "internal") or (
            isinstance(r["roles"], list) and r["roles"] and set(r["roles"]) <= set(ROLES) | SYSTEM)), \
            f"{service} --routes: a row this test does not understand: {r}"
    return rows


def builtin_paths():
    """The GET paths every HTTP server answers itself (shared/src/http.c)."""
    with open(os.path.join(ROOT, "shared", "src", "http.c"), encoding="utf-8") as f:
        m = re.search(r"s_builtin_paths\s*\[[^\]]*\]\s*=\s*\{([^}]*)\}", f.read())
    assert m, "shared/src/http.c: s_builtin_paths not found"
    paths = re.findall(r'"(/[^"]*)"', m.group(1))
    assert "/metrics" in paths, paths
    return paths


def all_routes():
    """{(METHOD, path): {service: declared roles}} over every service."""
    out = {}
    services = sorted(os.path.basename(os.path.dirname(os.path.dirname(p)))
                      for p in glob.glob(os.path.join(ROOT, "services", "*", "src", "routes.c")))
    assert services == sorted(SERVICES), f"services with a route table: {services}"
    for svc in services:
        for r in service_routes(svc):
            out.setdefault((r["method"], r["path"]), {})[svc] = r["roles"]
        for path in builtin_paths():
            out.setdefault(("GET", path), {})[svc] = "builtin"
    return out


def test_every_route_has_exactly_one_row_and_the_rows_fit_the_route_tables():
    routes = all_routes()
    no_row = sorted(f"{m} {p} ({', '.join(sorted(s))})" for (m, p), s in routes.items() if (m, p) not in MATRIX)
    no_route = sorted(f"{m} {p}" for (m, p) in MATRIX if (m, p) not in routes)
    assert not no_row, f"routes without a row in MATRIX (test_route_matrix.py): {no_row}"
    assert not no_route, f"rows in MATRIX without a route in any binary: {no_route}"
    # a role the route table refuses cannot be allowed by the row; an internal
    # route is the internal key's alone
    for key, by_svc in routes.items():
        allowed = set(MATRIX[key][0])
        for svc, roles in by_svc.items():
            if isinstance(roles, list):
                extra = (allowed & set(ROLES)) - set(roles)
                assert not extra, f"{key} on {svc}: the row allows {extra}, the route table only {roles}"
            if roles == "internal":
                assert allowed == INTERNAL, f"{key} on {svc}: internal in the route table, the row allows {allowed}"


class Callers:
    """The tokens of every caller, made once."""

    def __init__(self):
        dept = make_department()["id"]
        self.dept = dept
        self.users = {role: make_user((role,), dept=dept) for role in ROLES}
        self.target = make_user(("applicant",), dept=dept, login_now=False)
        self.project = expect(http("POST", "/projects", project_body(), token=self.users["applicant"]["token"]),
                              201)["id"]
        gone = make_user(("applicant",), dept=dept)
        expect(http("POST", f"/users/{gone['id']}/disable", token=admin_token()), 200)
        self.tokens = {role: u["token"] for role, u in self.users.items()}
        self.tokens["none"] = None
        self.tokens["disabled"] = gone["token"]
        self.tokens["internal_key"] = cfg("ITGOV_INTERNAL_KEY")

    def token(self, caller, key):
        if key == ("DELETE", "/api/v1/sessions/current") and caller in ROLES:
            u = self.users[caller]
            return login(u["username"], u["password"])  # a session of its own to end
        return self.tokens[caller]

    def fill(self, path, what):
        value = {"dept": self.dept, "target": self.target["id"], "project": self.project}.get(what, what)
        return re.sub(r":[A-Za-z_]+", str(value), path)


def service_url(svc):
    return cfg(f"ITGOV_TEST_{svc.upper()}_URL").rstrip("/")


def judge(key, caller, r, hides):
    allowed = caller in MATRIX[key][0]
    if allowed:
        if r.status in (401, 403) or r.status >= 500:
            return f"{caller} {r.status} (allowed: {r.text[:80]!r})"
        return None
    if caller in NO_SESSION or MATRIX[key][0] == INTERNAL:  # internal: the key or 401
        want = {401}
    else:
        want = {403, 404} if caller in hides else {403}
    if r.status not in want:
        return f"{caller} {r.status} (want {'/'.join(map(str, sorted(want)))})"
    return None


def test_every_caller_against_every_route():
    routes = all_routes()
    who = Callers()
    gateway = cfg("ITGOV_TEST_BASE").rstrip("/")[: -len("/api/v1")]
    wrong = []
    for key in sorted(routes, key=lambda k: (k[1], k[0])):
        if key not in MATRIX:
            wrong.append(f"{key}: no row")
            continue
        method, path = key
        _, fill, query = MATRIX[key]
        hides = HIDES.get(key, set())
        concrete = who.fill(path, fill) + query
        if path.startswith("/api/"):
            targets = [("gateway", gateway + concrete)]
        else:
            targets = [(svc, service_url(svc) + concrete) for svc in sorted(routes[key])]
            # the gateway serves none of them, whatever the credential
            for caller in ("none", "admin", "internal_key"):
                r = http(method, gateway + concrete, token=who.token(caller, key))
                if r.status != 404:
                    wrong.append(f"{method} {path} via gateway as {caller}: {r.status} (want 404)")
        for where, url in targets:
            bad = []
            for caller in CALLERS:
                body = {} if method in ("POST", "PUT", "PATCH") else None
                r = http(method, url, body, token=who.token(caller, key))
                b = judge(key, caller, r, hides)
                if b:
                    bad.append(b)
            if bad:
                wrong.append(f"{method} {path} via {where}: " + ", ".join(bad))
    if wrong:
        print("route matrix: answers that differ from MATRIX:\n  " + "\n  ".join(wrong), file=sys.stderr)
    assert not wrong, f"{len(wrong)} route(s) answer differently from MATRIX:\n" + "\n".join(wrong)
