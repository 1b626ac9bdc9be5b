"""A halted project (issue 12 C, article 22), through the gateway with the real
services. A project suspended through the real path (part A's rectification
with a deadline already past → the scan makes it overdue → part B's
escalation case → the secretary decides `suspend`) refuses every action on
it or its records, by anyone, with 409 `project_suspended` — one assertion
per action, each through its real route — except rectification responses
and verifications, information-request answers, escalation decisions and
reads, which still succeed; refusals keep their order (404/403, then 400,
then 409). Resumed, a formerly refused action succeeds. A terminated project
refuses everything, the formerly allowed actions included, with 409
`invalid_state` naming `terminated`. An approvals decision recorded before
the suspension (while the projects service was down) still applies after
it: the consumer writes as the system. Every table of the projects service
holding a project_id carries the guard (a new table cannot forget it).

No state is set through the database: psql only reads the catalog, and what
the approvals and audit services know of a halted project (to wait for it)."""
import datetime
import os

from client import expect, http, local_sh, make_user, poll, problem, psql, sfx, validation
import projects_flow as pf
from projects_flow import (DELIVERABLE_KINDS, add_contract, complete_milestone, decide,
                           deliverable_body, escalation_of, golive_body, implementing_project,
                           invalid_state, open_case, pass_acceptance, plan_body, post_contract,
                           post_deliverable, put_plan, register_asset, request_acceptance, resume,
                           review, tok, users, wait_contract, wait_state)

ORDER = 64
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# the mirrors of approvals' facts, written by the projects consumer alone
MIRRORS = {"approval_cases", "project_experts"}


# ---- refusals -------------------------------------------------------------------------


def suspended(r, what=""):
    """r is the 409 project_suspended."""
    b = problem(r, 409, "project_suspended")
    assert b.get("state") == "suspended", f"{what}: 409 project_suspended names state suspended: {b}"
    return b


def terminated(r, what=""):
    """r is the 409 invalid_state naming terminated."""
    b = problem(r, 409, "invalid_state")
    assert b.get("state") == "terminated", f"{what}: 409 must name state terminated: {b}"
    return b


def _iso(days=0, hours=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days, hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _today(days=0):
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)).strftime("%Y-%m-%d")


# ---- escalation (part B's case, through its real routes) -------------------------------


def escalate(p):
    """Part A's rectification with a deadline already past, made overdue by the
    scan, and the escalation case part B opens from it: the case."""
    x = pf.overdue_rectification(p)
    return escalation_of(p["id"], "rectification", x["id"])


def halt(p, outcome):
    """p suspended (outcome suspend) or terminated through the real path; the project."""
    return pf.halted_project(p, outcome)


def approvals_knows(pid, state, timeout=10):
    """The approvals service learned the project's halt from its event (a read)."""
    poll(lambda: psql(f"SELECT state FROM approvals.project_halts WHERE project_id = {int(pid)}").strip() == state,
         timeout, f"approvals knowing projects/{pid} {state}", interval=0.05)


def audit_knows(pid, state, timeout=10):
    """The audit log holds the project's event of that state (part D's project_fact, a read)."""
    if _audit_present():
        poll(lambda: psql(f"SET search_path TO audit; SELECT state FROM project_fact({int(pid)})").strip() == state,
             timeout, f"audit knowing projects/{pid} {state}", interval=0.05)


# ---- the records a project in operation has --------------------------------------------


def _change(pid):
    b = {"level": "general", "title": "增加报修工单导出功能 " + sfx(),
         "requirement_plan": "按月导出报修工单。", "test_plan": "导出并逐条核对。"}
    return http("POST", f"/projects/{pid}/changes", b, token=tok("applicant"))


def _implemented(cid):
    return http("POST", f"/changes/{cid}/implemented",
                {"implemented_at": "2026-12-10T09:30:00Z",
                 "test_evidence_uri": "https://docs.example.edu/tests/" + sfx()}, token=tok("applicant"))


def _account(pid, role="it"):
    holder = make_user(("applicant",), login_now=False)
    return http("POST", f"/projects/{pid}/system-accounts",
                {"account_name": "sysadmin-" + sfx(), "holder_user_id": holder["id"], "kind": "backend_admin",
                 "privileges": "root on the application servers", "assigned_at": "2026-12-02T08:00:00Z"},
                token=tok(role))


def _revoke(aid):
    return http("POST", f"/system-accounts/{aid}/revoke",
                {"reason": "离岗交接", "revoked_at": "2026-12-20T08:00:00Z"}, token=tok("it"))


def _spot(pid):
    return http("POST", f"/projects/{pid}/spot-checks",
                {"checked_at": _iso(hours=-2), "result": "pass", "findings": ""}, token=tok("it"))


def _backup(pid, media_id=None):
    b = {"taken_at": _iso(hours=-3), "method": "disaster_recovery", "location": "异地灾备中心"}
    if media_id:
        b.update(method="storage_media", media_id=media_id)
    return http("POST", f"/projects/{pid}/backups", b, token=tok("applicant"))


def _transfer(mid, to):
    return http("POST", f"/media/{mid}/transfers", {"to_custodian_id": to, "at": _iso(), "reason": "移交保管"},
                token=tok("it"))


def _agreement(pid, payer):
    return http("PUT", f"/projects/{pid}/fee-agreement",
                {"rate_basis_points": 250, "payer_units": [payer], "effective_from": "2026-01-01"}, token=tok("it"))


def _fee(pid, payer):
    return http("POST", f"/projects/{pid}/fees",
                {"payer_unit": payer, "period": "2026-03", "amount_cents": 120000,
                 "received_at": "2026-04-02T08:00:00Z"}, token=tok("it"))


def _fee_use(pid):
    return http("POST", "/fee-uses", {"category": "operations", "amount_cents": 5000, "note": "机房空调维保",
                                      "project_id": pid}, token=tok("it"))


def _info_request(pid):
    return http("POST", f"/projects/{pid}/info-requests",
                {"question": "请说明系统近三个月的运行情况 " + sfx(), "due_date": _today(30)}, token=tok("it"))


def _answer(rid, role="applicant"):
    return http("POST", f"/info-requests/{rid}/answer", {"answer": "运行平稳，详见附件", "attachments": []},
                token=tok(role))


def _shared_result(pid):
    return http("POST", f"/projects/{pid}/shared-results",
                {"title": "成果共享 " + sfx(), "summary": "门禁平台建设经验", "audience": "university",
                 "uri": "https://docs.example.edu/shared/" + sfx()}, token=tok("it"))


def _built(service, source):
    """Whether a part of issue 12 merged here ships this source (info requests and
    shared results: part A; metrics keys and usage samples: part D)."""
    return os.path.exists(os.path.join(ROOT, "services", service, "src", source))


def _audit_present():
    return _built("audit", "metrics.c")


def _metrics_key(pid):
    return http("POST", f"/projects/{pid}/metrics-key", None, token=tok("it"))


def _usage(pid):
    return http("POST", "/metrics/usage", {"project_id": pid, "date": _today(), "active_users": 12,
                                           "requests": 3400, "availability_percent": 99.5, "incidents": 0},
                token=tok("it"))


def world(p=None):
    """A project in operation serving outside units, with a record of every
    kind: an approved contract and a pending one (its case open), milestones,
    the asset, an approved change and a pending one (its case open), a fee
    agreement, a system account, a backup on a storage medium, an open
    information request, an open rectification and a responded one (deadlines
    far away). Returns
    a dict of their ids and the project."""
    w = {}
    p = p or implementing_project(serves_external_units=True)
    pid = w["pid"] = p["id"]
    w["contract"] = pf.reviewed_contract(pid)["id"]
    pending = add_contract(pid)
    w["pending_contract"] = pending["id"]
    w["contract_case"] = open_case(f"contracts/{pending['id']}")["id"]
    for kind in DELIVERABLE_KINDS:
        pf.add_deliverable(pid, kind)
    pf.complete_milestones(pid)
    w["milestone"] = pf.milestone_ids(pid)[0]
    expect(request_acceptance(pid), 200)
    pass_acceptance(pid)
    expect(register_asset(pid), 201)
    pf.in_operation_project(p)
    ch = expect(_change(pid), 201)
    expect(review(open_case(f"changes/{ch['id']}")["id"], "pass"), 200)
    poll(lambda: expect(http("GET", f"/changes/{ch['id']}", token=tok("it")), 200)["status"] == "approved",
         5, "the change approved")
    w["change"] = ch["id"]
    pend = expect(_change(pid), 201)
    w["pending_change"] = pend["id"]
    w["change_case"] = open_case(f"changes/{pend['id']}")["id"]
    w["payer"] = "财务处 " + sfx()
    expect(_agreement(pid, w["payer"]), 201)
    w["account"] = expect(_account(pid), 201)["id"]
    medium = expect(http("POST", "/media", {"label": "备份磁带 " + sfx(), "kind": "tape",
                                             "custodian_id": users()["it"]["id"], "location": "信息中心机房"},
                         token=tok("it")), 201)
    w["medium"] = medium["id"]
    expect(_backup(pid, medium["id"]), 201)
    if _built("projects", "info_requests.c"):
        w["info_request"] = expect(_info_request(pid), 201)["id"]
    w["rectification"] = pf.rectification(pid)["id"]
    w["responded"] = pf.rectification(pid)["id"]
    expect(pf.respond_rectification(w["responded"]), 200)
    w["project"] = p
    return w


def blocked_actions(w):
    """(what, response) of every write on the project or its records, in route order."""
    pid, u = w["pid"], users()
    yield "PUT implementation-plan", put_plan(pid, plan_body())
    yield "POST milestone complete", complete_milestone(pid, w["milestone"])
    yield "POST contracts", post_contract(pid)
    yield "POST deliverables", post_deliverable(pid, deliverable_body("user_manual"))
    yield "POST acceptance-request", request_acceptance(pid)
    yield "POST asset", register_asset(pid)
    yield "POST payments", pf.pay(pid, w["contract"])
    yield "POST go-live", pf.go_live(pid, golive_body())
    yield "POST system-accounts (assign)", _account(pid)
    yield "POST system-accounts/{aid}/revoke", _revoke(w["account"])
    yield "POST spot-checks", _spot(pid)
    yield "POST backups", _backup(pid)
    yield "POST media/{id}/transfers (a medium holding its backup)", _transfer(w["medium"], u["auditor"]["id"])
    yield "POST changes", _change(pid)
    yield "POST changes/{id}/implemented", _implemented(w["change"])
    yield "PUT fee-agreement", _agreement(pid, w["payer"])
    yield "POST fees", _fee(pid, w["payer"])
    yield "POST fee-uses (for the project)", _fee_use(pid)
    if _built("projects", "info_requests.c"):
        yield "POST info-requests (a new one)", _info_request(pid)
    yield "POST rectifications (a new one)", pf.post_rectification(pid)
    if _built("projects", "shared_results.c"):
        yield "POST shared-results", _shared_result(pid)
    yield "POST projects/{id}/submit", http("POST", f"/projects/{pid}/submit", token=tok("applicant"))
    # approvals: the cases about its contracts and changes
    yield "approvals review (contract case)", review(w["contract_case"], "pass")
    yield "approvals review (change case)", review(w["change_case"], "pass")
    yield "approvals experts (contract case)", http("POST", f"/approvals/{w['contract_case']}/experts",
                                                    {"user_id": u["expert"]["id"]}, token=tok("it"))
    yield "approvals opinions (change case)", http("POST", f"/approvals/{w['change_case']}/opinions",
                                                   {"stance": "support", "comment": "同意"}, token=tok("it"))
    yield "approvals decision (change case)", decide(w["change_case"], "approve")
    if _audit_present():
        yield "audit POST projects/{id}/metrics-key", _metrics_key(pid)
        yield "audit POST metrics/usage", _usage(pid)


# ---- the guard is on every table -------------------------------------------------------------


def test_every_project_record_table_carries_the_halt_guard():
    rows = psql("SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t "
                "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
                "WHERE c.table_schema = 'projects' AND c.column_name = 'project_id' "
                "AND t.table_type = 'BASE TABLE' ORDER BY 1").split()
    assert {"milestones", "contracts", "payments", "fees", "changes"} <= set(rows), rows
    guarded = set(psql("SELECT c.relname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid "
                       "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'projects' "
                       "AND g.tgname = c.relname || '_halt_guard' AND NOT g.tgisinternal").split())
    missing = sorted(set(rows) - MIRRORS - guarded)
    assert not missing, f"tables with a project_id but no <table>_halt_guard trigger: {missing}"
    assert {"projects", "media", "media_custody"} <= guarded, guarded
    approvals = set(psql("SELECT c.relname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid "
                         "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'approvals' "
                         "AND g.tgname LIKE '%halt_guard' AND NOT g.tgisinternal").split())
    assert {"cases", "opinions", "case_experts"} <= approvals, approvals


def test_the_refusal_tables():
    """What a write meets, by the project's state and what the table still takes
    while suspended (0019_halt.sql, approvals 0018_halted.sql): pure SQL functions."""
    got = psql("SELECT string_agg(coalesce(projects.project_halt_refusal(st, a), '-'), ' ' ORDER BY st, a) "
               "FROM unnest(ARRAY['in_operation', 'suspended', 'terminated']) st, unnest(ARRAY[false, true]) a"
               ).strip()
    assert got == "- - IGSUS - IGTRM IGTRM", got
    got = psql("SELECT string_agg(coalesce(approvals.case_halt_refusal(k, st), '-'), ' ' ORDER BY k, st) "
               "FROM unnest(ARRAY['contract', 'escalation']) k, "
               "unnest(ARRAY['resumed', 'suspended', 'terminated']) st").strip()
    assert got == "- IGSUS IGTRM - - IGTRM", got


def test_cases_know_their_project():
    p = implementing_project()
    c = add_contract(p["id"])
    case = open_case(f"contracts/{c['id']}")
    acc = psql(f"SELECT project_id FROM approvals.cases WHERE id = {int(case['id'])}").strip()
    assert acc == str(p["id"]), (acc, p["id"])


# ---- suspended ----------------------------------------------------------------------------------


def test_a_suspended_project_refuses_every_action_but_the_answers_and_resumes():
    w = world()
    pid = w["pid"]
    s, case = halt(w["project"], "suspend")
    assert s["suspended_from"] == "in_operation", s
    approvals_knows(pid, "suspended")
    audit_knows(pid, "suspended")

    # refusal order: 404 / 403 before 400 before 409
    problem(put_plan(pid, plan_body(), role="other"), 404, "not_found")
    problem(http("POST", f"/projects/{pid}/spot-checks", {}, token=tok("applicant")), 403, "forbidden")
    validation(http("POST", f"/projects/{pid}/spot-checks", {"result": "maybe"}, token=tok("it")),
               "checked_at", "result")
    validation(put_plan(pid, plan_body(goals="")), "goals")
    validation(http("POST", f"/projects/{pid}/fees", {}, token=tok("it")),
               "payer_unit", "period", "amount_cents", "received_at")

    # every write on it or its records: 409 project_suspended
    seen = []
    for what, r in blocked_actions(w):
        suspended(r, what)
        seen.append(what)
    assert len(seen) >= 25, seen

    # still allowed: reads, the answers to supervision, escalation decisions
    for path in (f"/projects/{pid}", f"/projects/{pid}/dossier", f"/projects/{pid}/contracts",
                 f"/projects/{pid}/milestones", f"/projects/{pid}/payments", f"/projects/{pid}/changes",
                 f"/projects/{pid}/fees", f"/projects/{pid}/backups", f"/projects/{pid}/system-accounts",
                 f"/contracts/{w['pending_contract']}", f"/changes/{w['change']}",
                 f"/approvals/{w['contract_case']}", f"/rectifications/{w['rectification']}"):
        expect(http("GET", path, token=tok("it")), 200)
    if "info_request" in w:
        answered = expect(_answer(w["info_request"]), 200)
        assert answered["status"] == "answered", answered
    responded = expect(pf.respond_rectification(w["rectification"]), 200)
    assert responded["status"] == "responded", responded
    verified = expect(pf.verify_rectification(w["responded"], "closed"), 200)
    assert verified["status"] == "closed", verified
    # the resume request and its escalation: reject (stays suspended), then resume
    _, rej = pf.resume_case(pid)
    expect(decide(rej["id"], "reject"), 200)
    poll(lambda: expect(http("GET", f"/approvals/{rej['id']}", token=tok("it")), 200)["step"] == "closed",
         5, "the rejected resume case closed")
    assert wait_state(pid, "suspended")["suspended_from"] == "in_operation"
    suspended(_spot(pid), "still suspended after a rejected resume")
    # (a new request once the projects service read the rejection: resume_case)
    _, res = pf.resume_case(pid)
    expect(decide(res["id"], "resume"), 200)
    back = wait_state(pid, "in_operation", timeout=8)
    assert back["suspended_from"] is None, back

    # resumed: what was refused goes through again, here and in approvals
    expect(_spot(pid), 201)
    expect(_backup(pid), 201)
    if _audit_present():  # the audit log learns the state from the project's events
        poll(lambda: _usage(pid).status == 201, 10, "a usage sample of the resumed project", interval=0.1)
    approvals_knows(pid, "resumed")
    expect(review(w["contract_case"], "pass"), 200)
    wait_contract(w["pending_contract"], "approved")


# ---- terminated -----------------------------------------------------------------------------------


def test_a_terminated_project_refuses_everything_the_answers_included():
    w = world()
    pid = w["pid"]
    _, case = halt(w["project"], "terminate")
    approvals_knows(pid, "terminated")
    audit_knows(pid, "terminated")
    for what, r in blocked_actions(w):
        terminated(r, what)
    # the formerly allowed: answers, responses, verifications, resume, escalation decisions
    if "info_request" in w:
        terminated(_answer(w["info_request"]), "info-request answer")
    terminated(pf.respond_rectification(w["rectification"]), "rectification response")
    terminated(pf.verify_rectification(w["responded"], "closed"), "rectification verification")
    terminated(resume(pid), "resume request")
    terminated(decide(case["id"], "continue"), "escalation decision")
    # reads still answer
    assert expect(http("GET", f"/projects/{pid}", token=tok("auditor")), 200)["state"] == "terminated"
    expect(http("GET", f"/projects/{pid}/dossier", token=tok("auditor")), 200)


# ---- the consumer's bypass: a decision recorded before the suspension applies after it -----


def test_a_decision_recorded_before_the_suspension_still_applies():
    p = implementing_project()
    pid = p["id"]
    c = add_contract(pid)
    contract_case = open_case(f"contracts/{c['id']}")
    case = escalate(p)
    # the projects service is down: approvals records the suspension, then the
    # contract's review (it cannot know yet that the project is suspended)
    local_sh("stop", "projects")
    try:
        expect(decide(case["id"], "suspend"), 200)
        expect(review(contract_case["id"], "pass"), 200)
    finally:
        local_sh("start", "projects")
    # both apply, in order: suspended first, then the contract approved all the same
    assert wait_state(pid, "suspended", timeout=10)["suspended_from"] == "implementing"
    assert wait_contract(c["id"], "approved", timeout=10)["status"] == "approved"
    # what someone asks now is refused: nothing changes until the project is resumed
    suspended(post_contract(pid), "a new contract of the suspended project")
    approvals_knows(pid, "suspended")
