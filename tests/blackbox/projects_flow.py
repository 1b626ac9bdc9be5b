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


# ---------------------------------------------------------------- part D (issue 10): the
# delivery walk and the dossier: bodies of each delivery record, the gate check

DELIVERABLE_KINDS = ("install_manual", "user_manual", "admin_manual", "developer_manual",
                     "test_report", "training_record")


def approved_project(**kw):
    """A project through its initiation review and decision: (project, case)."""
    p, case = submitted_project(**kw)
    expect(review(case["id"], "pass"), 200)
    wait_state(p["id"], "awaiting_decision")
    expect(decide(case["id"], "approve"), 200)
    wait_state(p["id"], "approved")
    return p, case


def items_of(body):
    """The items of a list answer ({items, next_cursor}) or a bare array."""
    return body["items"] if isinstance(body, dict) and "items" in body else body


def plan_body(milestones, goals="建成智慧后勤平台一期，覆盖报修、能耗与资产三项业务"):
    return {"goals": goals,
            "team": [{"name": "张伟", "role": "项目经理", "duty": "统筹进度与质量"},
                     {"name": "李娜", "role": "技术负责人", "duty": "架构与集成"}],
            "milestones": [{"name": n, "due_date": d} for n, d in milestones]}


def put_plan(pid, body, role="applicant"):
    return http("PUT", f"/projects/{pid}/implementation-plan", body, token=tok(role))


def contract_body(**kw):
    b = {"contract_no": "HT-" + sfx(), "vendor": "某某信息技术有限公司", "amount_cents": 1000000,
         "signed_at": "2026-04-01T08:00:00Z", "procurement_method": "public_tender"}
    b.update(kw)
    return b


def deliverable_body(kind, n=1, **kw):
    import hashlib
    b = {"kind": kind, "title": f"{kind} v{n}", "uri": f"https://docs.example.edu/{kind}/{sfx()}.pdf",
         "sha256": hashlib.sha256(f"{kind}-{n}-{sfx()}".encode()).hexdigest()}
    b.update(kw)
    return b


def acceptance_request(pid, role="applicant"):
    return http("POST", f"/projects/{pid}/acceptance-request", token=tok(role))


def asset_body(**kw):
    b = {"asset_no": "ZC-" + sfx(), "value_cents": 900000, "registered_at": "2026-10-01T08:00:00Z",
         "custodian": "后勤保障部信息中心"}
    b.update(kw)
    return b


def payment_body(contract_id, amount_cents, **kw):
    b = {"contract_id": contract_id, "amount_cents": amount_cents, "paid_at": "2026-10-15T08:00:00Z",
         "voucher_no": "PZ-" + sfx()}
    b.update(kw)
    return b


def golive_body(**kw):
    b = {"deployment_plan_uri": "https://docs.example.edu/deploy.pdf",
         "emergency_plan_uri": "https://docs.example.edu/emergency.pdf",
         "test_environment_report_uri": "https://docs.example.edu/test-env.pdf",
         "test_passed": True, "planned_at": "2026-12-01T00:00:00Z"}
    b.update(kw)
    return b


def gate(r, code, *missing):
    """r is the 409 of gate `code` whose missing is exactly these (any order)."""
    from client import problem
    b = problem(r, 409, code)
    assert sorted(b.get("missing", [])) == sorted(missing), f"{code}: missing {b.get('missing')}, want {missing}"
    return b


def dossier(pid, role="auditor"):
    return expect(http("GET", f"/projects/{pid}/dossier", token=tok(role)), 200)
