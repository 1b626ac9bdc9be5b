"""Runs after every other test: the secrets scan (issue 7, "Secrets").

Scanned: every HTTP answer the suite received through client.http (status
line, headers, body: the spool file client.py writes), every event of the
public feed (GET /api/v1/events, all pages) and of the audit log (GET
/api/v1/audit, all pages), and every line of every *.log in ITGOV_TEST_LOGS
(services, broker, gateway, Redis, PostgreSQL).

Looked for: every secret the suite knows, each also URL- and JSON-escaped:
the admin password, every password the services accepted from the tests,
every session token issued, every webhook secret shown, and the stack's own
ITGOV_INTERNAL_KEY, ITGOV_SESSION_MAC_KEY, ITGOV_*_REDIS_PASSWORD,
ITGOV_*_CURVE_SECRET, the database passwords of ITGOV_*_DATABASE_URL and the
test subscriber's CURVE secret. Allowed: a session token in the body of the
login answer that issued it, a webhook secret in the body of the answer that
created (or rotated) it; nothing else, anywhere.

A finding names the secret's kind (never the secret) and where it was.
test_the_scanner_finds_planted_secrets proves the scanner sees what it must.
"""
import bisect
import json
import os
import re
import tempfile
import urllib.parse

import client
from client import (SECRET_KINDS, admin_token, cfg, direct, expect, gateway_root, http, make_user, problem,
                    spool_path)

ORDER = 1000  # after everything else (test_secrets.py and the audit's final check are 99)
MIN_LEN = 8  # shorter values would match by chance; none of the suite's secrets is that short
MAX_REPORTED = 60

# the stack's own secrets, by environment variable (public keys excluded)
ENV_SECRET = re.compile(r"^ITGOV_\w*(PASSWORD|_SECRET|_KEY)$")
DB_PASSWORD = re.compile(r"(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)|^[a-z]+://[^:/@]*:([^@]*)@")


def env_secrets(environ=None):
    """{value: kind} of the secrets in the stack's environment."""
    environ = os.environ if environ is None else environ
    out = {}
    for name, value in sorted(environ.items()):
        if not value or "PUBLIC" in name:
            continue
        if ENV_SECRET.match(name):
            out.setdefault(value, name)
        if name.startswith("ITGOV_") and name.endswith("DATABASE_URL"):
            for m in DB_PASSWORD.finditer(value):
                pw = m.group(1) or m.group(2)
                if pw and pw.startswith("'"):
                    pw = re.sub(r"\\(.)", r"\1", pw[1:-1])
                if pw:
                    out.setdefault(urllib.parse.unquote(pw) if m.group(2) else pw,
                                   f"database password in {name}")
    return out


def known_secrets():
    """{value: kind}: the suite's own secrets, then the stack's."""
    client.admin_password()
    out = {v: k for v, k in SECRET_KINDS.items()}
    for v, k in env_secrets().items():
        out.setdefault(v, k)
    for s in client.SECRETS:  # tests that add to SECRETS directly
        out.setdefault(s, "secret used by a test")
    return {v: k for v, k in out.items() if isinstance(v, str) and len(v) >= MIN_LEN}


def variants(value):
    """The value as it may be written: plain, URL-encoded, JSON-escaped."""
    vs = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value),
          json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    return sorted(vs, key=len)


class Corpus:
    """Many texts in one string, each with a label; finds every secret in all
    of them with one str.find pass per secret form (fast: C memchr/two-way)."""

    SEP = "\x00\n"

    def __init__(self):
        self.parts, self.starts, self.labels, self.allow = [], [], [], []
        self.size = 0

    def add(self, text, label, allow=()):
        self.starts.append(self.size)
        self.labels.append(label)
        self.allow.append(frozenset(allow))
        self.parts.append(text)
        self.parts.append(self.SEP)
        self.size += len(text) + len(self.SEP)

    def findings(self, secrets):
        """[(kind, label, context)] for each text holding a secret it may not show."""
        blob = "".join(self.parts)
        out = []
        for value, kind in secrets.items():
            seen = set()
            for form in variants(value):
                pos = blob.find(form)
                while pos >= 0:
                    i = bisect.bisect_right(self.starts, pos) - 1
                    if value not in self.allow[i] and (i, pos) not in seen:
                        seen.add((i, pos))
                        out.append((kind, self.labels[i], context(blob, pos, form, self.starts[i],
                                                                  self.starts[i] + len(self.parts[2 * i]))))
                    pos = blob.find(form, pos + 1)
        return out


def context(blob, pos, form, lo, hi):
    """Some text around a hit, the secret itself masked."""
    a, b = max(lo, pos - 60), min(hi, pos + len(form) + 60)
    return (blob[a:pos] + "<SECRET>" + blob[pos + len(form):b]).replace("\n", "\\n")


def line_label(name, text):
    """label(pos) → 'name line N', with the line offsets computed once."""
    offsets = [0] + [m.end() for m in re.finditer("\n", text)]
    return lambda pos: f"{name} line {bisect.bisect_right(offsets, pos)}"


def add_spool(corpus, path):
    """Each answer in two texts: status line + headers (nothing allowed) and
    body (a login's own token, a webhook's own secret allowed)."""
    n = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            n += 1
            url = rec["url"].split("?")[0] + ("?..." if "?" in rec["url"] else "")  # no secret in labels
            what = f"answer #{rec['n']} ({rec['method']} {url} -> {rec['status']})"
            head = f"HTTP/1.1 {rec['status']} {rec.get('reason', '')}\n" + "".join(
                f"{k}: {v}\n" for k, v in rec["headers"])
            corpus.add(head, what + " status line/headers")
            corpus.add(rec["body"], what + " body", allow=rec.get("allow") or ())
    return n


def add_logs(corpus, directory):
    """Every line of every *.log: one text per line (labels name file and line)."""
    names = sorted(f for f in os.listdir(directory) if f.endswith(".log"))
    for name in names:
        with open(os.path.join(directory, name), "rb") as fh:
            text = fh.read().decode("utf-8", "replace")
        for i, line in enumerate(text.split("\n"), 1):
            if line:
                corpus.add(line, f"{name} line {i}")
    return names


def add_events(corpus, token):
    """Every event of GET /events (all pages) and every entry of GET /audit (all pages)."""
    n, after = 0, 0
    for _ in range(10000):
        b = expect(http("GET", f"/events?after={after}&limit=200", token=token), 200)
        if not b["items"]:
            break
        for ev in b["items"]:
            corpus.add(json.dumps(ev, ensure_ascii=False),
                       f"event seq {ev.get('seq')} ({ev.get('type')}) of GET /api/v1/events")
            n += 1
        after = max(int(ev["seq"]) for ev in b["items"])
    m, cursor = 0, None
    for _ in range(10000):
        q = "?limit=200" + (f"&after={cursor}" if cursor is not None else "")
        b = expect(http("GET", "/audit" + q, token=token), 200)
        for e in b["items"]:
            corpus.add(json.dumps(e, ensure_ascii=False),
                       f"audit entry {e.get('seq', e.get('id'))} ({e.get('type')}) of GET /api/v1/audit")
            m += 1
        if b.get("next_cursor") is None:
            break
        cursor = b["next_cursor"]
    return n, m


def report(findings):
    lines = [f"{kind} in {where}: {ctx[:300]}" for kind, where, ctx in findings[:MAX_REPORTED]]
    more = f" (and {len(findings) - MAX_REPORTED} more)" if len(findings) > MAX_REPORTED else ""
    return f"{len(findings)} secret(s) found{more}:\n" + "\n".join(lines)


# ---------------------------------------------------------------- tests


def test_the_scanner_finds_planted_secrets():
    """The scanner is honest: a planted secret is found wherever it is put,
    in each of its written forms, and an allowed place is not reported."""
    env = {"ITGOV_INTERNAL_KEY": "ik-" + "a" * 40, "ITGOV_BROKER_CURVE_PUBLIC": "pub-key-not-secret-0123",
           "ITGOV_X_CURVE_SECRET": "Z85/se+cret=key&more:)", "ITGOV_PROJECTS_REDIS_PASSWORD": "redis-pw-123456",
           "ITGOV_AUDIT_DATABASE_URL": "host=127.0.0.1 port=5 dbname=itgov user=audit password=db-pw-98765",
           "ITGOV_Y_DATABASE_URL": "postgresql://y:uri%2Fpw-4242@127.0.0.1/itgov"}
    found = env_secrets(env)
    assert found == {"ik-" + "a" * 40: "ITGOV_INTERNAL_KEY", "Z85/se+cret=key&more:)": "ITGOV_X_CURVE_SECRET",
                     "redis-pw-123456": "ITGOV_PROJECTS_REDIS_PASSWORD",
                     "db-pw-98765": "database password in ITGOV_AUDIT_DATABASE_URL",
                     "uri/pw-4242": "database password in ITGOV_Y_DATABASE_URL"}, found
    tok, pw, z85 = "tok-" + "b" * 40, "Pw-planted-1234", "Z85/se+cret=key&more:)"
    secrets = {tok: "session token", pw: "password", z85: "ITGOV_X_CURVE_SECRET"}
    with tempfile.TemporaryDirectory() as d:
        spool = os.path.join(d, "s.spool")
        recs = [
            {"n": 1, "method": "POST", "url": "/sessions", "status": 201, "reason": "Created",
             "headers": [["Content-Type", "application/json"]], "body": json.dumps({"token": tok}),
             "allow": [tok]},  # the login's own token: allowed
            {"n": 2, "method": "GET", "url": "/me", "status": 200, "reason": "OK",
             "headers": [["X-Echo", tok]], "body": "{}", "allow": [tok]},  # but never in a header
            {"n": 3, "method": "GET", "url": "/users", "status": 200, "reason": "OK",
             "headers": [], "body": json.dumps({"note": f"was {pw}"}), "allow": []},
            {"n": 4, "method": "GET", "url": "/x", "status": 200, "reason": "OK",
             "headers": [], "body": "k=" + urllib.parse.quote(z85, safe=""), "allow": []},
            {"n": 5, "method": "GET", "url": "/clean", "status": 200, "reason": "OK",
             "headers": [], "body": '{"all": "fine"}', "allow": []},
        ]
        with open(spool, "w", encoding="utf-8") as f:
            f.write("".join(json.dumps(r) + "\n" for r in recs))
        with open(os.path.join(d, "svc.log"), "w", encoding="utf-8") as f:
            f.write('{"msg": "fine"}\n{"msg": "login ' + tok + '"}\n{"msg": "' +
                    json.dumps(z85)[1:-1] + '"}\n')
        corpus = Corpus()
        assert add_spool(corpus, spool) == 5
        assert add_logs(corpus, d) == ["svc.log"]
        corpus.add(json.dumps({"data": {"pw": pw}}), "event seq 7")
        got = sorted((k, w) for k, w, _ in corpus.findings(secrets))
    want = sorted([
        ("session token", "answer #2 (GET /me -> 200) status line/headers"),
        ("password", "answer #3 (GET /users -> 200) body"),
        ("ITGOV_X_CURVE_SECRET", "answer #4 (GET /x -> 200) body"),
        ("session token", "svc.log line 2"),
        ("ITGOV_X_CURVE_SECRET", "svc.log line 3"),
        ("password", "event seq 7"),
    ])
    assert got == want, f"the scanner found {got}, expected {want}"
    assert "<SECRET>" in report(corpus.findings(secrets)) and tok not in report(corpus.findings(secrets))


def test_a_token_in_the_query_string_is_refused():
    """A probe for the scan below (issue 7 item 5): clients that put a live
    token in the query string get 401, and the token must reach no log, not
    even the gateway's access log."""
    tok = make_user()["token"]
    for name in ("access_token", "token"):
        for root in (gateway_root(), direct()):
            problem(http("GET", f"{root}/api/v1/me?{name}={urllib.parse.quote(tok)}"), 401, "unauthorized")
    expect(http("GET", "/me", token=tok), 200)  # still a live session: worth stealing


def test_no_secret_in_any_answer_event_or_log_of_the_whole_suite():
    path = spool_path()
    assert path and os.path.exists(path), f"no spool of answers at {path}: did client.http record them?"
    corpus = Corpus()
    # events first: their own answers land in the spool, which is read last
    n_events, n_audit = add_events(corpus, admin_token(fresh=True))
    n_answers = add_spool(corpus, path)
    logs = add_logs(corpus, cfg("ITGOV_TEST_LOGS"))
    secrets = known_secrets()
    kinds = set(secrets.values())
    assert n_answers >= 10, f"only {n_answers} answers in the spool: does client.http record them?"
    assert "session token" in kinds and cfg("ITGOV_INTERNAL_KEY") in secrets, sorted(kinds)
    assert n_events > 0 and n_audit > 0, f"{n_events} events, {n_audit} audit entries"
    assert any(n.startswith("gateway") for n in logs) and "accounts.log" in logs, logs
    findings = corpus.findings(secrets)
    assert not findings, (report(findings) + f"\n(scanned {n_answers} answers, {n_events} events, "
                          f"{n_audit} audit entries, logs {logs}, for {len(secrets)} secrets)")
