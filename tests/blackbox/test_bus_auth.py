"""The event bus admits only listed CURVE keys (issue 7, item 1).

The broker's XPUB and audit's public feed send events only to subscribers
whose key is in ITGOV_EVENT_CLIENT_KEYS (or a service's); the broker's XSUB
takes events only from the services' publisher keys. Each refusal is proven
twice: nothing arrives (or nothing changes), and the server reports it.
GET /api/v1/events/keys answers the server keys that work.
"""
import copy
import json
import time
import uuid

import zmq

from audit_helpers import FeedSubscriber
from client import (Subscriber, audit_feed_public, broker_public, cfg, curve_client, expect, http,
                    logs, make_user, poll, psql)
from projects_flow import decide, get_project, review, submitted_project, wait_state

ORDER = 40
QUIET_S = 2.0  # how long a refused subscriber is watched after the listed one got its event


def _keys():
    r = http("GET", "/events/keys")
    k = expect(r, 200)
    assert set(k) == {"broker", "audit_feed"}, f"GET /events/keys: fields {sorted(k)}"
    return k


def _stranger():
    """A valid CURVE key pair that nobody listed."""
    _, secret = zmq.curve_keypair()
    return secret.decode()


def _log_mark():
    """Where each log ends now: refusals after it are this test's."""
    return {name: len(text) for name, text in logs().items()}


def _refusals(mark, name, domain):
    """The lines of log `name` (broker.log, audit.log) written since mark
    that refuse a client on domain."""
    log = logs().get(name, "")[mark.get(name, 0):]
    return [line for line in log.splitlines()
            if '"domain":"' + domain + '"' in line and "bus: " in line and
            ("refused a client key" in line or "CURVE handshake" in line)]


def test_events_keys_answer_the_server_keys():
    k = _keys()  # no token
    assert k["broker"] == broker_public(), "broker: not the broker's public key"
    assert k["audit_feed"] == audit_feed_public(), "audit_feed: not the feed's public key"
    for v in k.values():
        assert len(v) == 40, f"not a Z85 key: {v!r}"
    direct = expect(http("GET", cfg("ITGOV_TEST_AUDIT_URL") + "/api/v1/events/keys"), 200)
    assert direct == k


def test_only_listed_subscribers_receive_events():
    mark = _log_mark()
    k = _keys()
    stranger = _stranger()
    feed = cfg("ITGOV_TEST_AUDIT_PUB")
    subs = {
        # the listed client, with the keys GET /events/keys answered
        "broker listed": Subscriber("", server_key=k["broker"]),
        "feed listed": FeedSubscriber("", server_key=k["audit_feed"]),
        "broker keyless": Subscriber("", curve=False),
        "broker unlisted": Subscriber("", secret=stranger),
        "feed keyless": Subscriber("", endpoint=feed, curve=False),
        "feed unlisted": FeedSubscriber("", secret=stranger),
        # listed key, but the feed's key for the broker: a wrong server key
        "broker wrong server key": Subscriber("", server_key=k["audit_feed"]),
    }
    try:
        subs["broker listed"].ready()
        u = make_user(login_now=False)
        subject = f"users/{u['id']}"
        for name in ("broker listed", "feed listed"):
            subs[name].wait(lambda e: e.get("type") == "itgov.account.user.created"
                            and e.get("subject") == subject, timeout=15, what=f"{name}: user.created")
        time.sleep(QUIET_S)
        for name, s in subs.items():
            if "listed" in name and "unlisted" not in name:
                continue
            got = s.all()
            assert not got, f"{name}: received {len(got)} events, e.g. {got[0][0]}"
    finally:
        for s in subs.values():
            s.close()
    # each refusal reported: by the broker for XPUB, by audit for its feed
    def reported():
        return (_refusals(mark, "broker.log", "xpub") and
                _refusals(mark, "audit.log", "audit-feed"))
    poll(reported, 5, "the refused subscribers in broker.log (domain xpub) and audit.log (audit-feed)")
    metrics = http("GET", cfg("ITGOV_TEST_AUDIT_URL") + "/metrics",
                   headers={"Authorization": "Bearer " + cfg("ITGOV_INTERNAL_KEY")})
    assert metrics.status == 200, f"GET audit /metrics: {metrics.status}"
    text = metrics.text
    counted = [line for line in text.splitlines()
               if line.startswith('itgov_bus_clients_refused_total{domain="audit-feed"')]
    assert counted and sum(float(line.split()[-1]) for line in counted) >= 2, \
        f"audit /metrics does not count the refused subscribers: {counted}"


class _Publisher:
    """A PUB socket on the broker's XSUB: with no keys (secret None) or a CURVE key."""

    def __init__(self, secret=None):
        self.sock = zmq.Context.instance().socket(zmq.PUB)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.RECONNECT_IVL, 100)
        if secret:
            curve_client(self.sock, broker_public(), secret)
        self.sock.connect(f"tcp://127.0.0.1:{cfg('ITGOV_BROKER_XSUB_PORT')}")

    def send(self, ev):
        topic = ev["type"][len("itgov."):]
        self.sock.send_multipart([topic.encode(), json.dumps(ev).encode()])

    def close(self):
        self.sock.close()


def _forged_user_created():
    """A user.created claiming the next sourceseq of accounts."""
    seq = int(psql("SELECT coalesce(max(seq), 0) + 1 FROM accounts.outbox").strip())
    uid = 9000000 + seq
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/itgov/accounts",
            "type": "itgov.account.user.created", "subject": f"users/{uid}",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "actor": 1,
            "datacontenttype": "application/json", "sourceseq": seq,
            "data": {"user": {"id": uid, "username": "forged-" + uuid.uuid4().hex[:8],
                              "roles": ["admin"]}}}


def test_unlisted_publishers_reach_nobody():
    """Without keys, with a stranger's key, and with a subscriber's (listed
    for XPUB only) key: forged events reach no subscriber, the project they
    would approve stays awaiting_decision, the audit log does not take them."""
    p, case = submitted_project()
    pid = p["id"]
    mark = _log_mark()
    with Subscriber("") as sub, FeedSubscriber("") as feed:
        sub.ready()
        expect(review(case["id"], "pass"), 200)
        wait_state(pid, "awaiting_decision")
        real = sub.wait(lambda e: e.get("type") == "itgov.approval.review.recorded"
                        and e.get("subject") == f"approvals/{case['id']}",
                        timeout=15, what="the real review.recorded")[0]
        # the two forgeries of the issue, from the real events they imitate
        decision = copy.deepcopy(real)
        decision.update(type="itgov.approval.decision.recorded")
        decision["sourceseq"] = real.get("sourceseq", 0) + 1
        decision["data"] = dict(real.get("data") or {}, outcome="approve", meeting="minister_office")
        templates = [decision, _forged_user_created()]
        pubs = {"keyless": _Publisher(), "unlisted": _Publisher(_stranger()),
                "event client": _Publisher(cfg("ITGOV_TEST_EVENT_CLIENT_SECRET"))}
        ids = set()
        try:
            # ZeroMQ drops what a PUB sends before it is connected: send for a while
            deadline = time.monotonic() + 2.5
            while time.monotonic() < deadline:
                for pub in pubs.values():
                    for t in templates:
                        ev = dict(t, id=str(uuid.uuid4()))
                        ids.add(ev["id"])
                        pub.send(ev)
                time.sleep(0.1)
        finally:
            for pub in pubs.values():
                pub.close()
        time.sleep(QUIET_S)
        for name, s in (("broker", sub), ("feed", feed)):
            got = [e for (_, _, e) in s.all() if e.get("id") in ids]
            assert not got, f"a forged event reached a subscriber of the {name}: {got[0]}"
    assert get_project(pid)["state"] == "awaiting_decision", "a forged decision moved the project"
    id_list = ",".join(f"'{i}'" for i in sorted(ids))
    n = psql(f"SELECT count(*) FROM audit.entries WHERE event_id IN ({id_list})").strip()
    assert n == "0", f"the audit log took {n} forged events"
    # the real decision still works (the refusals were about keys, not the test)
    expect(decide(case["id"], "approve"), 200)
    wait_state(pid, "approved", timeout=10)

    def both_reported():
        lines = _refusals(mark, "broker.log", "xsub")
        return (any("refused a client key" in line for line in lines) and
                any("CURVE handshake" in line for line in lines))
    poll(both_reported, 5, "broker.log reporting the refused key and the failed handshake on xsub")
