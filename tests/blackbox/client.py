"""Helpers for the black-box tests: HTTP, users, ZeroMQ events, the stack.

Environment (set by tests/run.sh; a test that needs a missing one fails):
  ITGOV_TEST_BASE           gateway base URL, e.g. http://127.0.0.1:18080/api/v1
  ITGOV_TEST_ACCOUNTS_URL   accounts service directly, e.g. http://127.0.0.1:18081
  ITGOV_TEST_BROKER_SUB     broker XPUB endpoint, e.g. tcp://127.0.0.1:15551
  ITGOV_TEST_AUDIT_PUB      audit's public feed, e.g. tcp://127.0.0.1:15560
  ITGOV_TEST_EVENT_CLIENT_SECRET/_PUBLIC  a CURVE key pair listed in ITGOV_EVENT_CLIENT_KEYS
  ITGOV_BROKER_CURVE_PUBLIC, ITGOV_AUDIT_FEED_CURVE_SECRET  the server keys (the
                            feed's public key is derived from its secret)
  ITGOV_TEST_ADMIN_PASSWORD password of `admin`
  ITGOV_TEST_PSQL           shell command prefix running psql on db itgov
  ITGOV_TEST_REDIS_PORT     Redis port
  ITGOV_<SVC>_REDIS_PASSWORD  each service's Redis ACL password (user = service name)
  ITGOV_TEST_LOCAL_SH       deploy/local.sh (stop|start COMPONENT)
  ITGOV_TEST_LOGS           directory of <component>.log files
  ITGOV_LOGIN_LOCK_S        lockout seconds configured for the stack (default 3)

Every password and token the tests use is remembered in SECRETS; every HTTP
answer is checked at once for a password, a token (except the one a login
returns) or an argon2 hash. Every answer is also appended to a spool file
(spool_path(): one JSON line each, under ITGOV_TEST_LOGS) that
test_zz_secrets.py scans at the end, with the stack's own keys, for every
secret the suite knows (secret_kinds()); passwords accepted by the services
(users created, passwords changed, logins made), session tokens and webhook
secrets are registered here as the answers arrive.
"""
import hashlib
import http.client as httpclient
import json
import os
import re
import secrets
import shlex
import socket
import subprocess
import threading
import time
import urllib.parse

import spec_check

SECRETS = set()
# secret -> what it is ("password", "session token", ...), for the scan's report
SECRET_KINDS = {}
_SPOOL = {"lock": threading.Lock(), "file": None, "n": 0}
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
USER_FIELDS = {"id", "username", "display_name", "employee_id", "department_id", "roles",
               "disabled", "created_at", "updated_at", "last_login_at"}


def cfg(name, default=None):
    v = os.environ.get(name, default)
    if not v:
        raise AssertionError(f"environment variable {name} is not set (tests/run.sh sets it)")
    return v


def base():
    return cfg("ITGOV_TEST_BASE").rstrip("/")


def gateway_root():
    """The gateway without /api/v1."""
    b = base()
    return b[: -len("/api/v1")] if b.endswith("/api/v1") else b


def direct(path=""):
    """A URL on the accounts service's own port."""
    return cfg("ITGOV_TEST_ACCOUNTS_URL").rstrip("/") + path


def internal_key():
    """The services' internal credential (ITGOV_INTERNAL_KEY), for /internal/... and /metrics."""
    k = cfg("ITGOV_INTERNAL_KEY")
    SECRETS.add(k)
    return k


def lock_s():
    return int(os.environ.get("ITGOV_LOGIN_LOCK_S", "3"))


def sfx():
    return secrets.token_hex(5)


def remember(value, kind):
    """Registers a secret the suite used: no answer, event or log may hold it
    (test_zz_secrets.py; the exceptions are there)."""
    if isinstance(value, str) and value:
        SECRETS.add(value)
        SECRET_KINDS.setdefault(value, kind)
    return value


def new_password():
    return remember("Pw-" + secrets.token_hex(8), "password")


def spool_path():
    """This run's spool of every HTTP answer (None without ITGOV_TEST_LOGS)."""
    d = os.environ.get("ITGOV_TEST_LOGS")
    return os.path.join(d, f"blackbox-answers.{os.getpid()}.spool") if d else None


# a webhook secret may appear only in the answer that creates or rotates it
_SHOWS_WEBHOOK_SECRET = re.compile(r"/subscriptions(/[^/?]+/(rotate|rotate-secret|secret))?$")
# a system key (issue 12 metrics key, issue 14 system keys) only in the answer that issues it
_SHOWS_SYSTEM_KEY = re.compile(r"/projects/[^/?]+/(metrics-key|system-keys)$")


def _register_from(method, full, status, req_body, r):
    """Passwords the services accepted, tokens and webhook secrets they issued;
    returns the secrets this answer may show in its body."""
    path = urllib.parse.urlsplit(full).path
    req = req_body if isinstance(req_body, dict) else {}
    body = r.body if isinstance(r.body, dict) else {}
    allow = []
    if method == "POST" and path.endswith("/sessions") and status == 201:
        remember(req.get("password"), "password")
        allow.append(remember(body.get("token"), "session token"))
    elif method == "POST" and path.endswith("/users") and status == 201:
        remember(req.get("password"), "password")
    elif method == "PUT" and path.endswith("/me/password") and status == 204:
        remember(req.get("current_password"), "password")
        remember(req.get("new_password"), "password")
    elif method == "POST" and _SHOWS_WEBHOOK_SECRET.search(path) and status in (200, 201):
        allow.append(remember(body.get("secret"), "webhook secret"))
    elif method == "POST" and _SHOWS_SYSTEM_KEY.search(path) and status == 201:
        key = body.get("key")
        allow.append(remember(key, "system key"))
        if isinstance(key, str) and key:  # what audit stores: shown nowhere either
            remember(hashlib.sha256(key.encode()).hexdigest(), "system key hash")
    return [a for a in allow if a]


def _spool(r, allow):
    """One JSON line per answer: cheap (one write under a lock)."""
    path = spool_path()
    if not path:
        return
    rec = {"method": r.method, "url": r.url, "status": r.status, "reason": r.reason,
           "headers": list(r.headers.items()), "body": r.text, "allow": allow}
    with _SPOOL["lock"]:
        if _SPOOL["file"] is None:
            _SPOOL["file"] = open(path, "a", encoding="utf-8")
        _SPOOL["n"] += 1
        rec["n"] = _SPOOL["n"]
        _SPOOL["file"].write(json.dumps(rec, ensure_ascii=False) + "\n")
        _SPOOL["file"].flush()


# ---------------------------------------------------------------- HTTP


class Resp:
    def __init__(self, method, url, status, headers, raw, reason=""):
        self.method, self.url, self.status, self.headers, self.raw = method, url, status, headers, raw
        self.reason = reason
        self.text = raw.decode("utf-8", "replace")
        self.body = self.text
        if "json" in (headers.get("Content-Type") or "") and raw:
            try:
                self.body = json.loads(self.text)
            except ValueError:
                pass

    def __iter__(self):
        return iter((self.status, self.headers, self.body))

    def header(self, name):
        return self.headers.get(name)

    def __str__(self):
        hs = ", ".join(f"{k}: {v}" for k, v in self.headers.items())
        return f"{self.method} {self.url} -> {self.status} [{hs}] {self.text[:800]!r}"


def http(method, url, body=None, token=None, headers=None, raw=None, timeout=15):
    """url: absolute, or a path below ITGOV_TEST_BASE ('/users').
    body: sent as JSON; raw: bytes sent as they are. Returns Resp, which
    unpacks as (status, headers, parsed JSON or text)."""
    full = url if url.startswith("http") else base() + url
    u = urllib.parse.urlsplit(full)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if data is None and method in ("POST", "PUT", "PATCH"):
        data = b""
    hdrs = {}
    if data:
        hdrs["Content-Type"] = "application/json"
    if token:
        hdrs["Authorization"] = "Bearer " + token
    hdrs.update(headers or {})
    conn = httpclient.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        conn.putrequest(method, (u.path or "/") + ("?" + u.query if u.query else ""),
                        skip_accept_encoding=True)
        for k, v in hdrs.items():
            conn.putheader(k, v)
        if data is not None:
            conn.putheader("Content-Length", str(len(data)))
        conn.endheaders()
        try:
            for i in range(0, len(data or b""), 65536):
                conn.send(data[i:i + 65536])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (413); read its answer
        resp = conn.getresponse()
        r = Resp(method, full, resp.status, resp.headers, resp.read(), resp.reason)
    finally:
        conn.close()
    shown = _register_from(method, full, r.status, body, r)
    _spool(r, shown)
    check_no_secret(r.text, f"response of {method} {full}", allow=shown)
    _spec_verdict(spec_check.check_response, r)
    return r


def _spec_verdict(check, *args):
    """Runs a spec_check check; with ITGOV_SPEC_COLLECT=<file> a mismatch is
    appended there instead of raised (to list every mismatch of one run)."""
    try:
        check(*args)
    except AssertionError as e:
        out = os.environ.get("ITGOV_SPEC_COLLECT")
        if not out:
            raise
        with _SPOOL["lock"], open(out, "a", encoding="utf-8") as f:
            f.write(str(e)[:1500].replace("\n", " ") + "\n")


def check_no_secret(text, what, allow=None):
    """allow: a secret (or a list of them) this text may hold."""
    allow = {allow} if isinstance(allow, str) else set(allow or ())
    if "$argon2" in text:
        raise AssertionError(f"{what} contains a password hash ($argon2): {text[:300]!r}")
    for s in SECRETS:
        if s not in allow and s in text:
            raise AssertionError(f"{what} contains a password or token used in the tests")


def problem(r, status, code=None):
    """Asserts r is an application/problem+json error; returns its body."""
    ctype = r.header("Content-Type") or ""
    ok = r.status == status and ctype.startswith("application/problem+json") and isinstance(r.body, dict)
    if ok:
        b = r.body
        ok = (isinstance(b.get("type"), str) and isinstance(b.get("title"), str)
              and b.get("status") == status and isinstance(b.get("code"), str)
              and (code is None or b["code"] == code))
    if not ok:
        raise AssertionError(f"expected problem+json {status} {code or ''} "
                             f"with type, title, status, code; got {r}")
    return r.body


def expect(r, status, code=None):
    """Asserts the status (and, for errors, problem+json with that code); returns the body."""
    if status >= 400:
        return problem(r, status, code)
    if r.status != status:
        raise AssertionError(f"expected {status}, got {r}")
    if status == 204:
        if r.raw:
            raise AssertionError(f"204 with a body: {r}")
    elif not (r.header("Content-Type") or "").startswith("application/json") or not isinstance(r.body, (dict, list)):
        raise AssertionError(f"expected an application/json body, got {r}")
    return r.body


def fields_named(body):
    return {e.get("field") for e in body.get("errors") or [] if isinstance(e, dict)}


def validation(r, *fields):
    """Asserts 400 validation_failed whose errors name (at least) every given field."""
    b = problem(r, 400, "validation_failed")
    errs = b.get("errors")
    if not isinstance(errs, list) or not errs or not all(
            isinstance(e, dict) and isinstance(e.get("field"), str) and isinstance(e.get("message"), str)
            for e in errs):
        raise AssertionError(f"errors must be a non-empty list of {{field, message}}: {r}")
    named = fields_named(b)
    missing = [f for f in fields if not any(n == f or n.startswith(f + "[") or n.startswith(f + ".")
                                            for n in named)]
    if missing:
        raise AssertionError(f"errors do not name {missing}: {r}")
    return b


def check_instant(value, what):
    if not (isinstance(value, str) and RFC3339_UTC.match(value)):
        raise AssertionError(f"{what} is not an RFC 3339 UTC instant: {value!r}")


def check_user(u, what="user"):
    if not isinstance(u, dict) or set(u) != USER_FIELDS:
        got = set(u) if isinstance(u, dict) else u
        raise AssertionError(f"{what}: fields must be exactly {sorted(USER_FIELDS)}, got {got}")
    for k in ("id", "department_id"):
        assert type(u[k]) is int, f"{what}.{k} is not an integer: {u!r}"
    assert isinstance(u["roles"], list) and u["roles"] and all(isinstance(x, str) for x in u["roles"]), u
    assert type(u["disabled"]) is bool, u
    for k in ("created_at", "updated_at"):
        check_instant(u[k], f"{what}.{k}")
    if u["last_login_at"] is not None:
        check_instant(u["last_login_at"], f"{what}.last_login_at")


def walk(path, token, limit=None, max_pages=2000):
    """Follows next_cursor from the first page; returns every item."""
    items, cursor = [], None
    for _ in range(max_pages):
        q = {}
        if limit:
            q["limit"] = limit
        if cursor is not None:
            q["cursor"] = cursor
        url = path + ("?" + urllib.parse.urlencode(q) if q else "")
        b = expect(http("GET", url, token=token), 200)
        assert isinstance(b, dict) and set(b) == {"items", "next_cursor"}, f"list envelope: {b!r}"[:500]
        assert isinstance(b["items"], list), b
        if limit:
            assert len(b["items"]) <= limit, f"{len(b['items'])} items with limit={limit}"
        items += b["items"]
        cursor = b["next_cursor"]
        if cursor is None:
            return items
        assert isinstance(cursor, str) and cursor, f"next_cursor must be a string or null: {cursor!r}"
        assert b["items"], f"an empty page with a next_cursor: {url}"
    raise AssertionError(f"{path}: more than {max_pages} pages")


# ---------------------------------------------------------------- users

_admin = {}


def login_resp(username, password, headers=None, url=None):
    return http("POST", url or "/sessions", {"username": username, "password": password}, headers=headers)


def login(username, password, headers=None, url=None):
    """Logs in; returns the token."""
    b = expect(login_resp(username, password, headers, url), 201)
    tok = b.get("token")
    assert isinstance(tok, str) and len(tok) >= 20, f"token: {b!r}"
    return remember(tok, "session token")


def admin_password():
    return remember(cfg("ITGOV_TEST_ADMIN_PASSWORD"), "admin password")


def admin_token(fresh=False):
    if fresh or "token" not in _admin:
        _admin["token"] = login("admin", admin_password())
    return _admin["token"]


def admin_id():
    if "id" not in _admin:
        _admin["id"] = expect(http("GET", "/me", token=admin_token()), 200)["id"]
    return _admin["id"]


def forget_admin_token():
    _admin.pop("token", None)


def make_department(kind="department"):
    s = sfx()
    body = {"code": "T" + s.upper(), "name": f"测试部门{s}", "kind": kind}
    return expect(http("POST", "/departments", body, token=admin_token()), 201)


def shared_department_id():
    """A department made once per run for the tests' users."""
    if "dept" not in _admin:
        _admin["dept"] = make_department()["id"]
    return _admin["dept"]


def user_body(roles=("applicant",), dept=None):
    s = sfx()
    return {"username": "bb" + s, "display_name": f"测试用户 {s}", "employee_id": "E" + s,
            "department_id": dept or shared_department_id(), "roles": list(roles),
            "password": new_password()}


def make_user(roles=("applicant",), dept=None, login_now=True):
    """Creates a unique user; returns its JSON plus password (and token if login_now)."""
    body = user_body(roles, dept)
    u = expect(http("POST", "/users", body, token=admin_token()), 201)
    u = dict(u, password=body["password"])
    if login_now:
        u["token"] = login(u["username"], u["password"])
    return u


# ---------------------------------------------------------------- events


def broker_public():
    """The broker's CURVE public key (Z85)."""
    return cfg("ITGOV_BROKER_CURVE_PUBLIC")


def audit_feed_public():
    """The audit feed's CURVE public key, derived from its secret."""
    import zmq
    return zmq.curve_public(cfg("ITGOV_AUDIT_FEED_CURVE_SECRET").encode()).decode()


def curve_client(sock, server_key, secret):
    """Makes sock a CURVE client of server_key with the Z85 secret key."""
    import zmq
    sock.curve_serverkey = server_key.encode()
    sock.curve_secretkey = secret.encode()
    sock.curve_publickey = zmq.curve_public(secret.encode())


class Subscriber:
    """Collects [topic][CloudEvent] messages from the broker's XPUB in a thread.

    with Subscriber() as sub:
        sub.ready()                      # the subscription is live
        ...                              # mutations
        sub.wait(pred, count=1)          # until `count` matching events arrived

    Connects with CURVE as a university system would: the test client's key
    pair (ITGOV_TEST_EVENT_CLIENT_SECRET) unless secret is given, and
    curve=False connects with no keys at all.
    """

    def __init__(self, prefix="account.", endpoint=None, server_key=None, secret=None, curve=True):
        """endpoint: the broker's XPUB unless given (the audit PUB, say);
        server_key: the broker's public key unless given."""
        import zmq
        self._zmq = zmq
        self.sock = zmq.Context.instance().socket(zmq.SUB)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.RCVHWM, 0)  # keep everything: tests count messages
        self.sock.setsockopt(zmq.RECONNECT_IVL, 100)
        self.sock.setsockopt(zmq.RECONNECT_IVL_MAX, 500)
        if curve:
            curve_client(self.sock, server_key or broker_public(),
                         secret or cfg("ITGOV_TEST_EVENT_CLIENT_SECRET"))
        self.sock.setsockopt(zmq.SUBSCRIBE, prefix.encode())
        self.sock.connect(endpoint or cfg("ITGOV_TEST_BROKER_SUB"))
        self.events = []  # (topic, raw json bytes, parsed event)
        self.errors = []
        self.spec_errors = []  # events api-spec/asyncapi.yaml refuses: raised by the readers
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        poller = self._zmq.Poller()
        poller.register(self.sock, self._zmq.POLLIN)
        while not self._stop.is_set():
            if not poller.poll(100):
                continue
            frames = self.sock.recv_multipart()
            with self._lock:
                if len(frames) != 2:
                    self.errors.append(f"message with {len(frames)} frames: {frames!r}"[:300])
                    continue
                try:
                    ev = json.loads(frames[1].decode("utf-8"))
                except ValueError as e:
                    self.errors.append(f"not JSON ({e}): {frames[1][:200]!r}")
                    continue
                topic = frames[0].decode("utf-8", "replace")
                try:
                    _spec_verdict(spec_check.check_event, topic, frames[1], ev)
                except AssertionError as e:
                    self.spec_errors.append(str(e))
                self.events.append((topic, frames[1], ev))

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def check_spec(self):
        """Raises for the first event api-spec/asyncapi.yaml refused."""
        with self._lock:
            if self.spec_errors:
                raise AssertionError(self.spec_errors[0])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        if exc[0] is None:
            self.check_spec()

    def matching(self, pred):
        self.check_spec()
        with self._lock:
            return [e for (_, _, e) in self.events if pred(e)]

    def wait(self, pred, count=1, timeout=10, what="events"):
        deadline = time.monotonic() + timeout
        while True:
            got = self.matching(pred)
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                with self._lock:
                    seen = [(e.get("type"), e.get("subject")) for (_, _, e) in self.events][-30:]
                raise AssertionError(f"{what}: {len(got)} of {count} arrived within {timeout} s; "
                                     f"last seen: {seen}")
            time.sleep(0.05)

    def ready(self, timeout=15):
        """Returns once an event made after subscribing arrives (ZeroMQ subscriptions
        take a moment to reach the publishers): creates throwaway users until one's
        user.created is seen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            u = make_user(login_now=False)
            try:
                self.wait(lambda e, s=f"users/{u['id']}": e.get("type") == "itgov.account.user.created"
                          and e.get("subject") == s, timeout=2)
                return
            except AssertionError:
                continue
        raise AssertionError(f"no event reached the subscriber within {timeout} s")

    def all(self):
        self.check_spec()
        with self._lock:
            return list(self.events)


def about_user(ev, user):
    """Whether an event concerns this user (by subject, or its data's user_id / username)."""
    d = ev.get("data") if isinstance(ev.get("data"), dict) else {}
    inner = d.get("user") if isinstance(d.get("user"), dict) else {}
    return (ev.get("subject") == f"users/{user['id']}" or d.get("user_id") == user["id"]
            or d.get("username") == user["username"] or inner.get("id") == user["id"])


def is_type(kind):
    return lambda e: e.get("type") == "itgov.account." + kind


def check_cloudevent(topic, raw, ev):
    what = f"event {raw[:300]!r}"
    assert ev.get("specversion") == "1.0", f"{what}: specversion"
    assert isinstance(ev.get("id"), str) and UUID.match(ev["id"]), f"{what}: id is not a UUID"
    assert ev.get("source") == "/itgov/accounts", f"{what}: source"
    t = ev.get("type")
    assert isinstance(t, str) and t.startswith("itgov.account."), f"{what}: type"
    assert topic == t[len("itgov."):], f"{what}: topic frame {topic!r} is not the type without 'itgov.'"
    check_instant(ev.get("time"), f"{what}: time")
    assert "actor" in ev and (ev["actor"] is None or type(ev["actor"]) is int), f"{what}: actor"
    assert ev.get("datacontenttype") == "application/json", f"{what}: datacontenttype"
    assert isinstance(ev.get("data"), dict), f"{what}: data is not an object"
    if "subject" in ev:
        assert isinstance(ev["subject"], str) and re.match(r"^[a-z_]+(/[^/]+)*$", ev["subject"]), \
            f"{what}: subject is not a REST path below /api/v1"
    check_no_secret(raw.decode("utf-8", "replace"), what)
    assert "password" not in json.dumps(ev.get("data")).lower().replace("password_changed", ""), \
        f"{what}: data has a password field"


# ---------------------------------------------------------------- the stack


def local_sh(action, component, timeout=120):
    path = cfg("ITGOV_TEST_LOCAL_SH")
    p = subprocess.run([path, action, component], capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"{path} {action} {component}: exit {p.returncode}: {p.stdout[-500:]} {p.stderr[-500:]}"


def psql(sql):
    cmd = f"{cfg('ITGOV_TEST_PSQL')} -X -q -At -v ON_ERROR_STOP=1 -c {shlex.quote(sql)}"
    p = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"psql failed: {p.stderr[-500:]}"
    return p.stdout


class RedisError(AssertionError):
    """Redis answered an error (NOAUTH, NOPERM, WRONGPASS ...)."""


def redis_password(user):
    """The stack's Redis ACL password of a service (ITGOV_<SVC>_REDIS_PASSWORD)."""
    pw = cfg(f"ITGOV_{user.upper()}_REDIS_PASSWORD")
    SECRETS.add(pw)
    return pw


def redis(*args, user="accounts", password=None):
    """One Redis command over RESP, after AUTH as `user` (the accounts service's
    Redis user by default; user=None: no AUTH at all). password defaults to
    the stack's password of that user. Returns the decoded reply; an error
    reply raises RedisError (from AUTH too)."""
    port = int(cfg("ITGOV_TEST_REDIS_PORT"))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        def send(*cmd):
            req = f"*{len(cmd)}\r\n" + "".join(f"${len(str(a).encode())}\r\n{a}\r\n" for a in cmd)
            s.sendall(req.encode())

        f = s.makefile("rb")

        def read():
            line = f.readline().rstrip(b"\r\n")
            kind, rest = line[:1], line[1:]
            if kind in (b"+", b":"):
                return rest.decode()
            if kind == b"-":
                raise RedisError(f"redis error: {rest.decode()}")
            if kind == b"$":
                n = int(rest)
                return None if n < 0 else f.read(n + 2)[:-2].decode("utf-8", "replace")
            if kind == b"*":
                n = int(rest)
                return None if n < 0 else [read() for _ in range(n)]
            raise AssertionError(f"bad redis reply {line!r}")

        if user is not None:
            send("AUTH", user, password if password is not None else redis_password(user))
            read()
        send(*args)
        return read()


def redis_refused(kind, *args, **auth):
    """Asserts that Redis refuses the command with an error starting with kind
    (NOAUTH, NOPERM, WRONGPASS); returns the error text."""
    try:
        got = redis(*args, **auth)
    except RedisError as e:
        msg = str(e)
        assert msg.startswith(f"redis error: {kind}"), f"{args[0]} as {auth}: expected {kind}, got {msg}"
        return msg
    raise AssertionError(f"{args[0]} as {auth} was accepted ({got!r}); expected {kind}")


def redis_dump():
    """All keys and values in Redis, as one string (read as accounts)."""
    out = []
    keys, cursor = [], "0"
    while True:
        cursor, page = redis("SCAN", cursor, "COUNT", 1000)
        keys += page
        if cursor == "0":
            break
    for k in keys:
        t = redis("TYPE", k)
        v = {"string": ("GET", k), "hash": ("HGETALL", k), "set": ("SMEMBERS", k),
             "zset": ("ZRANGE", k, 0, -1), "list": ("LRANGE", k, 0, -1)}.get(t)
        out.append(f"{k} {redis(*v) if v else ''}")
    return "\n".join(out)


def logs():
    d = cfg("ITGOV_TEST_LOGS")
    out = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".log"):
            with open(os.path.join(d, f), "rb") as fh:
                out[f] = fh.read().decode("utf-8", "replace")
    assert out, f"no *.log files in {d}"
    return out


def poll(fn, timeout, what, interval=0.25):
    """Calls fn until it returns a true value; returns it, or fails after timeout s."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            v = fn()
            if v:
                return v
            last = v
        except (AssertionError, OSError, httpclient.HTTPException) as e:
            last = e
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last})")
