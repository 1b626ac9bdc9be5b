"""Forged events on the broker change nothing, and are reported (issue 7,
item 1); the internal API and /metrics need the internal key (item 4).

The forger is an attacker on the host: a plain ZeroMQ PUB connected to the
broker's XSUB, without keys and, where the stack has CURVE keys, with a
valid key of another service (the projects service's own secret). Each
forgery names its source's next sourceseq, as a real event would. Whatever
the broker lets through, the consumers read every event from its source's
outbox and keep the source's version."""
import json
import os
import time
import uuid

from audit_helpers import audit_url, auditor_token, verify
from client import admin_token, cfg, expect, http, internal_key, make_department, poll, problem, psql
from projects_flow import review, submitted_project, tok, wait_state

ORDER = 62
SERVICES = ("ACCOUNTS", "PROJECTS", "APPROVALS", "AUDIT")


def publish_forged(messages):
    """Publishes [topic][event JSON] messages straight to the broker's XSUB:
    once with no keys, and, when the stack has CURVE keys, once more as a
    CURVE client holding the projects service's secret key. Returns how
    many ways it tried."""
    import zmq
    endpoint = f"tcp://127.0.0.1:{cfg('ITGOV_BROKER_XSUB_PORT')}"
    ways = [None]
    broker_public = os.environ.get("ITGOV_BROKER_CURVE_PUBLIC")
    projects_secret = os.environ.get("ITGOV_PROJECTS_CURVE_SECRET")
    if broker_public and projects_secret and zmq.has("curve"):
        ways.append((projects_secret, broker_public))
    ctx = zmq.Context.instance()
    socks = []
    try:
        for way in ways:
            s = ctx.socket(zmq.PUB)
            s.setsockopt(zmq.LINGER, 1000)
            if way:
                secret, server = way
                s.curve_secretkey = secret.encode()
                s.curve_publickey = zmq.curve_public(secret.encode())
                s.curve_serverkey = server.encode()
            s.connect(endpoint)
            socks.append(s)
        time.sleep(1.0)  # the broker's subscriptions reach a PUB a moment after it connects
        for s in socks:
            for topic, ev in messages:
                s.send_multipart([topic.encode(), json.dumps(ev).encode()])
        time.sleep(0.5)
    finally:
        for s in socks:
            s.close()
    return len(ways)


def service_url(svc, path):
    return cfg(f"ITGOV_TEST_{svc}_URL").rstrip("/") + path


def forgeries(svc, source, reason=None):
    """itgov_bus_forgeries_total of one source on a service's /metrics, summed
    over the reasons (or of one reason: mismatch, absent, source, type, malformed)."""
    r = http("GET", service_url(svc, "/metrics"), token=internal_key())
    assert r.status == 200, r
    total = 0.0
    for line in r.text.splitlines():
        if line.startswith("itgov_bus_forgeries_total{") and f'source="{source}"' in line \
                and (reason is None or f'reason="{reason}"' in line):
            total += float(line.rsplit(None, 1)[1])
    return total


def next_sourceseq(schema):
    return int(psql(f"SELECT coalesce(max(seq), 0) + 1 FROM {schema}.outbox").strip())


def outbox_event(schema, where):
    rows = psql(f"SELECT event::text FROM {schema}.outbox WHERE {where} ORDER BY id DESC LIMIT 1")
    assert rows.strip(), f"no event in {schema}.outbox where {where}"
    return json.loads(rows.strip().splitlines()[0])


def test_a_forged_decision_moves_no_project():
    p, case = submitted_project()
    pid, cid = p["id"], case["id"]
    expect(review(cid, "pass"), 200)
    wait_state(pid, "awaiting_decision")
    before = forgeries("PROJECTS", "approvals")

    # the case's real review event, made into the decision no meeting took
    ev = outbox_event("approvals", f"event->>'type' = 'itgov.approval.review.recorded' "
                                   f"AND event->>'subject' = 'approvals/{cid}'")
    ev.update(id=str(uuid.uuid4()), type="itgov.approval.decision.recorded",
              time=time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
              sourceseq=next_sourceseq("approvals"))
    ev["data"].update(outcome="approve", meeting="minister_office", meeting_date="2026-03-01",
                      minutes_ref="会议纪要〔2026〕99号", comment="伪造")
    assert ev["data"]["case"]["subject"] == f"projects/{pid}"
    publish_forged([("approval.decision.recorded", ev)])

    # reported: the projects service counted it ...
    poll(lambda: forgeries("PROJECTS", "approvals") > before, 10,
         "itgov_bus_forgeries_total{source=\"approvals\"} growing on the projects service")
    # ... and changed nothing
    time.sleep(1.5)
    assert expect(http("GET", f"/projects/{pid}", token=tok("it")), 200)["state"] == "awaiting_decision"
    c = expect(http("GET", f"/approvals/{cid}", token=tok("it")), 200)
    assert c["step"] == "decision" and c["outcome"] is None, c
    assert psql(f"SELECT count(*) FROM projects.inbox WHERE event_id = '{ev['id']}'").strip() == "0"
    assert psql(f"SELECT count(*) FROM audit.entries WHERE event_id = '{ev['id']}'").strip() == "0"


def test_a_forged_user_never_enters_the_audit_log_and_the_real_next_event_does():
    before = forgeries("AUDIT", "accounts")
    ev = outbox_event("accounts", "event->>'type' = 'itgov.account.user.created'")
    fake_id = 900000000 + int(uuid.uuid4().int % 99999999)
    ev.update(id=str(uuid.uuid4()), subject=f"users/{fake_id}",
              time=time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
              sourceseq=next_sourceseq("accounts"))
    ev["data"].update(id=fake_id, username="forged" + str(fake_id), roles=["admin"])
    publish_forged([("account.user.created", ev)])
    dept = make_department()  # the real event that follows, at the sourceseq the forgery claimed

    poll(lambda: psql(f"SELECT count(*) FROM audit.entries WHERE subject = 'departments/{dept['id']}' "
                      "AND type = 'itgov.account.department.created'").strip() == "1",
         20, "the real department.created in the audit log")
    poll(lambda: forgeries("AUDIT", "accounts") > before, 10,
         "itgov_bus_forgeries_total{source=\"accounts\"} growing on the audit service")
    assert psql(f"SELECT count(*) FROM audit.entries WHERE event_id = '{ev['id']}' "
                f"OR subject = 'users/{fake_id}'").strip() == "0"
    assert psql(f"SELECT count(*) FROM approvals.users WHERE id = {fake_id}").strip() == "0"
    b = expect(http("GET", audit_url(f"?subject=departments/{dept['id']}"), token=auditor_token()), 200)
    assert [e["type"] for e in b["items"]] == ["itgov.account.department.created"], b
    assert verify()["ok"] is True


def test_a_message_from_no_followed_source_or_of_a_type_not_followed_is_dropped_and_counted():
    before_other = forgeries("AUDIT", "other")
    before_type = forgeries("PROJECTS", "approvals", reason="type")
    ev = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/itgov/nobody",
          "type": "itgov.nobody.said", "time": "2026-01-01T00:00:00Z", "subject": "nobody/1",
          "actor": None, "datacontenttype": "application/json", "data": {}, "sourceseq": 1}
    # on a topic projects follows, as approvals, a type projects does not follow: it follows
    # every approval.* type of approvals (the dossier keeps the cases), and no other
    odd = dict(ev, id=str(uuid.uuid4()), source="/itgov/approvals", type="itgov.project.approved",
               sourceseq=next_sourceseq("approvals"))
    publish_forged([("nobody.said", ev), ("approval.decision.recorded", odd)])
    poll(lambda: forgeries("AUDIT", "other") > before_other, 10,
         "itgov_bus_forgeries_total{source=\"other\"} growing on the audit service")
    poll(lambda: forgeries("PROJECTS", "approvals", reason="type") > before_type, 10,
         "itgov_bus_forgeries_total{source=\"approvals\",reason=\"type\"} growing on the projects service")
    assert psql("SELECT count(*) FROM audit.entries WHERE source = '/itgov/nobody'").strip() == "0"
    assert psql(f"SELECT count(*) FROM audit.entries WHERE event_id = '{odd['id']}'").strip() == "0"


def test_internal_routes_and_metrics_need_the_internal_key():
    key = internal_key()
    for svc in SERVICES:
        for path in ("/internal/v1/outbox?after=0&limit=1", "/metrics"):
            url = service_url(svc, path)
            for token in (None, "wrong-" + key, key[:-1], admin_token()):
                r = http("GET", url, token=token)
                problem(r, 401, "unauthorized")
            r = http("GET", url, headers={"Authorization": key})  # not a bearer credential
            problem(r, 401, "unauthorized")
            r = http("GET", url, token=key)
            assert r.status == 200, r
    b = expect(http("GET", service_url("ACCOUNTS", "/internal/v1/outbox?after=0&limit=2"),
                    token=key), 200)
    assert set(b) == {"items", "next_after"} and len(b["items"]) <= 2, b
    assert all(isinstance(e.get("sourceseq"), int) for e in b["items"]), b
