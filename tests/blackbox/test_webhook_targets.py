"""Where webhooks may point (issue 7, items 5 and 6).

A subscription's URL may not name itgov itself or anything near it: each
class of refused address is a 400 validation_failed naming `url` at creation
(and no subscription is made); itgov's own ports are refused even on
127.0.0.0/8, which tests/run.sh lists in ITGOV_WEBHOOK_ALLOW; an allowed
loopback receiver (also spelled `localhost`) still gets its events. At
delivery the address is checked again: a URL changed behind the service's back
(in the database) to a refused one is a failed attempt that says why, and
nothing reaches the address. Every URL here is on 127.0.0.0/8 or is refused
before any connection: no test makes the service connect off this machine.

The gateway's access log holds no query string: a token sent as
?access_token=... is not in it.
"""
import json
import os
import time

from client import (SECRETS, admin_token, cfg, expect, gateway_root, http, logs, poll, psql, sfx,
                    validation, walk)
from test_webhooks import Receiver, _made, create_sub, disable_all, get_sub

ORDER = 61


def own_ports():
    """Every port of the test stack's own parts, by name."""
    names = ["GATEWAY", "ACCOUNTS", "PROJECTS", "APPROVALS", "AUDIT", "BROKER_XSUB", "BROKER_XPUB",
             "AUDIT_PUB", "PG", "REDIS"]
    return {n: int(cfg(f"ITGOV_{n}_PORT")) for n in names}


def hosts_loopback_name():
    """A name /etc/hosts gives a 127.0.0.0/8 address and nothing else (not localhost), or None:
    the service resolves it (its resolver reads the hosts file) like any other name."""
    seen = {}
    try:
        with open("/etc/hosts") as fh:
            for line in fh:
                parts = line.split("#")[0].split()
                for name in parts[1:]:
                    seen.setdefault(name.lower(), set()).add(parts[0])
    except OSError:
        return None
    for name, addrs in seen.items():
        if "localhost" in name or not all(a.startswith("127.") for a in addrs):
            continue
        if all(c.isalnum() or c in "-." for c in name) and not name.replace(".", "").isdigit():
            return name
    return None


def refused(url, *words):
    """A 400 validation_failed naming url, whose message holds each of words; nothing made."""
    b = validation(http("POST", "/subscriptions", {"name": "拒绝 " + sfx(), "url": url},
                        token=admin_token()), "url")
    msgs = " ".join(e["message"] for e in b["errors"] if e["field"] == "url")
    for w in words:
        assert w in msgs, f"{url}: the message on url does not say {w!r}: {msgs!r}"
    return msgs


def test_refused_classes_at_creation():
    assert "127.0.0.0/8" in os.environ.get("ITGOV_WEBHOOK_ALLOW", ""), \
        "tests/run.sh sets ITGOV_WEBHOOK_ALLOW=127.0.0.0/8"
    before = {s["url"] for s in walk("/subscriptions", admin_token(), limit=200)}
    cases = {
        "non-canonical": ["http://0x7f.1:8099/h", "http://2130706433:8099/h", "http://0177.0.0.1:8099/h",
                          "http://127.1:8099/h", "http://0x7f000001:8099/h", "http://127.0.0.1.:8099/h",
                          "http://0x7f.0x0.0x0.0x1:8099/h", "http://017700000001:8099/h",
                          "http://127.000.000.001:8099/h"],
        # ::1 is loopback but ITGOV_WEBHOOK_ALLOW lists 127.0.0.0/8 only
        "ITGOV_WEBHOOK_ALLOW": ["http://[::1]:8099/h"],
        # The other classes (link-local, multicast, unspecified, broadcast,
        # reserved, private ranges, their IPv4-mapped forms) are proven by
        # services/audit/tests/test_target.c on the very rule the API calls:
        # tests never name an address off 127.0.0.0/8.
    }
    for word, urls in cases.items():
        for url in urls:
            refused(url, word)
    for url in ("http://exa%41mple.org/h", "http://[::1%25lo]:8099/h"):
        refused(url)
    after = {s["url"] for s in walk("/subscriptions", admin_token(), limit=200)}
    made = sorted((after - before) & {u for urls in cases.values() for u in urls})
    assert not made, f"refused URLs were stored anyway: {made}"


def test_itgov_own_ports_refused_even_on_allowed_loopback():
    for name, port in own_ports().items():
        for url in (f"http://127.0.0.1:{port}/h", f"http://127.0.0.2:{port}/", f"http://localhost:{port}/h",
                    f"http://LOCALHOST.:{port}/h", f"http://[::ffff:127.0.0.1]:{port}/h", f"http://[::1]:{port}/h"):
            msgs = refused(url)
            if "[::1]" not in url:  # ::1 is refused anyway: not listed in the allow list
                assert "own" in msgs and str(port) in msgs, f"{name} {url}: {msgs!r}"
    # PostgreSQL and Redis without a path; a host name that resolves to loopback
    p = own_ports()
    refused(f"http://127.0.0.1:{p['REDIS']}", "own")
    refused(f"http://127.0.0.1:{p['PG']}/", "own")
    name = hosts_loopback_name()
    if name:
        for port in p.values():
            refused(f"http://{name}:{port}/h", "own", str(port))


def test_allowed_loopback_receivers_still_work():
    """127.0.0.1 on a port of no itgov part, written as an address or as localhost."""
    rx = Receiver()
    try:
        assert rx.port not in own_ports().values()
        subs = []
        name = hosts_loopback_name()
        hosts = ["127.0.0.1", "localhost"] + ([name] if name else [])
        for host in hosts:
            body = {"name": "回环 " + sfx(), "url": f"http://{host}:{rx.port}/via-{host}",
                    "type_prefixes": ["itgov.subscription."]}
            b = expect(http("POST", "/subscriptions", body, token=admin_token()), 201)
            SECRETS.add(b["secret"])
            subs.append(b)
            _made.append(b["id"])

        def arrived():
            # every subscription delivers (to its own path), whatever other
            # subscriptions' .created events reach the receiver first
            got = {}
            for (h, _, p) in rx.accepted():
                got.setdefault(p.get("subject"), []).append(p)
            paths = {path for (path, _, _, _) in rx.all_attempts()}
            return (all(f"subscriptions/{s['id']}" in got for s in subs)
                    and {f"/via-{h}" for h in hosts} <= paths)

        poll(arrived, 40, "each subscription delivering to the loopback receiver by its own host")
        # An attempt may fail while the receiver's small backlog is full (the
        # subscriptions deliver to it at once); the retry then succeeds.
        def healthy():
            return all(g["last_error"] is None and g["delivered"] >= 1
                       for g in (get_sub(s["id"]) for s in subs))

        poll(healthy, 20, "every loopback subscription delivering without error")
    finally:
        rx.stop()
        disable_all()


def test_delivery_checks_the_address_again():
    """A URL changed in the database (behind the API's check) to a refused one: the engine
    refuses to connect, records why, and the receiver behind that spelling gets nothing."""
    rx, other = Receiver(), Receiver()
    try:
        sub, _ = create_sub(rx, [])
        poll(lambda: rx.accepted(), 40, "the first delivery (its own .created event)")
        redis_port = own_ports()["REDIS"]
        # 0x7f.1 is 127.0.0.1 to glibc: `other` would get the POSTs were it not refused
        for bad, word in ((f"http://0x7f.1:{other.port}/hook", "non-canonical"),
                          (f"http://127.0.0.1:{redis_port}/", "own")):
            psql(f"UPDATE audit.subscriptions SET url = '{bad}' WHERE id = {sub['id']}")
            cur = get_sub(sub["id"])["cursor"]
            # a replay makes the engine read the row again (and emits an event to deliver)
            expect(http("POST", f"/subscriptions/{sub['id']}/replay", {"from_seq": cur + 1},
                        token=admin_token()), 200)
            s = poll(lambda: (lambda g: g if g["attempts"] >= 1 and word in (g["last_error"] or "") else None)(
                get_sub(sub["id"])), 40, f"a refused attempt recorded for {bad}")
            assert "refused" in s["last_error"], s
            assert s["cursor"] == cur, f"the cursor moved past an undelivered event: {s}"
            time.sleep(1)
            assert not other.all_attempts(), f"{bad}: the receiver behind it was reached anyway"
        # back to the real URL: deliveries resume
        psql(f"UPDATE audit.subscriptions SET url = '{rx.url()}' WHERE id = {sub['id']}")
        cur = get_sub(sub["id"])["cursor"]
        expect(http("POST", f"/subscriptions/{sub['id']}/replay", {"from_seq": cur + 1}, token=admin_token()), 200)
        poll(lambda: (lambda g: g if g["last_error"] is None and g["cursor"] > cur else None)(get_sub(sub["id"])),
             40, "deliveries resuming on the allowed URL")
    finally:
        rx.stop()
        other.stop()
        disable_all()


def test_gateway_access_log_holds_no_query_string():
    secret = "secret-xyz-" + sfx()
    SECRETS.add(secret)  # and test_secrets.py scans every log for it at the end
    rid = "q-" + sfx()
    for path in (f"/api/v1/users?access_token={secret}", f"/api/v1/events?after=0&token={secret}",
                 f"/api/v1/nowhere?access_token={secret}", f"/api/v1/me?x=1&access_token={secret}"):
        r = http("GET", gateway_root() + path, headers={"X-Request-Id": rid})
        assert r.status in (401, 404), r

    def logged():
        text = logs().get("gateway.access.log", "")
        mine = [json.loads(line) for line in text.splitlines() if rid in line]
        return mine if len(mine) >= 4 else None

    mine = poll(logged, 10, f"the gateway's access log lines of request id {rid}")
    assert {m["uri"] for m in mine} >= {"/api/v1/users", "/api/v1/events", "/api/v1/nowhere", "/api/v1/me"}, mine
    for m in mine:
        assert set(m) >= {"time", "request_id", "remote_addr", "method", "uri", "status", "bytes",
                          "request_time", "upstream", "upstream_status", "upstream_time", "user_agent"}, m
    for name, text in logs().items():
        assert secret not in text, f"{name} holds the token sent in a query string"
