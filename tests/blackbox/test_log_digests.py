"""Log digests (issue 14 B, articles 16-17): a governed system anchors the
SHA-256 of each rotated segment of its logs in the audit log with its key
(scope log_digests), and anyone with the audit public key can later prove a
segment is exactly what was anchored.

Proven here: three segments of a log anchored (201 {id, seq}, the chain
holding) and each verified, the proof CHECKED IN THIS TEST rather than taken
from the server: the entry's hash recomputed from its cloudevent (which is
the digest's own event, naming its sha256), its leaf, the RFC 9162 audit path
up to the checkpoint's root, and the checkpoint's Ed25519 signature with the
key of GET /api/v1/audit/public-key (through libsodium, as the service signs;
no Python crypto package needed). One byte changed in a segment:
404 not_anchored. A segment skipped, or one rewritten after later ones:
stored all the same and a log_chain_broken finding raised with it (its event
itgov.system.finding.raised in the log). The same digest posted again:
200, the same record, no second event. Parallel digests of one log: taken
one at a time (each follows exactly one other). A key of another project, or
without the scope, 403; a person 403; every bad field named (400)."""
import base64
import concurrent.futures
import ctypes
import ctypes.util
import hashlib
import json
import os
import time
import urllib.parse

import client
from client import expect, http, poll, problem, validation
from projects_flow import live_system, system_key, tok

ORDER = 66
_cache = {}


# ---- keys and systems -------------------------------------------------------------


def key_for(pid, scopes):
    return system_key(None, pid, list(scopes))[1]


def system(name):
    """A project in operation with a log_digests key, made once per name."""
    if name not in _cache:
        pid = live_system()["id"]
        kid, key = system_key(None, pid, ["log_digests"])
        _cache[name] = (pid, key)
        _cache[name + ".kid"] = kid
    return _cache[name]


# ---- digests ------------------------------------------------------------------------


def sha(data):
    return hashlib.sha256(data).hexdigest()


def segment_bytes(n=40):
    return b"".join(f"2026-11-30T0{i % 10}:00:00Z GET /x/{os.urandom(4).hex()} 200\n".encode()
                    for i in range(n))


def body(log, data, previous, segment=None, **kw):
    b = {"log_name": log, "segment": segment or f"{log}.{os.urandom(3).hex()}",
         "first_entry_at": "2026-11-29T00:00:00Z", "last_entry_at": "2026-11-29T23:59:59Z",
         "entries": data.count(b"\n"), "sha256": sha(data), "previous_sha256": previous}
    b.update(kw)
    return b


def post(pid, b, key, tries=4):
    """POST a digest; a 503 (anchoring slow) is retried, as a client does."""
    for _ in range(tries):
        r = http("POST", f"/systems/{pid}/log-digests", b, token=key)
        if r.status != 503:
            return r
        time.sleep(1)
    return r


def anchor(pid, key, b, status=201):
    d = expect(post(pid, b, key), status)
    assert d["sha256"] == b["sha256"] and d["project_id"] == pid, d
    assert isinstance(d["seq"], int) and d["seq"] >= 1, d
    return d


def verify(pid, log, digest, token):
    return http("POST", "/log-digests/verify", {"project_id": pid, "log_name": log, "sha256": digest},
                token=token)


def new_log():
    return "access-" + os.urandom(4).hex() + ".log"


# ---- the proof, checked here ----------------------------------------------------------


def H(b):
    return hashlib.sha256(b).digest()


def root_from_path(index, size, leaf, path):
    """RFC 9162 2.1.3.2: the root the audit path leads to, or None."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = H(b"\x01" + p + r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = H(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def ed25519_ok(public_key, signature, message):
    lib = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
    assert lib.sodium_init() >= 0
    return lib.crypto_sign_verify_detached(signature, message, ctypes.c_ulonglong(len(message)),
                                           public_key) == 0


def public_key():
    if "pk" not in _cache:
        _cache["pk"] = expect(http("GET", "/audit/public-key"), 200)
    return _cache["pk"]


def check_proof(v, pid, log, digest):
    """Everything a verifier checks, from the answer and the public key alone."""
    assert v["anchored"] is True and set(v) == {"anchored", "seq", "anchored_at", "inclusion_proof",
                                                "checkpoint", "entry"}, v
    seq, proof, cp, entry = v["seq"], v["inclusion_proof"], v["checkpoint"], v["entry"]
    # the entry is the digest's own event
    ev = json.loads(entry["cloudevent"])
    assert ev["type"] == "itgov.system.log_digest.anchored" and ev["seq"] == seq == entry["seq"], ev
    assert ev["subject"] == f"projects/{pid}" and ev["actor"] is None, ev
    assert ev["data"]["sha256"] == digest and ev["data"]["log_name"] == log, ev
    # its hash, its leaf
    h = H(bytes.fromhex(entry["prev_hash"]) + entry["cloudevent"].encode())
    assert h.hex() == entry["hash"], entry
    leaf = H(b"\x00" + h)
    assert leaf.hex() == proof["leaf_hash"] and proof["leaf_index"] == seq - 1, proof
    # the path to the root of the signed checkpoint
    assert proof["tree_size"] == cp["size"] >= seq, (proof, cp)
    root = root_from_path(proof["leaf_index"], proof["tree_size"], leaf,
                          [bytes.fromhex(p) for p in proof["audit_path"]])
    assert root is not None and root.hex() == cp["root_hash"], (proof, cp)
    # the checkpoint's signature with the audit public key
    pk = public_key()
    raw_pk = base64.b64decode(pk["public_key"])
    assert cp["key_id"] == pk["key_id"] == hashlib.sha256(raw_pk).hexdigest()[:16], (cp, pk)
    msg = f"itgov-audit-checkpoint v1\n{cp['size']}\n{cp['root_hash']}\n{cp['time']}\n".encode()
    assert ed25519_ok(raw_pk, base64.b64decode(cp["signature"]), msg), cp
    # and a forged root or signature would not pass
    assert not ed25519_ok(raw_pk, base64.b64decode(cp["signature"]),
                          msg.replace(cp["root_hash"].encode(), b"0" * 64))
    assert root_from_path(proof["leaf_index"], proof["tree_size"], H(b"\x00" + H(b"other")),
                          [bytes.fromhex(p) for p in proof["audit_path"]]) != root
    return v


def log_events(pid, type_prefix):
    b = expect(http("GET", f"/audit?subject=projects/{pid}&type_prefix={urllib.parse.quote(type_prefix)}"
                    "&limit=200", token=tok("it")), 200)
    return b["items"]


# ---- three segments, anchored and verified ------------------------------------------------


def test_three_segments_are_anchored_and_each_verifies_with_its_proof():
    pid, key = system("p")
    log = new_log()
    segs = [segment_bytes() for _ in range(3)]
    prev, got = None, []
    for i, data in enumerate(segs):
        b = body(log, data, prev, segment=f"{log}.{i + 1}")
        d = anchor(pid, key, b)
        assert d["chain_broken"] is False and d["finding_id"] is None, d
        assert d["expected_previous_sha256"] == prev and d["previous_sha256"] == prev, d
        assert d["log_name"] == log and d["segment"] == f"{log}.{i + 1}" and d["entries"] == 40, d
        assert d["first_entry_at"] == "2026-11-29T00:00:00Z" and d["last_entry_at"] == "2026-11-29T23:59:59Z", d
        client.check_instant(d["received_at"], "received_at")
        got.append(d)
        prev = b["sha256"]
    assert len({d["seq"] for d in got}) == 3 and got[0]["seq"] < got[1]["seq"] < got[2]["seq"], got
    for data, d in zip(segs, got):
        # by the system's own key and by the IT office, auditors, admins
        for token in (key, tok("it"), tok("auditor"), client.admin_token()):
            v = expect(verify(pid, log, sha(data), token), 200)
            check_proof(v, pid, log, sha(data))
            assert v["seq"] == d["seq"], (v, d)
            client.check_instant(v["anchored_at"], "anchored_at")
        # the record, by id
        r = expect(http("GET", f"/log-digests/{d['id']}", token=tok("auditor")), 200)
        assert r == d, (r, d)
        assert expect(http("GET", f"/log-digests/{d['id']}", token=key), 200) == d
    # each has its event, actor null, no key in it
    evs = [e for e in log_events(pid, "itgov.system.log_digest.") if e["data"]["log_name"] == log]
    assert [e["seq"] for e in evs] == [d["seq"] for d in got], evs
    for e, d in zip(evs, got):
        assert e["actor_id"] is None and e["subject"] == f"projects/{pid}", e
        assert e["data"]["id"] == d["id"] and e["data"]["chain_broken"] is False, e
        assert key not in json.dumps(e), e
    _cache["three"] = (log, segs, got)


def test_one_byte_changed_is_not_anchored():
    pid, key = system("p")
    if "three" not in _cache:
        test_three_segments_are_anchored_and_each_verifies_with_its_proof()
    log, segs, _ = _cache["three"]
    altered = bytearray(segs[1])
    altered[17] ^= 0x01
    for token in (key, tok("it")):
        problem(verify(pid, log, sha(bytes(altered)), token), 404, "not_anchored")
    # the right digest under another log name, or another project: not anchored either
    problem(verify(pid, log + ".other", sha(segs[1]), tok("it")), 404, "not_anchored")
    problem(verify(pid + 1, log, sha(segs[1]), tok("it")), 404, "not_anchored")


# ---- the chain ----------------------------------------------------------------------------------


def findings_raised(pid):
    return [e for e in log_events(pid, "itgov.system.finding.") if e["type"] == "itgov.system.finding.raised"]


def chain_finding(pid, digest_id):
    return poll(lambda: next((e for e in findings_raised(pid)
                              if e["data"]["kind"] == "log_chain_broken"
                              and e["data"]["detail"].get("digest_id") == digest_id), None),
                10, f"log_chain_broken for digest {digest_id}", interval=0.1)


def test_a_skipped_segment_raises_log_chain_broken():
    pid, key = system("p")
    log = new_log()
    s1, s2, s3, s4 = (segment_bytes(5) for _ in range(4))
    d1 = anchor(pid, key, body(log, s1, None))
    # s2 never posted (deleted): s3 names it as its previous
    d3 = anchor(pid, key, body(log, s3, sha(s2)))
    assert d3["chain_broken"] is True and d3["expected_previous_sha256"] == sha(s1), d3
    assert isinstance(d3["finding_id"], int), d3
    ev = chain_finding(pid, d3["id"])
    f = ev["data"]
    assert f["id"] == d3["finding_id"] and f["project_id"] == pid and f["status"] == "open", f
    assert f["detail"] == {"log_name": log, "segment": d3["segment"], "digest_id": d3["id"],
                           "sha256": sha(s3), "expected_previous": sha(s1), "got_previous": sha(s2)}, f
    assert ev["actor_id"] is None and ev["subject"] == f"projects/{pid}", ev
    # the finding's event follows the digest's in the same transaction
    assert ev["seq"] > d3["seq"], (ev, d3)
    # the findings list names it, its evidence the digest's own log entry
    listed = poll(lambda: [x for x in expect(http(
        "GET", f"/systems/findings?project_id={pid}&kind=log_chain_broken", token=tok("auditor")),
        200)["items"] if x["id"] == d3["finding_id"]], 10, "the finding listed")
    assert listed[0]["evidence_seq"] == d3["seq"] and listed[0]["status"] == "open", listed
    assert listed[0]["detail"] == f["detail"], listed
    # the broken digest is anchored all the same, and the chain goes on from it
    check_proof(expect(verify(pid, log, sha(s3), tok("it")), 200), pid, log, sha(s3))
    d4 = anchor(pid, key, body(log, s4, sha(s3)))
    assert d4["chain_broken"] is False and d4["finding_id"] is None, d4
    # a segment rewritten after later ones were anchored: broken again
    rewritten = anchor(pid, key, body(log, s2, sha(s1)))
    assert rewritten["chain_broken"] is True and rewritten["expected_previous_sha256"] == sha(s4), rewritten
    chain_finding(pid, rewritten["id"])
    # the first digest of a log naming a previous one: broken too (expected null)
    other = new_log()
    first = anchor(pid, key, body(other, s1, sha(s4)))
    assert first["chain_broken"] is True and first["expected_previous_sha256"] is None, first
    f = chain_finding(pid, first["id"])["data"]
    assert f["detail"]["expected_previous"] is None and f["detail"]["got_previous"] == sha(s4), f
    # a log's chain is its own: the same content in another log starts clean
    assert d1["chain_broken"] is False


def test_the_same_digest_again_answers_the_same_record():
    pid, key = system("p")
    log = new_log()
    data = segment_bytes(3)
    b = body(log, data, None)
    d = anchor(pid, key, b)
    again = expect(post(pid, b, key), 200)
    assert again == d, (again, d)
    # whatever the other fields say: the digest is the key
    again = expect(post(pid, dict(b, segment="renamed", entries=99), key), 200)
    assert again == d, (again, d)
    evs = [e for e in log_events(pid, "itgov.system.log_digest.") if e["data"]["sha256"] == sha(data)]
    assert len(evs) == 1, evs


def test_parallel_digests_of_one_log_are_taken_one_at_a_time():
    pid, key = system("p")
    log = new_log()
    segs = [segment_bytes(2) for _ in range(6)]
    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        got = list(ex.map(lambda s: expect(post(pid, body(log, s, None), key), 201), segs))
    # each follows exactly one other (or none, the first): never two the same "last"
    expected = sorted((d["expected_previous_sha256"] or "") for d in got)
    assert len(set(expected)) == 6, got
    assert sum(1 for d in got if d["expected_previous_sha256"] is None) == 1, got
    assert sum(1 for d in got if not d["chain_broken"]) == 1, got
    by_id = sorted(got, key=lambda d: d["id"])
    for a, b in zip(by_id, by_id[1:]):
        assert b["expected_previous_sha256"] == a["sha256"], (a, b)
    # the same digest posted at once: one record, one 201
    data = segment_bytes(2)
    b = body(log, data, by_id[-1]["sha256"])
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        rs = list(ex.map(lambda _: post(pid, b, key), range(4)))
    assert sorted(r.status for r in rs) == [200, 200, 200, 201], rs
    assert len({r.body["id"] for r in rs}) == 1, rs


# ---- who may ----------------------------------------------------------------------------------------


def test_a_key_of_another_project_or_scope_and_a_person_are_refused():
    pid, key = system("p")
    qid, qkey = system("q")
    log = new_log()
    data = segment_bytes(2)
    b = body(log, data, None)
    problem(post(pid, b, qkey), 403, "forbidden")
    for scopes in (["metrics"], ["config"], ["metrics", "config"]):
        k = key_for(pid, scopes)
        problem(post(pid, b, k), 403, "forbidden")
        problem(verify(pid, log, sha(data), k), 403, "forbidden")
    for role in ("it", "auditor", "applicant"):
        problem(post(pid, b, tok(role)), 403, "forbidden")
    problem(post(pid, b, client.admin_token()), 403, "forbidden")
    problem(post(pid, b, None), 401)
    problem(post(pid, b, "itgk_" + "A" * 43), 401)
    d = anchor(pid, key, b)
    # verify and read: the key of another project is 403 (before any other check of the body)
    problem(verify(pid, log, sha(data), qkey), 403, "forbidden")
    problem(http("POST", "/log-digests/verify", {"project_id": pid, "bogus": 1}, token=qkey), 403, "forbidden")
    problem(http("GET", f"/log-digests/{d['id']}", token=qkey), 403, "forbidden")
    problem(http("GET", f"/log-digests/{d['id']}", token=key_for(pid, ["metrics"])), 403, "forbidden")
    for role in ("applicant", "secretary", "expert"):
        problem(verify(pid, log, sha(data), tok(role)), 403, "forbidden")
        problem(http("GET", f"/log-digests/{d['id']}", token=tok(role)), 403, "forbidden")
    problem(verify(pid, log, sha(data), None), 401)
    # the bad body is 403 before 400 for a person too (the route's roles decide first)
    problem(http("POST", f"/systems/{pid}/log-digests", {}, token=tok("it")), 403, "forbidden")
    # the key of q anchors for q
    anchor(qid, qkey, body(log, data, None))
    check_proof(expect(verify(qid, log, sha(data), qkey), 200), qid, log, sha(data))
    problem(http("GET", "/log-digests/999999999", token=tok("it")), 404, "not_found")
    problem(http("POST", "/systems/abc/log-digests", b, token=key), 404)
    # a revoked key: 401 at once, as an unknown one
    kid, k = system_key(None, pid, ["log_digests"])
    anchor(pid, k, body(new_log(), segment_bytes(1), None))
    expect(http("POST", f"/system-keys/{kid}/revoke", token=tok("it")), 200)
    problem(post(pid, body(new_log(), segment_bytes(1), None), k), 401)
    problem(verify(pid, log, sha(data), k), 401)


# ---- every bad field ------------------------------------------------------------------------------


def test_every_bad_field_is_named():
    pid, key = system("p")
    data = segment_bytes(1)
    good = body(new_log(), data, None)

    def bad(*fields, **changes):
        b = dict(good)
        for k, v in changes.items():
            if v is ...:
                b.pop(k)
            else:
                b[k] = v
        validation(post(pid, b, key), *fields)

    problem(http("POST", f"/systems/{pid}/log-digests", raw=b"{", token=key), 400, "invalid_json")
    validation(post(pid, [], key), "")
    validation(post(pid, {}, key), "log_name", "segment", "first_entry_at", "last_entry_at", "entries",
               "sha256", "previous_sha256")
    bad("log_name", log_name="")
    bad("log_name", log_name="x" * 201)
    bad("log_name", log_name="a\nb")
    bad("log_name", log_name="a\u0085b")
    bad("log_name", log_name=7)
    bad("segment", segment="\t")
    bad("segment", segment="s" * 201)
    bad("first_entry_at", first_entry_at="yesterday")
    bad("first_entry_at", first_entry_at="2026-02-30T00:00:00Z")
    bad("last_entry_at", last_entry_at="2026-11-29")
    bad("last_entry_at", first_entry_at="2026-11-29T10:00:00Z", last_entry_at="2026-11-29T09:59:59Z")
    # offsets count: 11:00+02:00 is before 10:00Z
    bad("last_entry_at", first_entry_at="2026-11-29T10:00:00Z", last_entry_at="2026-11-29T11:00:00+02:00")
    bad("entries", entries=-1)
    bad("entries", entries=1.5)
    bad("entries", entries="3")
    bad("entries", entries=2**53)
    bad("sha256", sha256=good["sha256"].upper())
    bad("sha256", sha256=good["sha256"][:63])
    bad("sha256", sha256=None)
    bad("previous_sha256", previous_sha256=...)
    bad("previous_sha256", previous_sha256="zz")
    bad("previous_sha256", previous_sha256=good["sha256"][:-1] + "G")
    bad("colour", colour="red")
    b = validation(post(pid, dict(good, log_name="", entries=-1, sha256="x", extra=1), key),
                   "log_name", "entries", "sha256", "extra")
    assert len(b["errors"]) == 4, b
    # a good one with offsets, fractions and 0 entries is fine
    ok = anchor(pid, key, dict(good, first_entry_at="2026-11-29T11:00:00.5+02:00",
                               last_entry_at="2026-11-29T09:00:00.5Z", entries=0))
    assert ok["first_entry_at"] == "2026-11-29T09:00:00Z", ok
    big = anchor(pid, key, dict(good, log_name=new_log(), sha256=sha(b"big"), entries=2**53 - 1))
    assert big["entries"] == 2**53 - 1, big
    # verify's fields
    v = lambda b, t=tok("it"): http("POST", "/log-digests/verify", b, token=t)  # noqa: E731
    validation(v({}), "project_id", "log_name", "sha256")
    validation(v({"project_id": 0, "log_name": "", "sha256": "ABC", "x": 1}), "project_id", "log_name",
               "sha256", "x")
    validation(v({"project_id": "1", "log_name": "a\x01", "sha256": good["sha256"]}), "project_id", "log_name")
    validation(v({"project_id": pid, "log_name": "a", "sha256": 5}, key), "sha256")
    problem(http("POST", "/log-digests/verify", raw=b"[1,", token=tok("it")), 400, "invalid_json")


# ---- the wait for the log ---------------------------------------------------------------------


def test_a_slow_log_answers_503_and_the_digest_posted_again_answers_its_record():
    """While the log cannot be written (its table locked for a few seconds),
    the answer is 503 after the wait, with Retry-After; the digest is kept,
    and posting it again once the log caught up answers it (200, its seq)."""
    import shlex
    import subprocess
    pid, key = system("p")
    log = new_log()
    data = segment_bytes(2)
    b = body(log, data, None)
    hold = subprocess.Popen(
        f"{client.cfg('ITGOV_TEST_PSQL')} -X -q -At -v ON_ERROR_STOP=1 -c "
        + shlex.quote("BEGIN; LOCK TABLE audit.entries IN EXCLUSIVE MODE; SELECT pg_sleep(8); COMMIT;"),
        shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        poll(lambda: client.psql(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'entries' AND l.mode = 'ExclusiveLock' AND l.granted").strip() == "1",
             5, "the log's table locked", interval=0.05)
        r = http("POST", f"/systems/{pid}/log-digests", b, token=key)
        problem(r, 503, "unavailable")
        assert int(r.header("Retry-After")) >= 1, r
        problem(verify(pid, log, sha(data), tok("it")), 404, "not_anchored")
    finally:
        assert hold.wait(timeout=30) == 0, hold.stderr.read()
    d = poll(lambda: (lambda r: r.status == 200 and r.body)(http("POST", f"/systems/{pid}/log-digests", b,
                                                                  token=key)),
             15, "the digest answered once the log caught up", interval=0.2)
    assert d["sha256"] == sha(data) and isinstance(d["seq"], int) and d["chain_broken"] is False, d
    assert expect(http("GET", f"/log-digests/{d['id']}", token=tok("it")), 200) == d
    check_proof(expect(verify(pid, log, sha(data), key), 200), pid, log, sha(data))
