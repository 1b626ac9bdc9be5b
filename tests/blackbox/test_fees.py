"""Maintenance fees (issue 11 part H, article 20), through the gateway: the
fee agreement (revisions kept, If-Match), fees checked against it, fee uses,
the yearly summary, their events, and every refusal: wrong roles, a project
not in operation (invalid_state, before the gate), a project that serves no
outside unit (not_external_service), a payer outside the agreement
(payer_not_in_agreement), a bad period named."""
import datetime

from client import Subscriber, admin_token, expect, http, problem, sfx, validation
from projects_flow import (approved_project, create_project, in_operation_project, invalid_state, tok,
                           users)

ORDER = 62

NOT_IT = ("applicant", "secretary", "auditor", "expert")


def not_external(r):
    b = problem(r, 409, "not_external_service")
    assert b.get("missing") == ["serves_external_units"], b


def agreement_body(**kw):
    b = {"rate_basis_points": 250, "payer_units": ["财务处 " + sfx(), "保卫处 " + sfx()],
         "effective_from": "2026-01-01"}
    b.update(kw)
    return b


def put_agreement(pid, body, role="it", headers=None):
    return http("PUT", f"/projects/{pid}/fee-agreement", body, token=tok(role), headers=headers)


def fee_body(payer, **kw):
    b = {"payer_unit": payer, "period": "2026-03", "amount_cents": 120000,
         "received_at": "2026-04-02T08:00:00Z"}
    b.update(kw)
    return b


def add_fee(pid, body, role="it"):
    return http("POST", f"/projects/{pid}/fees", body, token=tok(role))


def use_body(**kw):
    b = {"category": "operations", "amount_cents": 5000, "note": "机房空调维保"}
    b.update(kw)
    return b


def add_use(body, role="it"):
    return http("POST", "/fee-uses", body, token=tok(role))


def summary(year, role="it"):
    return expect(http("GET", f"/fees/summary?year={year}", token=tok(role)), 200)


# ---------------------------------------------------------------- the agreement


def test_agreement_refusals_in_order():
    users()
    body = agreement_body()
    # roles: the IT office only
    for role in NOT_IT:
        problem(put_agreement(1, body, role=role), 403, "forbidden")
    problem(http("PUT", "/projects/1/fee-agreement", body), 401, "unauthorized")
    problem(put_agreement(999999999, body), 404, "not_found")
    # a draft project: a bad body is named first, then the state (before the gate,
    # although this project serves no outside unit either)
    draft = create_project()
    validation(put_agreement(draft["id"], {"rate_basis_points": 10001, "payer_units": [],
                                           "effective_from": "2026-02-30", "extra": 1}),
               "rate_basis_points", "payer_units", "effective_from", "extra")
    invalid_state(put_agreement(draft["id"], body), "draft")
    invalid_state(put_agreement(create_project(serves_external_units=True)["id"], body), "draft")
    approved = approved_project(serves_external_units=True)
    invalid_state(put_agreement(approved["id"], body), "approved")
    invalid_state(add_fee(approved["id"], fee_body("财务处")), "approved")
    # in operation but serving no outside unit: the gate names what is missing
    inside = in_operation_project(serves_external_units=False)
    not_external(put_agreement(inside["id"], body))
    problem(http("GET", f"/projects/{inside['id']}/fee-agreement", token=tok("it")), 404, "not_found")


def test_agreement_payer_units_validated():
    p = in_operation_project(serves_external_units=True)
    pid = p["id"]
    b = validation(put_agreement(pid, agreement_body(payer_units=["甲", "乙", "甲", "", 7, "a\tb"])),
                   "payer_units[2]", "payer_units[3]", "payer_units[4]", "payer_units[5]")
    assert "payer_units[0]" not in {e["field"] for e in b["errors"]}, b
    validation(put_agreement(pid, agreement_body(payer_units=[f"单位{i}" for i in range(101)])),
               "payer_units")
    validation(put_agreement(pid, agreement_body(payer_units=["x" * 201])), "payer_units[0]")
    validation(put_agreement(pid, agreement_body(payer_units="财务处")), "payer_units")
    validation(put_agreement(pid, agreement_body(rate_basis_points=-1)), "rate_basis_points")
    validation(put_agreement(pid, {}), "rate_basis_points", "payer_units", "effective_from")
    # the limits themselves are fine
    r = put_agreement(pid, agreement_body(rate_basis_points=10000,
                                          payer_units=[f"单位{i}" for i in range(100)]))
    assert expect(r, 201)["rate_basis_points"] == 10000
    assert expect(put_agreement(pid, agreement_body(rate_basis_points=0)), 200)["revision"] == 2


def test_agreement_revisions_kept_and_if_match():
    p = in_operation_project(serves_external_units=True)
    pid = p["id"]
    first = agreement_body()
    # If-Match before there is any agreement: nothing to match
    problem(put_agreement(pid, first, headers={"If-Match": "*"}), 412, "precondition_failed")
    r = put_agreement(pid, first, headers={"If-None-Match": "*"})
    a1 = expect(r, 201)
    assert r.header("Location").endswith(f"/api/v1/projects/{pid}/fee-agreement"), r
    assert r.header("ETag") == '"1"', r
    assert a1["project_id"] == pid and a1["revision"] == 1 and a1["rate_basis_points"] == 250
    assert a1["payer_units"] == first["payer_units"] and a1["effective_from"] == "2026-01-01"
    assert a1["author_id"] == users()["it"]["id"]
    # create-only a second time: it exists
    problem(put_agreement(pid, first, headers={"If-None-Match": "*"}), 412, "precondition_failed")
    g = http("GET", f"/projects/{pid}/fee-agreement", token=tok("applicant"))  # the owning department
    assert expect(g, 200) == a1 and g.header("ETag") == '"1"'
    h = http("HEAD", f"/projects/{pid}/fee-agreement", token=tok("it"))
    assert h.status == 200 and h.header("ETag") == '"1"' and h.raw == b"", h
    assert http("GET", f"/projects/{pid}/fee-agreement", token=tok("auditor"),
                headers={"If-None-Match": '"1"'}).status == 304
    problem(http("GET", f"/projects/{pid}/fee-agreement", token=tok("other")), 404, "not_found")
    # a revision with If-Match: 200, revision 2; the stale tag is refused after it
    second = agreement_body(rate_basis_points=300, effective_from="2027-01-01")
    r = put_agreement(pid, second, headers={"If-Match": '"1"'})
    a2 = expect(r, 200)
    assert a2["revision"] == 2 and r.header("ETag") == '"2"' and a2["payer_units"] == second["payer_units"]
    b = problem(put_agreement(pid, first, headers={"If-Match": '"1"'}), 412, "precondition_failed")
    assert b.get("revision") == 2, b
    problem(put_agreement(pid, first, headers={"If-Match": "1"}), 400, "bad_request")
    # without If-Match: a revision too
    assert expect(put_agreement(pid, first), 200)["revision"] == 3
    assert expect(put_agreement(pid, second, headers={"If-Match": "*"}), 200)["revision"] == 4
    # every revision kept, unchanged, oldest first, paged
    revs = expect(http("GET", f"/projects/{pid}/fee-agreement/revisions", token=tok("it")), 200)
    assert [x["revision"] for x in revs["items"]] == [1, 2, 3, 4] and revs["next_cursor"] is None
    assert revs["items"][0] == a1 and revs["items"][1] == a2
    page = expect(http("GET", f"/projects/{pid}/fee-agreement/revisions?limit=3", token=tok("it")), 200)
    assert len(page["items"]) == 3 and page["next_cursor"]
    rest = expect(http("GET", f"/projects/{pid}/fee-agreement/revisions?limit=3&cursor={page['next_cursor']}",
                       token=tok("it")), 200)
    assert [x["revision"] for x in rest["items"]] == [4], rest
    problem(http("GET", f"/projects/{pid}/fee-agreement/revisions", token=tok("other")), 404, "not_found")
    cur = expect(http("GET", f"/projects/{pid}/fee-agreement", token=tok("secretary")), 200)
    assert cur["revision"] == 4 and cur["rate_basis_points"] == 300


def test_agreement_revisions_under_parallel_puts():
    """Parallel PUTs number revisions without a gap or a duplicate; of those
    sending the same If-Match exactly one wins, the others get 412."""
    from concurrent.futures import ThreadPoolExecutor
    p = in_operation_project(serves_external_units=True)
    pid = p["id"]
    with ThreadPoolExecutor(8) as ex:
        rs = list(ex.map(lambda i: put_agreement(pid, agreement_body(rate_basis_points=i)), range(8)))
    assert sorted(r.status for r in rs) == [200] * 7 + [201], [str(r) for r in rs]
    assert sorted(r.body["revision"] for r in rs) == list(range(1, 9))
    with ThreadPoolExecutor(8) as ex:
        rs = list(ex.map(lambda i: put_agreement(pid, agreement_body(), headers={"If-Match": '"8"'}),
                         range(8)))
    assert sorted(r.status for r in rs) == [200] + [412] * 7, [str(r) for r in rs]
    revs = expect(http("GET", f"/projects/{pid}/fee-agreement/revisions", token=tok("it")), 200)
    assert [x["revision"] for x in revs["items"]] == list(range(1, 10))


# ---------------------------------------------------------------- fees


def test_fee_refusals():
    draft = create_project(serves_external_units=True)
    payer = "图书馆 " + sfx()
    for role in NOT_IT:
        problem(add_fee(draft["id"], fee_body(payer), role=role), 403, "forbidden")
    problem(http("POST", f"/projects/{draft['id']}/fees", fee_body(payer)), 401, "unauthorized")
    problem(add_fee(999999999, fee_body(payer)), 404, "not_found")
    # a bad period is named, whatever else is wrong later
    for bad in ("2026-13", "2026-00", "2026-1", "2026-03-01", "26-03", "2026/03", "", 202603, "1899-12"):
        b = validation(add_fee(draft["id"], fee_body(payer, period=bad)), "period")
        assert {e["field"] for e in b["errors"]} == {"period"}, b
    validation(add_fee(draft["id"], {"payer_unit": "", "amount_cents": 0, "received_at": "2026-04-02",
                                     "note": "x"}),
               "payer_unit", "period", "amount_cents", "received_at", "note")
    validation(add_fee(draft["id"], fee_body(payer, amount_cents=10 ** 15 + 1)), "amount_cents")
    # the state before the gate, the gate before the agreement
    invalid_state(add_fee(draft["id"], fee_body(payer)), "draft")
    not_external(add_fee(in_operation_project(serves_external_units=False)["id"], fee_body(payer)))
    # no agreement yet: no payer may pay
    p = in_operation_project(serves_external_units=True)
    b = problem(add_fee(p["id"], fee_body(payer)), 422, "payer_not_in_agreement")
    assert b["allowed_payer_units"] == [] and b["payer_unit"] == payer, b
    # a payer outside the agreement: the allowed units are named
    units = ["财务处 " + sfx(), "保卫处 " + sfx()]
    expect(put_agreement(p["id"], agreement_body(payer_units=units)), 201)
    b = problem(add_fee(p["id"], fee_body(payer)), 422, "payer_not_in_agreement")
    assert b["allowed_payer_units"] == units and b["payer_unit"] == payer, b
    assert expect(http("GET", f"/projects/{p['id']}/fees", token=tok("it")), 200)["items"] == []


def test_fees_follow_the_current_agreement():
    p = in_operation_project(serves_external_units=True)
    pid = p["id"]
    a, b, c = ("财务处 " + sfx(), "保卫处 " + sfx(), "图书馆 " + sfx())
    expect(put_agreement(pid, agreement_body(payer_units=[a, b])), 201)
    r = add_fee(pid, fee_body(a, period="2026-12", amount_cents=300000))
    f1 = expect(r, 201)
    assert r.header("Location").endswith(f"/api/v1/fees/{f1['id']}"), r
    assert f1["project_id"] == pid and f1["payer_unit"] == a and f1["period"] == "2026-12"
    assert f1["amount_cents"] == 300000 and f1["received_at"] == "2026-04-02T08:00:00Z"
    assert f1["agreement_revision"] == 1 and f1["created_by"] == users()["it"]["id"]
    assert expect(http("GET", f"/fees/{f1['id']}", token=tok("auditor")), 200) == f1
    assert expect(http("GET", f"/fees/{f1['id']}", token=tok("applicant")), 200) == f1  # owning dept
    problem(http("GET", f"/fees/{f1['id']}", token=tok("other")), 404, "not_found")
    # the agreement changes: b leaves, c joins
    expect(put_agreement(pid, agreement_body(payer_units=[a, c])), 200)
    problem(add_fee(pid, fee_body(b)), 422, "payer_not_in_agreement")
    f2 = expect(add_fee(pid, fee_body(c, period="2027-01")), 201)
    assert f2["agreement_revision"] == 2
    fees = expect(http("GET", f"/projects/{pid}/fees", token=tok("it")), 200)
    assert [x["id"] for x in fees["items"]] == [f1["id"], f2["id"]] and fees["next_cursor"] is None
    page = expect(http("GET", f"/projects/{pid}/fees?limit=1", token=tok("auditor")), 200)
    assert [x["id"] for x in page["items"]] == [f1["id"]] and page["next_cursor"]
    problem(http("GET", f"/projects/{pid}/fees", token=tok("other")), 404, "not_found")


# ---------------------------------------------------------------- fee uses


def test_fee_uses_recorded_and_refused():
    r = add_use(use_body(used_on="2026-05-06"))
    u = expect(r, 201)
    assert r.header("Location").endswith(f"/api/v1/fee-uses/{u['id']}"), r
    assert u["category"] == "operations" and u["amount_cents"] == 5000 and u["project_id"] is None
    assert u["note"] == "机房空调维保" and u["used_on"] == "2026-05-06"
    assert u["created_by"] == users()["it"]["id"]
    for t in (tok("auditor"), admin_token()):
        g = http("GET", f"/fee-uses/{u['id']}", token=t)
        assert expect(g, 200) == u and g.header("ETag"), g
    for role in ("applicant", "secretary", "expert"):
        problem(http("GET", f"/fee-uses/{u['id']}", token=tok(role)), 403, "forbidden")
    # the use's date defaults to today (UTC); a project it names must exist
    p = create_project()
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    v = expect(add_use(use_body(category="new_project", project_id=p["id"])), 201)
    assert v["used_on"] in (today, (datetime.date.fromisoformat(today) + datetime.timedelta(1)).isoformat())
    assert v["project_id"] == p["id"] and v["category"] == "new_project"
    b = validation(add_use(use_body(project_id=999999999)), "project_id")
    assert {e["field"] for e in b["errors"]} == {"project_id"}, b
    validation(add_use({"category": "party", "amount_cents": 0, "project_id": "x", "used_on": "2026-13-01",
                        "secret": 1}),
               "category", "amount_cents", "project_id", "note", "used_on", "secret")
    validation(add_use(use_body(amount_cents=10 ** 15 + 1, note="")), "amount_cents", "note")
    for role in NOT_IT:
        problem(add_use(use_body(), role=role), 403, "forbidden")
    problem(http("POST", "/fee-uses", use_body()), 401, "unauthorized")
    # listed by year and category
    mine = expect(http("GET", "/fee-uses?year=2026&category=operations&limit=200", token=tok("auditor")), 200)
    assert u["id"] in [x["id"] for x in mine["items"]]
    assert all(x["category"] == "operations" and x["used_on"].startswith("2026-") for x in mine["items"])
    validation(http("GET", "/fee-uses?year=20x6&category=party", token=tok("it")), "year", "category")
    problem(http("GET", "/fee-uses", token=tok("applicant")), 403, "forbidden")


# ---------------------------------------------------------------- the summary


def test_summary_roles_and_year():
    for role in ("it", "auditor"):
        s = summary(2140, role=role)
        assert s == {"year": 2140, "received": [], "used": [
            {"category": c, "amount_cents": 0} for c in ("operations", "iteration", "upgrade", "new_project")],
            "received_cents": 0, "used_cents": 0, "balance_cents": 0}, s
    for role in ("applicant", "secretary", "expert"):
        problem(http("GET", "/fees/summary?year=2140", token=tok(role)), 403, "forbidden")
    problem(http("GET", "/fees/summary?year=2140"), 401, "unauthorized")
    for bad in ("20x6", "1899", "2201", "02026", ""):
        validation(http("GET", f"/fees/summary?year={bad}", token=tok("it")), "year")
    now = datetime.datetime.now(datetime.timezone.utc).year
    assert expect(http("GET", "/fees/summary", token=tok("it")), 200)["year"] in (now, now + 1)


def test_summary_arithmetic_across_two_years():
    """Fees count in the year of their period (not of received_at), uses in
    the year of their date; balance = received - used, per year."""
    y1, y2 = 2131, 2132
    p, q = in_operation_project(serves_external_units=True), in_operation_project(serves_external_units=True)
    a, b = "财务处 " + sfx(), "保卫处 " + sfx()
    expect(put_agreement(p["id"], agreement_body(payer_units=[a, b])), 201)
    expect(put_agreement(q["id"], agreement_body(payer_units=[a])), 201)
    fees = [(p, a, f"{y1}-01", 100000, f"{y1}-01-10T00:00:00Z"),
            (p, a, f"{y1}-12", 50000, f"{y2}-01-05T00:00:00Z"),  # received next year: counts in y1
            (p, b, f"{y1}-06", 70000, f"{y1}-06-01T00:00:00Z"),
            (q, a, f"{y1}-03", 30000, f"{y1}-03-01T00:00:00Z"),
            (p, a, f"{y2}-01", 200000, f"{y1}-12-28T00:00:00Z"),  # paid in advance: counts in y2
            (q, a, f"{y2}-02", 1, f"{y2}-02-01T00:00:00Z")]
    for proj, payer, period, cents, at in fees:
        expect(add_fee(proj["id"], fee_body(payer, period=period, amount_cents=cents, received_at=at)), 201)
    uses = [("operations", 40000, f"{y1}-12-31"), ("iteration", 25000, f"{y1}-02-01"),
            ("operations", 5000, f"{y1}-07-07"), ("upgrade", 300000, f"{y2}-01-01"),
            ("new_project", 7, f"{y2}-12-31")]
    for cat, cents, day in uses:
        expect(add_use(use_body(category=cat, amount_cents=cents, used_on=day)), 201)

    s1 = summary(y1, role="auditor")
    want_received = sorted([
        {"project_id": p["id"], "payer_unit": a, "amount_cents": 150000},
        {"project_id": p["id"], "payer_unit": b, "amount_cents": 70000},
        {"project_id": q["id"], "payer_unit": a, "amount_cents": 30000}],
        key=lambda x: (x["project_id"], x["payer_unit"]))
    assert sorted(s1["received"], key=lambda x: (x["project_id"], x["payer_unit"])) == want_received, s1
    assert s1["used"] == [{"category": "operations", "amount_cents": 45000},
                          {"category": "iteration", "amount_cents": 25000},
                          {"category": "upgrade", "amount_cents": 0},
                          {"category": "new_project", "amount_cents": 0}], s1
    assert s1["year"] == y1 and s1["received_cents"] == 250000 and s1["used_cents"] == 70000
    assert s1["balance_cents"] == 250000 - 70000

    s2 = summary(y2)
    assert sorted(s2["received"], key=lambda x: x["project_id"]) == [
        {"project_id": p["id"], "payer_unit": a, "amount_cents": 200000},
        {"project_id": q["id"], "payer_unit": a, "amount_cents": 1}], s2
    assert [u["amount_cents"] for u in s2["used"]] == [0, 0, 300000, 7], s2
    assert s2["received_cents"] == 200001 and s2["used_cents"] == 300007
    assert s2["balance_cents"] == 200001 - 300007 < 0  # more used than received that year
    assert summary(y2 + 1)["balance_cents"] == 0


def test_summary_uses_only_across_two_years():
    """The uses' side alone (needs no project in operation)."""
    y1, y2 = 2151, 2152
    for cat, cents, day in (("operations", 11, f"{y1}-01-01"), ("operations", 22, f"{y1}-12-31"),
                            ("new_project", 33, f"{y2}-01-01")):
        expect(add_use(use_body(category=cat, amount_cents=cents, used_on=day)), 201)
    s1, s2 = summary(y1), summary(y2)
    assert s1["used"][0] == {"category": "operations", "amount_cents": 33} and s1["received"] == []
    assert s1["balance_cents"] == -33 and s1["used_cents"] == 33
    assert s2["used"][3] == {"category": "new_project", "amount_cents": 33} and s2["balance_cents"] == -33


# ---------------------------------------------------------------- events


def test_events():
    with Subscriber("") as sub:
        sub.ready()
        p = in_operation_project(serves_external_units=True)
        pid = p["id"]
        unit = "财务处 " + sfx()
        a = expect(put_agreement(pid, agreement_body(payer_units=[unit])), 201)
        f = expect(add_fee(pid, fee_body(unit)), 201)
        u = expect(add_use(use_body(project_id=pid, used_on="2026-06-01")), 201)
        ev = sub.wait(lambda e: e.get("type") == "itgov.fee.agreement_set" and e.get("subject") == f"projects/{pid}",
                      what="fee.agreement_set")[0]
        assert ev["data"] == a and ev["actor"] == users()["it"]["id"], ev
        ev = sub.wait(lambda e: e.get("type") == "itgov.fee.received" and e.get("subject") == f"projects/{pid}",
                      what="fee.received")[0]
        assert ev["data"] == f, ev
        ev = sub.wait(lambda e: e.get("type") == "itgov.fee.used" and e.get("subject") == f"fee-uses/{u['id']}",
                      what="fee.used")[0]
        assert ev["data"] == u, ev
        # refusals emit nothing
        problem(add_fee(pid, fee_body("外单位 " + sfx())), 422, "payer_not_in_agreement")
        expect(add_use(use_body(used_on="2026-06-02")), 201)  # a marker after the refusal
        sub.wait(lambda e: e.get("type") == "itgov.fee.used" and e["data"].get("used_on") == "2026-06-02",
                 what="marker")
        assert len(sub.matching(lambda e: e.get("type") == "itgov.fee.received"
                                and e.get("subject") == f"projects/{pid}")) == 1
