"""Webhook subscriptions and the events API (GET /api/v1/events) of the audit service (issue 3).

A receiver (http.server in a thread on 127.0.0.1, a free port) stands in for
another university system. It gets every event its subscription selects once,
in seq order, signed the Standard Webhooks way (checked here with Python's
hmac, independently of the service); it survives being down (the service
retries with the short backoff tests/run.sh sets in ITGOV_WEBHOOK_BACKOFF_S);
a replay re-sends from the seq asked; a disabled subscription gets nothing.
The subscription secret reads GET /events; a wrong one is 401.
"""
import base64
import hashlib
import hmac
import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from client import (SECRETS, admin_token, check_instant, expect, http, logs, make_user, poll,
                    problem, sfx, validation)

ORDER = 60
WAIT_S = 40  # ingest + delivery (+ a few retries with the test backoff)
SUB_FIELDS = {"id", "name", "url", "type_prefixes", "cursor", "disabled", "delivered", "attempts",
              "last_attempt_at", "last_success_at", "last_error", "failing_since",
              "next_attempt_at", "created_by", "created_at", "updated_at", "disabled_at"}


def timeout_s():
    return int(os.environ.get("ITGOV_WEBHOOK_TIMEOUT_S", "10"))


# ---------------------------------------------------------------- the receiver


class Receiver:
    """Records every POST: (path, headers (lower-case names), body bytes, status).

    behaviour: "ok" (204), "fail" (503), "hang" (answers only after the
    service's timeout). stop()/start() take it down and bring it back on the
    same port."""

    def __init__(self):
        self.lock = threading.Lock()
        self.attempts = []
        self.behaviour = "ok"
        self.port = 0
        self.server = None
        self.start()

    def start(self):
        recv = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                mode = recv.behaviour
                status = {"ok": 204, "fail": 503, "hang": 200}[mode]
                headers = {k.lower(): v for k, v in self.headers.items()}
                with recv.lock:
                    recv.attempts.append((self.path, headers, body, "hang" if mode == "hang" else status))
                if mode == "hang":
                    time.sleep(timeout_s() + 3)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the service gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def accepted(self):
        """Events answered 2xx, in arrival order, as (headers, body bytes, parsed)."""
        with self.lock:
            return [(h, b, json.loads(b)) for (_, h, b, st) in self.attempts
                    if isinstance(st, int) and 200 <= st < 300]

    def all_attempts(self):
        with self.lock:
            return list(self.attempts)


def verify_signature(secret, headers, body):
    """The Standard Webhooks check: key = base64-decoded secret after whsec_."""
    assert secret.startswith("whsec_"), secret[:6]
    key = base64.b64decode(secret[len("whsec_"):])
    msg_id, ts, sig = headers.get("webhook-id"), headers.get("webhook-timestamp"), headers.get("webhook-signature")
    assert msg_id and ts and sig, f"missing webhook-* headers: {sorted(headers)}"
    assert ts.isdigit() and abs(int(ts) - time.time()) < 120, f"webhook-timestamp {ts!r} is not now"
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(mac).decode()
    assert expected in sig.split(" "), f"bad webhook-signature {sig!r}"


# ---------------------------------------------------------------- helpers


def create_sub(receiver, prefixes=None, name=None):
    body = {"name": name or f"测试订阅 {sfx()}", "url": receiver.url()}
    if prefixes is not None:
        body["type_prefixes"] = prefixes
    b = expect(http("POST", "/subscriptions", body, token=admin_token()), 201)
    secret = b.get("secret")
    assert isinstance(secret, str) and secret.startswith("whsec_") and len(secret) > 20, b
    SECRETS.add(secret)  # from now on no answer may contain it
    _made.append(b["id"])
    assert set(b) == SUB_FIELDS | {"secret"}, f"fields: {sorted(b)}"
    assert b["url"] == receiver.url() and b["disabled"] is False and b["last_error"] is None, b
    assert b["type_prefixes"] == (prefixes or []), b
    check_instant(b["created_at"], "created_at")
    return b, secret


_made = []


def disable_all():
    """Disables the subscriptions a test made, so no receiver left behind is retried forever."""
    while _made:
        http("POST", f"/subscriptions/{_made.pop()}/disable", token=admin_token())


def get_sub(sid):
    b = expect(http("GET", f"/subscriptions/{sid}", token=admin_token()), 200)
    assert set(b) == SUB_FIELDS, f"fields: {sorted(b)}"
    return b


def feed(after=0, token=None, limit=200, prefix=None):
    """Every event after `after` (walking next_cursor), as parsed objects."""
    items = []
    for _ in range(10000):
        q = {"after": after, "limit": limit}
        if prefix:
            q["type_prefix"] = prefix
        b = expect(http("GET", "/events?" + urllib.parse.urlencode(q), token=token or admin_token()), 200)
        assert set(b) == {"items", "next_cursor"}, b
        seqs = [e["seq"] for e in b["items"]]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs
        assert not seqs or seqs[0] > after, (after, seqs)
        items += b["items"]
        if len(seqs) < limit:
            assert b["next_cursor"] is None, f"a page that is not full with a next_cursor: {b}"
            return items
        assert b["next_cursor"] == str(seqs[-1]), b
        after = seqs[-1]
    raise AssertionError("feed too long")


def wants(prefixes, ev):
    return not prefixes or any(ev["type"].startswith(p) for p in prefixes)


def user_events(after, users, token=None, per_user=2):
    """Waits until the feed holds per_user events about each user (mutate() makes two:
    created, updated); returns the feed after `after` up to the newest of them."""
    ids = {f"users/{u['id']}" for u in users}

    def ready():
        items = feed(after, token)
        n = {i: 0 for i in ids}
        for e in items:
            if e.get("subject") in n:
                n[e["subject"]] += 1
        if min(n.values()) < per_user:
            return None
        last = max(e["seq"] for e in items if e.get("subject") in ids)
        return [e for e in items if e["seq"] <= last]

    return poll(ready, WAIT_S, f"{per_user} events about each of users {sorted(ids)} in the audit feed")


def mutate(n=3):
    """n new users, each renamed once: 2n account events."""
    users = [make_user(login_now=False) for _ in range(n)]
    for u in users:
        expect(http("PATCH", f"/users/{u['id']}", {"display_name": "改名 " + sfx()}, token=admin_token()), 200)
    return users


def wait_delivered(receiver, sid, upto_seq, what="deliveries"):
    """Until the subscription's cursor reaches upto_seq and the receiver has its events."""
    def done():
        s = get_sub(sid)
        return s if s["cursor"] >= upto_seq else None

    return poll(done, WAIT_S, f"{what}: cursor of subscription {sid} reaching seq {upto_seq}")


def check_deliveries(receiver, secret, expected, what="deliveries"):
    """The receiver's accepted POSTs are exactly `expected` (feed items), once each, in order,
    signed, with the feed's bytes as the body."""
    last = expected[-1]["seq"] if expected else 0
    got = [g for g in receiver.accepted() if g[2].get("seq", 0) <= last]
    got_seqs = [p["seq"] for (_, _, p) in got]
    exp_seqs = [e["seq"] for e in expected]
    assert got_seqs == exp_seqs, f"{what}: received seqs {got_seqs[:40]} != expected {exp_seqs[:40]}"
    for (h, body, parsed), ev in zip(got, expected):
        assert parsed == ev, f"{what}: body differs from the feed's event: {body[:300]!r} vs {ev}"
        assert h.get("webhook-id") == ev["id"], f"{what}: webhook-id {h.get('webhook-id')} != id {ev['id']}"
        assert (h.get("content-type") or "").startswith("application/json"), h
        verify_signature(secret, h, body)


# ---------------------------------------------------------------- tests


def test_subscription_validation_and_roles():
    tok = admin_token()
    validation(http("POST", "/subscriptions", {}, token=tok), "name", "url")
    validation(http("POST", "/subscriptions", {"name": "", "url": 5}, token=tok), "name", "url")
    for bad in ("ftp://127.0.0.1/x", "https://127.0.0.1/x", "not a url", "http://", "/relative",
                "http://u:p@127.0.0.1/x", "http://127.0.0.1:99999/x"):
        validation(http("POST", "/subscriptions", {"name": "x", "url": bad}, token=tok), "url")
    validation(http("POST", "/subscriptions", {"name": "x", "url": "http://127.0.0.1:9/h",
                                               "type_prefixes": "itgov."}, token=tok), "type_prefixes")
    b = validation(http("POST", "/subscriptions", {"name": "x", "url": "http://127.0.0.1:9/h",
                                                   "type_prefixes": ["ok.", "", 7]}, token=tok),
                   "type_prefixes")
    named = {e["field"] for e in b["errors"]}
    assert {"type_prefixes[1]", "type_prefixes[2]"} <= named, b
    validation(http("POST", "/subscriptions", {"name": "x", "url": "http://127.0.0.1:9/h", "color": "red"},
                    token=tok), "color")
    problem(http("POST", "/subscriptions", {"name": "x", "url": "http://127.0.0.1:9/h"}), 401, "unauthorized")
    for role in ("applicant", "auditor", "it_office"):
        u = make_user(roles=(role,))
        problem(http("POST", "/subscriptions", {"name": "x", "url": "http://127.0.0.1:9/h"}, token=u["token"]),
                403, "forbidden")
        problem(http("GET", "/subscriptions", token=u["token"]), 403, "forbidden")
        problem(http("GET", "/subscriptions/1", token=u["token"]), 403, "forbidden")
        problem(http("POST", "/subscriptions/1/replay", {"from_seq": 1}, token=u["token"]), 403, "forbidden")
        problem(http("POST", "/subscriptions/1/disable", token=u["token"]), 403, "forbidden")
    problem(http("GET", "/subscriptions/999999999", token=tok), 404, "not_found")
    problem(http("POST", "/subscriptions/999999999/replay", {"from_seq": 1}, token=tok), 404, "not_found")
    problem(http("POST", "/subscriptions/999999999/disable", token=tok), 404, "not_found")


def test_webhook_gets_every_event_once_in_order_signed():
    rx = Receiver()
    try:
        prefixes = ["itgov.account.user.", "itgov.subscription."]
        sub, secret = create_sub(rx, prefixes)
        start = sub["cursor"]
        got = get_sub(sub["id"])
        # the cursor may already have moved: the subscription's own .created event matches
        # its prefixes and can be delivered before this read
        assert "secret" not in got and got["cursor"] >= start, got
        listed = expect(http("GET", "/subscriptions?limit=200", token=admin_token()), 200)
        assert set(listed) == {"items", "next_cursor"}, listed
        users = mutate(4)
        items = user_events(start, users)
        expected = [e for e in items if wants(prefixes, e)]
        # its own creation is delivered to it too
        own = [e for e in expected if e["type"] == "itgov.subscription.created"
               and e["subject"] == f"subscriptions/{sub['id']}"]
        assert len(own) == 1, f"its own .created event: {own}"
        assert "secret" not in json.dumps(own[0]) and secret not in json.dumps(own[0]), own[0]
        s = wait_delivered(rx, sub["id"], items[-1]["seq"])
        time.sleep(0.5)
        check_deliveries(rx, secret, expected)
        last = expected[-1]["seq"]
        posted = [json.loads(b)["seq"] for (_, _, b, _) in rx.all_attempts()]
        assert len([q for q in posted if q <= last]) == len(expected), f"an event was POSTed twice: {posted}"
        for u in users:
            mine = [p for (_, _, p) in rx.accepted() if p.get("subject") == f"users/{u['id']}"]
            assert [e["type"] for e in mine] == ["itgov.account.user.created", "itgov.account.user.updated"], mine
        assert s["last_error"] is None and s["failing_since"] is None and s["attempts"] == 0, s
        check_instant(s["last_success_at"], "last_success_at")
        assert s["delivered"] >= len(expected), s
        assert all(path == "/hook" for (path, _, _, _) in rx.all_attempts())
    finally:
        rx.stop()
        disable_all()


def test_receiver_down_for_a_while_gets_everything_after_retries():
    rx = Receiver()
    try:
        prefixes = ["itgov.account."]
        sub, secret = create_sub(rx, prefixes)
        start = sub["cursor"]
        rx.stop()  # down: connections refused
        users = mutate(2)
        poll(lambda: (lambda s: s if s["attempts"] >= 2 and s["last_error"] else None)(get_sub(sub["id"])),
             WAIT_S, "failed attempts recorded while the receiver is down")
        s = get_sub(sub["id"])
        check_instant(s["failing_since"], "failing_since")
        assert s["delivered"] == 0 and s["last_success_at"] is None, s
        first_user_seq = min(e["seq"] for e in user_events(start, users) if e["type"].startswith("itgov.account."))
        assert s["cursor"] < first_user_seq, f"the cursor passed an undelivered event: {s}"
        rx.behaviour = "fail"
        rx.start()  # back, same port, but answering 503 for a while
        poll(lambda: len(rx.all_attempts()) >= 2, WAIT_S, "retries reaching the receiver answering 503")
        assert not rx.accepted()
        poll(lambda: "503" in (get_sub(sub["id"])["last_error"] or ""), WAIT_S, "last_error naming the 503")
        rx.behaviour = "ok"
        items = user_events(start, users)
        expected = [e for e in items if wants(prefixes, e)]
        s = wait_delivered(rx, sub["id"], items[-1]["seq"])
        check_deliveries(rx, secret, expected, "after the outage")
        assert s["last_error"] is None and s["failing_since"] is None and s["attempts"] == 0, s
        # the outage and the recovery are in the log
        def both():
            events = feed(start, prefix="itgov.subscription.")
            mine = [e["type"] for e in events if e.get("subject") == f"subscriptions/{sub['id']}"]
            return mine if "itgov.subscription.recovered" in mine else None
        mine = poll(both, WAIT_S, "the .failing and .recovered events in the feed")
        assert "itgov.subscription.failing" in mine and "itgov.subscription.recovered" in mine, mine
        assert mine.index("itgov.subscription.failing") < mine.index("itgov.subscription.recovered"), mine
    finally:
        rx.stop()
        disable_all()


def test_a_receiver_that_does_not_answer_delays_only_its_own_subscription():
    slow, fast = Receiver(), Receiver()
    try:
        slow.behaviour = "hang"
        prefixes = ["itgov.account.user."]
        s_sub, s_secret = create_sub(slow, prefixes)
        f_sub, f_secret = create_sub(fast, prefixes)
        start = min(s_sub["cursor"], f_sub["cursor"])
        users = mutate(2)
        items = user_events(start, users)
        t0 = time.monotonic()
        f_expected = [e for e in items if wants(prefixes, e) and e["seq"] > f_sub["cursor"]]
        wait_delivered(fast, f_sub["id"], items[-1]["seq"], "the healthy subscription")
        assert time.monotonic() - t0 < max(timeout_s(), 5), "the healthy subscription waited for the hanging one"
        check_deliveries(fast, f_secret, f_expected, "healthy receiver")
        poll(lambda: "no answer" in (get_sub(s_sub["id"])["last_error"] or ""), timeout_s() + 15,
             "a timeout recorded for the hanging receiver")
        slow.behaviour = "ok"
        s_expected = [e for e in items if wants(prefixes, e) and e["seq"] > s_sub["cursor"]]
        wait_delivered(slow, s_sub["id"], items[-1]["seq"], "the once-hanging subscription")
        check_deliveries(slow, s_secret, s_expected, "once-hanging receiver")
    finally:
        slow.stop()
        fast.stop()
        disable_all()


def test_replay_resends_from_the_seq_asked():
    rx = Receiver()
    try:
        prefixes = ["itgov.account.user."]
        sub, secret = create_sub(rx, prefixes)
        users = mutate(3)
        items = user_events(sub["cursor"], users)
        expected = [e for e in items if wants(prefixes, e)]
        wait_delivered(rx, sub["id"], items[-1]["seq"])
        check_deliveries(rx, secret, expected)
        n_before = len(rx.accepted())
        from_seq = expected[2]["seq"]
        tok = admin_token()
        validation(http("POST", f"/subscriptions/{sub['id']}/replay", {}, token=tok), "from_seq")
        validation(http("POST", f"/subscriptions/{sub['id']}/replay", {"from_seq": 0}, token=tok), "from_seq")
        validation(http("POST", f"/subscriptions/{sub['id']}/replay", {"from_seq": "3"}, token=tok), "from_seq")
        validation(http("POST", f"/subscriptions/{sub['id']}/replay", {"from_seq": 10 ** 12}, token=tok),
                   "from_seq")
        r = expect(http("POST", f"/subscriptions/{sub['id']}/replay", {"from_seq": from_seq}, token=tok), 200)
        assert set(r) == SUB_FIELDS and r["cursor"] == from_seq - 1, r
        head = items[-1]["seq"]
        wait_delivered(rx, sub["id"], head, "replayed deliveries")
        time.sleep(0.5)
        again = [p for (_, _, p) in rx.accepted()[n_before:]]
        resent = [e for e in expected if e["seq"] >= from_seq]
        assert [p["seq"] for p in again][:len(resent)] == [e["seq"] for e in resent], \
            f"replay from {from_seq}: got {[p['seq'] for p in again]}, expected {[e['seq'] for e in resent]}"
        for (h, body, p) in rx.accepted()[n_before:]:
            verify_signature(secret, h, body)
        ev = [e for e in feed(head, prefix="itgov.subscription.replayed")
              if e.get("subject") == f"subscriptions/{sub['id']}"]
        assert len(ev) == 1 and ev[0]["data"].get("from_seq") == from_seq, ev
    finally:
        rx.stop()
        disable_all()


def test_disabled_subscription_receives_nothing():
    rx = Receiver()
    try:
        sub, secret = create_sub(rx, [])  # every event
        poll(lambda: [p for (_, _, p) in rx.accepted() if p["type"] == "itgov.subscription.created"
                      and p["subject"] == f"subscriptions/{sub['id']}"],
             WAIT_S, "the subscription's own .created event delivered")
        tok = admin_token()
        d = expect(http("POST", f"/subscriptions/{sub['id']}/disable", token=tok), 200)
        assert d["disabled"] is True, d
        check_instant(d["disabled_at"], "disabled_at")
        n = len(rx.all_attempts())
        users = mutate(2)
        items = user_events(d["cursor"], users)
        time.sleep(3)
        late = rx.all_attempts()[n:]
        assert not late, f"a disabled subscription got {len(late)} POSTs: {[json.loads(b).get('type') for (_, _, b, _) in late]}"
        again = expect(http("POST", f"/subscriptions/{sub['id']}/disable", token=tok), 200)
        assert again["disabled"] is True and again["disabled_at"] == d["disabled_at"], again
        problem(http("POST", f"/subscriptions/{sub['id']}/replay", {"from_seq": 1}, token=tok), 409, "invalid_state")
        evs = [e for e in items if e.get("subject") == f"subscriptions/{sub['id']}"]
        assert [e["type"] for e in evs].count("itgov.subscription.disabled") <= 1
        all_mine = [e["type"] for e in feed(sub["cursor"], prefix="itgov.subscription.")
                    if e.get("subject") == f"subscriptions/{sub['id']}"]
        assert all_mine.count("itgov.subscription.disabled") == 1, all_mine
        # its secret no longer reads the feed
        problem(http("GET", "/events?after=0&limit=1", token=secret), 401, "unauthorized")
    finally:
        rx.stop()
        disable_all()


def test_event_feed_credentials_and_paging():
    rx = Receiver()
    try:
        sub, secret = create_sub(rx, ["itgov.account.user."])
        users = mutate(2)
        items = user_events(sub["cursor"], users)
        # the subscription secret reads the feed, limited to what it subscribed to
        mine = [e for e in feed(sub["cursor"], token=secret) if e["seq"] <= items[-1]["seq"]]
        assert mine and all(e["type"].startswith("itgov.account.user.") for e in mine), mine[:3]
        assert [e["seq"] for e in mine] == [e["seq"] for e in items if e["type"].startswith("itgov.account.user.")]
        # a wrong secret, a made-up token, none at all
        problem(http("GET", "/events", token="whsec_" + base64.b64encode(os.urandom(32)).decode()), 401,
                "unauthorized")
        problem(http("GET", "/events", token="not-a-token-" + sfx()), 401, "unauthorized")
        problem(http("GET", "/events"), 401, "unauthorized")
        # sessions: auditor and admin yes, others no
        problem(http("GET", "/events", token=make_user(roles=("applicant",))["token"]), 403, "forbidden")
        problem(http("GET", "/events", token=make_user(roles=("it_office",))["token"]), 403, "forbidden")
        aud = make_user(roles=("auditor",))["token"]
        b = expect(http("GET", f"/events?after={sub['cursor']}&limit=2", token=aud), 200)
        assert [e["seq"] for e in b["items"]] == [e["seq"] for e in items[:2]], b
        assert b["next_cursor"] == str(items[1]["seq"]), b
        b2 = expect(http("GET", f"/events?cursor={b['next_cursor']}&limit=2", token=aud), 200)
        assert [e["seq"] for e in b2["items"]] == [e["seq"] for e in items[2:4]], b2
        for e in b["items"]:
            assert e.get("specversion") == "1.0" and isinstance(e.get("id"), str) and type(e["seq"]) is int, e
        # type_prefix
        created = feed(sub["cursor"], prefix="itgov.account.user.created")
        assert created and all(e["type"] == "itgov.account.user.created" for e in created), created[:3]
        # bad parameters: each named
        validation(http("GET", "/events?after=-1&limit=0", token=aud), "after", "limit")
        validation(http("GET", "/events?after=x&limit=201", token=aud), "after", "limit")
        validation(http("GET", "/events?cursor=x", token=aud), "cursor")
        # past the end: empty, no next page
        b = expect(http("GET", "/events?after=999999999999", token=aud), 200)
        assert b == {"items": [], "next_cursor": None}, b
    finally:
        rx.stop()
        disable_all()


def test_no_subscription_secret_in_any_log():
    text = "\n".join(logs().values())
    leaked = [s[:10] + "..." for s in SECRETS if s.startswith("whsec_") and s in text]
    assert not leaked, f"subscription secrets in the service logs: {leaked}"
