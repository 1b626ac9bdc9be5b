"""Deliverables and the acceptance request (issue 10, articles 11-12)
through the gateway: versions that supersede and never erase (also under
concurrent adds of one kind); the acceptance gate naming, in order, each
missing deliverable kind, `approved_contract` (none, only pending, only
rejected) and each incomplete milestone; wrong roles and states; the IT
office's review passing the project to `accepted` or returning it to
`implementing` with its comment, and a second request opening a new case."""
import time
from concurrent.futures import ThreadPoolExecutor

from client import Subscriber, expect, http, problem, validation
from projects_flow import (DELIVERABLE_KINDS, accepted_project, add_contract, add_deliverable,
                           approved_project, complete_milestones, create_project, deliverable_body, gate,
                           implementing_project, invalid_state, milestone_ids, open_case, post_contract,
                           post_deliverable, ready_for_acceptance, request_acceptance, review,
                           reviewed_contract, tok, users, wait_contract, wait_state)

DELIVERABLE_FIELDS = {"id", "project_id", "kind", "version", "title", "uri", "sha256", "author_id",
                      "created_at", "current"}


def blocked(r, missing):
    return gate(r, "acceptance_blocked", missing)


def deliverables(pid, query="", role="applicant"):
    return expect(http("GET", f"/projects/{pid}/deliverables{query}", token=tok(role)), 200)["items"]


def history(pid):
    return expect(http("GET", f"/projects/{pid}/history?limit=200", token=tok("it")), 200)["items"]


# ------------------------------------------------------------------ deliverables


def test_deliverables_supersede_and_never_erase():
    p = implementing_project()
    pid = p["id"]
    with Subscriber("") as sub:
        sub.ready()
        body = deliverable_body("install_manual")
        r = post_deliverable(pid, body)
        d1 = expect(r, 201)
        assert set(d1) == DELIVERABLE_FIELDS, set(d1) ^ DELIVERABLE_FIELDS
        assert r.header("Location") == f"/api/v1/projects/{pid}/deliverables?all=true"
        assert d1["version"] == 1 and d1["current"] is True and d1["project_id"] == pid
        assert (d1["kind"], d1["title"], d1["uri"], d1["sha256"]) == (
            "install_manual", body["title"], body["uri"], body["sha256"])
        assert d1["author_id"] == users()["applicant"]["id"]
        d2 = add_deliverable(pid, "install_manual", role="applicant2", title="安装手册 第二版")
        assert d2["version"] == 2 and d2["current"] is True and d2["id"] != d1["id"]
        u1 = add_deliverable(pid, "user_manual")
        assert u1["version"] == 1
        evs = sub.wait(lambda e: e.get("type") == "itgov.project.deliverable.added"
                       and e.get("subject") == f"projects/{pid}", count=3, what="deliverable.added")
        assert sorted((e["data"]["kind"], e["data"]["version"]) for e in evs) == [
            ("install_manual", 1), ("install_manual", 2), ("user_manual", 1)]
        assert all(e["data"]["project_id"] == pid for e in evs)
    cur = deliverables(pid)
    assert [(d["kind"], d["version"], d["current"]) for d in cur] == [
        ("install_manual", 2, True), ("user_manual", 1, True)], cur
    assert deliverables(pid, "?all=false") == cur
    every = deliverables(pid, "?all=true", role="auditor")
    assert [(d["id"], d["version"], d["current"]) for d in every] == [
        (d1["id"], 1, False), (d2["id"], 2, True), (u1["id"], 1, True)], every
    assert every[0]["title"] == d1["title"] and every[0]["sha256"] == d1["sha256"]
    for bad in ("yes", "1", "TRUE", ""):
        validation(http("GET", f"/projects/{pid}/deliverables?all={bad}", token=tok("it")), "all")
    for role in ("it", "secretary", "auditor", "applicant2"):
        assert deliverables(pid, role=role) == cur
    for role in ("other", "expert"):
        problem(http("GET", f"/projects/{pid}/deliverables", token=tok(role)), 404, "not_found")
    b = expect(http("GET", f"/projects/{pid}/deliverables?all=true&limit=2", token=tok("it")), 200)
    assert len(b["items"]) == 2 and b["next_cursor"]
    b = expect(http("GET", f"/projects/{pid}/deliverables?all=true&limit=2&cursor={b['next_cursor']}",
                    token=tok("it")), 200)
    assert [d["id"] for d in b["items"]] == [u1["id"]] and b["next_cursor"] is None


def test_concurrent_adds_of_one_kind_get_distinct_versions():
    pid = implementing_project()["id"]

    def one(i):
        return post_deliverable(pid, deliverable_body("test_report"),
                                role="applicant" if i % 2 else "applicant2")

    with ThreadPoolExecutor(10) as ex:
        rs = list(ex.map(one, range(10)))
    assert [r.status for r in rs] == [201] * 10, [str(r) for r in rs if r.status != 201][:2]
    assert sorted(r.body["version"] for r in rs) == list(range(1, 11))
    cur = deliverables(pid)
    assert [(d["kind"], d["version"]) for d in cur] == [("test_report", 10)], cur
    assert len(deliverables(pid, "?all=true")) == 10


def test_deliverable_refusals():
    p = implementing_project()
    pid = p["id"]
    for role in ("it", "expert", "secretary", "auditor"):
        problem(post_deliverable(pid, deliverable_body("user_manual"), role=role), 403, "forbidden")
    problem(post_deliverable(pid, deliverable_body("user_manual"), role="other"), 404, "not_found")
    problem(http("POST", f"/projects/{pid}/deliverables", deliverable_body("user_manual")), 401)
    validation(post_deliverable(pid, {"kind": "manual", "title": "", "uri": "not a uri", "sha256": "ABC",
                                      "extra": 1}), "kind", "title", "uri", "sha256", "extra")
    validation(post_deliverable(pid, {}), "kind", "title", "uri", "sha256")
    validation(post_deliverable(pid, deliverable_body("user_manual", title="t" * 201, sha256="a" * 63)),
               "title", "sha256")
    problem(http("POST", f"/projects/{pid}/deliverables", raw=b"[", token=tok("applicant")), 400,
            "invalid_json")
    assert deliverables(pid) == []
    # approved but not implementing; a draft
    q = approved_project()
    invalid_state(post_deliverable(q["id"], deliverable_body("user_manual")), "approved")
    d = create_project()
    invalid_state(post_deliverable(d["id"], deliverable_body("user_manual")), "draft")
    problem(http("GET", "/projects/999999999/deliverables", token=tok("it")), 404, "not_found")


# ------------------------------------------------------------- the acceptance gate


def test_blocked_names_everything_in_order():
    p = implementing_project(milestones=[{"name": "需求确认", "due_date": "2030-06-01"},
                                         {"name": "系统上线", "due_date": "2030-09-01"}])
    pid = p["id"]
    ids = milestone_ids(pid)
    assert len(ids) == 2
    with Subscriber("") as sub:
        sub.ready()
        b = blocked(request_acceptance(pid), list(DELIVERABLE_KINDS) + ["approved_contract"]
                    + [f"milestone:{i}" for i in ids])
        assert "missing" in b and b["status"] == 409
        blocked(request_acceptance(pid, body={}), list(DELIVERABLE_KINDS) + ["approved_contract"]
                + [f"milestone:{i}" for i in ids])
        time.sleep(0.5)
        assert sub.matching(lambda e: e.get("type", "").startswith("itgov.project.acceptance")
                            and e.get("subject") == f"projects/{pid}") == []
    got = expect(http("GET", f"/projects/{pid}", token=tok("it")), 200)
    assert got["state"] == "implementing" and got["version"] == p["version"]


def test_each_missing_deliverable_kind_is_named():
    p = implementing_project()
    pid = p["id"]
    reviewed_contract(pid)
    complete_milestones(pid)
    have = []
    for kind in reversed(DELIVERABLE_KINDS):  # named in article 11's order, whatever is added
        blocked(request_acceptance(pid), [k for k in DELIVERABLE_KINDS if k not in have])
        add_deliverable(pid, kind)
        have.append(kind)
    assert expect(request_acceptance(pid), 200)["state"] == "acceptance_review"


def test_no_approved_contract_none_pending_or_rejected():
    p = implementing_project()
    pid = p["id"]
    for kind in DELIVERABLE_KINDS:
        add_deliverable(pid, kind)
    complete_milestones(pid)
    blocked(request_acceptance(pid), ["approved_contract"])  # none
    c = add_contract(pid)  # only pending
    blocked(request_acceptance(pid), ["approved_contract"])
    reviewed_contract(pid, outcome="reject")  # pending and rejected
    blocked(request_acceptance(pid), ["approved_contract"])
    case = open_case(f"contracts/{c['id']}")  # the pending one rejected too: only rejected
    expect(review(case["id"], "reject"), 200)
    wait_contract(c["id"], "rejected")
    assert [x["status"] for x in expect(http("GET", f"/projects/{pid}/contracts", token=tok("it")),
                                         200)["items"]] == ["rejected", "rejected"]
    blocked(request_acceptance(pid), ["approved_contract"])
    reviewed_contract(pid)  # an approved one (on an implementing project)
    assert expect(request_acceptance(pid), 200)["state"] == "acceptance_review"


def test_incomplete_milestone_named():
    p = implementing_project(milestones=[{"name": "一期", "due_date": "2030-07-01"},
                                         {"name": "二期", "due_date": "2030-09-02"},
                                         {"name": "三期", "due_date": "2030-12-01"}])
    pid = p["id"]
    ids = milestone_ids(pid)
    reviewed_contract(pid)
    for kind in DELIVERABLE_KINDS:
        add_deliverable(pid, kind)
    complete_milestones(pid, [ids[0], ids[2]])
    blocked(request_acceptance(pid), [f"milestone:{ids[1]}"])
    complete_milestones(pid, [ids[1]])
    expect(request_acceptance(pid), 200)


def test_wrong_roles_states_and_body():
    p = implementing_project()
    pid = p["id"]
    for role in ("it", "expert", "secretary", "auditor"):
        problem(request_acceptance(pid, role=role), 403, "forbidden")
    problem(request_acceptance(pid, role="other"), 404, "not_found")
    problem(http("POST", f"/projects/{pid}/acceptance-request"), 401, "unauthorized")
    problem(request_acceptance(999999999), 404, "not_found")
    validation(request_acceptance(pid, body={"force": True}), "force")
    problem(http("POST", f"/projects/{pid}/acceptance-request", raw=b"{", token=tok("applicant")),
            400, "invalid_json")
    problem(http("POST", f"/projects/{pid}/acceptance-request", raw=b"{", token=tok("other")), 404)
    invalid_state(request_acceptance(approved_project()["id"]), "approved")
    d = create_project()
    invalid_state(request_acceptance(d["id"]), "draft")
    # 400 before 409: a bad body on a draft
    validation(request_acceptance(d["id"], body={"x": 1}), "x")


# ------------------------------------------------------------- review by the IT office


def test_happy_path_to_accepted():
    p = ready_for_acceptance()
    pid = p["id"]
    reviewed_contract(pid, outcome="reject")  # a rejected one beside the approved one is fine
    with Subscriber("") as sub:
        sub.ready()
        r = request_acceptance(pid, body={})
        got = expect(r, 200)
        assert got["state"] == "acceptance_review" and r.header("ETag") == f'"{got["version"]}"'
        ev = sub.wait(lambda e: e.get("type") == "itgov.project.acceptance_requested"
                      and e.get("subject") == f"projects/{pid}", what="acceptance_requested")[0]
        assert ev["data"]["state"] == "acceptance_review" and ev["data"]["submission"] >= 2
        assert ev["actor"] == users()["applicant"]["id"]
        invalid_state(request_acceptance(pid), "acceptance_review")
        invalid_state(post_contract(pid), "acceptance_review")
        invalid_state(post_deliverable(pid, deliverable_body("user_manual")), "acceptance_review")
        case = open_case(f"projects/{pid}")
        assert case["kind"] == "acceptance" and case["step"] == "review"
        for role in ("applicant", "secretary", "expert", "auditor"):
            problem(review(case["id"], "pass", role=role), 403, "forbidden")
        expect(review(case["id"], "pass", comment="验收合格"), 200)
        done = wait_state(pid, "accepted")
        ev = sub.wait(lambda e: e.get("type") == "itgov.project.accepted"
                      and e.get("subject") == f"projects/{pid}", what="project.accepted")[0]
        assert ev["data"]["case_id"] == case["id"] and ev["data"]["state"] == "accepted"
    h = [(t["from"], t["to"], t["action"]) for t in history(pid)]
    assert h[-2:] == [("implementing", "acceptance_review", "request_acceptance"),
                      ("acceptance_review", "accepted", "acceptance_pass")], h
    assert done["state"] == "accepted"
    invalid_state(request_acceptance(pid), "accepted")
    invalid_state(post_deliverable(pid, deliverable_body("user_manual")), "accepted")


def test_return_then_a_second_request_opens_a_new_case():
    p = ready_for_acceptance()
    pid = p["id"]
    expect(request_acceptance(pid), 200)
    case1 = open_case(f"projects/{pid}")
    with Subscriber("") as sub:
        sub.ready()
        c = expect(review(case1["id"], "return", comment="培训记录不完整"), 200)
        assert c["outcome"] == "returned"
        wait_state(pid, "implementing")
        ev = sub.wait(lambda e: e.get("type") == "itgov.project.acceptance_returned"
                      and e.get("subject") == f"projects/{pid}", what="acceptance_returned")[0]
        assert ev["data"]["comment"] == "培训记录不完整" and ev["data"]["state"] == "implementing"
    last = history(pid)[-1]
    assert (last["from"], last["to"], last["action"], last["comment"]) == (
        "acceptance_review", "implementing", "acceptance_return", "培训记录不完整"), last
    # back in implementing: a new training record supersedes, then ask again
    assert add_deliverable(pid, "training_record")["version"] == 2
    expect(request_acceptance(pid), 200)
    case2 = open_case(f"projects/{pid}")
    assert case2["id"] != case1["id"] and case2["kind"] == "acceptance"
    expect(review(case2["id"], "pass"), 200)
    wait_state(pid, "accepted")
    allc = expect(http("GET", f"/approvals?subject=projects/{pid}&kind=acceptance", token=tok("it")),
                  200)["items"]
    assert [x["outcome"] for x in allc] == ["returned", "approved"], allc


def test_parallel_requests_move_the_project_once():
    p = ready_for_acceptance()
    pid = p["id"]
    with ThreadPoolExecutor(6) as ex:
        rs = list(ex.map(lambda i: request_acceptance(pid, role="applicant" if i % 2 else "applicant2"),
                         range(6)))
    assert sorted(r.status for r in rs) == [200] + [409] * 5, [r.status for r in rs]
    for r in rs:
        if r.status == 409:
            invalid_state(r, "acceptance_review")
    h = [t["action"] for t in history(pid)]
    assert h.count("request_acceptance") == 1, h
    open_case(f"projects/{pid}")
    time.sleep(0.5)
    cases = expect(http("GET", f"/approvals?subject=projects/{pid}&kind=acceptance", token=tok("it")),
                   200)["items"]
    assert len(cases) == 1, cases


def test_accepted_project_helper():
    p = accepted_project()
    assert p["state"] == "accepted"
    assert len(deliverables(p["id"])) == 6
