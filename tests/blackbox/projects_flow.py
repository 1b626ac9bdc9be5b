"""Helpers for the projects/approvals black-box tests, in the order of a
project's life: users per role; initiation (a project drafted, submitted,
its case found, reviewed, decided); approved; implementing (the plan, its
milestones); contracts; accepted (deliverables, the acceptance request);
in operation (asset, payments, go-live); the dossier.

Body builders take keyword overrides (plan_body, contract_body,
deliverable_body, asset_body, payment_body, golive_body). Actions return
the raw response where tests check refusals (put_plan, post_contract,
post_deliverable, complete_milestone, request_acceptance, register_asset,
pay, go_live); add_contract, add_deliverable, complete_milestones,
reviewed_contract and pass_acceptance expect success. The walkers
approved_project(), implementing_project(), accepted_project() and
in_operation_project() go through the real HTTP routes only."""
import hashlib

from client import expect, http, make_department, make_user, poll, problem, sfx

_cache = {}


# ---- users, and initiation (article 7): drafted, submitted, reviewed, decided


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


# ---- shared checks of refusals ---------------------------------------------------


def invalid_state(r, state):
    """r is the 409 invalid_state naming state."""
    b = problem(r, 409, "invalid_state")
    assert b.get("state") == state, f"409 must name state {state}: {b}"
    return b


def gate(r, code, missing, ordered=True):
    """r is the 409 of gate `code` (acceptance_blocked, payment_blocked,
    golive_blocked) whose `missing` is exactly these, in this order unless
    ordered=False."""
    b = problem(r, 409, code)
    got = b.get("missing")
    if ordered:
        assert got == list(missing), f"{code}: missing must be {list(missing)}: {b}"
    else:
        assert sorted(got or []) == sorted(missing), f"{code}: missing {got}, want {list(missing)}"
    return b


# ---- approved (issue 10, article 7): through review and the meeting's decision


def approved_project(**kw):
    """A project of users()'s department (kw: project_body's overrides), through
    the IT office's review and the meeting's decision to `approved`."""
    p, case = submitted_project(**kw)
    expect(review(case["id"], "pass"), 200)
    wait_state(p["id"], "awaiting_decision")
    expect(decide(case["id"], "approve"), 200)
    return wait_state(p["id"], "approved")


# ---- implementing (articles 8, 10): the implementation plan and its milestones


def plan_body(milestones=None, **kw):
    """milestones: [{name, due_date}] (default two in 2030); kw: other members."""
    b = {"goals": "建成统一门禁平台，覆盖全部营区",
         "team": [{"name": "张伟", "role": "项目负责人", "duty": "统筹实施"},
                  {"name": "李娜", "role": "技术负责人", "duty": "方案设计与联调"}],
         "milestones": milestones if milestones is not None else
         [{"name": "需求确认", "due_date": "2030-03-01"}, {"name": "系统上线", "due_date": "2030-12-01"}]}
    b.update(kw)
    return b


def put_plan(pid, body=None, role="applicant", headers=None):
    """PUT the implementation plan (plan_body() unless given): the raw response."""
    return http("PUT", f"/projects/{pid}/implementation-plan", plan_body() if body is None else body,
                token=tok(role), headers=headers)


def implementing_project(milestones=None, **kw):
    """approved_project(**kw) given an implementation plan (plan_body(milestones)):
    state implementing. Returns the project."""
    p = approved_project(**kw)
    expect(put_plan(p["id"], plan_body(milestones)), 201)
    return wait_state(p["id"], "implementing")


def milestones_of(pid, role="applicant"):
    """{name: milestone} of a project."""
    b = expect(http("GET", f"/projects/{pid}/milestones?limit=200", token=tok(role)), 200)
    return {m["name"]: m for m in b["items"]}


def milestone_ids(pid):
    """The ids of the project's milestones, ascending."""
    return sorted(m["id"] for m in milestones_of(pid).values())


def complete_milestone(pid, mid, body=None, role="applicant"):
    """POST .../milestones/{mid}/complete: the raw response."""
    return http("POST", f"/projects/{pid}/milestones/{mid}/complete",
                {"completed_at": "2026-06-01T08:00:00Z", "note": "按期完成"} if body is None else body,
                token=tok(role))


def complete_milestones(pid, ids=None, at="2026-06-01T08:00:00Z"):
    """Completes the milestones named by id, or every incomplete one."""
    if ids is None:
        ids = [m["id"] for m in milestones_of(pid).values() if m["completed_at"] is None]
    for mid in ids:
        expect(complete_milestone(pid, mid, {"completed_at": at, "note": "按期完成"}), 200)


# ---- contracts (articles 8-9): recorded by the department, reviewed by the IT office


def contract_body(**kw):
    b = {"contract_no": "HT-" + sfx(), "vendor": "某某信息技术有限公司", "amount_cents": 1200000,
         "signed_at": "2026-04-01T08:00:00Z", "procurement_method": "public_tender"}
    b.update(kw)
    return b


def post_contract(pid, body=None, role="applicant"):
    """POST a contract (contract_body() unless given): the raw response."""
    return http("POST", f"/projects/{pid}/contracts", contract_body() if body is None else body,
                token=tok(role))


def add_contract(pid, role="applicant", **kw):
    """A contract recorded (201; kw: contract_body's overrides), pending review."""
    return expect(post_contract(pid, contract_body(**kw), role=role), 201)


def wait_contract(cid, status, timeout=3):
    return poll(lambda: (lambda c: c if c["status"] == status else None)(
        expect(http("GET", f"/contracts/{cid}", token=tok("it")), 200)), timeout,
        f"contracts/{cid} becoming {status}", interval=0.05)


def reviewed_contract(pid, outcome="pass", **kw):
    """A contract of the project (kw: contract_body's overrides), reviewed by
    the IT office (pass → approved, reject → rejected); returns it as it now is."""
    c = add_contract(pid, **kw)
    case = open_case(f"contracts/{c['id']}")
    expect(review(case["id"], outcome), 200)
    return wait_contract(c["id"], "approved" if outcome == "pass" else "rejected")


# ---- accepted (articles 11-12): deliverables, the acceptance request and its review

DELIVERABLE_KINDS = ("install_manual", "user_manual", "admin_manual", "developer_manual",
                     "test_report", "training_record")


def deliverable_body(kind, **kw):
    b = {"kind": kind, "title": f"{kind} 文档", "uri": f"https://docs.example.edu/{kind}/{sfx()}.pdf",
         "sha256": hashlib.sha256(f"{kind} {sfx()}".encode()).hexdigest()}
    b.update(kw)
    return b


def post_deliverable(pid, body, role="applicant"):
    """POST a deliverable: the raw response."""
    return http("POST", f"/projects/{pid}/deliverables", body, token=tok(role))


def add_deliverable(pid, kind, role="applicant", **kw):
    """A deliverable added (201; kw: deliverable_body's overrides)."""
    return expect(post_deliverable(pid, deliverable_body(kind, **kw), role=role), 201)


def request_acceptance(pid, role="applicant", body=None):
    """POST .../acceptance-request: the raw response."""
    return http("POST", f"/projects/{pid}/acceptance-request", body, token=tok(role))


def pass_acceptance(pid):
    """The open acceptance case of a project under acceptance review passed
    by the IT office: state accepted. Returns the project."""
    case = open_case(f"projects/{pid}")
    assert case["kind"] == "acceptance", case
    expect(review(case["id"], "pass", comment="验收通过"), 200)
    return wait_state(pid, "accepted")


def ready_for_acceptance(p=None, with_contract=True):
    """An implementing project (implementing_project() unless given) with
    everything acceptance needs: an approved contract (reviewed_contract()
    unless with_contract is False: it has one already), the six deliverables,
    every milestone completed. Returns the project as given."""
    p = p or implementing_project()
    if with_contract:
        reviewed_contract(p["id"])
    for kind in DELIVERABLE_KINDS:
        add_deliverable(p["id"], kind)
    complete_milestones(p["id"])
    return p


def accepted_project(p=None, with_contract=True, **kw):
    """A project walked to `accepted`: ready_for_acceptance(), acceptance
    requested and passed by the IT office. p: an implementing project to walk
    on (implementing_project(**kw) unless given); with_contract: as
    ready_for_acceptance(). Returns the project as it now is (its approved
    contract: GET .../contracts)."""
    p = ready_for_acceptance(p or implementing_project(**kw), with_contract=with_contract)
    expect(request_acceptance(p["id"]), 200)
    return pass_acceptance(p["id"])


# ---- in operation (articles 12-13): the asset, payments, go-live


def asset_body(**kw):
    b = {"asset_no": "ZC-" + sfx(), "value_cents": 1234500, "registered_at": "2026-11-01T08:00:00Z",
         "custodian": "后勤保障部信息中心 张伟"}
    b.update(kw)
    return b


def register_asset(pid, role="applicant", **kw):
    """POST the project's asset (kw: asset_body's overrides): the raw response."""
    return http("POST", f"/projects/{pid}/asset", asset_body(**kw), token=tok(role))


def payment_body(contract_id, amount_cents=1000, **kw):
    b = {"contract_id": contract_id, "amount_cents": amount_cents, "paid_at": "2026-11-20T09:00:00Z",
         "voucher_no": "PZ-" + sfx()}
    b.update(kw)
    return b


def pay(pid, contract_id, role="applicant", **kw):
    """POST a payment (kw: payment_body's overrides): the raw response."""
    return http("POST", f"/projects/{pid}/payments", payment_body(contract_id, **kw), token=tok(role))


def golive_body(**kw):
    b = {"deployment_plan_uri": "https://docs.example.edu/deploy.pdf",
         "emergency_plan_uri": "https://docs.example.edu/emergency.pdf",
         "test_environment_report_uri": "https://docs.example.edu/test-env.pdf",
         "test_passed": True, "planned_at": "2026-12-01T00:00:00Z"}
    b.update(kw)
    return b


def go_live(pid, body=None, role="applicant"):
    """POST .../go-live (golive_body() unless given): the raw response."""
    return http("POST", f"/projects/{pid}/go-live", golive_body() if body is None else body,
                token=tok(role))


def in_operation_project(p=None, **kw):
    """A project walked to `in_operation`: accepted_project(**kw) (unless an
    accepted project p is given), then go-live by its applicant. Returns the
    project as it now is."""
    p = p or accepted_project(**kw)
    expect(go_live(p["id"]), 200)
    p = wait_state(p["id"], "in_operation")
    assert all(p[k] == v for k, v in kw.items() if k in p), (kw, p)
    return p


# ---- the dossier (article 25)


def dossier(pid, role="auditor"):
    return expect(http("GET", f"/projects/{pid}/dossier", token=tok(role)), 200)


# ---- issue 12 A: supervision (articles 21, 22, 26) — rectification orders,
# information requests, shared results. Deadlines are watched by the projects
# service's scans (every ITGOV_SCAN_INTERVAL_S, 1 s under tests/run.sh).


def instant_in(seconds):
    """An RFC 3339 instant `seconds` from now (negative: in the past), in UTC."""
    import datetime
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def rectification_body(deadline="2030-12-31T16:00:00Z", **kw):
    b = {"issue": "系统日志未按要求留存 " + sfx(), "required_action": "补齐近六个月日志并建立留存机制",
         "deadline": deadline}
    b.update(kw)
    return b


def post_rectification(pid, body=None, role="it"):
    """POST a rectification order (rectification_body() unless given): the raw response."""
    return http("POST", f"/projects/{pid}/rectifications",
                rectification_body() if body is None else body, token=tok(role))


def rectification(project_id, deadline="2030-12-31T16:00:00Z", **kw):
    """A rectification order issued by the IT office (201; kw: rectification_body's
    overrides), open."""
    return expect(post_rectification(project_id, rectification_body(deadline, **kw)), 201)


def get_rectification(rid, role="it"):
    return expect(http("GET", f"/rectifications/{rid}", token=tok(role)), 200)


def wait_rectification(rid, status, timeout=10):
    """The order reaches status within timeout seconds (the scan runs every second)."""
    return poll(lambda: (lambda x: x if x["status"] == status else None)(get_rectification(rid)),
                timeout, f"rectifications/{rid} becoming {status}", interval=0.1)


def respond_rectification(rid, role="applicant", **kw):
    """POST .../response ({description, evidence_uri}, kw overrides): the raw response."""
    b = {"description": "已补齐日志并上线留存策略", "evidence_uri": f"https://docs.example.edu/rect/{sfx()}.pdf"}
    b.update(kw)
    return http("POST", f"/rectifications/{rid}/response", b, token=tok(role))


def verify_rectification(rid, outcome="closed", role="it", comment="经核查已整改到位"):
    """POST .../verify: the raw response (comment None: not sent)."""
    b = {"outcome": outcome}
    if comment is not None:
        b["comment"] = comment
    return http("POST", f"/rectifications/{rid}/verify", b, token=tok(role))


def overdue_rectification(project=None, seconds=-1):
    """A rectification order of project (approved_project() unless given)
    whose deadline is `seconds` from now (default: just past), once the scan
    made it overdue (its itgov.rectification.overdue event is then emitted,
    once; approvals opens an escalation case from it). Returns the order as
    it now is."""
    p = project or approved_project()
    x = rectification(p["id"], instant_in(seconds))
    return wait_rectification(x["id"], "overdue", timeout=max(10, seconds + 10))


def info_request_body(due_date="2030-06-30", **kw):
    b = {"question": "请说明系统近三个月的访问量与故障情况 " + sfx(), "due_date": due_date}
    b.update(kw)
    return b


def post_info_request(pid, body=None, role="it"):
    """POST an information request (info_request_body() unless given): the raw response."""
    return http("POST", f"/projects/{pid}/info-requests",
                info_request_body() if body is None else body, token=tok(role))


def info_request(project_id, due_date="2030-06-30", **kw):
    """An information request issued by the IT office (201), open."""
    return expect(post_info_request(project_id, info_request_body(due_date, **kw)), 201)


def get_info_request(rid, role="it"):
    return expect(http("GET", f"/info-requests/{rid}", token=tok(role)), 200)


def answer_info_request(rid, role="applicant", **kw):
    """POST .../answer ({answer, attachments}, kw overrides): the raw response."""
    b = {"answer": "近三个月日均访问 1200 次，无重大故障",
         "attachments": [f"https://docs.example.edu/info/{sfx()}.xlsx"]}
    b.update(kw)
    return http("POST", f"/info-requests/{rid}/answer", b, token=tok(role))


def shared_result_body(**kw):
    b = {"title": "统一身份认证接入规范 " + sfx(), "summary": "可供其他单位复用的接入规范与示例代码",
         "audience": "university", "uri": f"https://docs.example.edu/shared/{sfx()}.pdf"}
    b.update(kw)
    return b


def post_shared_result(pid, body=None, role="it"):
    """POST a shared result (shared_result_body() unless given): the raw response."""
    return http("POST", f"/projects/{pid}/shared-results",
                shared_result_body() if body is None else body, token=tok(role))


# ---- issue 12 B/C: escalation cases, suspension and resume (test_escalation,
# test_suspension, test_dossier)


def escalations(pid, state="open", role="it"):
    """The escalation cases of projects/pid in that state."""
    b = expect(http("GET", f"/approvals?subject=projects/{pid}&kind=escalation&state={state}&limit=100",
                    token=tok(role)), 200)
    return b["items"]


def escalation_of(pid, variant, key=None, timeout=10):
    """The open escalation case of project pid of this variant (and, for a
    rectification's, naming rectification key), once it opened."""
    def find():
        for c in escalations(pid):
            if c["variant"] == variant and (key is None or (c.get("data") or {}).get("rectification_id") == key):
                return c
        return None
    return poll(find, timeout, f"an open {variant} escalation of projects/{pid}", interval=0.05)


def resume(pid, reason="整改已完成，申请恢复", role="it", body=None):
    """POST .../resume ({reason} unless body is given): the raw response."""
    return http("POST", f"/projects/{pid}/resume", {"reason": reason} if body is None else body,
                token=tok(role))


def halted_project(p=None, outcome="suspend"):
    """A project (approved_project() unless given) suspended (outcome suspend) or
    terminated through the real path: a rectification overdue, its escalation
    decided. Returns (project as it now is, case)."""
    p = p or approved_project()
    before = get_project(p["id"])["state"]
    x = overdue_rectification(p)
    case = escalation_of(p["id"], "rectification", x["id"])
    expect(decide(case["id"], outcome), 200)
    s = wait_state(p["id"], "suspended" if outcome == "suspend" else "terminated", timeout=8)
    assert s["suspended_from"] == (before if outcome == "suspend" else None), s
    return s, case


def resume_case(pid, reason="整改已完成，申请恢复"):
    """The IT office's resume request (202; while an earlier request's decision is still on
    its way to the projects service, 409 conflict: asked again) and the escalation case it
    opened."""
    def ask():
        r = resume(pid, reason)
        if r.status == 409 and r.body.get("code") == "conflict":
            return None
        return expect(r, 202)
    req = poll(ask, 5, f"a resume request of projects/{pid}", interval=0.1)
    return req, escalation_of(pid, "resume")


# ---- issue 14 A: system keys, systems under watch


def _caller_token(c):
    """c: None (the IT office), a role name of users(), or a token."""
    if c is None:
        return tok("it")
    return tok(c) if c in users() else c


def audit_knows(p, state=None, timeout=10):
    """Waits until audit's log holds project p's newest state (state, or p's own):
    audit knows a project only from its events. Returns p."""
    want = state or p["state"]

    def newest():
        b = expect(http("GET", f"/audit?subject=projects/{p['id']}&type_prefix=itgov.project.&limit=200",
                        token=tok("it")), 200)
        states = [e["data"]["state"] for e in b["items"]
                  if isinstance(e.get("data"), dict) and e["data"].get("id") == p["id"]
                  and "state" in e["data"] and "department_id" in e["data"]]
        return states[-1] if states else None
    poll(lambda: newest() == want, timeout, f"audit knowing project {p['id']} as {want}", interval=0.1)
    return p


def live_system(c=None):
    """A new project in operation (in_operation_project()) that audit knows as such, so
    system keys can be issued for it and its system can report. c: unused (the caller
    of system_key; kept for symmetry)."""
    return audit_knows(in_operation_project())


def issue_system_key(project_id, scopes, c=None):
    """POST /projects/{id}/system-keys {scopes} as c (default the IT office): the raw response."""
    return http("POST", f"/projects/{project_id}/system-keys", {"scopes": list(scopes)},
                token=_caller_token(c))


def system_key(c, project_id, scopes):
    """A new system key of project_id with scopes (a list of metrics, log_digests, config),
    issued by c (None: the IT office; a role name of users(); or a token). Returns
    (key_id, key); send the key as the token of http()."""
    b = expect(issue_system_key(project_id, scopes, c), 201)
    return b["key_id"], b["key"]
