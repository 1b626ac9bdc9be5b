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


# ---- part C (issue 10): asset registration, payments, go-live


def approved_project_c(**kw):
    """A project through review and decision to `approved` (returns its document)."""
    p, case = submitted_project(**kw)
    expect(review(case["id"], "pass"), 200)
    expect(decide(case["id"], "approve"), 200)
    wait_state(p["id"], "approved")
    return p


def asset_body(**kw):
    b = {"asset_no": "ZC-" + sfx(), "value_cents": 1234500, "registered_at": "2026-11-01T08:00:00Z",
         "custodian": "后勤保障部信息中心 张伟"}
    b.update(kw)
    return b


def register_asset(pid, role="applicant", **kw):
    return http("POST", f"/projects/{pid}/asset", asset_body(**kw), token=tok(role))


def payment_body(contract_id, **kw):
    b = {"contract_id": contract_id, "amount_cents": 1000, "paid_at": "2026-11-20T09:00:00Z",
         "voucher_no": "PZ-" + sfx()}
    b.update(kw)
    return b


def pay(pid, contract_id, role="applicant", **kw):
    return http("POST", f"/projects/{pid}/payments", payment_body(contract_id, **kw), token=tok(role))


def golive_body(**kw):
    b = {"deployment_plan_uri": "https://docs.example.edu/deploy/" + sfx(),
         "emergency_plan_uri": "https://docs.example.edu/emergency/" + sfx(),
         "test_environment_report_uri": "urn:itgov:report:" + sfx(),
         "test_passed": True, "planned_at": "2026-12-01T00:00:00Z"}
    b.update(kw)
    return b


def go_live(pid, body, role="applicant"):
    return http("POST", f"/projects/{pid}/go-live", body, token=tok(role))
