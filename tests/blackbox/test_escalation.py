"""Escalation, suspension, resume and termination (issue 12 B, article 22),
through the gateway with the real services: a rectification that goes
overdue opens an `escalation` case by itself (variant `rectification`, at
step `decision`, about the project, naming the rectification); the
secretary's record of the meeting's decision suspends the project (it keeps
`suspended_from`), terminates it (final) or lets it continue; the IT
office's resume request opens an escalation of variant `resume` whose
decision resumes the project (back to the state it was suspended from),
rejects the request (it stays suspended) or terminates it. Two overdue
rectifications give two cases; an escalation opens while another case of
the project is open. Every refused role, outcome and state. What a
suspended project refuses is part C's (test_suspension.py)."""
import time
from concurrent.futures import ThreadPoolExecutor

from client import Subscriber, expect, http, local_sh, poll, problem, psql, validation, walk
import projects_flow
from projects_flow import (approved_project, decide, dossier, escalation_of, escalations,
                           implementing_project, invalid_state, open_case, ready_for_acceptance,
                           request_acceptance, resume, resume_case, tok, users,
                           wait_state)

ORDER = 63


# ---- helpers ----------------------------------------------------------------------------


def overdue(p):
    """A rectification of project p gone overdue (part A: issued by the IT office with a
    deadline already past, made overdue by the next scan); its id."""
    return projects_flow.overdue_rectification(p)["id"]


def suspended_project(p=None):
    """A project (approved_project() unless given) suspended through the real path: a
    rectification overdue, its escalation decided `suspend`. Returns (project, case)."""
    return projects_flow.halted_project(p, "suspend")


def resume_requests(pid, role="it"):
    """Every resume request of projects/pid, oldest first, page by page."""
    return walk(f"/projects/{pid}/resume-requests", tok(role), limit=1)


def project_events(sub, pid, types, timeout=10):
    """The events of projects/pid of these types, once that many arrived."""
    sub.wait(lambda e: e.get("subject") == f"projects/{pid}" and e.get("type") in types,
             count=len(types), timeout=timeout, what=f"{types} of projects/{pid}")
    return [e for e in sub.matching(lambda e: e.get("subject") == f"projects/{pid}") if e["type"] in types]


def history_actions(pid):
    b = expect(http("GET", f"/projects/{pid}/history?limit=200", token=tok("auditor")), 200)
    return [(t["from"], t["action"], t["to"]) for t in b["items"]]


# ---- the paths ---------------------------------------------------------------------------


def test_overdue_rectification_escalates_suspend_then_resume_back():
    p = implementing_project()
    pid = p["id"]
    with Subscriber("") as sub:
        sub.ready()
        rid = overdue(p)
        case = escalation_of(pid, "rectification", rid)
        assert case["kind"] == "escalation" and case["step"] == "decision", case
        assert case["subject"] == f"projects/{pid}" and case["data"] == {"rectification_id": rid}, case
        assert case["outcome"] is None and case["review"] is None and case["decision"] is None
        # the department sees the case about its project
        expect(http("GET", f"/approvals/{case['id']}", token=tok("applicant")), 200)
        k = expect(decide(case["id"], "suspend", meeting="joint_meeting"), 200)
        assert k["step"] == "closed" and k["outcome"] == "suspended", k
        assert k["decision"]["outcome"] == "suspend" and k["decision"]["meeting"] == "joint_meeting"
        s = wait_state(pid, "suspended", timeout=5)
        assert s["suspended_from"] == "implementing" and s["version"] == p["version"] + 1, s
        assert projects_flow.get_project(pid, "applicant") == s
        listed = expect(http("GET", "/projects?state=suspended&limit=200", token=tok("auditor")), 200)
        assert pid in [x["id"] for x in listed["items"]]
        assert all(x["state"] == "suspended" for x in listed["items"])

        # the IT office asks to resume: the project stays suspended until the meeting decides
        r = resume(pid, "整改措施已落实，申请恢复实施")
        req = expect(r, 202)
        assert req["status"] == "open" and req["project_id"] == pid and req["case_id"] is None
        assert req["reason"] == "整改措施已落实，申请恢复实施" and req["outcome"] is None
        assert req["requested_by"] == users()["it"]["id"] and req["decided_at"] is None
        assert req["project"]["state"] == "suspended" and req["project"]["suspended_from"] == "implementing"
        rc = escalation_of(pid, "resume")
        assert rc["kind"] == "escalation" and rc["step"] == "decision", rc
        assert rc["data"] == {"resume_request_id": req["id"], "reason": "整改措施已落实，申请恢复实施"}, rc
        assert wait_state(pid, "suspended")["suspended_from"] == "implementing"
        k = expect(decide(rc["id"], "resume"), 200)
        assert k["outcome"] == "resumed" and k["step"] == "closed", k
        back = wait_state(pid, "implementing", timeout=5)
        assert back["suspended_from"] is None and back["version"] == s["version"] + 1, back

        evs = project_events(sub, pid, ("itgov.project.suspended", "itgov.project.resume_requested",
                                        "itgov.project.resumed"))
        assert [e["type"] for e in evs] == ["itgov.project.suspended", "itgov.project.resume_requested",
                                            "itgov.project.resumed"], evs
        assert evs[0]["data"]["case_id"] == case["id"] and evs[0]["data"]["state"] == "suspended"
        assert evs[0]["data"]["suspended_from"] == "implementing"
        assert evs[1]["data"]["resume_request_id"] == req["id"] and evs[1]["data"]["project_id"] == pid
        assert evs[1]["data"]["department_id"] == users()["dept"] and evs[1]["actor"] == users()["it"]["id"]
        assert evs[2]["data"]["case_id"] == rc["id"] and evs[2]["data"]["state"] == "implementing"
        assert evs[2]["data"]["suspended_from"] is None
    # the history names both moves; no request is open any more, and none can be made
    hist = history_actions(pid)
    assert ("implementing", "suspend", "suspended") in hist and ("suspended", "resume", "implementing") in hist
    invalid_state(resume(pid), "implementing")
    # the dossier keeps both cases
    kinds = [(c["kind"], c["variant"], c["outcome"]) for c in dossier(pid)["approvals"]]
    assert ("escalation", "rectification", "suspended") in kinds and ("escalation", "resume", "resumed") in kinds


def test_resume_rejected_keeps_it_suspended_then_a_new_request_and_terminate():
    s, _ = suspended_project()
    pid = s["id"]
    req, rc = resume_case(pid)
    # one open request at a time
    b = problem(resume(pid), 409, "conflict")
    assert "already open" in b["detail"], b
    k = expect(decide(rc["id"], "reject"), 200)
    assert k["outcome"] == "rejected", k
    # the decision closes the request: a new one may be made; the project stays suspended
    req2 = poll(lambda: (lambda r: r.body if r.status == 202 else None)(resume(pid, "第二次申请")), 5,
                "a second resume request once the first was decided", interval=0.1)
    assert req2["id"] != req["id"] and req2["project"]["state"] == "suspended"
    assert expect(http("GET", f"/projects/{pid}", token=tok("it")), 200)["suspended_from"] == "approved"
    rc2 = escalation_of(pid, "resume")
    assert rc2["id"] != rc["id"] and rc2["data"]["resume_request_id"] == req2["id"]
    k = expect(decide(rc2["id"], "terminate"), 200)
    assert k["outcome"] == "terminated", k
    t = wait_state(pid, "terminated", timeout=5)
    assert t["suspended_from"] is None
    # final: no resume
    invalid_state(resume(pid), "terminated")
    assert ("suspended", "terminate", "terminated") in history_actions(pid)
    # both requests, decided, each by its case, listed to whoever may see the project
    for role in ("applicant", "auditor", "it"):
        got = [(q["id"], q["status"], q["outcome"], q["case_id"]) for q in resume_requests(pid, role)]
        assert got == [(req["id"], "decided", "reject", rc["id"]),
                       (req2["id"], "decided", "terminate", rc2["id"])], got
    problem(http("GET", f"/projects/{pid}/resume-requests", token=tok("other")), 404, "not_found")
    problem(http("GET", f"/projects/{pid}/resume-requests"), 401, "unauthorized")
    problem(http("GET", "/projects/999999999/resume-requests", token=tok("it")), 404, "not_found")


def test_terminate_by_a_rectification_escalation_is_final():
    p = approved_project()
    pid = p["id"]
    with Subscriber("") as sub:
        sub.ready()
        rid = overdue(p)
        case = escalation_of(pid, "rectification", rid)
        k = expect(decide(case["id"], "terminate"), 200)
        assert k["outcome"] == "terminated", k
        t = wait_state(pid, "terminated", timeout=5)
        assert t["suspended_from"] is None
        ev = project_events(sub, pid, ("itgov.project.terminated",))[0]
        assert ev["data"]["case_id"] == case["id"] and ev["data"]["state"] == "terminated"
    invalid_state(resume(pid), "terminated")
    assert ("approved", "terminate", "terminated") in history_actions(pid)


def test_a_termination_by_another_escalation_closes_the_open_resume_request():
    p = approved_project()
    pid = p["id"]
    r1, r2 = overdue(p), overdue(p)
    c1 = escalation_of(pid, "rectification", r1)
    c2 = escalation_of(pid, "rectification", r2)
    expect(decide(c1["id"], "suspend"), 200)
    wait_state(pid, "suspended", timeout=5)
    req, rc = resume_case(pid)
    # the meeting on the second overdue rectification terminates the project meanwhile
    expect(decide(c2["id"], "terminate"), 200)
    wait_state(pid, "terminated", timeout=5)
    [q] = resume_requests(pid)
    assert q["id"] == req["id"] and q["status"] == "decided" and q["decided_at"], q
    assert q["outcome"] == "terminate" and q["case_id"] == c2["id"], q
    # its case decides nothing any more: the project is terminated
    poll(lambda: psql(f"SELECT state FROM approvals.project_halts WHERE project_id = {int(pid)}").strip()
         == "terminated", 10, f"approvals knowing projects/{pid} terminated", interval=0.05)
    invalid_state(decide(rc["id"], "resume"), "terminated")
    assert resume_requests(pid) == [q]


def test_continue_changes_nothing():
    p = approved_project()
    pid = p["id"]
    rid = overdue(p)
    case = escalation_of(pid, "rectification", rid)
    k = expect(decide(case["id"], "continue"), 200)
    assert k["outcome"] == "continued" and k["step"] == "closed", k
    # the case doc reaches the projects service (the dossier), the project is as it was
    poll(lambda: any(c["id"] == case["id"] and c["outcome"] == "continued" for c in dossier(pid)["approvals"]),
         5, "the continued case in the dossier", interval=0.1)
    now = expect(http("GET", f"/projects/{pid}", token=tok("it")), 200)
    assert now["state"] == "approved" and now["version"] == p["version"] and now["suspended_from"] is None
    invalid_state(resume(pid), "approved")


def test_two_overdue_rectifications_give_two_cases_and_suspend_once():
    p = implementing_project()
    pid = p["id"]
    r1, r2 = overdue(p), overdue(p)
    assert r1 != r2
    c1 = escalation_of(pid, "rectification", r1)
    c2 = escalation_of(pid, "rectification", r2)
    assert c1["id"] != c2["id"]
    assert sorted(c["data"]["rectification_id"] for c in escalations(pid)) == sorted([r1, r2])
    with Subscriber("") as sub:
        sub.ready()
        expect(decide(c1["id"], "suspend"), 200)
        s = wait_state(pid, "suspended", timeout=5)
        # the second suspension of a suspended project changes nothing
        k = expect(decide(c2["id"], "suspend"), 200)
        assert k["outcome"] == "suspended"
        poll(lambda: any(c["id"] == c2["id"] and c["step"] == "closed" for c in dossier(pid)["approvals"]),
             5, "the second case in the dossier", interval=0.1)
        again = expect(http("GET", f"/projects/{pid}", token=tok("it")), 200)
        assert again == s, (again, s)
        evs = project_events(sub, pid, ("itgov.project.suspended",))
        assert len(evs) == 1 and evs[0]["data"]["case_id"] == c1["id"], evs
    assert [a for a in history_actions(pid) if a[1] == "suspend"] == [("implementing", "suspend", "suspended")]


def test_an_escalation_opens_while_another_case_of_the_project_is_open():
    p = ready_for_acceptance()
    pid = p["id"]
    expect(request_acceptance(pid), 200)
    acc = open_case(f"projects/{pid}")
    assert acc["kind"] == "acceptance" and acc["step"] == "review"
    rid = overdue(p)
    esc = escalation_of(pid, "rectification", rid)
    opened = expect(http("GET", f"/approvals?subject=projects/{pid}&state=open&limit=10", token=tok("it")), 200)
    assert sorted(c["kind"] for c in opened["items"]) == ["acceptance", "escalation"], opened
    # suspended in acceptance review, resumed back to it; the acceptance case is still open
    expect(decide(esc["id"], "suspend"), 200)
    s = wait_state(pid, "suspended", timeout=5)
    assert s["suspended_from"] == "acceptance_review"
    _, rc = resume_case(pid)
    expect(decide(rc["id"], "resume", meeting="joint_meeting"), 200)
    wait_state(pid, "acceptance_review", timeout=5)
    assert expect(http("GET", f"/approvals/{acc['id']}", token=tok("it")), 200)["step"] == "review"
    # and the acceptance goes on where it was
    assert projects_flow.pass_acceptance(pid)["state"] == "accepted"


def test_suspended_from_in_operation_and_resumed_to_it():
    p = projects_flow.in_operation_project()
    s, _ = suspended_project(p)
    assert s["suspended_from"] == "in_operation"
    _, rc = resume_case(s["id"])
    expect(decide(rc["id"], "resume"), 200)
    assert wait_state(s["id"], "in_operation", timeout=5)["suspended_from"] is None


# ---- refusals -----------------------------------------------------------------------------


def test_decision_refusals_by_role_outcome_meeting_and_step():
    p = approved_project()
    pid = p["id"]
    rid = overdue(p)
    case = escalation_of(pid, "rectification", rid)
    cid = case["id"]
    # only the secretary records a meeting's decision
    for role in ("it", "applicant", "auditor", "expert"):
        expect(decide(cid, "suspend", role=role), 403)
    expect(http("POST", f"/approvals/{cid}/decision", {"outcome": "suspend"}), 401)
    # an outcome no escalation takes: 400; one of the other variant: 409
    validation(decide(cid, "approve"), "outcome")
    validation(decide(cid, "bogus"), "outcome")
    invalid_state(decide(cid, "resume"), "decision")
    invalid_state(decide(cid, "reject"), "decision")
    validation(decide(cid, "suspend", meeting="board"), "meeting")
    validation(http("POST", f"/approvals/{cid}/decision", {"outcome": "suspend", "meeting": "joint_meeting"},
                    token=tok("secretary")), "meeting_date", "minutes_ref")
    # no review, no experts at step decision
    invalid_state(projects_flow.review(cid, "pass"), "decision")
    # nothing of that moved the project
    assert expect(http("GET", f"/projects/{pid}", token=tok("it")), 200)["state"] == "approved"
    expect(decide(cid, "suspend"), 200)
    s = wait_state(pid, "suspended", timeout=5)
    # a closed case takes no second decision
    invalid_state(decide(cid, "terminate"), "closed")
    _, rc = resume_case(pid)
    for outcome in ("suspend", "continue"):
        invalid_state(decide(rc["id"], outcome), "decision")
    expect(decide(rc["id"], "resume", role="it"), 403)
    assert wait_state(pid, "suspended") == s


def test_resume_refusals_roles_body_state_and_conflict():
    p = approved_project()
    pid = p["id"]
    # roles: only the IT office
    expect(http("POST", f"/projects/{pid}/resume", {"reason": "x"}), 401)
    for role in ("applicant", "secretary", "auditor", "expert"):
        expect(resume(pid, role=role), 403)
    expect(resume(9_000_000_000), 404)
    # the body comes before the state
    validation(resume(pid, body={}), "reason")
    validation(resume(pid, body={"reason": ""}), "reason")
    validation(resume(pid, body={"reason": "x", "extra": 1}), "extra")
    validation(resume(pid, body={"reason": "x" * 10001}), "reason")
    problem(http("POST", f"/projects/{pid}/resume", "not json", token=tok("it")), 400)
    # only a suspended project
    invalid_state(resume(pid), "approved")
    draft = projects_flow.create_project()
    invalid_state(resume(draft["id"]), "draft")
    s, _ = suspended_project(p)
    # the same bad bodies on a suspended project are still 400
    validation(resume(pid, body={}), "reason")
    expect(resume(pid), 202)
    problem(resume(pid), 409, "conflict")
    assert expect(http("GET", f"/projects/{pid}", token=tok("it")), 200)["state"] == "suspended"


def test_parallel_resume_requests_open_one():
    s, _ = suspended_project()
    pid = s["id"]
    with ThreadPoolExecutor(6) as ex:
        rs = list(ex.map(lambda i: resume(pid, f"申请 {i}"), range(6)))
    assert sorted(r.status for r in rs) == [202] + [409] * 5, [r.status for r in rs]
    for r in rs:
        if r.status == 409:
            problem(r, 409, "conflict")
    rc = escalation_of(pid, "resume")
    assert len([c for c in escalations(pid) if c["variant"] == "resume"]) == 1
    winner = next(r.body for r in rs if r.status == 202)
    assert rc["data"]["resume_request_id"] == winner["id"]


# ---- replays -------------------------------------------------------------------------------


def _snapshot(pid):
    return psql(
        f"SELECT (SELECT state || ':' || version || ':' || coalesce(suspended_from, '') "
        f"FROM projects.projects WHERE id = {pid}), "
        f"(SELECT count(*) FROM projects.transitions WHERE subject = 'projects/{pid}'), "
        f"(SELECT count(*) FROM projects.outbox WHERE event->>'subject' = 'projects/{pid}'), "
        f"(SELECT string_agg(id || ':' || coalesce(outcome, '') || ':' || coalesce(case_id, 0) || ':' "
        f"|| coalesce(decided_at::text, ''), ',' ORDER BY id) FROM projects.resume_requests "
        f"WHERE project_id = {pid}), "
        f"(SELECT string_agg(id || ':' || step || ':' || coalesce(outcome, '') || ':' || version, ',' "
        f"ORDER BY id) FROM approvals.cases WHERE subject = 'projects/{pid}'), "
        f"(SELECT count(*) FROM approvals.outbox o JOIN approvals.cases c "
        f"ON o.event->>'subject' = 'approvals/' || c.id WHERE c.subject = 'projects/{pid}')").strip()


def _cursor(svc, source):
    return int(psql(f"SELECT after FROM {svc}.feed_cursor WHERE source = '{source}'").strip())


def _replay(svc, source, after, last):
    """Stops svc, sets its cursor on source back to after, starts it, waits until it read last."""
    local_sh("stop", svc)
    try:
        psql(f"UPDATE {svc}.feed_cursor SET after = {after} WHERE source = '{source}'")
    finally:
        local_sh("start", svc)
    poll(lambda: _cursor(svc, source) >= last, 20, f"{svc} reading {source}'s events again")


def test_replayed_events_open_no_second_case_and_move_the_project_once():
    p = approved_project()
    pid = p["id"]
    s, case = suspended_project(p)
    _, rc = resume_case(pid)
    expect(decide(rc["id"], "reject"), 200)
    req2, rc2 = resume_case(pid, "再次申请")
    expect(decide(rc2["id"], "resume"), 200)
    wait_state(pid, "approved", timeout=5)
    poll(lambda: any(c["id"] == rc2["id"] and c["step"] == "closed" for c in dossier(pid)["approvals"]),
         5, "the last case kept", interval=0.1)
    # everything read so far
    p_first = int(psql("SELECT min(seq) FROM projects.outbox WHERE event->>'type' = "
                       f"'itgov.rectification.overdue' AND (event->'data'->>'project_id')::bigint = {pid}").strip())
    p_last = int(psql("SELECT max(seq) FROM projects.outbox").strip())
    a_first = int(psql(f"SELECT min(seq) FROM approvals.outbox WHERE event->>'subject' = 'approvals/{case['id']}'").strip())
    a_last = int(psql("SELECT max(seq) FROM approvals.outbox").strip())
    poll(lambda: _cursor("approvals", "projects") >= p_last and _cursor("projects", "approvals") >= a_last,
         10, "both consumers up to date")
    before = _snapshot(pid)
    before_dossier = dossier(pid)
    # approvals reads the overdue rectification and both resume requests again: no new case
    _replay("approvals", "projects", p_first - 1, p_last)
    # projects reads every decision again: no second suspension, resume or closing
    _replay("projects", "approvals", a_first - 1, a_last)
    time.sleep(0.5)
    assert _snapshot(pid) == before
    assert dossier(pid) == before_dossier
