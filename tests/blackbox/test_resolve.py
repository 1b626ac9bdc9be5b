"""Host names are resolved on the loop, asynchronously (issue 8, finding 7):
a second accounts instance given PostgreSQL and Redis by name (localhost,
as compose gives them by service name) connects to both, serves, and stops
cleanly. The stack's own services use addresses, so this is the one place
the evdns path of the database pool and of Redis runs."""
import os
import signal
import subprocess

from client import admin_token, cfg, expect, http, poll

ORDER = 93


def _free_port():
    script = os.path.join(os.path.dirname(__file__), "..", "free-ports.py")
    return int(subprocess.run(["python3", script, "1"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.split()[0])


def _bin(name):
    d = cfg("ITGOV_BUILD_DIR")
    if not os.path.isabs(d):
        d = os.path.join(os.path.dirname(__file__), "..", "..", d)
    return os.path.join(d, "bin", "itgov-" + name)


def test_postgres_and_redis_given_by_name_are_resolved_and_used():
    port = _free_port()
    env = dict(os.environ)
    env["ITGOV_ACCOUNTS_PORT"] = str(port)
    env["ITGOV_REDIS_HOST"] = "localhost"
    url = env["ITGOV_ACCOUNTS_DATABASE_URL"]
    assert "host=127.0.0.1" in url, f"unexpected database URL form: {url.split('password')[0]}"
    env["ITGOV_ACCOUNTS_DATABASE_URL"] = url.replace("host=127.0.0.1", "host=localhost")
    log_path = os.path.join(cfg("ITGOV_TEST_LOGS"), "accounts-by-name.log")
    with open(log_path, "w") as log:
        p = subprocess.Popen([_bin("accounts")], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        root = f"http://127.0.0.1:{port}"

        def ready():
            try:
                return http("GET", root + "/readyz", timeout=2).status == 200
            except OSError:
                return False

        poll(ready, 20, "readyz of the instance given names")
        expect(http("GET", root + "/api/v1/users?limit=1", token=admin_token()), 200)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            raise AssertionError("the instance given names did not stop within 20 s")
    assert rc == 0, f"the instance given names exited with {rc}"
    with open(log_path) as f:  # complete now (the log is flushed on exit)
        text = f.read()
    assert "redis: connected to localhost" in text, "no Redis connection by name in the log"
    assert "postgresql: connected" in text, "no PostgreSQL connection in the log"
    assert "cannot resolve" not in text, "a name was not resolved"
