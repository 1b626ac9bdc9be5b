"""The audit log (issue 3): every change once, in order, with the right actor
and subject; who may read it; the hash chain, tampering detected (and undone);
signed heads and proofs checked by the independent verifier, forged ones
refused; the public ZeroMQ feed and filling its gaps over REST."""
import concurrent.futures
import hashlib
import time
import urllib.parse

from audit_helpers import (audit_url, auditor_token, chain_hash, check_log_matches_outboxes, entries,
                           FeedSubscriber, log_size, psql, run_verifier, settle, verify)
from client import (Subscriber, about_user, admin_id, admin_token, expect, http, login, make_department,
                    make_user, new_password, poll, problem, validation)

ORDER = 80


# ---------------------------------------------------------------- reading the log


def test_who_may_read_the_log_and_who_may_verify_it():
    problem(http("GET", audit_url()), 401, "unauthorized")
    problem(http("GET", audit_url("/verify")), 401, "unauthorized")
    applicant = make_user()
    problem(http("GET", audit_url(), token=applicant["token"]), 403, "forbidden")
    problem(http("GET", "/audit", token=applicant["token"]), 403, "forbidden")
    office = make_user(roles=("it_office",))
    expect(http("GET", "/audit?limit=1", token=office["token"]), 200)
    problem(http("GET", "/audit/verify", token=office["token"]), 403, "forbidden")
    expect(http("GET", "/audit?limit=1", token=admin_token()), 200)
    expect(http("GET", "/audit?limit=1", token=auditor_token()), 200)
    # proofs and heads reveal hashes only: anyone may check them
    expect(http("GET", "/audit/public-key"), 200)
    expect(http("GET", "/audit/checkpoint"), 200)


def test_list_refuses_bad_filters_naming_each():
    r = http("GET", "/audit?limit=0&after=-1&actor_id=x&from=yesterday&to=2026-13-01T00:00:00Z",
             token=auditor_token())
    validation(r, "limit", "after", "actor_id", "from", "to")


def test_every_account_change_is_in_the_log_once_with_its_actor_and_subject():
    with Subscriber() as sub:
        sub.ready()
        admin = admin_token()
        dept = make_department()
        u = make_user()
        expect(http("PATCH", f"/users/{u['id']}", {"display_name": "审计测试"}, token=admin), 200)
        expect(http("POST", f"/users/{u['id']}/disable", token=admin), 200)
        expect(http("POST", f"/users/{u['id']}/enable", token=admin), 200)
        tok = login(u["username"], u["password"])
        pw = new_password()
        expect(http("PUT", "/me/password", {"current_password": u["password"], "new_password": pw},
                    token=tok), 204)
        published = sub.wait(lambda e: about_user(e, u) or e.get("subject") == f"departments/{dept['id']}",
                             count=6, what="events about the user and department")
        time.sleep(1)
        published = sub.matching(lambda e: about_user(e, u) or e.get("subject") == f"departments/{dept['id']}")
    ids = {e["id"]: e for e in published}
    got = poll(lambda: (lambda g: g if {e["id"] for e in g} == set(ids) else None)(
        [e for e in entries(type_prefix="itgov.account.", after=0) if e["id"] in ids]),
        45, f"the {len(ids)} published events in the log")
    seen = {}
    for e in got:
        seen[e["id"]] = seen.get(e["id"], 0) + 1
        ev = ids[e["id"]]
        assert e["type"] == ev["type"] and e["source"] == ev["source"], (e, ev)
        assert e["subject"] == ev.get("subject"), f"subject: log {e['subject']!r}, event {ev.get('subject')!r}"
        assert e["actor_id"] == ev.get("actor"), f"actor: log {e['actor_id']!r}, event {ev.get('actor')!r}"
        assert e["data"] == ev.get("data"), "data differs from the event's"
        assert isinstance(e["seq"], int) and len(e["hash"]) == 64, e
    assert all(n == 1 for n in seen.values()), f"stored more than once: {seen}"
    by_type = {e["type"]: e for e in got}
    assert by_type["itgov.account.user.updated"]["actor_id"] == admin_id()
    assert by_type["itgov.account.user.updated"]["subject"] == f"users/{u['id']}"
    assert by_type["itgov.account.department.created"]["actor_id"] == admin_id()
    # the filters find them
    mine = entries(subject=f"users/{u['id']}")
    assert {e["id"] for e in mine} >= {e["id"] for e in got if e["subject"] == f"users/{u['id']}"}
    assert all(e["subject"] == f"users/{u['id']}" for e in mine)
    by_actor = entries(actor_id=u["id"], type_prefix="itgov.account.password.")
    assert [e["type"] for e in by_actor] == ["itgov.account.password.changed"], by_actor
    t = by_type["itgov.account.user.updated"]["time"]
    window = entries(**{"from": t, "to": t, "subject": f"users/{u['id']}"})
    assert by_type["itgov.account.user.updated"]["id"] in {e["id"] for e in window}


def test_pages_follow_seq_without_overlap():
    before = log_size()
    first = expect(http("GET", "/audit?limit=3", token=auditor_token()), 200)
    assert [e["seq"] for e in first["items"]] == [1, 2, 3] and first["next_cursor"] == "3", first
    nxt = expect(http("GET", "/audit?limit=3&cursor=3", token=auditor_token()), 200)
    assert [e["seq"] for e in nxt["items"]] == [4, 5, 6], nxt
    alt = expect(http("GET", "/audit?limit=3&after=3", token=auditor_token()), 200)
    assert alt["items"] == nxt["items"]
    last = expect(http("GET", f"/audit?after={before + 10**6}", token=auditor_token()), 200)
    assert last == {"items": [], "next_cursor": None}


def test_counts_match_the_outboxes_after_a_burst_of_concurrent_writes():
    users = [make_user(login_now=False) for _ in range(4)]
    admin = admin_token()

    def patch(i):
        u = users[i % len(users)]
        return http("PATCH", f"/users/{u['id']}", {"display_name": f"并发 {i}"}, token=admin).status

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(patch, range(240)))
    assert statuses.count(200) == 240, statuses
    check_log_matches_outboxes()


# ---------------------------------------------------------------- the chain and tampering


def test_the_whole_log_verifies():
    settle()
    v = verify()
    assert v["ok"] is True, v
    assert v["entries"] >= log_size() - 5 and v["head"]["seq"] == v["entries"], v
    last = entries(after=v["entries"] - 1)[0]
    assert last["hash"] == v["head"]["hash"]


def test_the_audit_role_cannot_change_the_log_and_triggers_refuse_even_the_owner():
    for stmt in ("UPDATE audit.entries SET type = 'x' WHERE seq = 1", "DELETE FROM audit.entries WHERE seq = 1",
                 "TRUNCATE audit.entries", "ALTER TABLE audit.entries DISABLE TRIGGER USER",
                 "DROP TABLE audit.entries"):
        out = _psql_fails(f"SET ROLE audit; {stmt}")
        assert "permission denied" in out or "must be owner" in out, f"audit role: {stmt}: {out}"
    for stmt in ("UPDATE audit.entries SET type = 'x' WHERE seq = 1", "DELETE FROM audit.entries WHERE seq = 1",
                 "TRUNCATE audit.entries"):
        out = _psql_fails(f"SET ROLE audit_owner; {stmt}")
        assert "append-only" in out, f"owner: {stmt}: {out}"
    assert verify()["ok"] is True


def _psql_fails(sql):
    import subprocess
    from client import cfg
    import shlex
    p = subprocess.run(f"{cfg('ITGOV_TEST_PSQL')} -X -q -At -v ON_ERROR_STOP=1 -c {shlex.quote(sql)}",
                       shell=True, capture_output=True, text=True, timeout=60)
    assert p.returncode != 0, f"psql accepted: {sql}"
    return p.stderr


REPLICA = "SET session_replication_role = replica; "


def _failed_event_after(seq_before):
    return poll(lambda: [e for e in entries(type_prefix="itgov.audit.verify.failed", after=seq_before)],
                30, "itgov.audit.verify.failed in the log")


def test_an_altered_entry_is_named_by_verify():
    settle()
    seq = max(2, log_size() // 2)
    old = psql(f"SELECT data::text FROM audit.entries WHERE seq = {seq}").strip()
    size_before = log_size()
    psql(REPLICA + f"UPDATE audit.entries SET data = '{{\"forged\": true}}' WHERE seq = {seq}")
    try:
        v = verify(admin_token())
        assert v == {"ok": False, "first_bad_seq": seq, "reason": v.get("reason")} and v["reason"], v
    finally:
        psql(REPLICA + f"UPDATE audit.entries SET data = $j${old}$j$::jsonb WHERE seq = {seq}"
             if old else REPLICA + f"UPDATE audit.entries SET data = NULL WHERE seq = {seq}")
    ev = _failed_event_after(size_before)[0]
    assert ev["data"]["first_bad_seq"] == seq and ev["actor_id"] == admin_id(), ev
    # a rewritten CloudEvent with a recomputed hash still breaks the chain at the next entry
    row = psql(f"SELECT cloudevent || '|' || prev_hash || '|' || hash FROM audit.entries WHERE seq = {seq}").strip()
    ce, prev, h = row.rsplit("|", 2)
    forged = ce.replace('"specversion"', '"forged":1,"specversion"', 1)
    assert forged != ce
    psql(REPLICA + f"UPDATE audit.entries SET cloudevent = $c${forged}$c$, hash = '{chain_hash(prev, forged.encode())}' "
         f"WHERE seq = {seq}")
    try:
        v = verify()
        assert v["ok"] is False and v["first_bad_seq"] in (seq, seq + 1), v
    finally:
        psql(REPLICA + f"UPDATE audit.entries SET cloudevent = $c${ce}$c$, hash = '{h}' WHERE seq = {seq}")
    settle()
    assert verify()["ok"] is True


def test_deleting_the_newest_entries_is_detected():
    settle()
    n = log_size()
    psql("DROP TABLE IF EXISTS public.audit_tamper_backup; "
         f"CREATE TABLE public.audit_tamper_backup AS SELECT * FROM audit.entries WHERE seq > {n - 3}")
    psql(REPLICA + f"DELETE FROM audit.entries WHERE seq > {n - 3} AND seq <= {n}")
    try:
        v = verify()
        assert v["ok"] is False and v["first_bad_seq"] == n - 2, v
    finally:
        psql("INSERT INTO audit.entries SELECT * FROM public.audit_tamper_backup b "
             "WHERE NOT EXISTS (SELECT 1 FROM audit.entries e WHERE e.seq = b.seq); "
             "DROP TABLE public.audit_tamper_backup")
    settle()
    assert verify()["ok"] is True


def test_reordered_entries_are_detected():
    settle()
    a = max(2, log_size() // 3)
    big = 10**15
    swap = (f"UPDATE audit.entries SET seq = {big} WHERE seq = {a}; "
            f"UPDATE audit.entries SET seq = {a} WHERE seq = {a + 1}; "
            f"UPDATE audit.entries SET seq = {a + 1} WHERE seq = {big}")
    psql(REPLICA + swap)
    try:
        v = verify()
        assert v["ok"] is False and v["first_bad_seq"] == a, v
    finally:
        psql(REPLICA + swap)
    assert verify()["ok"] is True


# ---------------------------------------------------------------- heads and proofs


def test_signed_heads_and_proofs_verify_with_the_independent_verifier():
    settle()
    key = expect(http("GET", "/audit/public-key"), 200)
    assert key["algorithm"] == "ed25519" and len(key["key_id"]) == 16, key
    assert hashlib.sha256(__import__("base64").b64decode(key["public_key"])).hexdigest()[:16] == key["key_id"]
    size = log_size()
    old = expect(http("GET", f"/audit/checkpoint?size={size // 2}"), 200)
    new = expect(http("GET", f"/audit/checkpoint?size={size}"), 200)
    assert old["size"] == size // 2 and new["size"] == size and new["key_id"] == key["key_id"], (old, new)
    cur = expect(http("GET", "/audit/checkpoint"), 200)
    assert cur["size"] >= size - 5
    for cp in (old, new, cur):
        rc, out = run_verifier("checkpoint", key, cp)
        assert rc == 0, out
    items = entries(after=0)[:size]
    for seq in sorted({1, 2, size // 2, size // 2 + 1, size - 1, size}):
        proof = expect(http("GET", f"/audit/proof/inclusion?seq={seq}&size={size}"), 200)
        assert proof["leaf_index"] == seq - 1 and proof["tree_size"] == size, proof
        h = items[seq - 1]["hash"]
        assert proof["leaf_hash"] == hashlib.sha256(b"\0" + bytes.fromhex(h)).hexdigest()
        rc, out = run_verifier("inclusion", key, new, proof, h)
        assert rc == 0, f"seq {seq}: {out}"
        # forged: another entry's hash, a changed path, another head
        other = items[seq % size]["hash"]
        assert run_verifier("inclusion", key, new, proof, other)[0] == 1
        if proof["audit_path"]:
            bad = dict(proof, audit_path=[("0" if p[0] != "0" else "1") + p[1:] for p in proof["audit_path"]])
            assert run_verifier("inclusion", key, new, bad, h)[0] == 1
            bad = dict(proof, leaf_index=(seq % size))
            assert run_verifier("inclusion", key, new, bad, h)[0] == 1
        assert run_verifier("inclusion", key, old, proof, h)[0] == 1
    cons = expect(http("GET", f"/audit/proof/consistency?first={old['size']}&second={new['size']}"), 200)
    assert cons["first"] == old["size"] and cons["second"] == new["size"], cons
    rc, out = run_verifier("consistency", key, old, new, cons)
    assert rc == 0, out
    # forged: swapped heads, a changed proof, a head with another root, a forged signature
    assert run_verifier("consistency", key, new, old, cons)[0] == 1
    if cons["proof"]:
        bad = dict(cons, proof=cons["proof"][:-1] + ["ab" * 32])
        assert run_verifier("consistency", key, old, new, bad)[0] == 1
    forged_root = dict(new, root_hash="00" * 32)
    assert run_verifier("checkpoint", key, forged_root)[0] == 1
    assert run_verifier("consistency", key, old, forged_root, cons)[0] == 1
    sig = bytearray(__import__("base64").b64decode(new["signature"]))
    sig[0] ^= 1
    forged_sig = dict(new, signature=__import__("base64").b64encode(bytes(sig)).decode())
    assert run_verifier("checkpoint", key, forged_sig)[0] == 1
    same = expect(http("GET", f"/audit/proof/consistency?first={size}&second={size}"), 200)
    assert same["proof"] == [] and run_verifier("consistency", key, new, new, same)[0] == 0


def test_proof_parameters_are_checked():
    size = log_size()
    validation(http("GET", "/audit/proof/inclusion"), "seq")
    validation(http("GET", f"/audit/proof/inclusion?seq={size + 10**6}"), "seq")
    validation(http("GET", "/audit/proof/inclusion?seq=3&size=2"), "seq")
    validation(http("GET", "/audit/proof/consistency?first=0"), "first")
    validation(http("GET", "/audit/proof/consistency?first=3&second=2"), "first")
    validation(http("GET", f"/audit/checkpoint?size={size + 10**6}"), "size")
    validation(http("GET", "/audit/checkpoint?size=x"), "size")


# ---------------------------------------------------------------- the public feed


def test_the_public_feed_is_the_log_in_order_and_a_gap_is_filled_over_rest():
    with FeedSubscriber() as feed:
        # wait until the subscription is live
        deadline = time.monotonic() + 15
        while not feed.all() and time.monotonic() < deadline:
            make_department()
            time.sleep(0.3)
        assert feed.all(), "nothing arrived on the audit service's PUB socket"
        before = log_size()
        users = [make_user(login_now=False) for _ in range(3)]
        for i in range(12):
            expect(http("PATCH", f"/users/{users[i % 3]['id']}", {"display_name": f"订阅 {i}"},
                        token=admin_token()), 200)
        # the 15 changes are in the log (ingest may lag the answers on a busy machine)
        poll(lambda: log_size() >= before + 15, 30, "the log holding the 15 changes")
        target = log_size()
        poll(lambda: feed.all() and feed.all()[-1][2]["seq"] >= target, 30, "the feed reaching the log's head")
        msgs = feed.all()
    assert not feed.errors, feed.errors
    seqs = [m[2]["seq"] for m in msgs]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "the feed is not in seq order without gaps"
    for topic, raw, ev in msgs:
        assert topic == ev["type"][len("itgov."):], (topic, ev["type"])
    # each message is byte for byte the stored CloudEvent: the chain recomputes from it
    log = {e["seq"]: e for e in entries(after=seqs[0] - 2)}
    for topic, raw, ev in msgs:
        prev = log[ev["seq"] - 1]["hash"] if ev["seq"] > 1 else "0" * 64
        assert chain_hash(prev, raw) == log[ev["seq"]]["hash"], f"seq {ev['seq']}: hash mismatch"
        assert log[ev["seq"]]["id"] == ev["id"]
    topic, raw, ev = msgs[-1]
    prev = log[ev["seq"] - 1]["hash"]
    rc, out = run_verifier("chain", prev, raw, log[ev["seq"]]["hash"])
    assert rc == 0, out
    assert run_verifier("chain", prev, raw + b" ", log[ev["seq"]]["hash"])[0] == 1
    # a subscriber that lost messages sees the gap in seq and fills it from the log
    kept = [m for i, m in enumerate(msgs) if i % 4 != 1]
    have, filled = [], 0
    for _, _, ev in kept:
        if have and ev["seq"] != have[-1]["seq"] + 1:
            q = urllib.parse.urlencode({"after": have[-1]["seq"], "limit": ev["seq"] - have[-1]["seq"] - 1})
            page = expect(http("GET", "/audit?" + q, token=auditor_token()), 200)["items"]
            filled += len(page)
            have += [{"seq": e["seq"], "id": e["id"]} for e in page]
        have.append({"seq": ev["seq"], "id": ev["id"]})
    assert filled > 0
    assert [h["seq"] for h in have] == seqs and [h["id"] for h in have] == [m[2]["id"] for m in msgs]
