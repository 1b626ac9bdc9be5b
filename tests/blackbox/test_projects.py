"""Projects and approvals end to end (issue 4), through the gateway with the
real services: every path of the flow, every wrong-state action, every
refused role, If-Match, and a restart of the approvals service between a
decision and the project's update."""
import time

from client import Subscriber, expect, http, local_sh, poll, problem, psql, sfx, validation, walk
from projects_flow import (approved_plan_item, create_project, decide, get_project, open_case,
                           project_body, review, submit, submitted_project, tok, users, wait_state)

ORDER = 60


def invalid_state(r, state):
    b = problem(r, 409, "invalid_state")
    assert b.get("state") == state, f"409 must name state {state}: {b}"


def history_actions(pid):
    b = expect(http("GET", f"/projects/{pid}/history", token=tok("applicant")), 200)
    return [(h["from"], h["to"], h["action"]) for h in b["items"]]


# ---------------------------------------------------------------- projects


def test_create_project_takes_department_from_account():
    u = users()
    b = project_body(department_id=999999)
    r = http("POST", "/projects", b, token=tok("applicant"))
    validation(r, "department_id")  # unknown member: never from the body
    p = create_project()
    assert p["state"] == "draft" and p["department_id"] == u["dept"]
    assert p["applicant_id"] == u["applicant"]["id"] and p["version"] == 1
    for k in ("id", "created_at", "updated_at", "title", "kind", "summary", "budget_cents",
              "plan_item_code", "serves_external_units"):
        assert k in p, k
    r = http("GET", f"/projects/{p['id']}", token=tok("applicant"))
    assert expect(r, 200)["id"] == p["id"] and r.header("ETag") == '"1"'


def test_create_validation_and_roles():
    validation(http("POST", "/projects", {"kind": "spaceship", "budget_cents": -1},
                    token=tok("applicant")), "title", "kind", "budget_cents")
    for role in ("it", "secretary", "expert", "auditor"):
        problem(http("POST", "/projects", project_body(), token=tok(role)), 403, "forbidden")
    problem(http("POST", "/projects", project_body()), 401, "unauthorized")


def test_visibility_by_role():
    p = create_project()
    pid = p["id"]
    problem(http("GET", f"/projects/{pid}", token=tok("other")), 404, "not_found")
    problem(http("GET", f"/projects/{pid}/history", token=tok("other")), 404, "not_found")
    for role in ("it", "secretary", "auditor", "applicant2"):
        expect(http("GET", f"/projects/{pid}", token=tok(role)), 200)
    problem(http("GET", f"/projects/{pid}", token=tok("expert")), 404, "not_found")
    mine = expect(http("GET", "/projects?limit=200", token=tok("other")), 200)
    assert all(x["department_id"] != users()["dept"] for x in mine["items"])
    ids = [x["id"] for x in expect(http("GET", f"/projects?department_id={users()['dept']}&state=draft"
                                        f"&q={p['title'][-10:]}", token=tok("it")), 200)["items"]]
    assert ids == [pid], ids
    validation(http("GET", "/projects?state=flying", token=tok("it")), "state")


def test_patch_if_match_and_owner():
    p = create_project()
    pid = p["id"]
    problem(http("PATCH", f"/projects/{pid}", {"title": "x"}, token=tok("applicant")), 428,
            "precondition_required")
    problem(http("PATCH", f"/projects/{pid}", {"title": "x"}, token=tok("applicant"),
                 headers={"If-Match": '"7"'}), 412, "precondition_failed")
    problem(http("PATCH", f"/projects/{pid}", {"title": "x"}, token=tok("other"),
                 headers={"If-Match": '"1"'}), 404, "not_found")
    problem(http("PATCH", f"/projects/{pid}", {"title": "x"}, token=tok("it"),
                 headers={"If-Match": '"1"'}), 403, "forbidden")
    validation(http("PATCH", f"/projects/{pid}", {"budget_cents": "lots"}, token=tok("applicant"),
                    headers={"If-Match": '"1"'}), "budget_cents")
    r = http("PATCH", f"/projects/{pid}", {"title": "新标题 " + sfx()}, token=tok("applicant2"),
             headers={"If-Match": '"1"'})
    b = expect(r, 200)
    assert b["version"] == 2 and r.header("ETag") == '"2"'
    problem(http("PATCH", f"/projects/{pid}", {"title": "y"}, token=tok("applicant"),
                 headers={"If-Match": '"1"'}), 412, "precondition_failed")


def test_submit_incomplete_names_each_field():
    p = create_project(title="", summary="", budget_cents=0, plan_item_code="NO-SUCH-" + sfx())
    validation(http("POST", f"/projects/{p['id']}/submit", token=tok("applicant")),
               "title", "summary", "budget_cents", "plan_item_code")
    assert get_project(p["id"])["state"] == "draft"


def test_pass_then_approve():
    with Subscriber("") as sub:
        sub.ready()
        p, case = submitted_project()
        pid = p["id"]
        assert case["kind"] == "initiation" and case["step"] == "review" and case["outcome"] is None
        assert case["subject"] == f"projects/{pid}" and case["overdue"] is False
        for k in ("experts", "opinions", "review", "decision", "opened_at", "due_at", "closed_at"):
            assert k in case, k
        c = expect(review(case["id"], "pass"), 200)
        assert c["step"] == "decision" and c["review"]["outcome"] == "pass"
        wait_state(pid, "awaiting_decision")
        c = expect(decide(case["id"], "approve"), 200)
        assert c["step"] == "closed" and c["outcome"] == "approved" and c["closed_at"]
        assert c["decision"]["meeting"] == "minister_office"
        wait_state(pid, "approved")
        subj = f"projects/{pid}"
        for t in ("itgov.project.created", "itgov.project.submitted", "itgov.project.approved"):
            sub.wait(lambda e, t=t: e.get("type") == t and e.get("subject") == subj, what=t)
        csub = f"approvals/{case['id']}"
        for t in ("itgov.approval.case.opened", "itgov.approval.review.recorded",
                  "itgov.approval.decision.recorded", "itgov.approval.case.closed"):
            sub.wait(lambda e, t=t: e.get("type") == t and e.get("subject") == csub, what=t)
    assert history_actions(pid) == [(None, "draft", "create"), ("draft", "under_review", "submit"),
                                    ("under_review", "awaiting_decision", "review_pass"),
                                    ("awaiting_decision", "approved", "decide_approve")]
    h = expect(http("GET", f"/projects/{pid}/history", token=tok("applicant")), 200)["items"]
    assert h[2]["actor_id"] == users()["it"]["id"] and h[3]["actor_id"] == users()["secretary"]["id"]
    # paged like every list: one at a time gives the same transitions, in order
    paged = walk(f"/projects/{pid}/history", tok("applicant"), limit=1)
    assert [(t["from"], t["to"], t["action"]) for t in paged] == history_actions(pid), paged


def test_pass_then_reject():
    p, case = submitted_project()
    expect(review(case["id"], "pass"), 200)
    expect(decide(case["id"], "reject", meeting="joint_meeting"), 200)
    wait_state(p["id"], "rejected")


def test_reject_at_review():
    p, case = submitted_project()
    c = expect(review(case["id"], "reject"), 200)
    assert c["step"] == "closed" and c["outcome"] == "rejected"
    wait_state(p["id"], "rejected")


def test_return_edit_resubmit_approve():
    p, case = submitted_project()
    pid = p["id"]
    c = expect(review(case["id"], "return", comment="预算依据不足"), 200)
    assert c["outcome"] == "returned" and c["step"] == "closed"
    cur = wait_state(pid, "returned")
    r = http("PATCH", f"/projects/{pid}", {"summary": "补充预算依据"}, token=tok("applicant"),
             headers={"If-Match": f'"{cur["version"]}"'})
    expect(r, 200)
    submit(pid)
    case2 = open_case(f"projects/{pid}")
    assert case2["id"] != case["id"]
    expect(review(case2["id"], "pass"), 200)
    expect(decide(case2["id"], "approve"), 200)
    wait_state(pid, "approved")
    allc = expect(http("GET", f"/approvals?subject=projects/{pid}", token=tok("it")), 200)["items"]
    assert [c["outcome"] for c in allc] == ["returned", "approved"]


def test_experts_with_and_without_conflict():
    u = users()
    p, case = submitted_project()
    cid, pid = case["id"], p["id"]
    problem(http("POST", f"/approvals/{cid}/opinions", {"stance": "support"}, token=tok("expert")),
            403, "forbidden")
    validation(http("POST", f"/approvals/{cid}/experts", {"user_id": u["applicant"]["id"]},
                    token=tok("it")), "user_id")
    problem(http("POST", f"/approvals/{cid}/experts", {"user_id": u["expert"]["id"]},
                 token=tok("secretary")), 403, "forbidden")
    for who in ("expert", "expert2"):
        expect(http("POST", f"/approvals/{cid}/experts", {"user_id": u[who]["id"]}, token=tok("it")), 201)
    # invited experts may read the project (within the 2 s events take)
    poll(lambda: http("GET", f"/projects/{pid}", token=tok("expert")).status == 200, 2.5,
         "expert reading the project")
    ids = [x["id"] for x in expect(http("GET", "/projects?limit=200", token=tok("expert2")), 200)["items"]]
    assert pid in ids or poll(lambda: pid in [x["id"] for x in expect(
        http("GET", "/projects?limit=200", token=tok("expert2")), 200)["items"]], 2.5, "expert list")
    expect(http("GET", f"/approvals/{cid}", token=tok("expert")), 200)
    expect(http("POST", f"/approvals/{cid}/opinions", {"stance": "support", "comment": "可行"},
                token=tok("expert")), 201)
    c = expect(http("POST", f"/approvals/{cid}/opinions",
                    {"stance": "oppose", "comment": "本人参与过该供应商项目", "conflict_of_interest": True},
                    token=tok("expert2")), 201)
    ops = {o["author_id"]: o for o in c["opinions"]}
    assert ops[u["expert"]["id"]]["counted"] is True
    assert ops[u["expert2"]["id"]]["conflict_of_interest"] is True and ops[u["expert2"]["id"]]["counted"] is False
    problem(http("POST", f"/approvals/{cid}/opinions", {"stance": "oppose"}, token=tok("expert")),
            409, "conflict")
    validation(http("POST", f"/approvals/{cid}/opinions", {"stance": "maybe"}, token=tok("expert")),
               "stance")
    expect(review(cid, "pass"), 200)
    invalid_state(http("POST", f"/approvals/{cid}/opinions", {"stance": "abstain"}, token=tok("it")),
                  "decision")


def test_plan_approval_and_a_project_citing_its_item():
    code = approved_plan_item()
    plans = expect(http("GET", "/plans?state=approved", token=tok("applicant")), 200)["items"]
    assert any(code in [i["code"] for i in pl["items"]] for pl in plans)
    p = create_project(plan_item_code=code)
    out = submit(p["id"])
    assert out["state"] == "under_review" and isinstance(out["similar_projects"], list)
    # a second project on the same item is flagged as similar
    p2 = create_project(plan_item_code=code)
    out2 = submit(p2["id"])
    assert p["id"] in [s["id"] for s in out2["similar_projects"]], out2["similar_projects"]


def test_plan_rules():
    body = {"year": 2027, "title": "计划 " + sfx(), "items": [{"code": "A1", "title": "x", "budget_cents": 1}]}
    problem(http("POST", "/plans", body, token=tok("applicant")), 403, "forbidden")
    validation(http("POST", "/plans", {"year": 1, "title": "", "items": [{"code": "", "title": "t"}]},
                    token=tok("it")), "year", "title", "items[0].code", "items[0].budget_cents")
    plan = expect(http("POST", "/plans", body, token=tok("it")), 201)
    assert plan["state"] == "draft"
    r = http("PATCH", f"/plans/{plan['id']}", {"title": "改 " + sfx()}, token=tok("it"))
    expect(r, 200)
    expect(http("POST", f"/plans/{plan['id']}/submit", token=tok("it")), 200)
    invalid_state(http("PATCH", f"/plans/{plan['id']}", {"title": "z"}, token=tok("it")), "under_review")
    invalid_state(http("POST", f"/plans/{plan['id']}/submit", token=tok("it")), "under_review")
    case = open_case(f"plans/{plan['id']}")
    assert case["kind"] == "plan" and case["step"] == "decision"
    validation(decide(case["id"], "approve", meeting="minister_office"), "meeting")
    invalid_state(review(case["id"], "pass"), "decision")  # plans have no review step at all
    expect(decide(case["id"], "reject", meeting="joint_meeting"), 200)
    invalid_state(decide(case["id"], "approve", meeting="joint_meeting"), "closed")
    wait_state(plan["id"], "rejected", path="plans")


def test_wrong_state_actions():
    p = create_project()
    pid = p["id"]
    submit(pid)
    invalid_state(http("POST", f"/projects/{pid}/submit", token=tok("applicant")), "under_review")
    invalid_state(http("PATCH", f"/projects/{pid}", {"title": "x"}, token=tok("applicant"),
                       headers={"If-Match": '"2"'}), "under_review")
    case = open_case(f"projects/{pid}")
    invalid_state(decide(case["id"], "approve"), "review")
    expect(review(case["id"], "pass"), 200)
    invalid_state(review(case["id"], "pass"), "decision")
    expect(http("POST", f"/approvals/{case['id']}/experts", {"user_id": users()["expert"]["id"]},
                token=tok("it")), 409)
    wait_state(pid, "awaiting_decision")
    invalid_state(http("POST", f"/projects/{pid}/submit", token=tok("applicant")), "awaiting_decision")
    expect(decide(case["id"], "approve"), 200)
    invalid_state(decide(case["id"], "approve"), "closed")
    invalid_state(review(case["id"], "reject"), "closed")
    wait_state(pid, "approved")
    invalid_state(http("POST", f"/projects/{pid}/submit", token=tok("applicant")), "approved")
    invalid_state(http("PATCH", f"/projects/{pid}", {"title": "x"}, token=tok("applicant"),
                       headers={"If-Match": '"4"'}), "approved")


def test_refused_roles_on_cases():
    p, case = submitted_project()
    cid = case["id"]
    for role in ("applicant", "expert", "auditor", "secretary"):
        problem(review(cid, "pass", role=role), 403, "forbidden")
    for role in ("applicant", "expert", "auditor", "it"):
        problem(decide(cid, "approve", role=role), 403, "forbidden")
    problem(http("POST", f"/approvals/{cid}/opinions", {"stance": "support"}, token=tok("applicant")),
            403, "forbidden")
    problem(review(cid, "pass", role="applicant"), 403)
    problem(http("GET", f"/approvals/{cid}", token=tok("other")), 404, "not_found")
    expect(http("GET", f"/approvals/{cid}", token=tok("applicant")), 200)
    problem(http("GET", f"/approvals/{cid}"), 401, "unauthorized")
    problem(http("POST", "/approvals/999999999/review", {"outcome": "pass"}, token=tok("it")), 404)
    # refusal order: 404 before a bad body's 400, which comes before 409
    problem(http("POST", "/approvals/999999999/review", raw=b"{not json", token=tok("it")), 404)
    problem(http("POST", f"/approvals/{cid}/review", raw=b"{not json", token=tok("it")), 400,
            "invalid_json")
    problem(http("POST", f"/projects/{p['id']}x/submit", token=tok("applicant")), 404)
    validation(review(cid, "maybe"), "outcome")
    for role in ("it", "secretary"):
        problem(http("POST", f"/projects/{p['id']}/submit", token=tok(role)), 403, "forbidden")


def test_overdue_case_flagged_and_emitted_once():
    with Subscriber("approval.case.overdue") as sub:
        p, case = submitted_project()
        psql(f"UPDATE approvals.cases SET due_at = now() - interval '1 minute' WHERE id = {case['id']}")
        c = poll(lambda: (lambda c: c if c["overdue"] else None)(
            expect(http("GET", f"/approvals/{case['id']}", token=tok("it")), 200)), 5, "overdue")
        assert c["overdue"] is True
        sub.wait(lambda e: e.get("subject") == f"approvals/{case['id']}", timeout=10, what="case.overdue")
        time.sleep(2.5)
        assert len(sub.matching(lambda e: e.get("subject") == f"approvals/{case['id']}")) == 1


def test_no_lost_transition_when_approvals_restarts():
    p, case = submitted_project()
    expect(review(case["id"], "pass"), 200)
    wait_state(p["id"], "awaiting_decision")
    expect(decide(case["id"], "approve"), 200)
    local_sh("stop", "approvals")
    try:
        local_sh("start", "approvals")
    finally:
        pass
    wait_state(p["id"], "approved", timeout=15)


def test_no_lost_event_when_projects_is_down():
    p, case = submitted_project()
    expect(review(case["id"], "pass"), 200)
    wait_state(p["id"], "awaiting_decision")
    local_sh("stop", "projects")
    try:
        expect(decide(case["id"], "approve"), 200)
        time.sleep(0.5)
    finally:
        local_sh("start", "projects")
    wait_state(p["id"], "approved", timeout=15)


def test_submission_while_approvals_is_down_opens_a_case_later():
    p = create_project()
    local_sh("stop", "approvals")
    try:
        submit(p["id"])
    finally:
        local_sh("start", "approvals")
    case = open_case(f"projects/{p['id']}", timeout=15)
    assert case["step"] == "review"
