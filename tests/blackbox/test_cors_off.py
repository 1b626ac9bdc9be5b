"""CORS off (issue 9, finding 9): with ITGOV_CORS_ORIGINS unset, a preflight
(OPTIONS with Origin and Access-Control-Request-Method) is answered 403
problem+json naming the variable, and the service logs it once — a browser
developer sees why instead of a bare 204. An OPTIONS that is not a preflight
is unchanged. A second accounts instance runs without the variable; the
gateway passes preflights to the services, so it answers the same."""
from client import http, problem
from instance import instance

ORDER = 94


def test_preflight_with_cors_unset_is_403_naming_the_variable_logged_once():
    with instance("accounts", "the instance without ITGOV_CORS_ORIGINS", "accounts-cors-off.log",
                  env_removed=("ITGOV_CORS_ORIGINS",)) as i:
        for _ in range(3):
            r = http("OPTIONS", i.root + "/api/v1/users", headers={
                "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"})
            b = problem(r, 403, "forbidden")
            assert "ITGOV_CORS_ORIGINS" in b.get("detail", ""), f"the variable is not named: {r}"
            assert not r.header("Access-Control-Allow-Origin"), f"an origin was allowed: {r}"
        # not a preflight: no Access-Control-Request-Method
        r = http("OPTIONS", i.root + "/api/v1/users", headers={"Origin": "http://localhost:3000"})
        assert r.status != 403, f"a plain OPTIONS was refused as a preflight: {r}"
    assert i.log().count("ITGOV_CORS_ORIGINS") == 1, \
        f"the refused preflight must be logged exactly once:\n{i.log()[-2000:]}"
