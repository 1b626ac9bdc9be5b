"""Helpers for the projects/approvals black-box tests: users per role, a
project drafted and submitted, its case found, waiting for states."""
import time

from client import expect, http, make_department, make_user, poll, sfx

_cache = {}


def users():
    """One user per role (applicant in a department of its own), made once."""
    if not _cache:
        dept = make_department()["id"]
        _cache["dept"] = dept
        _cache["applicant"] = make_user(("applicant",), dept=dept)
        _cache["applicant2"] = make_user(("applicant",), dept=dept)
        _cache["other"] = make_user(("applicant",), dept=make_department()["id"])
        _cache["it"] = make_user(("it_office",))
        _cache["secretary"] = make_user(("secretary",))
        _cache["auditor"] = make_user(("auditor",))
        _cache["expert"] = make_user(("expert",))
        _cache["expert2"] = make_user(("expert",))
    return _cache


def tok(role):
    return users()[role]["token"]


def project_body(**kw):
    b = {"title": "门禁系统升级 " + sfx(), "kind": "upgrade", "summary": "更换老旧门禁控制器",
         "budget_cents": 1500000, "serves_external_units": False}
    b.update(kw)
    return b


def create_project(role="applicant", **kw):
    return expect(http("POST", "/projects", project_body(**kw), token=tok(role)), 201)


def submit(pid, role="applicant"):
    return expect(http("POST", f"/projects/{pid}/submit", token=tok(role)), 200)


def get_project(pid, role="it"):
    return expect(http("GET", f"/projects/{pid}", token=tok(role)), 200)


def wait_state(pid, state, timeout=2.5, path="projects"):
    """The project (or plan) reaches state within timeout seconds."""
    return poll(lambda: (lambda p: p if p["state"] == state else None)(
        expect(http("GET", f"/{path}/{pid}", token=tok("it")), 200)), timeout,
        f"{path}/{pid} becoming {state}", interval=0.05)


def open_case(subject, timeout=3):
    """The open case of a subject ('projects/42'), once the approvals service opened it."""
    def find():
        b = expect(http("GET", f"/approvals?subject={subject}&state=open", token=tok("it")), 200)
        return b["items"][0] if b["items"] else None
    return poll(find, timeout, f"an open case for {subject}", interval=0.05)


def review(case_id, outcome, role="it", comment="论证意见"):
    return http("POST", f"/approvals/{case_id}/review", {"outcome": outcome, "comment": comment},
                token=tok(role))


def decide(case_id, outcome, meeting="minister_office", role="secretary"):
    return http("POST", f"/approvals/{case_id}/decision",
                {"meeting": meeting, "meeting_date": "2026-03-01", "minutes_ref": "会议纪要〔2026〕3号",
                 "outcome": outcome, "comment": "会议决定"}, token=tok(role))


def submitted_project(**kw):
    p = create_project(**kw)
    submit(p["id"])
    return p, open_case(f"projects/{p['id']}")


def approved_plan_item():
    """An item code of an approved plan (made once)."""
    if "item" not in _cache:
        code = "ITEM-" + sfx()
        plan = expect(http("POST", "/plans", {"year": 2026, "title": "2026年信息化建设计划 " + sfx(),
                                              "items": [{"code": code, "title": "智慧后勤平台",
                                                         "description": "一期", "budget_cents": 50000000}]},
                           token=tok("it")), 201)
        expect(http("POST", f"/plans/{plan['id']}/submit", token=tok("it")), 200)
        case = open_case(f"plans/{plan['id']}")
        expect(decide(case["id"], "approve", meeting="joint_meeting"), 200)
        wait_state(plan["id"], "approved", path="plans")
        _cache["item"] = code
    return _cache["item"]


def sleep(s):
    time.sleep(s)


# ---- part A (issue 10): implementation plans and milestones ---------------------
# approved_project() walks submission → review → decision; implementing_project()
# adds an implementation plan (state implementing), for the later parts to reuse.

def approved_project(**kw):
    """A project of users()'s department, approved by the meeting."""
    p, case = submitted_project(**kw)
    expect(review(case["id"], "pass"), 200)
    wait_state(p["id"], "awaiting_decision")
    expect(decide(case["id"], "approve"), 200)
    return wait_state(p["id"], "approved")


def plan_body(milestones=None, **kw):
    b = {"goals": "建成统一门禁平台，覆盖全部营区",
         "team": [{"name": "张伟", "role": "项目负责人", "duty": "统筹实施"},
                  {"name": "李娜", "role": "技术负责人", "duty": "方案设计与联调"}],
         "milestones": milestones if milestones is not None else
         [{"name": "需求确认", "due_date": "2030-03-01"}, {"name": "系统上线", "due_date": "2030-12-01"}]}
    b.update(kw)
    return b


def put_plan(pid, body=None, role="applicant", headers=None):
    return http("PUT", f"/projects/{pid}/implementation-plan", plan_body() if body is None else body,
                token=tok(role), headers=headers)


def milestones_of(pid, role="applicant"):
    """{name: milestone} of a project."""
    b = expect(http("GET", f"/projects/{pid}/milestones?limit=200", token=tok(role)), 200)
    return {m["name"]: m for m in b["items"]}


def implementing_project(milestones=None, **kw):
    """An approved project with an implementation plan (state implementing);
    milestones: [{name, due_date}] (default two in 2030). Returns the project."""
    p = approved_project(**kw)
    expect(put_plan(p["id"], plan_body(milestones)), 201)
    return wait_state(p["id"], "implementing")


def complete_milestones(pid, at="2026-06-01T08:00:00Z"):
    """Completes every incomplete milestone of an implementing project."""
    for m in milestones_of(pid).values():
        if m["completed_at"] is None:
            expect(http("POST", f"/projects/{pid}/milestones/{m['id']}/complete",
                        {"completed_at": at, "note": "按期完成"}, token=tok("applicant")), 200)


# ---- part B (issue 10): contracts, deliverables, the acceptance request, and
# accepted_project() (a project walked to `accepted`) for parts C and D
import hashlib  # noqa: E402

DELIVERABLE_KINDS = ("install_manual", "user_manual", "admin_manual", "developer_manual",
                     "test_report", "training_record")


def milestone_ids(pid):
    """The ids of the project's milestones, by id."""
    return sorted(m["id"] for m in milestones_of(pid).values())


def complete_milestone_ids(pid, ids, at="2026-06-01T08:00:00Z"):
    """Completes the milestones named by id."""
    for mid in ids:
        expect(http("POST", f"/projects/{pid}/milestones/{mid}/complete",
                    {"completed_at": at, "note": "完成"}, token=tok("applicant")), 200)


def contract_body(**kw):
    b = {"contract_no": "HT-" + sfx(), "vendor": "某某信息技术有限公司", "amount_cents": 1200000,
         "signed_at": "2026-04-01T08:00:00Z", "procurement_method": "public_tender"}
    b.update(kw)
    return b


def add_contract(pid, role="applicant", **kw):
    return expect(http("POST", f"/projects/{pid}/contracts", contract_body(**kw), token=tok(role)), 201)


def wait_contract(cid, status, timeout=3):
    return poll(lambda: (lambda c: c if c["status"] == status else None)(
        expect(http("GET", f"/contracts/{cid}", token=tok("it")), 200)), timeout,
        f"contracts/{cid} becoming {status}", interval=0.05)


def reviewed_contract(pid, outcome="pass", **kw):
    """A contract of the project, reviewed by the IT office (pass → approved,
    reject → rejected); returns it as it now is."""
    c = add_contract(pid, **kw)
    case = open_case(f"contracts/{c['id']}")
    expect(review(case["id"], outcome), 200)
    return wait_contract(c["id"], "approved" if outcome == "pass" else "rejected")


def deliverable_body(kind, **kw):
    text = f"{kind} {sfx()}"
    b = {"kind": kind, "title": f"{kind} 文档", "uri": f"https://docs.example.edu/{kind}/{sfx()}.pdf",
         "sha256": hashlib.sha256(text.encode()).hexdigest()}
    b.update(kw)
    return b


def add_deliverable(pid, kind, role="applicant", **kw):
    return expect(http("POST", f"/projects/{pid}/deliverables", deliverable_body(kind, **kw),
                       token=tok(role)), 201)


def request_acceptance(pid, role="applicant", body=None):
    return http("POST", f"/projects/{pid}/acceptance-request", body, token=tok(role))


def ready_for_acceptance(p=None):
    """An implementing project (implementing_project() unless given) with
    everything acceptance needs: an approved contract, the six deliverables,
    every milestone completed. Returns the project as given."""
    p = p or implementing_project()
    reviewed_contract(p["id"])
    for kind in DELIVERABLE_KINDS:
        add_deliverable(p["id"], kind)
    complete_milestones(p["id"])
    return p


def accepted_project(**kw):
    """A project walked to `accepted`: implementation plan, approved
    contract, six deliverables, milestones completed, acceptance requested
    and passed by the IT office. kw go to implementing_project(). Returns
    the project as it now is (its approved contract: GET .../contracts)."""
    p = ready_for_acceptance(implementing_project(**kw))
    expect(request_acceptance(p["id"]), 200)
    case = open_case(f"projects/{p['id']}")
    assert case["kind"] == "acceptance", case
    expect(review(case["id"], "pass", comment="验收通过"), 200)
    return wait_state(p["id"], "accepted")


# ---- part C (issue 10): asset registration, payments, go-live


def approved_project_c(**kw):
    """A project through review and decision to `approved` (returns its document)."""
    p, case = submitted_project(**kw)
    expect(review(case["id"], "pass"), 200)
    expect(decide(case["id"], "approve"), 200)
    wait_state(p["id"], "approved")
    return p


def money_implementing():
    """An approved project given an implementation plan (part A's PUT) with
    one milestone: `implementing`. (Direct calls: the other parts' helpers
    of the same purpose take differing arguments.)"""
    p = approved_project_c()
    body = {"goals": "建成并上线资产与支付管理", "team": [{"name": "王芳", "role": "项目经理", "duty": "统筹"}],
            "milestones": [{"name": "系统上线 " + sfx(), "due_date": "2030-06-30"}]}
    r = http("PUT", f"/projects/{p['id']}/implementation-plan", body, token=tok("applicant"))
    assert r.status in (200, 201), r
    return wait_state(p["id"], "implementing")


def money_complete_milestones(pid):
    b = expect(http("GET", f"/projects/{pid}/milestones?limit=200", token=tok("applicant")), 200)
    for m in b["items"]:
        if m["completed_at"] is None:
            expect(http("POST", f"/projects/{pid}/milestones/{m['id']}/complete",
                        {"completed_at": "2026-06-01T08:00:00Z", "note": "完成"}, token=tok("applicant")),
                   200)


def money_asset_body(**kw):
    b = {"asset_no": "ZC-" + sfx(), "value_cents": 1234500, "registered_at": "2026-11-01T08:00:00Z",
         "custodian": "后勤保障部信息中心 张伟"}
    b.update(kw)
    return b


def register_asset(pid, role="applicant", **kw):
    return http("POST", f"/projects/{pid}/asset", money_asset_body(**kw), token=tok(role))


def money_payment_body(contract_id, **kw):
    b = {"contract_id": contract_id, "amount_cents": 1000, "paid_at": "2026-11-20T09:00:00Z",
         "voucher_no": "PZ-" + sfx()}
    b.update(kw)
    return b


def pay(pid, contract_id, role="applicant", **kw):
    return http("POST", f"/projects/{pid}/payments", money_payment_body(contract_id, **kw), token=tok(role))


def money_golive_body(**kw):
    b = {"deployment_plan_uri": "https://docs.example.edu/deploy/" + sfx(),
         "emergency_plan_uri": "https://docs.example.edu/emergency/" + sfx(),
         "test_environment_report_uri": "urn:itgov:report:" + sfx(),
         "test_passed": True, "planned_at": "2026-12-01T00:00:00Z"}
    b.update(kw)
    return b


def go_live(pid, body, role="applicant"):
    return http("POST", f"/projects/{pid}/go-live", body, token=tok(role))


# ---- part D (issue 10): the delivery walk and the dossier. Names start with
# walk_ (the other parts' helpers of the same purpose take other arguments).


def walk_items(body):
    """The items of a list answer ({items, next_cursor}) or a bare array."""
    return body["items"] if isinstance(body, dict) and "items" in body else body


def walk_plan_body(milestones, goals="建成智慧后勤平台一期，覆盖报修、能耗与资产三项业务"):
    """milestones: [(name, due_date)]."""
    return {"goals": goals,
            "team": [{"name": "张伟", "role": "项目经理", "duty": "统筹进度与质量"},
                     {"name": "李娜", "role": "技术负责人", "duty": "架构与集成"}],
            "milestones": [{"name": n, "due_date": d} for n, d in milestones]}


def walk_put_plan(pid, body, role="applicant"):
    return http("PUT", f"/projects/{pid}/implementation-plan", body, token=tok(role))


def walk_contract_body(**kw):
    b = {"contract_no": "HT-" + sfx(), "vendor": "某某信息技术有限公司", "amount_cents": 1000000,
         "signed_at": "2026-04-01T08:00:00Z", "procurement_method": "public_tender"}
    b.update(kw)
    return b


def walk_deliverable_body(kind, n=1, **kw):
    b = {"kind": kind, "title": f"{kind} v{n}", "uri": f"https://docs.example.edu/{kind}/{sfx()}.pdf",
         "sha256": hashlib.sha256(f"{kind}-{n}-{sfx()}".encode()).hexdigest()}
    b.update(kw)
    return b


def walk_acceptance_request(pid, role="applicant"):
    return http("POST", f"/projects/{pid}/acceptance-request", token=tok(role))


def walk_asset_body(**kw):
    b = {"asset_no": "ZC-" + sfx(), "value_cents": 900000, "registered_at": "2026-10-01T08:00:00Z",
         "custodian": "后勤保障部信息中心"}
    b.update(kw)
    return b


def walk_payment_body(contract_id, amount_cents, **kw):
    b = {"contract_id": contract_id, "amount_cents": amount_cents, "paid_at": "2026-10-15T08:00:00Z",
         "voucher_no": "PZ-" + sfx()}
    b.update(kw)
    return b


def walk_golive_body(**kw):
    b = {"deployment_plan_uri": "https://docs.example.edu/deploy.pdf",
         "emergency_plan_uri": "https://docs.example.edu/emergency.pdf",
         "test_environment_report_uri": "https://docs.example.edu/test-env.pdf",
         "test_passed": True, "planned_at": "2026-12-01T00:00:00Z"}
    b.update(kw)
    return b


def walk_gate(r, code, *missing):
    """r is the 409 of gate `code` whose missing is exactly these (any order)."""
    from client import problem
    b = problem(r, 409, code)
    assert sorted(b.get("missing", [])) == sorted(missing), f"{code}: missing {b.get('missing')}, want {missing}"
    return b


def walk_dossier(pid, role="auditor"):
    return expect(http("GET", f"/projects/{pid}/dossier", token=tok(role)), 200)
# ---- issue 11 part F (custody): a system in operation for spot checks and backups


def in_operation_project_f():
    """A project walked to `in_operation`: accepted_project() (issue 10 part
    B), then go-live by its applicant. Returns the project as it now is."""
    p = accepted_project()
    body = {"deployment_plan_uri": "https://docs.example.edu/deploy/" + sfx(),
            "emergency_plan_uri": "https://docs.example.edu/emergency/" + sfx(),
            "test_environment_report_uri": "urn:itgov:report:" + sfx(),
            "test_passed": True, "planned_at": "2026-12-01T00:00:00Z"}
    expect(http("POST", f"/projects/{p['id']}/go-live", body, token=tok("applicant")), 200)
    return wait_state(p["id"], "in_operation")
