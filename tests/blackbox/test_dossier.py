"""The project dossier (issue 10, article 25): GET /projects/{id}/dossier on
an approved project holds the project, its history and its initiation case
with experts, opinions, review and decision (kept from the approvals
service's events); who may read it (another department 404, the auditor
200); ETag and If-None-Match; and a replay of approvals' events (the
consumer's cursor moved back, the service restarted) changes nothing."""
import time

from client import expect, http, local_sh, poll, problem, psql
import projects_flow as pf
from projects_flow import decide, dossier, review, submitted_project, tok, users, wait_state

ORDER = 61
KEYS = ["project", "history", "approvals", "implementation_plan", "milestones", "contracts",
        "deliverables", "acceptance", "asset", "payments", "go_live", "operations", "supervision"]
SUPERVISION = {"info_requests": [], "rectifications": [], "rectification_actions": [],
               "shared_results": [], "resume_requests": []}


def kept_case(pid, case_id, pred, timeout=5):
    """The dossier once the kept case case_id satisfies pred."""
    def find():
        d = dossier(pid)
        c = [a for a in d["approvals"] if a["id"] == case_id]
        return d if c and pred(c[0]) else None
    return poll(find, timeout, f"case {case_id} in the dossier of projects/{pid}", interval=0.1)


def approved_with_experts():
    """A project through an initiation case with two experts, two opinions,
    a review and a decision; returns (project id, case id)."""
    u = users()
    p, case = submitted_project()
    cid = case["id"]
    for who in ("expert", "expert2"):
        expect(http("POST", f"/approvals/{cid}/experts", {"user_id": u[who]["id"]}, token=tok("it")), 201)
    expect(http("POST", f"/approvals/{cid}/opinions", {"stance": "support", "comment": "可行"},
                token=tok("expert")), 201)
    expect(http("POST", f"/approvals/{cid}/opinions", {"stance": "oppose", "comment": "回避",
                                                       "conflict_of_interest": True},
                token=tok("expert2")), 201)
    expect(review(cid, "pass", comment="同意立项"), 200)
    wait_state(p["id"], "awaiting_decision")
    expect(decide(cid, "approve"), 200)
    wait_state(p["id"], "approved")
    return p["id"], cid


def test_dossier_of_an_approved_project():
    u = users()
    pid, cid = approved_with_experts()
    d = kept_case(pid, cid, lambda c: c["step"] == "closed")
    assert list(d) == KEYS, list(d)
    assert d["project"]["id"] == pid and d["project"]["state"] == "approved"
    assert [(h["from"], h["to"], h["action"], h["subject"]) for h in d["history"]] == [
        (None, "draft", "create", f"projects/{pid}"),
        ("draft", "under_review", "submit", f"projects/{pid}"),
        ("under_review", "awaiting_decision", "review_pass", f"projects/{pid}"),
        ("awaiting_decision", "approved", "decide_approve", f"projects/{pid}")], d["history"]
    assert d["history"][2]["actor_id"] == u["it"]["id"]
    assert d["history"][3]["actor_id"] == u["secretary"]["id"]
    [c] = d["approvals"]
    assert c["kind"] == "initiation" and c["subject"] == f"projects/{pid}" and c["outcome"] == "approved"
    assert sorted(x["user_id"] for x in c["experts"]) == sorted([u["expert"]["id"], u["expert2"]["id"]])
    ops = {o["author_id"]: o for o in c["opinions"]}
    assert ops[u["expert"]["id"]]["stance"] == "support" and ops[u["expert"]["id"]]["counted"] is True
    assert ops[u["expert2"]["id"]]["conflict_of_interest"] is True
    assert c["review"]["outcome"] == "pass" and c["review"]["comment"] == "同意立项"
    assert c["review"]["actor_id"] == u["it"]["id"]
    assert c["decision"]["outcome"] == "approve" and c["decision"]["meeting"] == "minister_office"
    # the case as the approvals service has it now
    assert c == expect(http("GET", f"/approvals/{cid}", token=tok("it")), 200) | {"overdue": c["overdue"]}
    assert d["implementation_plan"] is None and d["asset"] is None and d["go_live"] is None
    for k in ("milestones", "contracts", "deliverables", "payments"):
        assert d[k] == [], (k, d[k])
    assert d["acceptance"] == {"accepted_at": None, "cases": [], "transitions": []}
    assert d["supervision"] == SUPERVISION, d["supervision"]


def test_a_returned_case_and_its_successor_are_both_kept():
    p, case = submitted_project()
    pid = p["id"]
    expect(review(case["id"], "return", comment="预算依据不足"), 200)
    cur = wait_state(pid, "returned")
    expect(http("PATCH", f"/projects/{pid}", {"summary": "补充预算依据"}, token=tok("applicant"),
                headers={"If-Match": f'"{cur["version"]}"'}), 200)
    expect(http("POST", f"/projects/{pid}/submit", token=tok("applicant")), 200)
    d = poll(lambda: (lambda d: d if len(d["approvals"]) == 2 else None)(dossier(pid)), 5,
             "the second case in the dossier", interval=0.1)
    first, second = d["approvals"]
    assert first["id"] == case["id"] and first["outcome"] == "returned"
    assert first["review"]["comment"] == "预算依据不足"
    assert second["id"] > first["id"] and second["step"] == "review" and second["outcome"] is None
    assert [h["action"] for h in d["history"]] == ["create", "submit", "review_return", "submit"]


def test_the_supervision_of_a_project_is_in_its_dossier():
    """Issue 12: the information requests with their answers, the rectification
    orders with every response and verification, the shared results and the
    resume requests, each as its own route shows it."""
    u = users()
    p = pf.approved_project()
    pid = p["id"]
    q = pf.info_request(pid)
    q = expect(pf.answer_info_request(q["id"], answer="已提交访问统计"), 200)
    x = pf.rectification(pid)
    expect(pf.respond_rectification(x["id"], description="第一次整改"), 200)
    expect(pf.verify_rectification(x["id"], "reopened", comment="证据不足"), 200)
    expect(pf.respond_rectification(x["id"], role="applicant2", description="第二次整改"), 200)
    x = expect(pf.verify_rectification(x["id"], "closed", comment=None), 200)
    shared = expect(pf.post_shared_result(pid), 201)
    s, case = pf.halted_project(p, "suspend")
    req = expect(pf.resume(pid, "整改完毕，申请恢复"), 202)

    d = dossier(pid, "applicant")
    assert list(d) == KEYS, list(d)
    sup = d["supervision"]
    assert list(sup) == list(SUPERVISION), list(sup)
    assert sup["info_requests"] == [pf.get_info_request(q["id"])]
    assert sup["info_requests"][0]["answer"] == "已提交访问统计"
    overdue = case["data"]["rectification_id"]
    assert [r["id"] for r in sup["rectifications"]] == [x["id"], overdue]
    assert sup["rectifications"][0] == pf.get_rectification(x["id"]) and x["status"] == "closed"
    assert sup["rectifications"][1]["status"] == "overdue"
    acts = [(a["rectification_id"], a["action"], a.get("description"), a.get("outcome"), a["actor_id"])
            for a in sup["rectification_actions"]]
    assert acts == [(x["id"], "response", "第一次整改", None, u["applicant"]["id"]),
                    (x["id"], "verification", None, "reopened", u["it"]["id"]),
                    (x["id"], "response", "第二次整改", None, u["applicant2"]["id"]),
                    (x["id"], "verification", None, "closed", u["it"]["id"])], acts
    assert sup["rectification_actions"][1]["comment"] == "证据不足"
    assert "comment" not in sup["rectification_actions"][3]
    assert sup["shared_results"] == [shared]
    [rq] = sup["resume_requests"]
    assert rq == {k: v for k, v in req.items() if k != "project"}, (rq, req)
    assert rq["status"] == "open" and rq["reason"] == "整改完毕，申请恢复"
    # the suspension is in the history, its case in the approvals
    assert d["project"]["state"] == "suspended" and d["project"]["suspended_from"] == s["suspended_from"]
    assert ("suspend", "suspended") in [(h["action"], h["to"]) for h in d["history"]]
    assert case["id"] in [a["id"] for a in d["approvals"]]


def test_who_reads_the_dossier():
    p, case = submitted_project()
    pid = p["id"]
    for role in ("auditor", "it", "secretary", "applicant", "applicant2"):
        d = expect(http("GET", f"/projects/{pid}/dossier", token=tok(role)), 200)
        assert d["project"]["id"] == pid
    problem(http("GET", f"/projects/{pid}/dossier", token=tok("other")), 404, "not_found")
    problem(http("GET", f"/projects/{pid}/dossier", token=tok("expert")), 404, "not_found")
    problem(http("GET", f"/projects/{pid}/dossier"), 401, "unauthorized")
    problem(http("GET", "/projects/999999999/dossier", token=tok("auditor")), 404, "not_found")
    problem(http("GET", f"/projects/{pid}x/dossier", token=tok("auditor")), 404)
    # an invited expert reads it too
    expect(http("POST", f"/approvals/{case['id']}/experts", {"user_id": users()["expert"]["id"]},
                token=tok("it")), 201)
    poll(lambda: http("GET", f"/projects/{pid}/dossier", token=tok("expert")).status == 200, 5,
         "the invited expert reading the dossier")


def test_etag_and_if_none_match():
    p, _ = submitted_project()
    pid = p["id"]
    d = poll(lambda: (lambda d: d if d["approvals"] else None)(dossier(pid)), 5, "the case kept")
    r = http("GET", f"/projects/{pid}/dossier", token=tok("auditor"))
    tag = r.header("ETag")
    assert expect(r, 200) == d and tag and tag.startswith('"'), tag
    r = http("GET", f"/projects/{pid}/dossier", token=tok("auditor"), headers={"If-None-Match": tag})
    assert r.status == 304, r
    # a change makes another document
    expect(http("POST", f"/approvals/{d['approvals'][0]['id']}/experts",
                {"user_id": users()["expert"]["id"]}, token=tok("it")), 201)
    poll(lambda: http("GET", f"/projects/{pid}/dossier", token=tok("auditor"),
                      headers={"If-None-Match": tag}).status == 200, 5, "a new ETag after an invitation")


def _snapshot(pid, cid):
    return psql(
        f"SELECT (SELECT string_agg(case_id || ':' || sourceseq || ':' || md5(doc::text) || ':' || "
        f"updated_at, ',' ORDER BY case_id) FROM projects.approval_cases WHERE project_id = {pid}), "
        f"(SELECT count(*) FROM projects.transitions WHERE subject = 'projects/{pid}'), "
        f"(SELECT state || version FROM projects.projects WHERE id = {pid}), "
        f"(SELECT count(*) FROM projects.project_experts WHERE project_id = {pid}), "
        f"(SELECT count(*) FROM projects.outbox WHERE event->>'subject' = 'projects/{pid}')").strip()


def test_replayed_approvals_events_change_nothing():
    pid, cid = approved_with_experts()
    kept_case(pid, cid, lambda c: c["step"] == "closed")
    first = int(psql(f"SELECT min(seq) FROM approvals.outbox WHERE event->>'subject' = 'approvals/{cid}'").strip())
    last = int(psql("SELECT max(seq) FROM approvals.outbox").strip())
    poll(lambda: int(psql("SELECT after FROM projects.feed_cursor WHERE source = 'approvals'").strip()) >= last,
         10, "the projects consumer reading every approvals event")
    before = _snapshot(pid, cid)
    before_dossier = dossier(pid)
    # every approvals event of the case (and all after it) comes again
    local_sh("stop", "projects")
    try:
        psql(f"UPDATE projects.feed_cursor SET after = {first - 1} WHERE source = 'approvals'")
    finally:
        local_sh("start", "projects")
    poll(lambda: int(psql("SELECT after FROM projects.feed_cursor WHERE source = 'approvals'").strip()) >= last,
         20, "the projects consumer reading the approvals events again")
    time.sleep(0.5)
    assert _snapshot(pid, cid) == before
    assert dossier(pid) == before_dossier
