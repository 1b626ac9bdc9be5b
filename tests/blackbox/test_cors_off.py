"""CORS off (issue 9, finding 9): with ITGOV_CORS_ORIGINS unset, a preflight
(OPTIONS with Origin and Access-Control-Request-Method) is answered 403
problem+json naming the variable, and the service logs it once — a browser
developer sees why instead of a bare 204. An OPTIONS that is not a preflight
is unchanged. A second accounts instance runs without the variable; the
gateway passes preflights to the services, so it answers the same."""
import os
import signal
import subprocess

from client import cfg, http, poll, problem
from test_resolve import _bin, _free_port

ORDER = 94


def test_preflight_with_cors_unset_is_403_naming_the_variable_logged_once():
    port = _free_port()
    env = dict(os.environ)
    env["ITGOV_ACCOUNTS_PORT"] = str(port)
    env.pop("ITGOV_CORS_ORIGINS", None)
    log_path = os.path.join(cfg("ITGOV_TEST_LOGS"), "accounts-cors-off.log")
    with open(log_path, "w") as log:
        p = subprocess.Popen([_bin("accounts")], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        root = f"http://127.0.0.1:{port}"

        def ready():
            try:
                return http("GET", root + "/readyz", timeout=2).status == 200
            except OSError:
                return False

        poll(ready, 20, "readyz of the instance without ITGOV_CORS_ORIGINS")
        for _ in range(3):
            r = http("OPTIONS", root + "/api/v1/users", headers={
                "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"})
            b = problem(r, 403, "forbidden")
            assert "ITGOV_CORS_ORIGINS" in b.get("detail", ""), f"the variable is not named: {r}"
            assert not r.header("Access-Control-Allow-Origin"), f"an origin was allowed: {r}"
        # not a preflight: no Access-Control-Request-Method
        r = http("OPTIONS", root + "/api/v1/users", headers={"Origin": "http://localhost:3000"})
        assert r.status != 403, f"a plain OPTIONS was refused as a preflight: {r}"
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            raise AssertionError("the instance without ITGOV_CORS_ORIGINS did not stop within 20 s")
    assert rc == 0, f"the instance exited with {rc}"
    with open(log_path) as f:
        text = f.read()
    assert text.count("ITGOV_CORS_ORIGINS") == 1, \
        f"the refused preflight must be logged exactly once:\n{text[-2000:]}"
