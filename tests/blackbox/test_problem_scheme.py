"""One problem-details scheme everywhere (issue 9, finding 7): `type` is
about:blank, `title` is the RFC 9110 reason phrase of the status (RFC 6585
for 428/429/431), `code` is the stable machine code, and every problem
carries `request_id`, the X-Request-Id of the answer — from the services
and from the gateway's own errors alike."""

from client import admin_token, cfg, direct, gateway_root, http, problem

ORDER = 21

# RFC 9110 section 15 (RFC 6585 for 428, 429, 431).
PHRASES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 409: "Conflict", 412: "Precondition Failed",
           413: "Content Too Large", 414: "URI Too Long", 415: "Unsupported Media Type",
           422: "Unprocessable Content", 428: "Precondition Required", 429: "Too Many Requests",
           431: "Request Header Fields Too Large", 500: "Internal Server Error",
           501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout", 505: "HTTP Version Not Supported"}


def check_scheme(r, status, code):
    b = problem(r, status, code)
    assert b["type"] == "about:blank", f"type must be about:blank: {r}"
    assert b["title"] == PHRASES[status], f"title must be {PHRASES[status]!r}: {r}"
    rid = r.header("X-Request-Id")
    assert rid and b.get("request_id") == rid, f"request_id must be the X-Request-Id {rid!r}: {r}"
    return b


def _services():
    return [cfg(f"ITGOV_TEST_{s.upper()}_URL").rstrip("/")
            for s in ("accounts", "projects", "approvals", "audit")]


def test_service_problems_use_the_status_phrase_and_carry_the_request_id():
    tok = admin_token()
    for root in _services():
        check_scheme(http("GET", root + "/api/v1/no-such-thing"), 404, "not_found")
        check_scheme(http("GET", root + "/metrics"), 401, "unauthorized")
        check_scheme(http("DELETE", root + "/healthz"), 405, "method_not_allowed")
    # custom codes keep the status phrase as title
    check_scheme(http("POST", direct("/api/v1/sessions"), {"username": "nobody-here", "password": "x" * 12}),
                 401, "invalid_credentials")
    check_scheme(http("POST", direct("/api/v1/departments"), raw=b"{", token=tok,
                      headers={"Content-Type": "application/json"}), 400, "invalid_json")
    check_scheme(http("POST", direct("/api/v1/departments"), {}, token=tok), 400, "validation_failed")
    # a request id the client gave comes back in the body too
    r = http("GET", direct("/api/v1/nothing"), headers={"X-Request-Id": "probe-1234"})
    assert check_scheme(r, 404, "not_found")["request_id"] == "probe-1234", r


def test_gateway_problems_match_the_services():
    root = gateway_root()
    own = check_scheme(http("GET", root + "/not-routed-anywhere"), 404, "not_found")
    passed = check_scheme(http("GET", root + "/api/v1/users/999999999", token=admin_token()),
                          404, "not_found")
    assert own["title"] == passed["title"], (own, passed)
    check_scheme(http("GET", root + "/api/v1/me?" + "q" * 20000), 414, "uri_too_long")
