"""Contracts (issue 10, articles 8-9) through the gateway: recorded by an
applicant of the owning department on an approved or implementing project,
pending_review until the IT office's review of the contract case makes it
approved or rejected (events end to end); contract_no unique, also under
parallel requests; every refusal: roles, another department, wrong states,
each bad field."""
from concurrent.futures import ThreadPoolExecutor

from client import Subscriber, expect, http, problem, sfx, validation
from projects_flow import (add_contract, approved_project, contract_body, create_project,
                           invalid_state, open_case, post_contract, review, submit, tok, users,
                           wait_contract)

CONTRACT_FIELDS = {"id", "project_id", "contract_no", "vendor", "amount_cents", "paid_cents",
                   "signed_at", "procurement_method", "status", "version", "created_by",
                   "created_at", "updated_at"}

_approved = {}


def approved():
    """One approved project shared by the tests that only add contracts."""
    if "p" not in _approved:
        _approved["p"] = approved_project()
    return _approved["p"]


def test_contract_recorded_pending_review_opens_a_case():
    p = approved()
    pid = p["id"]
    with Subscriber("") as sub:
        sub.ready()
        body = contract_body(procurement_method="competitive_negotiation", amount_cents=987654321)
        r = post_contract(pid, body)
        c = expect(r, 201)
        assert set(c) == CONTRACT_FIELDS, set(c) ^ CONTRACT_FIELDS
        assert c["status"] == "pending_review" and c["project_id"] == pid and c["version"] == 1
        assert c["contract_no"] == body["contract_no"] and c["amount_cents"] == 987654321
        assert c["procurement_method"] == "competitive_negotiation" and c["paid_cents"] == 0
        assert c["signed_at"] == "2026-04-01T08:00:00Z" and c["created_by"] == users()["applicant"]["id"]
        assert r.header("Location") == f"/api/v1/contracts/{c['id']}", r.header("Location")
        assert r.header("ETag") == '"1"'
        ev = sub.wait(lambda e: e.get("type") == "itgov.contract.submitted"
                      and e.get("subject") == f"contracts/{c['id']}", what="contract.submitted")[0]
        assert ev["data"]["department_id"] == users()["dept"] and ev["data"]["submission"] == 1
        assert ev["data"]["status"] == "pending_review" and ev["actor"] == users()["applicant"]["id"]
    case = open_case(f"contracts/{c['id']}")
    assert case["kind"] == "contract" and case["step"] == "review"
    # read by whoever sees the project, with its ETag; another department: 404
    for role in ("applicant", "applicant2", "it", "secretary", "auditor"):
        r = http("GET", f"/contracts/{c['id']}", token=tok(role))
        assert expect(r, 200) == c and r.header("ETag") == '"1"'
    for role in ("other", "expert"):
        problem(http("GET", f"/contracts/{c['id']}", token=tok(role)), 404, "not_found")
        problem(http("GET", f"/projects/{pid}/contracts", token=tok(role)), 404, "not_found")
    problem(http("GET", "/contracts/999999999", token=tok("it")), 404, "not_found")
    problem(http("GET", f"/contracts/{c['id']}"), 401, "unauthorized")
    r = http("GET", f"/contracts/{c['id']}", token=tok("it"), headers={"If-None-Match": '"1"'})
    assert r.status == 304, r
    items = expect(http("GET", f"/projects/{pid}/contracts", token=tok("applicant2")), 200)["items"]
    assert c["id"] in [x["id"] for x in items]
    assert all(x["status"] in ("pending_review", "approved", "rejected") for x in items)


def test_review_pass_and_reject_end_to_end():
    p = approved()
    pid = p["id"]
    with Subscriber("") as sub:
        sub.ready()
        a = add_contract(pid)
        b = add_contract(pid, procurement_method="single_source")
        ca, cb = open_case(f"contracts/{a['id']}"), open_case(f"contracts/{b['id']}")
        for role in ("applicant", "secretary", "expert", "auditor"):
            problem(review(ca["id"], "pass", role=role), 403, "forbidden")
        validation(review(ca["id"], "return"), "outcome")  # a contract is passed or rejected
        expect(review(ca["id"], "pass", comment="合同条款齐全"), 200)
        expect(review(cb["id"], "reject", comment="单一来源理由不足"), 200)
        ga = wait_contract(a["id"], "approved")
        gb = wait_contract(b["id"], "rejected")
        assert ga["version"] == 2 and gb["version"] == 2
        ev = sub.wait(lambda e: e.get("type") == "itgov.contract.approved"
                      and e.get("subject") == f"contracts/{a['id']}", what="contract.approved")[0]
        assert ev["data"]["case_id"] == ca["id"] and ev["data"]["comment"] == "合同条款齐全"
        assert ev["actor"] == users()["it"]["id"]
        ev = sub.wait(lambda e: e.get("type") == "itgov.contract.rejected"
                      and e.get("subject") == f"contracts/{b['id']}", what="contract.rejected")[0]
        assert ev["data"]["status"] == "rejected" and ev["data"]["comment"] == "单一来源理由不足"
    # the list shows each with its status; a closed case takes no second review
    st = {x["id"]: x["status"] for x in
          expect(http("GET", f"/projects/{pid}/contracts?limit=200", token=tok("applicant")), 200)["items"]}
    assert st[a["id"]] == "approved" and st[b["id"]] == "rejected", st
    problem(review(ca["id"], "reject"), 409, "invalid_state")
    assert wait_contract(a["id"], "approved")["status"] == "approved"


def test_list_is_paged():
    p = approved_project()
    ids = [add_contract(p["id"])["id"] for _ in range(3)]
    b = expect(http("GET", f"/projects/{p['id']}/contracts?limit=2", token=tok("it")), 200)
    assert [x["id"] for x in b["items"]] == ids[:2] and b["next_cursor"]
    b2 = expect(http("GET", f"/projects/{p['id']}/contracts?limit=2&cursor={b['next_cursor']}",
                     token=tok("it")), 200)
    assert [x["id"] for x in b2["items"]] == ids[2:] and b2["next_cursor"] is None
    validation(http("GET", f"/projects/{p['id']}/contracts?limit=0", token=tok("it")), "limit")
    problem(http("GET", "/projects/999999999/contracts", token=tok("it")), 404, "not_found")


def test_wrong_roles_and_other_department():
    pid = approved()["id"]
    for role in ("it", "expert", "secretary", "auditor"):
        problem(post_contract(pid, role=role), 403, "forbidden")
    problem(post_contract(pid, role="other"), 404, "not_found")
    problem(http("POST", f"/projects/{pid}/contracts", contract_body()), 401, "unauthorized")
    problem(http("POST", "/projects/999999999/contracts", contract_body(), token=tok("applicant")),
            404, "not_found")
    # refusal order: 404 (another department) before a bad body's 400
    problem(http("POST", f"/projects/{pid}/contracts", raw=b"{nope", token=tok("other")), 404)
    problem(http("POST", f"/projects/{pid}/contracts", raw=b"{nope", token=tok("applicant")), 400,
            "invalid_json")


def test_wrong_states():
    p = create_project()
    invalid_state(post_contract(p["id"]), "draft")
    # a bad body is 400 even on a draft (400 before 409)
    validation(post_contract(p["id"], contract_body(vendor="")), "vendor")
    submit(p["id"])
    invalid_state(post_contract(p["id"]), "under_review")
    assert expect(http("GET", f"/projects/{p['id']}/contracts", token=tok("it")), 200)["items"] == []


def test_validation_names_each_field():
    pid = approved()["id"]
    validation(post_contract(pid, {}),
               "contract_no", "vendor", "amount_cents", "signed_at", "procurement_method")
    validation(post_contract(pid, {"contract_no": "x" * 65, "vendor": "v" * 201, "amount_cents": 0,
                     "signed_at": "2026-13-01T00:00:00Z", "procurement_method": "auction",
                     "department_id": 1}),
               "contract_no", "vendor", "amount_cents", "signed_at", "procurement_method",
               "department_id")
    validation(post_contract(pid, contract_body(amount_cents=1000000000000001, signed_at="2026-04-01")),
               "amount_cents", "signed_at")
    validation(post_contract(pid, contract_body(contract_no="")), "contract_no")
    validation(post_contract(pid, contract_body(amount_cents="12")), "amount_cents")
    # the limits themselves are fine
    c = add_contract(pid, contract_no="N" + sfx() + "x" * 53, amount_cents=1000000000000000,
                     vendor="v" * 200, procurement_method="framework_agreement")
    assert len(c["contract_no"]) == 64 and c["amount_cents"] == 1000000000000000
    for m in ("public_tender", "inquiry"):
        assert add_contract(pid, procurement_method=m)["procurement_method"] == m


def test_contract_no_unique_also_in_parallel():
    p, q = approved(), approved_project()
    no = "HT-DUP-" + sfx()
    add_contract(p["id"], contract_no=no)
    # taken, on this project or another one
    problem(post_contract(p["id"], contract_body(contract_no=no)), 409, "conflict")
    problem(post_contract(q["id"], contract_body(contract_no=no), role="applicant2"), 409, "conflict")
    no2 = "HT-PAR-" + sfx()

    def one(i):
        return post_contract(p["id"] if i % 2 else q["id"], contract_body(contract_no=no2))

    with ThreadPoolExecutor(10) as ex:
        rs = list(ex.map(one, range(10)))
    assert sorted(r.status for r in rs) == [201] + [409] * 9, [r.status for r in rs]
    for r in rs:
        if r.status == 409:
            problem(r, 409, "conflict")
    n = sum(1 for pid in (p["id"], q["id"]) for x in expect(
        http("GET", f"/projects/{pid}/contracts?limit=200", token=tok("it")), 200)["items"]
        if x["contract_no"] == no2)
    assert n == 1, n
