"""The to-do list (issue 13): GET /api/v1/me/tasks and /me/tasks/summary,
served by the audit service from the events in its log.

For each kind of task: it appears for exactly the people who may act (by
role, by invitation for experts, by department for applicants) and not for
others (another department's applicant, an expert not invited, other
roles), and leaves `open` when the action is recorded — then it is in the
actor's `done`. Also: the summary's counts, paging, 401 and 400.

The shared users of projects_flow (users()) see tasks other tests made, so
most checks look for one task (by subject or case) among all of a caller's;
exact counts use users of their own (a fresh department, a fresh expert)."""
import urllib.parse

from client import (expect, http, local_sh, make_department, make_user, poll, problem, psql, sfx,
                    validation)
from projects_flow import (accepted_project, add_contract, in_operation_project, answer_info_request, approved_project,
                           complete_milestone, decide, go_live, implementing_project, info_request,
                           milestones_of, open_case, overdue_rectification, project_body,
                           rectification, respond_rectification, review, submitted_project, tok,
                           users, verify_rectification, wait_state)

ORDER = 65
WAIT = 10  # seconds for an event to reach the log and the read model

KINDS = {"initiation_review", "initiation_decision", "plan_decision", "contract_review",
         "acceptance_review", "change_review", "change_decision", "escalation_decision",
         "expert_opinion", "project_returned", "rectification", "info_request", "milestone_overdue",
         "go_live", "system_finding"}
EVERYONE = ("applicant", "applicant2", "other", "it", "secretary", "auditor", "expert", "expert2")


def token_of(who):
    return who if isinstance(who, str) and who not in users() else tok(who)


def all_tasks(who, status="open", limit=200):
    """Every task of a caller (a users() name or a token), following next_cursor."""
    token = token_of(who)
    items, cursor = [], None
    for _ in range(1000):
        q = {"status": status, "limit": limit}
        if cursor is not None:
            q["cursor"] = cursor
        b = expect(http("GET", "/me/tasks?" + urllib.parse.urlencode(q), token=token), 200)
        assert set(b) == {"items", "next_cursor"}, b
        assert len(b["items"]) <= limit
        items += b["items"]
        cursor = b["next_cursor"]
        if cursor is None:
            return items
        assert b["items"], "an empty page with a next_cursor"
    raise AssertionError("too many pages")


def find(who, kind, subject, status="open"):
    """The caller's task of this kind about subject, or None."""
    for t in all_tasks(who, status):
        assert t["kind"] in KINDS, t
        if t["kind"] == kind and t["subject"] == subject:
            return t
    return None


def wait_task(who, kind, subject, status="open"):
    return poll(lambda: find(who, kind, subject, status), WAIT,
                f"{kind} {subject} in {who}'s {status} tasks", interval=0.1)


def wait_gone(who, kind, subject):
    poll(lambda: find(who, kind, subject) is None, WAIT, f"{kind} {subject} leaving {who}'s open tasks",
         interval=0.1)


def only_for(kind, subject, allowed, also=()):
    """The task is open for exactly the callers named in allowed (of EVERYONE
    and also); returns it as the first of them sees it."""
    first = wait_task(allowed[0], kind, subject)
    for who in allowed[1:]:
        assert find(who, kind, subject) == first, f"{who} must see {kind} {subject} as {allowed[0]} does"
    for who in tuple(EVERYONE) + tuple(also):
        if who not in allowed:
            assert find(who, kind, subject) is None, f"{who} must not see {kind} {subject}"
    return first


def done_by(who, kind, subject):
    """After the action: gone from the actor's open tasks, in their done."""
    wait_gone(who, kind, subject)
    t = wait_task(who, kind, subject, status="done")
    assert "done_at" in t and t["overdue"] is False, t
    return t


def check_item(t, kind, subject, project_id, actions):
    assert t["kind"] == kind and t["subject"] == subject, t
    assert t["project_id"] == project_id, t
    assert t["actions"] == actions, t
    assert isinstance(t["title"], str) and t["title"], t
    assert isinstance(t["id"], int) and isinstance(t["overdue"], bool), t
    assert "done_at" not in t


# ---------------------------------------------------------------- refusals


def test_tasks_need_a_session():
    for path in ("/me/tasks", "/me/tasks/summary", "/me/tasks?status=done"):
        problem(http("GET", path), 401)
        problem(http("GET", path, token="not-a-token"), 401)


def test_tasks_bad_parameters():
    validation(http("GET", "/me/tasks?status=closed", token=tok("it")), "status")
    validation(http("GET", "/me/tasks?limit=0", token=tok("it")), "limit")
    validation(http("GET", "/me/tasks?limit=201", token=tok("it")), "limit")
    validation(http("GET", "/me/tasks?cursor=x", token=tok("it")), "cursor")
    validation(http("GET", "/me/tasks?status=x&limit=0", token=tok("it")), "status", "limit")


# ---------------------------------------------------------------- approvals


def test_initiation_review_expert_and_decision():
    u = users()
    p, case = submitted_project()
    cid, subj = case["id"], f"approvals/{case['id']}"
    t = only_for("initiation_review", subj, ("it",))
    check_item(t, "initiation_review", subj, p["id"], ["invite_expert", "pass", "return", "reject"])
    assert t["case_id"] == cid and t["step"] == "review" and t["due_at"] == case["due_at"], t
    assert t["overdue"] is False

    # an invited expert's opinion: that expert only
    expect(http("POST", f"/approvals/{cid}/experts", {"user_id": u["expert"]["id"]}, token=tok("it")), 201)
    e = only_for("expert_opinion", subj, ("expert",))
    check_item(e, "expert_opinion", subj, p["id"], ["opinion"])
    expect(http("POST", f"/approvals/{cid}/opinions", {"stance": "support", "comment": "可行"},
                token=tok("expert")), 201)
    done_by("expert", "expert_opinion", subj)
    assert find("it", "expert_opinion", subj, "done") is None

    # the review passes it to the meeting: the secretaries' decision
    expect(review(cid, "pass"), 200)
    done_by("it", "initiation_review", subj)
    d = only_for("initiation_decision", subj, ("secretary",))
    check_item(d, "initiation_decision", subj, p["id"], ["approve", "reject"])
    assert d["step"] == "decision" and d["case_id"] == cid
    expect(decide(cid, "approve"), 200)
    done_by("secretary", "initiation_decision", subj)
    for who in EVERYONE:
        assert find(who, "initiation_decision", subj) is None


def test_an_expert_not_giving_an_opinion_is_withdrawn_by_the_review():
    u = users()
    p, case = submitted_project()
    subj = f"approvals/{case['id']}"
    expect(http("POST", f"/approvals/{case['id']}/experts", {"user_id": u["expert2"]["id"]},
                token=tok("it")), 201)
    only_for("expert_opinion", subj, ("expert2",))
    expect(review(case["id"], "reject"), 200)
    wait_gone("expert2", "expert_opinion", subj)
    assert find("expert2", "expert_opinion", subj, "done") is None  # not theirs: withdrawn
    assert find("it", "expert_opinion", subj, "done") is None
    done_by("it", "initiation_review", subj)


def test_returned_project_to_the_department_until_resubmitted():
    p, case = submitted_project()
    expect(review(case["id"], "return", comment="请补充预算明细"), 200)
    wait_state(p["id"], "returned")
    subj = f"projects/{p['id']}"
    t = only_for("project_returned", subj, ("applicant", "applicant2"))
    check_item(t, "project_returned", subj, p["id"], ["edit", "submit"])
    assert "case_id" not in t and "due_at" not in t
    expect(http("POST", f"/projects/{p['id']}/submit", token=tok("applicant2")), 200)
    done_by("applicant2", "project_returned", subj)
    assert find("applicant", "project_returned", subj) is None
    assert find("applicant", "project_returned", subj, "done") is None  # applicant2 acted
    # resubmitted: a new case, a new review for the IT office
    case2 = open_case(subj)
    only_for("initiation_review", f"approvals/{case2['id']}", ("it",))


def test_contract_and_acceptance_reviews_then_go_live():
    p = implementing_project()
    pid = p["id"]
    c = add_contract(pid)
    case = open_case(f"contracts/{c['id']}")
    subj = f"approvals/{case['id']}"
    t = only_for("contract_review", subj, ("it",))
    check_item(t, "contract_review", subj, pid, ["pass", "reject"])  # the project, from the log
    expect(review(case["id"], "pass"), 200)
    done_by("it", "contract_review", subj)

    # acceptance: the IT office reviews; then the department goes live
    p = accepted_project(p, with_contract=False)
    acase = expect(http("GET", f"/approvals?subject=projects/{pid}&kind=acceptance&limit=5",
                        token=tok("it")), 200)["items"][0]
    asubj = f"approvals/{acase['id']}"
    t = done_by("it", "acceptance_review", asubj)
    check_item({k: v for k, v in t.items() if k != "done_at"}, "acceptance_review", asubj, pid,
               ["invite_expert", "pass", "return"])
    g = only_for("go_live", f"projects/{pid}", ("applicant", "applicant2"))
    check_item(g, "go_live", f"projects/{pid}", pid, ["go_live"])
    expect(go_live(pid), 200)
    done_by("applicant", "go_live", f"projects/{pid}")


def test_acceptance_review_open_for_the_it_office_only():
    from projects_flow import ready_for_acceptance, request_acceptance
    p = ready_for_acceptance()
    expect(request_acceptance(p["id"]), 200)
    case = open_case(f"projects/{p['id']}")
    assert case["kind"] == "acceptance"
    subj = f"approvals/{case['id']}"
    t = only_for("acceptance_review", subj, ("it",))
    assert t["step"] == "review" and t["project_id"] == p["id"]
    expect(review(case["id"], "return", comment="文档不全"), 200)
    done_by("it", "acceptance_review", subj)


def test_change_review_reclassified_then_decided():
    p = in_operation_project()
    c = expect(http("POST", f"/projects/{p['id']}/changes",
                    {"level": "general", "title": "增加报修工单导出功能 " + sfx(),
                     "requirement_plan": "后勤处需要按月导出报修工单。", "test_plan": "测试环境核对。"},
                    token=tok("applicant")), 201)
    case = open_case(f"changes/{c['id']}")
    subj = f"approvals/{case['id']}"
    t = only_for("change_review", subj, ("it",))
    check_item(t, "change_review", subj, p["id"], ["pass", "reclassify_major", "reject"])
    expect(review(case["id"], "reclassify_major"), 200)
    done_by("it", "change_review", subj)
    d = only_for("change_decision", subj, ("secretary",))
    check_item(d, "change_decision", subj, p["id"], ["approve", "reject"])
    expect(decide(case["id"], "reject"), 200)
    done_by("secretary", "change_decision", subj)


def test_plan_decision_for_the_secretaries():
    plan = expect(http("POST", "/plans", {"year": 2027, "title": "2027年信息化建设计划 " + sfx(),
                                          "items": [{"code": "ITEM-" + sfx(), "title": "智慧后勤平台",
                                                     "description": "二期", "budget_cents": 100}]},
                       token=tok("it")), 201)
    expect(http("POST", f"/plans/{plan['id']}/submit", token=tok("it")), 200)
    case = open_case(f"plans/{plan['id']}")
    subj = f"approvals/{case['id']}"
    t = only_for("plan_decision", subj, ("secretary",))
    check_item(t, "plan_decision", subj, None, ["approve", "reject"])  # a plan: no project
    expect(decide(case["id"], "reject", meeting="joint_meeting"), 200)
    done_by("secretary", "plan_decision", subj)


# ---------------------------------------------------------------- the department's duties


def test_rectification_answered_reopened_answered():
    p = approved_project()
    x = rectification(p["id"])
    subj = f"rectifications/{x['id']}"
    t = only_for("rectification", subj, ("applicant", "applicant2"))
    check_item(t, "rectification", subj, p["id"], ["respond"])
    assert t["due_at"] == x["deadline"] and t["overdue"] is False
    expect(respond_rectification(x["id"]), 200)
    done_by("applicant", "rectification", subj)
    # reopened by the IT office's verification: open again, for the department
    expect(verify_rectification(x["id"], "reopened", comment="日志仍不完整"), 200)
    only_for("rectification", subj, ("applicant", "applicant2"))
    assert find("applicant", "rectification", subj, "done") is None
    expect(respond_rectification(x["id"], role="applicant2"), 200)
    done_by("applicant2", "rectification", subj)


def test_info_request_until_answered():
    p = approved_project()
    q = info_request(p["id"], due_date="2030-06-30")
    subj = f"info-requests/{q['id']}"
    t = only_for("info_request", subj, ("applicant", "applicant2"))
    check_item(t, "info_request", subj, p["id"], ["answer"])
    assert t["due_at"] == "2030-06-30T00:00:00Z" and t["overdue"] is False
    expect(answer_info_request(q["id"]), 200)
    done_by("applicant", "info_request", subj)


def test_overdue_milestone_until_completed():
    p = implementing_project([{"name": "逾期里程碑", "due_date": "2021-03-01"},
                              {"name": "未到期", "due_date": "2030-03-01"}])
    late = milestones_of(p["id"])["逾期里程碑"]
    subj = f"projects/{p['id']}/milestones/{late['id']}"
    t = only_for("milestone_overdue", subj, ("applicant", "applicant2"))
    check_item(t, "milestone_overdue", subj, p["id"], ["complete"])
    assert t["due_at"] == "2021-03-01T00:00:00Z" and t["overdue"] is True
    expect(complete_milestone(p["id"], late["id"]), 200)
    done_by("applicant", "milestone_overdue", subj)


def test_escalation_decision_for_the_secretaries():
    p = approved_project()
    x = overdue_rectification(p)
    def case():
        b = expect(http("GET", f"/approvals?subject=projects/{p['id']}&kind=escalation&state=open",
                        token=tok("it")), 200)
        return b["items"][0] if b["items"] else None
    c = poll(case, WAIT, "the escalation case")
    subj = f"approvals/{c['id']}"
    t = only_for("escalation_decision", subj, ("secretary",))
    check_item(t, "escalation_decision", subj, p["id"], ["continue", "suspend", "terminate"])
    # the overdue rectification is still the department's, marked overdue
    r = only_for("rectification", f"rectifications/{x['id']}", ("applicant", "applicant2"))
    assert r["overdue"] is True
    expect(decide(c["id"], "continue"), 200)
    done_by("secretary", "escalation_decision", subj)


# ---------------------------------------------------------------- summary, paging


def own_department_project():
    """A fresh department with one applicant, and an approved project of it."""
    dept = make_department()["id"]
    a = make_user(("applicant",), dept=dept)
    p = expect(http("POST", "/projects", project_body(), token=a["token"]), 201)
    expect(http("POST", f"/projects/{p['id']}/submit", token=a["token"]), 200)
    case = open_case(f"projects/{p['id']}")
    expect(review(case["id"], "pass"), 200)
    wait_state(p["id"], "awaiting_decision")
    expect(decide(case["id"], "approve"), 200)
    wait_state(p["id"], "approved")
    return a, p


def test_summary_counts_by_kind_and_overdue():
    a, p = own_department_project()
    empty = expect(http("GET", "/me/tasks/summary", token=a["token"]), 200)
    assert empty == {"open": 0, "overdue": 0, "by_kind": {}}, empty
    info_request(p["id"])
    info_request(p["id"])
    overdue_rectification(p)
    poll(lambda: expect(http("GET", "/me/tasks/summary", token=a["token"]), 200)["open"] == 3, WAIT,
         "three open tasks")
    s = expect(http("GET", "/me/tasks/summary", token=a["token"]), 200)
    assert s == {"open": 3, "overdue": 1, "by_kind": {"info_request": {"open": 2, "overdue": 0},
                                                      "rectification": {"open": 1, "overdue": 1}}}, s
    items = all_tasks(a["token"])
    assert sorted(t["kind"] for t in items) == ["info_request", "info_request", "rectification"]
    assert sum(t["overdue"] for t in items) == 1
    # another department's applicant sees none of them
    assert not {t["subject"] for t in items} & {t["subject"] for t in all_tasks("other")}


def test_paging_oldest_first_and_done():
    ex = make_user(("expert",))
    cases = []
    for _ in range(3):
        _, case = submitted_project()
        expect(http("POST", f"/approvals/{case['id']}/experts", {"user_id": ex["id"]},
                    token=tok("it")), 201)
        cases.append(case["id"])
    poll(lambda: len(all_tasks(ex["token"])) == 3, WAIT, "three invitations")
    s = expect(http("GET", "/me/tasks/summary", token=ex["token"]), 200)
    assert s == {"open": 3, "overdue": 0, "by_kind": {"expert_opinion": {"open": 3, "overdue": 0}}}, s
    pages, cursor = [], None
    while True:
        url = "/me/tasks?limit=1" + (f"&cursor={cursor}" if cursor else "")
        b = expect(http("GET", url, token=ex["token"]), 200)
        pages.append(b["items"])
        cursor = b["next_cursor"]
        if cursor is None:
            break
    got = [t["case_id"] for page in pages for t in page]
    assert got == cases, (got, cases)  # oldest first, each once
    assert all(len(page) <= 1 for page in pages) and len(pages) in (3, 4)
    assert expect(http("GET", "/me/tasks?status=done", token=ex["token"]), 200) == {
        "items": [], "next_cursor": None}
    for cid in cases[:2]:
        expect(http("POST", f"/approvals/{cid}/opinions", {"stance": "support", "comment": "可行"},
                    token=ex["token"]), 201)
    poll(lambda: len(all_tasks(ex["token"], "done")) == 2, WAIT, "two done")
    done = all_tasks(ex["token"], "done", limit=1)
    assert [t["case_id"] for t in done] == [cases[1], cases[0]]  # newest first
    assert [t["case_id"] for t in all_tasks(ex["token"])] == [cases[2]]
    assert expect(http("GET", "/me/tasks/summary", token=ex["token"]), 200)["open"] == 1


# ---------------------------------------------------------------- nothing lost, nothing twice


def test_actions_while_audit_is_down_open_and_close_once_after_its_restart():
    """A task opened and closed while the audit service is stopped: once it
    is back, the task is there once, done by the actor; a restart replays
    nothing twice (the follower's cursor is stored with the tasks)."""
    a, p = own_department_project()
    x = rectification(p["id"])
    subj = f"rectifications/{x['id']}"
    wait_task(a["token"], "rectification", subj)
    local_sh("stop", "audit")
    try:
        q = info_request(p["id"])
        r = http("POST", f"/info-requests/{q['id']}/answer",
                 {"answer": "已报送", "attachments": [f"https://docs.example.edu/info/{sfx()}.xlsx"]},
                 token=a["token"])
        expect(r, 200)
        expect(http("POST", f"/rectifications/{x['id']}/response",
                    {"description": "已整改", "evidence_uri": "https://docs.example.edu/r.pdf"},
                    token=a["token"]), 200)
    finally:
        local_sh("start", "audit")
    done = poll(lambda: (lambda d: d if len(d) == 2 else None)(all_tasks(a["token"], "done")), WAIT,
                "both done after the restart")
    assert sorted(t["subject"] for t in done) == sorted([subj, f"info-requests/{q['id']}"]), done
    assert all_tasks(a["token"]) == []
    rows = psql(f"SELECT count(*) FROM audit.tasks WHERE key IN ('{subj}', 'info-requests/{q['id']}')")
    assert rows.strip() == "2", rows
