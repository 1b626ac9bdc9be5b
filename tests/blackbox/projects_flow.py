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


# ---- issue 11 part F (custody): a system in operation for spot checks and backups


def in_operation_project_f():
    """A project `in_operation`. Walked there through issue 10's routes
    (accepted_project(), then go-live) once those helpers are in this file;
    until then (TEMPORARY, before issue 10 is merged) a drafted project is
    put in the state directly."""
    walk, golive, body = (globals().get(n) for n in ("accepted_project", "go_live", "golive_body"))
    if walk and golive and body:
        p = walk()
        expect(golive(p["id"], body()), 200)
        return wait_state(p["id"], "in_operation")
    from client import psql
    p = create_project()
    psql(f"UPDATE projects.projects SET state = 'in_operation', version = version + 1 "
         f"WHERE id = {p['id']}")
    return get_project(p["id"])
