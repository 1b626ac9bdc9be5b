"""Asset registration, payments and go-live (issue 10, articles 12-13),
through the gateway with the real services: every refusal the issue names
(payment before acceptance, before the asset, over the contract — also by
twenty parallel payments —, on an unapproved contract or another project's,
a voucher used twice, an asset twice or its number taken, an asset before
acceptance, go-live without each plan or with tests not passed or in the
wrong state, wrong roles), and the way from `accepted` to `in_operation`."""
import threading

from client import Subscriber, expect, http, problem, sfx, validation
from projects_flow import (accepted_project, add_contract, approved_project, create_project, gate,
                           get_project, go_live, golive_body, implementing_project, invalid_state,
                           pass_acceptance, pay, ready_for_acceptance, register_asset,
                           request_acceptance, reviewed_contract, tok, users, wait_state)

ORDER = 62

GOLIVE_FIELDS = ("deployment_plan_uri", "emergency_plan_uri", "test_environment_report_uri",
                 "test_passed", "planned_at")


def accepted(amount_cents=100000, extra_contracts=()):
    """A project walked to `accepted` (accepted_project()) with an approved
    contract of amount_cents; extra_contracts: more contracts left
    `pending_review` or reviewed to `rejected`. Returns (project id,
    approved contract id, [extra contract ids])."""
    p = implementing_project()
    pid = p["id"]
    cid = reviewed_contract(pid, amount_cents=amount_cents)["id"]
    extra = []
    for state in extra_contracts:
        if state == "pending_review":
            extra.append(add_contract(pid, amount_cents=amount_cents)["id"])
        else:
            extra.append(reviewed_contract(pid, "reject", amount_cents=amount_cents)["id"])
    accepted_project(p, with_contract=False)
    return pid, cid, extra


def contract_paid(cid):
    return expect(http("GET", f"/contracts/{cid}", token=tok("it")), 200)["paid_cents"]


# ---------------------------------------------------------------- asset


def test_asset_before_acceptance_is_invalid_state():
    p = create_project()
    invalid_state(register_asset(p["id"]), "draft")
    a = approved_project()
    invalid_state(register_asset(a["id"]), "approved")
    problem(http("GET", f"/projects/{a['id']}/asset", token=tok("applicant")), 404, "not_found")


def test_asset_validation_before_state():
    p = create_project()
    validation(http("POST", f"/projects/{p['id']}/asset",
                    {"asset_no": "", "value_cents": -1, "registered_at": "2026-11-01",
                     "custodian": "x" * 201, "colour": "red"}, token=tok("applicant")),
               "asset_no", "value_cents", "registered_at", "custodian", "colour")
    validation(http("POST", f"/projects/{p['id']}/asset", {}, token=tok("applicant")),
               "asset_no", "value_cents", "registered_at", "custodian")
    validation(register_asset(p["id"], value_cents=10**15 + 1, asset_no="x" * 65), "value_cents", "asset_no")


def test_asset_registered_once_and_its_number_unique():
    pid, _, _ = accepted()
    with Subscriber("") as sub:
        sub.ready()
        r = register_asset(pid)
        a = expect(r, 201)
        assert r.header("Location") == f"/api/v1/projects/{pid}/asset", r
        assert a["project_id"] == pid and a["created_by"] == users()["applicant"]["id"]
        for k in ("id", "asset_no", "value_cents", "registered_at", "custodian", "created_at"):
            assert k in a, k
        sub.wait(lambda e: e.get("type") == "itgov.project.asset.registered"
                 and e.get("subject") == f"projects/{pid}" and e["data"]["id"] == a["id"],
                 what="asset.registered")
    for role in ("applicant2", "it", "auditor", "secretary"):
        assert expect(http("GET", f"/projects/{pid}/asset", token=tok(role)), 200) == a
    problem(http("GET", f"/projects/{pid}/asset", token=tok("other")), 404, "not_found")
    # once per project
    problem(register_asset(pid), 409, "conflict")
    problem(register_asset(pid, role="applicant2", asset_no=a["asset_no"]), 409, "conflict")
    # the number once among all assets
    pid2, _, _ = accepted()
    problem(register_asset(pid2, asset_no=a["asset_no"]), 409, "conflict")
    expect(register_asset(pid2), 201)


def test_asset_once_under_parallel_requests():
    pid, _, _ = accepted()
    pid2, _, _ = accepted()
    taken = "ZC-" + sfx()
    results = []

    def one(p, no):
        results.append((p, register_asset(p, asset_no=no).status))
    threads = [threading.Thread(target=one, args=(pid, "ZC-" + sfx())) for _ in range(6)]
    threads += [threading.Thread(target=one, args=(pid2, taken)) for _ in range(2)]
    threads += [threading.Thread(target=one, args=(p["id"], taken))
                for p in (accepted_doc() for _ in range(2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    by_pid = [s for p, s in results if p == pid]
    assert sorted(by_pid) == [201] + [409] * 5, results
    with_taken = [s for p, s in results if p != pid]
    assert sorted(with_taken) == [201] + [409] * 3, results


def accepted_doc():
    pid, _, _ = accepted()
    return {"id": pid}


# ---------------------------------------------------------------- payments


def test_payment_validation_and_foreign_contract():
    pid, cid, _ = accepted()
    expect(register_asset(pid), 201)
    validation(http("POST", f"/projects/{pid}/payments", {}, token=tok("applicant")),
               "contract_id", "amount_cents", "paid_at", "voucher_no")
    validation(pay(pid, "7", amount_cents=0, paid_at="yesterday", voucher_no="", memo=1),
               "contract_id", "amount_cents", "paid_at", "voucher_no", "memo")
    validation(pay(pid, cid, amount_cents=10**15 + 1, voucher_no="v" * 65), "amount_cents", "voucher_no")
    # a contract of another project, and one that does not exist: 400 naming contract_id
    _, other_cid, _ = accepted()
    validation(pay(pid, other_cid), "contract_id")
    validation(pay(pid, 999999999), "contract_id")
    # 400 comes before the gate: a project without acceptance still says contract_id
    a = approved_project()
    validation(pay(a["id"], cid), "contract_id")
    assert expect(http("GET", f"/projects/{pid}/payments", token=tok("it")), 200)["items"] == []


def test_payment_before_acceptance_and_before_the_asset():
    # approved, with an approved contract (contracts come before the plan too)
    a = approved_project()
    ca = reviewed_contract(a["id"])["id"]
    gate(pay(a["id"], ca), "payment_blocked", ["acceptance", "asset"])
    # implementing, then under acceptance review: not accepted yet
    pid = implementing_project()["id"]
    cid = reviewed_contract(pid)["id"]
    gate(pay(pid, cid), "payment_blocked", ["acceptance", "asset"])
    ready_for_acceptance({"id": pid}, with_contract=False)
    expect(request_acceptance(pid), 200)
    wait_state(pid, "acceptance_review")
    gate(pay(pid, cid), "payment_blocked", ["acceptance", "asset"])
    problem(register_asset(pid), 409, "invalid_state")
    # accepted, but no asset yet
    pass_acceptance(pid)
    gate(pay(pid, cid), "payment_blocked", ["asset"])
    expect(register_asset(pid), 201)
    expect(pay(pid, cid), 201)
    assert contract_paid(cid) == 1000


def test_payment_on_an_unapproved_contract():
    pid, cid, (pending, rejected) = accepted(extra_contracts=("pending_review", "rejected"))
    gate(pay(pid, pending), "payment_blocked", ["asset", "approved_contract"])
    expect(register_asset(pid), 201)
    gate(pay(pid, pending), "payment_blocked", ["approved_contract"])
    gate(pay(pid, rejected), "payment_blocked", ["approved_contract"])
    expect(pay(pid, cid), 201)


def test_payments_recorded_listed_and_voucher_unique():
    pid, cid, _ = accepted(amount_cents=50000)
    expect(register_asset(pid), 201)
    with Subscriber("") as sub:
        sub.ready()
        r = pay(pid, cid, amount_cents=20000)
        y = expect(r, 201)
        assert y["project_id"] == pid and y["contract_id"] == cid and y["amount_cents"] == 20000
        assert y["created_by"] == users()["applicant"]["id"]
        assert r.header("Location") == f"/api/v1/projects/{pid}/payments/{y['id']}", r
        ev = sub.wait(lambda e: e.get("type") == "itgov.project.payment.recorded"
                      and e.get("subject") == f"projects/{pid}", what="payment.recorded")[0]
        assert ev["data"]["id"] == y["id"] and ev["data"]["contract_paid_cents"] == 20000
    assert expect(http("GET", f"/projects/{pid}/payments/{y['id']}", token=tok("auditor")), 200) == y
    # a voucher number once (also on another project)
    problem(pay(pid, cid, voucher_no=y["voucher_no"]), 409, "conflict")
    pid2, cid2, _ = accepted()
    expect(register_asset(pid2), 201)
    problem(pay(pid2, cid2, voucher_no=y["voucher_no"]), 409, "conflict")
    # the conflict comes before over_contract
    problem(pay(pid, cid, voucher_no=y["voucher_no"], amount_cents=10**9), 409, "conflict")
    y2 = expect(pay(pid, cid, amount_cents=30000), 201)
    items = expect(http("GET", f"/projects/{pid}/payments?limit=1", token=tok("applicant2")), 200)
    assert [x["id"] for x in items["items"]] == [y["id"]] and items["next_cursor"]
    rest = expect(http("GET", f"/projects/{pid}/payments?cursor={items['next_cursor']}",
                       token=tok("it")), 200)
    assert [x["id"] for x in rest["items"]] == [y2["id"]] and rest["next_cursor"] is None
    problem(http("GET", f"/projects/{pid}/payments", token=tok("other")), 404, "not_found")
    problem(http("GET", f"/projects/{pid}/payments/{y['id']}", token=tok("other")), 404, "not_found")
    problem(http("GET", f"/projects/{pid2}/payments/{y['id']}", token=tok("it")), 404, "not_found")


def test_over_contract():
    pid, cid, _ = accepted(amount_cents=10000)
    expect(register_asset(pid), 201)
    b = problem(pay(pid, cid, amount_cents=10001), 422, "over_contract")
    assert (b["contract_amount_cents"], b["paid_cents"], b["remaining_cents"]) == (10000, 0, 10000), b
    expect(pay(pid, cid, amount_cents=6000), 201)
    b = problem(pay(pid, cid, amount_cents=4001), 422, "over_contract")
    assert (b["contract_amount_cents"], b["paid_cents"], b["remaining_cents"]) == (10000, 6000, 4000), b
    expect(pay(pid, cid, amount_cents=4000), 201)
    b = problem(pay(pid, cid, amount_cents=1), 422, "over_contract")
    assert b["remaining_cents"] == 0, b
    assert contract_paid(cid) == 10000


def test_twenty_parallel_payments_never_exceed_the_contract():
    amount, each, n = 100000, 7000, 20  # 14 fit (98000), 6 do not
    pid, cid, _ = accepted(amount_cents=amount)
    expect(register_asset(pid), 201)
    results = []
    lock = threading.Lock()
    start = threading.Barrier(n)

    def one():
        start.wait()
        r = pay(pid, cid, amount_cents=each)
        with lock:
            results.append(r)
    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r for r in results if r.status == 201]
    over = [r for r in results if r.status == 422]
    assert len(ok) == amount // each and len(over) == n - amount // each, \
        [(r.status, r.body) for r in results]
    for r in over:
        problem(r, 422, "over_contract")
    paid = contract_paid(cid)
    assert paid == sum(r.body["amount_cents"] for r in ok) == len(ok) * each, paid
    listed = expect(http("GET", f"/projects/{pid}/payments?limit=200", token=tok("it")), 200)["items"]
    assert sorted(y["id"] for y in listed) == sorted(r.body["id"] for r in ok)
    assert sum(y["amount_cents"] for y in listed) == paid


# ---------------------------------------------------------------- go-live


def test_go_live_wrong_state_and_validation_first():
    p = create_project()
    invalid_state(go_live(p["id"], golive_body()), "draft")
    invalid_state(go_live(p["id"], {}), "draft")  # invalid_state comes before the gate
    a = approved_project()
    invalid_state(go_live(a["id"], {}), "approved")
    # a present field of the wrong type, a malformed URI or instant: 400 first
    validation(go_live(a["id"], {"deployment_plan_uri": "not a uri", "emergency_plan_uri": 5,
                                 "test_environment_report_uri": "https://x/ y", "test_passed": "yes",
                                 "planned_at": "2026-12-01", "extra": 1}),
               *GOLIVE_FIELDS, "extra")
    problem(http("GET", f"/projects/{a['id']}/go-live", token=tok("it")), 404, "not_found")


def test_go_live_names_each_missing_plan():
    pid, _, _ = accepted()
    for f in GOLIVE_FIELDS:
        b = golive_body()
        del b[f]
        gate(go_live(pid, b), "golive_blocked", [f])
        gate(go_live(pid, golive_body(**{f: None})), "golive_blocked", [f])
    gate(go_live(pid, golive_body(test_passed=False)), "golive_blocked", ["test_passed"])
    gate(go_live(pid, {}), "golive_blocked", list(GOLIVE_FIELDS))
    gate(go_live(pid, {"test_passed": False, "planned_at": "2026-12-01T00:00:00Z"}),
         "golive_blocked", list(GOLIVE_FIELDS[:4]))
    assert get_project(pid)["state"] == "accepted"


def test_go_live_happy_path_without_asset_or_payments():
    pid, cid, _ = accepted()
    body = golive_body()
    with Subscriber("") as sub:
        sub.ready()
        r = go_live(pid, body)
        p = expect(r, 200)
        assert p["state"] == "in_operation" and p["id"] == pid, p
        g = p["go_live"]
        for k in GOLIVE_FIELDS:
            assert g[k] == body[k], (k, g)
        assert g["project_id"] == pid and g["created_by"] == users()["applicant"]["id"]
        assert r.header("ETag") == f'"{p["version"]}"'
        ev = sub.wait(lambda e: e.get("type") == "itgov.project.went_live"
                      and e.get("subject") == f"projects/{pid}", what="went_live")[0]
        assert ev["data"]["state"] == "in_operation" and ev["data"]["go_live"] == g
    assert expect(http("GET", f"/projects/{pid}/go-live", token=tok("auditor")), 200) == g
    problem(http("GET", f"/projects/{pid}/go-live", token=tok("other")), 404, "not_found")
    hist = expect(http("GET", f"/projects/{pid}/history?limit=200", token=tok("applicant")), 200)["items"]
    assert (hist[-1]["from"], hist[-1]["to"], hist[-1]["action"]) == ("accepted", "in_operation", "go_live")
    # once: the project is in operation now
    invalid_state(go_live(pid, golive_body()), "in_operation")
    # the asset and payments still come after go-live
    expect(register_asset(pid), 201)
    expect(pay(pid, cid), 201)


def test_go_live_once_under_parallel_requests():
    pid, _, _ = accepted()
    results = []

    def one():
        results.append(go_live(pid, golive_body()))
    threads = [threading.Thread(target=one) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in results) == [200] + [409] * 4, [(r.status, r.text) for r in results]
    for r in results:
        if r.status == 409:
            invalid_state(r, "in_operation")
    hist = expect(http("GET", f"/projects/{pid}/history?limit=200", token=tok("it")), 200)["items"]
    assert sum(1 for h in hist if h["action"] == "go_live") == 1


# ---------------------------------------------------------------- roles


def test_wrong_roles():
    pid, cid, _ = accepted()
    for role in ("it", "secretary", "auditor", "expert"):
        problem(register_asset(pid, role=role), 403, "forbidden")
        problem(pay(pid, cid, role=role), 403, "forbidden")
        problem(go_live(pid, golive_body(), role=role), 403, "forbidden")
    # another department's applicant: the project does not exist for them
    problem(register_asset(pid, role="other"), 404, "not_found")
    problem(pay(pid, cid, role="other"), 404, "not_found")
    problem(go_live(pid, golive_body(), role="other"), 404, "not_found")
    # 404 comes before 400
    problem(http("POST", f"/projects/{pid}/asset", {"asset_no": 5}, token=tok("other")), 404, "not_found")
    problem(go_live(pid, {"test_passed": "x"}, role="other"), 404, "not_found")
    for path in ("asset", "payments", "go-live"):
        problem(http("POST", f"/projects/{pid}/{path}", {}), 401, "unauthorized")
    # nothing happened
    problem(http("GET", f"/projects/{pid}/asset", token=tok("it")), 404, "not_found")
    assert get_project(pid)["state"] == "accepted"
    # an applicant of the owning department, not the one who applied, may act
    expect(register_asset(pid, role="applicant2"), 201)
    expect(pay(pid, cid, role="applicant2"), 201)
    expect(go_live(pid, golive_body(), role="applicant2"), 200)
