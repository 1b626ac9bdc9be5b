"""Helpers for the audit tests: the log over REST and SQL, the public ZeroMQ
feed, the independent verifier program."""
import glob
import hashlib
import json
import os
import subprocess
import tempfile
import time

from client import Subscriber, audit_feed_public, cfg, expect, http, make_user, poll, psql

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SOURCES = ("accounts", "projects", "approvals", "audit")
CATCH_UP_S = 45

_tokens = {}


def audit_url(path=""):
    return cfg("ITGOV_TEST_AUDIT_URL").rstrip("/") + "/api/v1/audit" + path


def auditor_token():
    # a session may have ended meanwhile (expiry, a test ending sessions): check, renew
    tok = _tokens.get("auditor")
    if tok is None or http("GET", "/me", token=tok).status == 401:
        _tokens["auditor"] = make_user(roles=("auditor",))["token"]
    return _tokens["auditor"]


def entries(token=None, **query):
    """Every entry matching the filters, following next_cursor."""
    import urllib.parse
    out, after = [], query.pop("after", 0)
    while True:
        q = dict(query, after=after, limit=200)
        b = expect(http("GET", audit_url("?" + urllib.parse.urlencode(q)), token=token or auditor_token()), 200)
        out += b["items"]
        if b["next_cursor"] is None:
            return out
        after = int(b["next_cursor"])


def verify(token=None):
    return expect(http("GET", audit_url("/verify"), token=token or auditor_token(), timeout=120), 200)


def sql_rows(sql):
    return [line.split("|") for line in psql(sql).splitlines() if line]


def schemas_with_outbox():
    return [r[0] for r in sql_rows(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox' "
        "AND table_schema IN ('accounts', 'projects', 'approvals', 'audit')")]


def missing_from_log(schema):
    """Ids of the schema's sequenced outbox events that the log lacks."""
    return [r[0] for r in sql_rows(
        f"SELECT o.event->>'id' FROM {schema}.outbox o WHERE o.seq IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM audit.entries e WHERE e.event_id = (o.event->>'id')::uuid) LIMIT 20")]


def check_log_matches_outboxes(timeout=CATCH_UP_S):
    """Every sequenced outbox event of every service is in the log exactly
    once, and each source's events are in the log in their sourceseq order."""
    for schema in schemas_with_outbox():
        poll(lambda s=schema: psql(f"SELECT count(*) FROM {s}.outbox WHERE seq IS NULL").strip() == "0",
             timeout, f"{schema}'s relay sequencing its outbox")
        poll(lambda s=schema: not missing_from_log(s), timeout,
             f"every event of {schema}'s outbox in the audit log (missing: {missing_from_log(schema)[:5]})")
        n_out = int(psql(f"SELECT count(*) FROM {schema}.outbox WHERE seq IS NOT NULL").strip())
        n_log = int(psql(f"SELECT count(*) FROM audit.entries WHERE source = '/itgov/{schema}'").strip())
        assert n_log == n_out, f"{schema}: {n_out} events in the outbox, {n_log} in the audit log"
        disorder = psql(
            "SELECT count(*) FROM (SELECT (cloudevent::jsonb->>'sourceseq')::bigint AS s, "
            "lag((cloudevent::jsonb->>'sourceseq')::bigint) OVER (ORDER BY seq) AS p "
            f"FROM audit.entries WHERE source = '/itgov/{schema}') x WHERE s <= p").strip()
        assert disorder == "0", f"{schema}: {disorder} entries out of their source's order"
    dups = psql("SELECT count(*) - count(DISTINCT event_id) FROM audit.entries").strip()
    assert dups == "0", f"{dups} duplicated events in the log"
    holes = psql("SELECT coalesce(max(seq), 0) - count(*) FROM audit.entries").strip()
    assert holes == "0", f"seq is not gap-free: {holes} numbers missing"


def log_size():
    return int(psql("SELECT coalesce(max(seq), 0) FROM audit.entries").strip())


def FeedSubscriber(prefix="", **curve):
    """Collects [topic][CloudEvent] from the audit service's PUB socket (with
    the test client's CURVE keys unless curve= says otherwise)."""
    return Subscriber(prefix, endpoint=cfg("ITGOV_TEST_AUDIT_PUB"),
                      server_key=curve.pop("server_key", None) or audit_feed_public(), **curve)


def verifier():
    """The audit-verify program of the build the stack runs."""
    build = os.environ.get("ITGOV_BUILD_DIR", "build-test")
    cands = [os.path.join(build if os.path.isabs(build) else os.path.join(ROOT, build), "bin", "audit-verify")]
    cands += sorted(glob.glob(os.path.join(ROOT, "build*", "bin", "audit-verify")))
    for c in cands:
        if os.access(c, os.X_OK):
            return c
    raise AssertionError(f"audit-verify not built (looked at {cands[0]})")


def run_verifier(*args):
    """Runs audit-verify; dict/list arguments are written to temp files.
    Returns (exit status, output)."""
    files, argv = [], [verifier()]
    try:
        for a in args:
            if isinstance(a, (dict, list)):
                f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
                json.dump(a, f)
                f.close()
                files.append(f.name)
                argv.append(f.name)
            elif isinstance(a, bytes):
                f = tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False)
                f.write(a)
                f.close()
                files.append(f.name)
                argv.append(f.name)
            else:
                argv.append(str(a))
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout + p.stderr
    finally:
        for f in files:
            os.unlink(f)


def chain_hash(prev_hex, raw):
    return hashlib.sha256(bytes.fromhex(prev_hex) + raw).hexdigest()


def wait_logged(pred, token=None, timeout=CATCH_UP_S, what="entries", **query):
    return poll(lambda: [e for e in entries(token, **query) if pred(e)], timeout, what)


def settle(timeout=CATCH_UP_S):
    """Waits until the log holds everything the outboxes hold."""
    check_log_matches_outboxes(timeout)
    time.sleep(0.2)
