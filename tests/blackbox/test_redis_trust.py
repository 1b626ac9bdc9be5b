"""Redis is not trusted on its own word (issue 7, item 2).

Redis has ACL users: `default` is off, accounts may write the session keys,
projects, approvals and audit may only read session hashes. And a session
record counts only with the MAC the services compute under
ITGOV_SESSION_MAC_KEY, which Redis never holds: a record written by anyone
with Redis access, even as the accounts user, is no session."""
import hashlib
import secrets
import time

from client import (SECRETS, admin_id, admin_token, direct, expect, gateway_root, http, logs,
                    make_user, poll, problem, redis, redis_refused)

READERS = ("projects", "approvals", "audit")
FAR = "2099-01-01T00:00:00Z"


def _token():
    t = secrets.token_hex(32)
    SECRETS.add(t)
    return t


def _key(token):
    return "itgov:sess:" + hashlib.sha256(token.encode()).hexdigest()


def _admin_record():
    """What a forger would write: the real admin's user JSON, roles ["admin"]."""
    me = expect(http("GET", "/me", token=admin_token()), 200)
    assert "admin" in me["roles"], me
    user = http("GET", "/me", token=admin_token()).text
    return {"sid": "987654321", "uid": str(admin_id()), "user": user, "ip": "127.0.0.1",
            "ua": "forger", "created_at": "2026-01-01T00:00:00Z",
            "last_seen_at": "2026-01-01T00:00:00Z", "expires_at": FAR}


def _hset(key, record, **auth):
    args = ["HSET", key]
    for k, v in record.items():
        args += [k, v]
    return redis(*args, **auth)


def _refused_everywhere(token, what):
    """The token is no session: 401 on GET /users through the gateway and
    directly on accounts, and on the other services."""
    for root in (gateway_root(), direct()):
        problem(http("GET", root + "/api/v1/users", token=token), 401, "unauthorized")
    problem(http("GET", "/projects", token=token), 401, "unauthorized")
    problem(http("GET", "/me", token=token), 401, "unauthorized")


def test_a_forged_admin_session_written_as_accounts_is_401():
    """The attacker holds the accounts service's Redis password and writes
    a hash for a token of their choosing: with no MAC, with a made-up MAC,
    and with the MAC of a real admin session copied over."""
    rec = _admin_record()
    # no MAC at all
    tok = _token()
    _hset(_key(tok), rec)
    redis("EXPIRE", _key(tok), 600)
    _refused_everywhere(tok, "forged record without a MAC")
    # a made-up MAC
    tok = _token()
    _hset(_key(tok), dict(rec, mac=secrets.token_hex(32)))
    redis("EXPIRE", _key(tok), 600)
    _refused_everywhere(tok, "forged record with a made-up MAC")
    # the whole record of a real admin session, MAC included, under my token's hash
    real = redis("HGETALL", _key(admin_token()))
    real = dict(zip(real[0::2], real[1::2]))
    assert real.get("mac") and len(real["mac"]) == 64, f"a real session has no MAC: {sorted(real)}"
    tok = _token()
    _hset(_key(tok), real)
    redis("EXPIRE", _key(tok), 600)
    _refused_everywhere(tok, "a real admin record copied under another token")
    # the real admin token still works: the refusals were the MACs', not Redis's
    expect(http("GET", "/users", token=admin_token()), 200)
    # and the refusal is reported, without the token
    poll(lambda: any("MAC is missing or wrong" in t for t in logs().values()), 10,
         "a warning about the refused session record in a service log")


def test_a_real_session_whose_roles_are_rewritten_in_redis_is_no_session():
    u = make_user(["applicant"])
    key = _key(u["token"])
    expect(http("GET", "/me", token=u["token"]), 200)
    user = redis("HGET", key, "user")
    assert '"applicant"' in user, user
    redis("HSET", key, "user", user.replace('"applicant"', '"admin"'))
    _refused_everywhere(u["token"], "a session whose roles were rewritten")
    # so is one whose expiry was pushed out (the MAC covers expires_at)
    v = make_user(["applicant"])
    redis("HSET", _key(v["token"]), "expires_at", FAR)
    problem(http("GET", "/me", token=v["token"]), 401, "unauthorized")


def test_a_forged_session_cannot_even_be_written_without_the_accounts_user():
    rec = _admin_record()
    tok = _token()
    key = _key(tok)
    redis_refused("NOAUTH", "HSET", key, "user", rec["user"], user=None)
    redis_refused("WRONGPASS", "HSET", key, "user", rec["user"], user="default",
                  password=secrets.token_hex(8))
    redis_refused("WRONGPASS", "HSET", key, "user", rec["user"], user="accounts",
                  password=secrets.token_hex(8))
    for svc in READERS:
        redis_refused("NOPERM", "HSET", key, "user", rec["user"], user=svc)
    assert redis("EXISTS", key) == "0", "a refused write left the key behind"
    _refused_everywhere(tok, "a session nobody could write")


def test_services_other_than_accounts_can_only_read_sessions():
    u = make_user()
    key = _key(u["token"])
    for svc in READERS:
        # the one thing they do: read a session hash
        got = redis("HMGET", key, "sid", "user", user=svc)
        assert got[0] and got[1], f"{svc} cannot read a session: {got}"
        # and nothing else
        redis_refused("NOPERM", "HSET", key, "user", "{}", user=svc)
        redis_refused("NOPERM", "HDEL", key, "mac", user=svc)
        redis_refused("NOPERM", "DEL", key, user=svc)
        redis_refused("NOPERM", "EXPIRE", key, "1", user=svc)
        redis_refused("NOPERM", "SET", "itgov:sess:" + "0" * 64, "x", user=svc)
        redis_refused("NOPERM", "SET", "itgov:lock:" + u["username"], "1", user=svc)
        redis_refused("NOPERM", "FUNCTION", "LOAD", "REPLACE",
                      "#!lua name=itgov_sessions\nredis.register_function('x', function() return 1 end)",
                      user=svc)
        redis_refused("NOPERM", "FCALL", "itgov_session_end_user", "0", str(u["id"]), "", user=svc)
        redis_refused("NOPERM", "EVAL", "return redis.call('DEL', KEYS[1])", "1", key, user=svc)
        redis_refused("NOPERM", "FLUSHALL", user=svc)
        redis_refused("NOPERM", "CONFIG", "SET", "appendonly", "no", user=svc)
        # reading anything but session hashes is refused too
        redis_refused("NOPERM", "GET", "itgov:user:" + str(u["id"]), user=svc)
    # the session is untouched and alive
    expect(http("GET", "/me", token=u["token"]), 200)


def test_unauthenticated_redis_commands_are_refused():
    u = make_user()
    key = _key(u["token"])
    for cmd in (("PING",), ("HGETALL", key), ("GET", "itgov:user:1"), ("KEYS", "*"),
                ("SET", "itgov:x", "1"), ("FLUSHALL",), ("CONFIG", "GET", "*"), ("ACL", "LIST")):
        redis_refused("NOAUTH", *cmd, user=None)
    # the default user is off, whatever the password (its rules are wide,
    # for the replay of the append-only file: deploy/redis/acl.sh) ...
    redis_refused("WRONGPASS", "PING", user="default", password="")
    redis_refused("WRONGPASS", "SET", "itgov:x", "1", user="default", password="nopass")
    # ... and no user may turn it on
    for svc in ("accounts",) + READERS:
        redis_refused("NOPERM", "ACL", "SETUSER", "default", "on", "nopass", user=svc)
    redis_refused("NOAUTH", "ACL", "SETUSER", "default", "on", "nopass", user=None)
    expect(http("GET", "/me", token=u["token"]), 200)


def test_last_seen_at_is_recorded_by_accounts():
    """The read-only services do not write; accounts records last_seen_at."""
    u = make_user()
    key = _key(u["token"])
    before = redis("HGET", key, "last_seen_at")
    time.sleep(1.1)
    expect(http("GET", "/projects", token=u["token"]), 200)
    assert redis("HGET", key, "last_seen_at") == before, "a read-only service wrote last_seen_at"
    expect(http("GET", "/me", token=u["token"]), 200)
    poll(lambda: redis("HGET", key, "last_seen_at") != before, 5, "last_seen_at after GET /me")
