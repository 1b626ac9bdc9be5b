"""Changes to systems in operation (issue 11 G, article 15), through the
gateway with the real services: a general change approved by the IT
office's review; a major change that the review alone does not approve (it
waits for the meeting, and implementing it before is refused); a general
change the review reclassifies as major; rejections at review and by the
meeting; every refused role and wrong state; the events."""
import time
from concurrent.futures import ThreadPoolExecutor

from client import (Subscriber, expect, http, make_department, make_user, poll, problem, sfx,
                    validation, walk)
import projects_flow
from projects_flow import create_project, decide, open_case, review, submitted_project, tok, users

ORDER = 62

_live = {}


def in_operation_project():
    """A project of the applicant's department in operation
    (projects_flow.in_operation_project(), made once)."""
    if "p" not in _live:
        _live["p"] = projects_flow.in_operation_project()
    return _live["p"]


def change_body(**kw):
    b = {"level": "general", "title": "增加报修工单导出功能 " + sfx(),
         "requirement_plan": "后勤处需要按月导出报修工单（Excel），字段：工单号、报修人、处理结果。",
         "test_plan": "在测试环境导出 2026 年 3 月工单，与数据库逐条核对；回归工单查询功能。"}
    b.update(kw)
    return b


def submit_change(pid=None, role="applicant", **kw):
    pid = pid or in_operation_project()["id"]
    return http("POST", f"/projects/{pid}/changes", change_body(**kw), token=tok(role))


def new_change(**kw):
    """A submitted change and its open case."""
    r = submit_change(**kw)
    c = expect(r, 201)
    assert r.header("Location") == f"/api/v1/changes/{c['id']}", r.header("Location")
    assert r.header("ETag") == '"1"'
    return c, open_case(f"changes/{c['id']}")


def get_change(cid, role="it"):
    return expect(http("GET", f"/changes/{cid}", token=tok(role)), 200)


def wait_change(cid, status, timeout=3):
    return poll(lambda: (lambda c: c if c["status"] == status else None)(get_change(cid)), timeout,
                f"changes/{cid} becoming {status}", interval=0.05)


def implement(cid, role="applicant", **kw):
    b = {"implemented_at": "2026-12-10T09:30:00Z",
         "test_evidence_uri": "https://docs.example.edu/tests/" + sfx()}
    b.update(kw)
    return http("POST", f"/changes/{cid}/implemented", b, token=tok(role))


def invalid_state(r, state):
    b = problem(r, 409, "invalid_state")
    assert b.get("state") == state, f"409 must name state {state}: {b}"
    return b


def change_events(sub, cid, count):
    sub.wait(lambda e: e.get("subject") == f"changes/{cid}", count=count, timeout=10,
             what=f"{count} events of changes/{cid}")
    evs = sub.matching(lambda e: e.get("subject") == f"changes/{cid}")
    return [e["type"] for e in evs], evs


# ---------------------------------------------------------------- the paths


def test_general_change_is_approved_by_the_review_then_implemented():
    p = in_operation_project()
    with Subscriber("") as sub:
        sub.ready()
        c, case = new_change()
        cid = c["id"]
        assert c["status"] == "pending" and c["level"] == "general" and c["project_id"] == p["id"]
        assert c["requested_level"] == "general" and c["reclassified_at"] is None
        assert c["implemented_at"] is None and c["test_evidence_uri"] is None and c["version"] == 1
        assert c["created_by"] == users()["applicant"]["id"]
        assert case["kind"] == "change" and case["step"] == "review" and case["variant"] == "general"
        assert case["subject"] == f"changes/{cid}"
        # the department sees the case about its change
        expect(http("GET", f"/approvals/{case['id']}", token=tok("applicant")), 200)
        invalid_state(implement(cid), "pending")
        k = expect(review(case["id"], "pass"), 200)
        assert k["step"] == "closed" and k["outcome"] == "approved"
        c = wait_change(cid, "approved")
        assert c["level"] == "general" and c["version"] == 2
        r = implement(cid, implemented_at="2026-12-10T09:30:00+08:00")
        done = expect(r, 200)
        assert r.header("ETag") == '"3"'
        assert done["status"] == "implemented" and done["implemented_at"] == "2026-12-10T01:30:00Z"
        assert done["implemented_by"] == users()["applicant"]["id"]
        assert done["test_evidence_uri"].startswith("https://docs.example.edu/tests/")
        assert get_change(cid, "auditor") == done
        invalid_state(implement(cid), "implemented")
        types, evs = change_events(sub, cid, 3)
        assert types == ["itgov.change.submitted", "itgov.change.approved",
                         "itgov.change.implemented"], types
        sub_ev = evs[0]["data"]
        assert sub_ev["level"] == "general" and sub_ev["department_id"] == users()["dept"]
        assert sub_ev["project_id"] == p["id"] and sub_ev["submission"] == 1
        assert evs[1]["data"]["case_id"] == case["id"]
    listed = expect(http("GET", f"/projects/{p['id']}/changes?limit=200", token=tok("applicant2")), 200)
    assert cid in [x["id"] for x in listed["items"]]
    impl = expect(http("GET", f"/projects/{p['id']}/changes?status=implemented&limit=200",
                       token=tok("secretary")), 200)
    assert all(x["status"] == "implemented" for x in impl["items"]) and cid in [x["id"] for x in impl["items"]]


def test_major_change_is_not_approved_by_the_review_alone():
    with Subscriber("") as sub:
        sub.ready()
        c, case = new_change(level="major")
        cid = c["id"]
        assert c["level"] == "major" and case["variant"] == "major"
        invalid_state(implement(cid), "pending")
        # only the review comes first: no meeting decides a change still at review
        invalid_state(decide(case["id"], "approve", meeting="joint_meeting"), "review")
        k = expect(review(case["id"], "pass"), 200)
        assert k["step"] == "decision" and k["outcome"] is None and k["closed_at"] is None
        c = wait_change(cid, "awaiting_decision")
        assert c["level"] == "major"
        # a major change passed by the review is still not approved: no implementing it
        invalid_state(implement(cid), "awaiting_decision")
        invalid_state(review(case["id"], "pass"), "decision")
        k = expect(decide(case["id"], "approve", meeting="joint_meeting"), 200)
        assert k["step"] == "closed" and k["outcome"] == "approved"
        assert k["decision"]["meeting"] == "joint_meeting"
        wait_change(cid, "approved")
        expect(implement(cid), 200)
        types, _ = change_events(sub, cid, 4)
        assert types == ["itgov.change.submitted", "itgov.change.review_passed",
                         "itgov.change.approved", "itgov.change.implemented"], types


def test_general_change_reclassified_major_goes_to_the_meeting():
    with Subscriber("") as sub:
        sub.ready()
        c, case = new_change(level="general")
        cid = c["id"]
        k = expect(review(case["id"], "reclassify_major", comment="涉及数据结构调整，属重大变更"), 200)
        assert k["step"] == "decision" and k["variant"] == "major" and k["outcome"] is None
        assert k["review"]["outcome"] == "reclassify_major" and k["review"]["variant"] == "major"
        c = wait_change(cid, "awaiting_decision")
        assert c["level"] == "major" and c["requested_level"] == "general" and c["reclassified_at"]
        invalid_state(implement(cid), "awaiting_decision")
        k = expect(decide(case["id"], "approve", meeting="minister_office"), 200)
        assert k["outcome"] == "approved" and k["variant"] == "major"
        c = wait_change(cid, "approved")
        assert c["level"] == "major" and c["requested_level"] == "general"
        types, evs = change_events(sub, cid, 3)
        assert types == ["itgov.change.submitted", "itgov.change.reclassified",
                         "itgov.change.approved"], types
        assert evs[1]["data"]["level"] == "major" and evs[1]["data"]["comment"] == "涉及数据结构调整，属重大变更"


def test_reclassification_only_of_a_general_change_at_review():
    _, case = new_change(level="major")
    invalid_state(review(case["id"], "reclassify_major"), "review")  # already major
    assert expect(http("GET", f"/approvals/{case['id']}", token=tok("it")), 200)["step"] == "review"
    # other kinds have no such outcome: 400, before anything about the state
    _, pcase = submitted_project()
    validation(review(pcase["id"], "reclassify_major"), "outcome")
    # a change case does not return: 400 naming outcome
    validation(review(case["id"], "return"), "outcome")


def test_rejections_at_review_and_by_the_meeting():
    c, case = new_change(level="general")
    k = expect(review(case["id"], "reject"), 200)
    assert k["step"] == "closed" and k["outcome"] == "rejected"
    wait_change(c["id"], "rejected")
    invalid_state(implement(c["id"]), "rejected")
    invalid_state(review(case["id"], "pass"), "closed")

    c, case = new_change(level="major")
    expect(review(case["id"], "pass"), 200)
    wait_change(c["id"], "awaiting_decision")
    k = expect(decide(case["id"], "reject", meeting="minister_office"), 200)
    assert k["outcome"] == "rejected"
    wait_change(c["id"], "rejected")
    invalid_state(implement(c["id"]), "rejected")
    invalid_state(decide(case["id"], "approve"), "closed")


# ---------------------------------------------------------------- refusals


def test_wrong_roles():
    p = in_operation_project()
    pid = p["id"]
    for role in ("it", "secretary", "expert", "auditor"):
        problem(submit_change(pid, role=role), 403, "forbidden")
    problem(http("POST", f"/projects/{pid}/changes", change_body()), 401, "unauthorized")
    # another department's applicant: the project does not exist for them, even with a bad body
    problem(submit_change(pid, role="other"), 404, "not_found")
    problem(http("POST", f"/projects/{pid}/changes", {"level": "huge"}, token=tok("other")), 404,
            "not_found")
    # one who sees every project but is not of the owning department: 403
    seer = make_user(("applicant", "auditor"), dept=make_department()["id"])
    problem(http("POST", f"/projects/{pid}/changes", change_body(), token=seer["token"]), 403,
            "forbidden")
    c, case = new_change()
    cid = c["id"]
    problem(http("GET", f"/changes/{cid}", token=tok("other")), 404, "not_found")
    problem(http("GET", f"/projects/{pid}/changes", token=tok("other")), 404, "not_found")
    problem(http("GET", f"/changes/{cid}"), 401, "unauthorized")
    for role in ("it", "secretary", "auditor", "applicant2"):
        expect(http("GET", f"/changes/{cid}", token=tok(role)), 200)
    # the case: only the IT office reviews, only the secretary records the meeting
    for role in ("applicant", "secretary", "auditor"):
        problem(review(case["id"], "pass", role=role), 403, "forbidden")
    problem(decide(case["id"], "approve", role="it"), 403, "forbidden")
    k = expect(review(case["id"], "pass"), 200)
    assert k["outcome"] == "approved"
    wait_change(cid, "approved")
    # implemented: the owning department's applicants only
    for role in ("it", "secretary", "auditor"):
        problem(implement(cid, role=role), 403, "forbidden")
    problem(implement(cid, role="other"), 404, "not_found")
    problem(http("POST", f"/changes/{cid}/implemented", {"x": 1}, token=seer["token"]), 403,
            "forbidden")
    problem(implement(999999999), 404, "not_found")
    expect(implement(cid, role="applicant2"), 200)  # any applicant of the department


def test_validation_and_wrong_states():
    p = in_operation_project()
    pid = p["id"]
    validation(http("POST", f"/projects/{pid}/changes",
                    {"level": "urgent", "title": "", "requirement_plan": 7, "extra": True},
                    token=tok("applicant")), "level", "title", "requirement_plan", "test_plan", "extra")
    validation(submit_change(pid, title="长" * 201), "title")
    validation(http("POST", f"/projects/{pid}/changes", "not an object", token=tok("applicant")), "")
    problem(http("POST", f"/projects/{pid}/changes", raw=b"{", token=tok("applicant")), 400,
            "invalid_json")
    problem(submit_change(999999999), 404, "not_found")
    # changes apply to systems in operation: a draft project's is 409 naming its state, after 400
    draft = create_project()
    validation(http("POST", f"/projects/{draft['id']}/changes", {"level": "huge"},
                    token=tok("applicant")), "level", "title", "requirement_plan", "test_plan")
    invalid_state(submit_change(draft["id"]), "draft")
    listed = expect(http("GET", f"/projects/{draft['id']}/changes", token=tok("applicant")), 200)
    assert listed == {"items": [], "next_cursor": None}, listed
    validation(http("GET", f"/projects/{pid}/changes?status=flying", token=tok("it")), "status")
    # implemented: the body is checked before the state
    c, case = new_change()
    validation(implement(c["id"], implemented_at="yesterday", test_evidence_uri="not a uri"),
               "implemented_at", "test_evidence_uri")
    validation(http("POST", f"/changes/{c['id']}/implemented", {}, token=tok("applicant")),
               "implemented_at", "test_evidence_uri")
    invalid_state(implement(c["id"]), "pending")
    # a meeting that does not exist is 400; a decision on a general change is 409 at any step
    validation(http("POST", f"/approvals/{case['id']}/decision",
                    {"meeting": "party", "meeting_date": "2026-03-01", "minutes_ref": "x",
                     "outcome": "approve"}, token=tok("secretary")), "meeting")
    invalid_state(decide(case["id"], "approve"), "review")
    problem(http("GET", "/changes/999999999", token=tok("it")), 404, "not_found")
    problem(http("GET", "/changes/01", token=tok("it")), 404, "not_found")


def test_parallel_reports_implement_a_change_once():
    c, case = new_change()
    expect(review(case["id"], "pass"), 200)
    wait_change(c["id"], "approved")
    with Subscriber("") as sub:
        sub.ready()
        with ThreadPoolExecutor(8) as pool:
            rs = list(pool.map(lambda i: implement(c["id"], role=("applicant", "applicant2")[i % 2]),
                               range(8)))
        assert sorted(r.status for r in rs) == [200] + [409] * 7, [r.status for r in rs]
        for r in rs:
            if r.status == 409:
                invalid_state(r, "implemented")
        change_events(sub, c["id"], 1)
        time.sleep(0.5)  # a second event would have come by now
        assert change_events(sub, c["id"], 1)[0] == ["itgov.change.implemented"]
    assert get_change(c["id"])["version"] == 3


def test_the_list_pages_oldest_first():
    pid = in_operation_project()["id"]
    mine = [expect(submit_change(pid), 201)["id"] for _ in range(3)]
    items = walk(f"/projects/{pid}/changes", tok("auditor"), limit=1)
    ids = [x["id"] for x in items]
    assert ids == sorted(ids) and all(i in ids for i in mine), ids
    assert all(x["project_id"] == pid for x in items)


def test_the_dossier_holds_the_changes_their_cases_and_the_operations():
    """The whole file of a system in operation (article 25): its changes,
    their approval cases (kept from approvals' events like the others), the
    changes' transitions in the history, and the other operational records."""
    p = in_operation_project()
    c, case = new_change(level="major")
    cid = c["id"]
    expect(review(case["id"], "pass"), 200)
    expect(decide(case["id"], "approve", meeting="joint_meeting"), 200)
    wait_change(cid, "approved")
    check = {"checked_at": "2026-12-02T02:00:00Z", "result": "pass", "findings": ""}
    spot = expect(http("POST", f"/projects/{p['id']}/spot-checks", check, token=tok("it")), 201)

    def dossier():
        d = expect(http("GET", f"/projects/{p['id']}/dossier", token=tok("auditor")), 200)
        kept = [a for a in d["approvals"] if a["id"] == case["id"]]
        return d if kept and kept[0]["step"] == "closed" else None
    d = poll(dossier, 5, "the change's closed case in the dossier", interval=0.1)
    kept = [a for a in d["approvals"] if a["id"] == case["id"]][0]
    assert kept["kind"] == "change" and kept["subject"] == f"changes/{cid}"
    assert kept["outcome"] == "approved" and kept["decision"]["meeting"] == "joint_meeting"
    ops = d["operations"]
    mine = [x for x in ops["changes"] if x["id"] == cid]
    assert mine and mine[0]["status"] == "approved" and mine[0]["level"] == "major", ops["changes"]
    assert spot["id"] in [s["id"] for s in ops["spot_checks"]], ops["spot_checks"]
    moves = [(h["from"], h["to"]) for h in d["history"] if h["subject"] == f"changes/{cid}"]
    assert moves[-2:] == [("pending", "awaiting_decision"), ("awaiting_decision", "approved")], moves
    for k in ("backups", "system_accounts", "fee_agreements", "fees"):
        assert isinstance(ops[k], list), k
