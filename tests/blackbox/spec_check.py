"""Every answer and every event the black-box tests see, checked against api-spec/.

client.http() calls check_response() on each answer it receives; client.Subscriber
(and so audit_helpers.FeedSubscriber) calls check_event() on each message. A
mismatch raises AssertionError in the test that received it.

HTTP (api-spec/openapi.yaml): the request is matched to an operation by method
and path template (gateway paths /api/v1/..., and the service-port paths
/healthz, /readyz, /metrics, /internal/v1/outbox, /api/v1/... on a service's
own port); HEAD is checked as the GET it mirrors, without a body. The status
must be declared for that operation, the Content-Type must be one of its
media types, a JSON body must match the schema (JSON Schema 2020-12, $refs
resolved against the whole document), and declared headers must be present
when required and match their schema when present. Answers no operation
declares, made before any service sees the request, are checked as the spec's
info section describes them: the transport's refusals (414, 431, 400
bad_request), a path in no route (404), a method the path does not have (405,
with Allow), an upstream down or too slow (502/504) and a CORS preflight
(OPTIONS) — every such error must still be a Problem.

Events (api-spec/asyncapi.yaml): the message whose `name` is the event's
`type` must exist and its payload schema must accept the event; the CloudEvents
1.0 attribute rules (required attributes, attribute names, extension values)
are checked as well.

Answers read from raw sockets (tests of malformed request lines and the like)
do not pass through client.http() and are not checked here: they are the
tests' own business (test_http.py, test_hostile_inputs.py).
"""
import json
import os
import re
import threading
import urllib.parse

import jsonschema
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
METHODS = ("get", "put", "post", "delete", "patch", "options", "head")
_LOCK = threading.Lock()
_CACHE = {}
# CloudEvents 1.0: attribute names are lower-case a-z and 0-9, at most 20 characters
CE_NAME = re.compile(r"^[a-z0-9]{1,20}$")
CE_REQUIRED = ("id", "source", "specversion", "type")
# answers openapi.yaml's conventions (info.description) give every operation
# rather than each: the transport's (414 uri_too_long, 431 headers_too_large,
# 400 bad_request for framing, 413 payload_too_large for a body over 1 MiB)
# and the gateway's own (502 and 504 for a service down or too slow, 501 and
# 505 for a method or HTTP version it does not know)
TRANSPORT_CODES = {414: "uri_too_long", 431: "headers_too_large", 400: "bad_request",
                   413: "payload_too_large"}
GATEWAY_OWN = (501, 502, 504, 505)


class _Spec:
    def __init__(self, fn, uri):
        with open(os.path.join(ROOT, "api-spec", fn), encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        self.uri = uri
        self.resolver = jsonschema.RefResolver(uri, self.doc)
        self.validators = {}

    def deref(self, obj):
        """A Response, Header or Parameter object with its $ref followed."""
        while isinstance(obj, dict) and "$ref" in obj:
            obj = self.pointer(obj["$ref"])
        return obj

    def pointer(self, ref):
        assert ref.startswith("#/"), f"only local $refs are used in api-spec/: {ref}"
        node = self.doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def errors(self, schema, value):
        """The validation errors of value against schema (a node of this document)."""
        key = json.dumps(schema, sort_keys=True)
        with _LOCK:
            v = self.validators.get(key)
            if v is None:
                v = jsonschema.Draft202012Validator(
                    schema, resolver=jsonschema.RefResolver(self.uri, self.doc),
                    format_checker=jsonschema.FormatChecker())
                self.validators[key] = v
            return sorted(v.iter_errors(value), key=lambda e: list(e.absolute_path))


def openapi():
    with _LOCK:
        if "openapi" not in _CACHE:
            _CACHE["openapi"] = _Spec("openapi.yaml", "urn:itgov:openapi")
            _CACHE["routes"] = _routes(_CACHE["openapi"].doc)
        return _CACHE["openapi"]


def asyncapi():
    with _LOCK:
        if "asyncapi" not in _CACHE:
            spec = _Spec("asyncapi.yaml", "urn:itgov:asyncapi")
            spec.messages = {m.get("name"): m for m in spec.doc["components"]["messages"].values()}
            _CACHE["asyncapi"] = spec
        return _CACHE["asyncapi"]


def _routes(doc):
    """(regex, template) for every path, literal segments before parameters
    (/api/v1/sessions/current before /api/v1/sessions/{id})."""
    out = []
    for tpl in doc["paths"]:
        rx = "^" + re.sub(r"\\\{[^}/]*\\\}", "[^/]+", re.escape(tpl)) + "$"
        out.append((tpl.count("{"), re.compile(rx), tpl))
    out.sort(key=lambda r: (r[0], -len(r[2])))
    return [(rx, tpl) for _, rx, tpl in out]


def _gateway_netloc():
    return urllib.parse.urlsplit(os.environ.get("ITGOV_TEST_BASE", "")).netloc


def _fmt(errs, limit=3):
    return "; ".join(f"at /{'/'.join(map(str, e.absolute_path))}: {e.message}"[:300] for e in errs[:limit])


def _media(ctype):
    return (ctype or "").split(";")[0].strip().lower()


def _header_value(schema, raw):
    t = schema.get("type")
    if t == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw
    return raw


def _problem_only(spec, r, what):
    """An answer no operation declares: an error must be a Problem."""
    if r.status < 400:
        return
    if _media(r.headers.get("Content-Type")) != "application/problem+json":
        raise AssertionError(f"spec: {what}: {r.status} is not application/problem+json: {r}")
    errs = spec.errors({"$ref": "#/components/schemas/Problem"}, r.body)
    if errs:
        raise AssertionError(f"spec: {what}: the body is not a Problem ({_fmt(errs)}): {r}")


def check_response(r):
    """Raises AssertionError when the answer r (client.Resp) is not what
    api-spec/openapi.yaml declares for its request."""
    spec = openapi()
    routes = _CACHE["routes"]
    u = urllib.parse.urlsplit(r.url)
    path = u.path
    method = r.method.upper()
    tpl = next((t for rx, t in routes if rx.match(path)), None)
    if tpl and not tpl.startswith("/api/") and u.netloc == _gateway_netloc():
        tpl = None  # /healthz, /readyz, /metrics, /internal/...: service ports only
    what = f"{method} {path}"
    if tpl is None:
        if r.status != 404 and r.status < 500:
            raise AssertionError(f"spec: {what} is in no path of openapi.yaml, yet answered {r}")
        return _problem_only(spec, r, what)
    item = spec.deref(spec.doc["paths"][tpl])
    op_method = "get" if method == "HEAD" and "head" not in item else method.lower()
    op = item.get(op_method) if op_method in METHODS else None
    if op is None:
        if method == "OPTIONS":
            return _problem_only(spec, r, what)
        if r.status != 405:
            raise AssertionError(f"spec: {what}: no such operation in openapi.yaml, yet answered {r}")
        if not r.headers.get("Allow"):
            raise AssertionError(f"spec: {what}: 405 without Allow: {r}")
        return _problem_only(spec, r, what)
    what = f"{method} {tpl} ({op.get('operationId')})"
    responses = op.get("responses") or {}
    resp = responses.get(str(r.status)) or responses.get(f"{r.status // 100}XX") or responses.get("default")
    code = r.body.get("code") if isinstance(r.body, dict) else None
    if r.status in TRANSPORT_CODES and code == TRANSPORT_CODES[r.status]:
        return _problem_only(spec, r, what)
    if resp is None:
        if r.status in GATEWAY_OWN:
            return _problem_only(spec, r, what)
        raise AssertionError(f"spec: {what}: status {r.status} is not declared "
                             f"(declared: {', '.join(sorted(responses))}): {r}")
    resp = spec.deref(resp)
    for name, h in (resp.get("headers") or {}).items():
        h = spec.deref(h)
        got = r.headers.get(name)
        if got is None:
            if h.get("required"):
                raise AssertionError(f"spec: {what}: {r.status} lacks the required header {name}: {r}")
            continue
        if "schema" in h:
            errs = spec.errors(h["schema"], _header_value(spec.deref(h["schema"]), got))
            if errs:
                raise AssertionError(f"spec: {what}: header {name}: {got!r} ({_fmt(errs)}): {r}")
    content = resp.get("content") or {}
    if method == "HEAD":
        if r.raw:
            raise AssertionError(f"spec: {what}: HEAD answered with a body: {r}")
        return
    if not content:
        if r.raw:
            raise AssertionError(f"spec: {what}: {r.status} declares no body, yet has one: {r}")
        return
    media = _media(r.headers.get("Content-Type"))
    if media not in content:
        raise AssertionError(f"spec: {what}: {r.status} Content-Type {media!r} is not one of "
                             f"{sorted(content)}: {r}")
    schema = (content[media] or {}).get("schema")
    if schema is None:
        return
    if "json" in media:
        if not r.raw:
            raise AssertionError(f"spec: {what}: {r.status} {media} with an empty body: {r}")
        try:
            body = json.loads(r.text)
        except ValueError:
            raise AssertionError(f"spec: {what}: {r.status} {media} is not JSON: {r}") from None
        errs = spec.errors(schema, body)
        if errs:
            raise AssertionError(f"spec: {what}: {r.status} body does not match ({_fmt(errs)}): {r}")


def check_event(topic, raw, ev):
    """Raises AssertionError when the message [topic][raw] (ev parsed) breaks
    CloudEvents 1.0 or matches no message of api-spec/asyncapi.yaml."""
    spec = asyncapi()
    what = f"event {raw[:300]!r}"
    if not isinstance(ev, dict):
        raise AssertionError(f"spec: {what}: not a JSON object")
    for name in CE_REQUIRED:
        if not isinstance(ev.get(name), str) or not ev[name]:
            raise AssertionError(f"spec: {what}: CloudEvents attribute {name} must be a non-empty string")
    for name, value in ev.items():
        if name == "data":
            continue
        if not CE_NAME.match(name):
            raise AssertionError(f"spec: {what}: {name!r} is not a CloudEvents attribute name")
        if name not in ("actor",) and not (value is None or isinstance(value, (str, int, bool))):
            raise AssertionError(f"spec: {what}: attribute {name} is not a CloudEvents type")
    if "data_base64" in ev:
        raise AssertionError(f"spec: {what}: data_base64 beside a JSON data")
    msg = spec.messages.get(ev["type"])
    if msg is None:
        raise AssertionError(f"spec: {what}: asyncapi.yaml has no message named {ev['type']!r}")
    if topic != ev["type"][len("itgov."):]:
        raise AssertionError(f"spec: {what}: topic {topic!r} is not the type without 'itgov.'")
    errs = spec.errors(msg["payload"], ev)
    if errs:
        raise AssertionError(f"spec: {what}: payload of {ev['type']} does not match ({_fmt(errs)})")
