"""/healthz, /readyz and /metrics (with the internal key) on the service's own port."""
import re

from client import admin_token, direct, expect, http, internal_key, make_user

ORDER = 15
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def test_healthz_and_readyz():
    for path in ("/healthz", "/readyz"):
        r = http("GET", direct(path))
        assert r.status == 200 and r.body == {"status": "ok"}, r


def metrics():
    r = http("GET", direct("/metrics"), token=internal_key())
    assert r.status == 200, r
    assert (r.header("Content-Type") or "").startswith("text/plain"), f"Content-Type: {r}"
    types, samples = {}, []
    for line in r.text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind.strip()
        elif line and not line.startswith("#"):
            m = SAMPLE.match(line)
            assert m, f"not a Prometheus sample line: {line!r}"
            float(m.group(3))
            samples.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return types, samples


def _count(samples, types, route, status):
    """Sum of the counters labelled with this route and status."""
    total = 0.0
    for name, labels, value in samples:
        kind = types.get(name) or types.get(re.sub(r"_total$", "", name))
        if kind == "counter" and labels.get("route") == route \
                and (labels.get("status") or labels.get("code")) == str(status):
            total += value
    return total


def test_metrics_count_requests_by_route_and_status_with_latency_buckets():
    tok = admin_token()
    u = make_user(login_now=False)
    types, samples = metrics()
    before_200 = _count(samples, types, "/api/v1/me", 200)
    before_401 = _count(samples, types, "/api/v1/me", 401)
    for _ in range(3):
        expect(http("GET", direct("/api/v1/me"), token=tok), 200)
    for _ in range(2):
        assert http("GET", direct("/api/v1/me")).status == 401
    expect(http("GET", direct(f"/api/v1/users/{u['id']}"), token=tok), 200)
    types, samples = metrics()
    assert _count(samples, types, "/api/v1/me", 200) - before_200 >= 3, \
        "no counter with route=\"/api/v1/me\" and status=\"200\" grew by 3"
    assert _count(samples, types, "/api/v1/me", 401) - before_401 >= 2, \
        "no counter with route=\"/api/v1/me\" and status=\"401\" grew by 2"
    routes = {labels.get("route") for _, labels, _ in samples}
    assert routes & {"/api/v1/users/:id", "/api/v1/users/{id}"}, \
        f"routes must be labelled by template, got {sorted(r for r in routes if r)}"
    assert f"/api/v1/users/{u['id']}" not in routes, "a route label holds a concrete id"
    hist = [n for n, k in types.items() if k == "histogram"]
    assert hist, "no histogram"
    buckets = [(labels, v) for n, labels, v in samples
               if n.endswith("_bucket") and n[:-7] in hist and labels.get("route") == "/api/v1/me"]
    assert buckets and any(lb.get("le") == "+Inf" for lb, _ in buckets), "no latency buckets for /api/v1/me"
    les = sorted(float(lb["le"]) for lb, _ in buckets if lb.get("le") not in (None, "+Inf"))
    assert len(les) >= 3, f"too few buckets: {les}"
    inf = sum(v for lb, v in buckets if lb.get("le") == "+Inf")
    assert inf >= 5, f"+Inf bucket of /api/v1/me counts {inf} requests"
