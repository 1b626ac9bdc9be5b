"""Dependencies going away and coming back: the broker (outbox), the service
itself, Redis, PostgreSQL. Each test puts back what it stopped."""
import time

from client import (Subscriber, about_user, admin_token, direct, expect, forget_admin_token,
                    gateway_root, http, is_type, local_sh, login, make_user, poll, problem)

ORDER = 90
RECOVER_S = 20


def _unavailable(r):
    problem(r, 503, "unavailable")
    v = r.header("Retry-After") or ""
    assert v.isdigit() and int(v) >= 1, f"503 without a Retry-After in seconds: {r}"


def _ready():
    return http("GET", direct("/readyz"), timeout=5).status == 200


def _one_delivery_each(sub, users):
    """Every user's user.created arrived; a redelivery keeps its event id."""
    for u in users:
        sub.wait(lambda e, u=u: is_type("user.created")(e) and about_user(e, u), timeout=RECOVER_S,
                 what=f"user.created of user {u['id']} written while the broker was down")
    time.sleep(1.5)
    for u in users:
        ids = {e["id"] for e in sub.matching(lambda e, u=u: is_type("user.created")(e) and about_user(e, u))}
        assert len(ids) == 1, f"user {u['id']}: one change published as {len(ids)} different events"


def test_events_written_while_the_broker_is_down_arrive_after_it_returns():
    with Subscriber() as sub:
        sub.ready()
        local_sh("stop", "broker")
        try:
            users = [make_user(login_now=False) for _ in range(3)]  # writes do not need the broker
            expect(http("PATCH", f"/users/{users[0]['id']}", {"display_name": "停机时改名"},
                        token=admin_token()), 200)
            time.sleep(1)  # the relay tries, and fails, meanwhile
        finally:
            local_sh("start", "broker")
        _one_delivery_each(sub, users)
        sub.wait(lambda e: is_type("user.updated")(e) and about_user(e, users[0]), timeout=RECOVER_S)


def test_a_service_restart_loses_no_event_and_no_session():
    u = make_user()
    with Subscriber() as sub:
        sub.ready()
        local_sh("stop", "broker")
        try:
            written = [make_user(login_now=False) for _ in range(2)]
            local_sh("stop", "accounts")
            try:
                r = http("GET", "/me", token=u["token"])
                assert r.status in (502, 503, 504), f"gateway with accounts down: {r}"
                problem(r, r.status)
            finally:
                local_sh("start", "accounts")
        finally:
            local_sh("start", "broker")
        poll(lambda: http("GET", "/me", token=u["token"]).status == 200, RECOVER_S,
             "the session made before the restart works again")
        _one_delivery_each(sub, written)


def test_redis_down_is_503_with_retry_after_then_recovers():
    u = make_user()
    tok = admin_token()
    local_sh("stop", "redis")
    try:
        for root in (gateway_root(), direct()):
            _unavailable(http("GET", root + "/api/v1/me", token=tok))
            _unavailable(http("GET", root + "/api/v1/departments", token=u["token"]))
            _unavailable(http("POST", root + "/api/v1/sessions",
                              {"username": u["username"], "password": u["password"]}))
        assert http("GET", direct("/healthz")).status == 200, "healthz fails while Redis is down"
        assert http("GET", direct("/readyz")).status == 503, "readyz says ready while Redis is down"
    finally:
        local_sh("start", "redis")
    forget_admin_token()
    poll(lambda: http("POST", "/sessions", {"username": u["username"], "password": u["password"]}).status == 201,
         RECOVER_S, "login works again after Redis returns")
    tok = login(u["username"], u["password"])
    expect(http("GET", "/me", token=tok), 200)
    expect(http("GET", "/users", token=admin_token()), 200)
    poll(_ready, RECOVER_S, "readyz after Redis returns")


def test_postgres_down_is_503_with_retry_after_then_recovers():
    tok = admin_token()
    u = make_user(login_now=False)
    local_sh("stop", "postgres")
    try:
        for root in (gateway_root(), direct()):
            for _ in range(2):  # the first use finds the connections dead, the second knows it
                _unavailable(http("GET", root + "/api/v1/users", token=tok))
            _unavailable(http("GET", f"{root}/api/v1/users/{u['id']}", token=tok))
            _unavailable(http("POST", root + "/api/v1/departments",
                              {"code": "PGDOWN", "name": "x", "kind": "department"}, token=tok))
        assert http("GET", direct("/healthz")).status == 200, "healthz fails while PostgreSQL is down"
        assert http("GET", direct("/readyz")).status == 503, "readyz says ready while PostgreSQL is down"
    finally:
        local_sh("start", "postgres")
    poll(lambda: http("GET", "/users?limit=1", token=tok).status == 200, RECOVER_S,
         "GET /users works again (with the same token) after PostgreSQL returns")
    v = make_user()
    expect(http("GET", f"/users/{v['id']}", token=tok), 200)
    poll(_ready, RECOVER_S, "readyz after PostgreSQL returns")
