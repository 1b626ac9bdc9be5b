"""Rectification orders (issue 12 A, article 22), through the gateway: the IT
office orders a project's department to rectify an issue by a deadline, the
department responds, the IT office verifies (closed, or reopened → open
again). One closed on time; one that goes overdue by the projects service's
own scan (tests/run.sh runs it every second) with its event exactly once,
then responded to and closed late; a responded one left unverified past its
deadline; every refusal in its order (roles, other departments, states,
validation)."""
import time

from client import Subscriber, expect, http, problem, validation, walk
from projects_flow import (approved_project, create_project, get_rectification, instant_in,
                           invalid_state, overdue_rectification, post_rectification, rectification,
                           rectification_body, respond_rectification, review, submitted_project, tok,
                           users, verify_rectification, wait_rectification, wait_state)

ORDER = 64


def about(rid, verb):
    return lambda e: (e.get("type") == f"itgov.rectification.{verb}"
                      and e.get("subject") == f"rectifications/{rid}")


# ---------------------------------------------------------------- on time


def test_order_responded_and_closed_on_time():
    with Subscriber("") as sub:
        sub.ready()
        p = approved_project()
        pid, dept = p["id"], users()["dept"]
        r = post_rectification(pid, rectification_body("2030-12-31T16:00:00Z", issue="日志留存不足"))
        x = expect(r, 201)
        rid = x["id"]
        assert r.header("Location") == f"/api/v1/rectifications/{rid}"
        assert x["status"] == "open" and x["project_id"] == pid and x["department_id"] == dept
        assert x["issue"] == "日志留存不足" and x["deadline"] == "2030-12-31T16:00:00Z"
        assert x["awaiting_verification"] is False and x["response"] is None
        assert x["closed_at"] is None and x["overdue_at"] is None
        assert x["issued_by"] == users()["it"]["id"]
        ev = sub.wait(about(rid, "issued"), what="rectification.issued")[0]
        assert ev["data"]["project_id"] == pid and ev["data"]["department_id"] == dept
        assert ev["data"]["status"] == "open"

        # readers: whoever may see the project
        for role in ("applicant", "applicant2", "it", "auditor", "secretary"):
            assert get_rectification(rid, role)["id"] == rid
        problem(http("GET", f"/rectifications/{rid}", token=tok("other")), 404, "not_found")
        items = walk(f"/projects/{pid}/rectifications", tok("applicant"), limit=1)
        assert [i["id"] for i in items] == [rid]
        problem(http("GET", f"/projects/{pid}/rectifications", token=tok("other")), 404, "not_found")

        # the department responds (another applicant of it may too)
        uri = "https://docs.example.edu/rect/evidence-1.pdf"
        y = expect(respond_rectification(rid, role="applicant2", description="已整改", evidence_uri=uri),
                   200)
        assert y["status"] == "responded" and y["awaiting_verification"] is True
        assert y["response"] == {"description": "已整改", "evidence_uri": uri}
        assert y["responded_by"] == users()["applicant2"]["id"] and y["responded_at"]
        ev = sub.wait(about(rid, "responded"), what="rectification.responded")[0]
        assert ev["data"]["status"] == "responded" and ev["data"]["responded_at"] == y["responded_at"]

        # the IT office verifies: closed, on time
        z = expect(verify_rectification(rid, "closed", comment="整改到位"), 200)
        assert z["status"] == "closed" and z["closed_at"] and z["closed_on_time"] is True
        assert z["awaiting_verification"] is False
        assert z["verification"]["outcome"] == "closed" and z["verification"]["comment"] == "整改到位"
        assert z["verification"]["verified_by"] == users()["it"]["id"]
        ev = sub.wait(about(rid, "verified"), what="rectification.verified")[0]
        d = ev["data"]
        assert d["outcome"] == "closed" and d["closed_at"] == z["closed_at"]
        assert d["deadline"] == "2030-12-31T16:00:00Z" and d["status"] == "closed"
        assert d["project_id"] == pid and d["department_id"] == dept
        assert get_rectification(rid, "applicant") == z

        # closed is final: no response, no second verification
        invalid_state(respond_rectification(rid), "closed")
        invalid_state(verify_rectification(rid, "reopened"), "closed")
        # never overdue, scan after scan
        time.sleep(2.5)
        assert not sub.matching(about(rid, "overdue"))
        assert get_rectification(rid)["status"] == "closed"


def test_reopened_goes_back_to_open_then_closed():
    p = approved_project()
    rid = rectification(p["id"])["id"]
    expect(respond_rectification(rid), 200)
    x = expect(verify_rectification(rid, "reopened", comment="证据不足，请补充日志截图"), 200)
    assert x["status"] == "open" and x["reopen_count"] == 1 and x["closed_at"] is None
    assert x["awaiting_verification"] is False and x["verification"]["outcome"] == "reopened"
    # open again: nothing to verify until the department responds anew
    invalid_state(verify_rectification(rid, "closed"), "open")
    y = expect(respond_rectification(rid, description="已补充截图"), 200)
    assert y["status"] == "responded" and y["response"]["description"] == "已补充截图"
    invalid_state(respond_rectification(rid), "responded")
    z = expect(verify_rectification(rid, "closed", comment=None), 200)
    assert z["status"] == "closed" and z["reopen_count"] == 1 and z["verification"]["comment"] is None


def test_every_supervised_state_accepts_orders():
    """From approved on: approved (above), implementing, in_operation."""
    from projects_flow import implementing_project
    p = implementing_project()
    assert rectification(p["id"])["status"] == "open"


# ---------------------------------------------------------------- overdue, by the scan


def test_overdue_by_the_scan_once_then_answered_late():
    with Subscriber("") as sub:
        sub.ready()
        p = approved_project()
        pid = p["id"]
        # a deadline already past is accepted: open now, overdue at the next scan
        late = rectification(pid, instant_in(-3600))
        assert late["status"] == "open" and late["overdue_at"] is None
        fine = rectification(pid, "2199-12-31T00:00:00Z")
        ev = sub.wait(about(late["id"], "overdue"), timeout=10, what="rectification.overdue")[0]
        assert ev["actor"] is None
        d = ev["data"]
        assert d["id"] == late["id"] and d["project_id"] == pid
        assert d["department_id"] == users()["dept"] and d["status"] == "overdue"
        assert d["deadline"] == late["deadline"] and d["overdue_at"]
        x = get_rectification(late["id"])
        assert x["status"] == "overdue" and x["overdue_at"] == d["overdue_at"]
        # once only: several scans later, still one event; the future one never
        time.sleep(3)
        assert len(sub.matching(about(late["id"], "overdue"))) == 1
        assert not sub.matching(about(fine["id"], "overdue"))
        assert get_rectification(fine["id"])["status"] == "open"

        # an overdue order can still be responded to and verified: closed late
        y = expect(respond_rectification(late["id"]), 200)
        assert y["status"] == "responded" and y["overdue_at"] == d["overdue_at"]
        z = expect(verify_rectification(late["id"], "closed"), 200)
        assert z["status"] == "closed" and z["closed_on_time"] is False
        v = sub.wait(about(late["id"], "verified"), what="rectification.verified")[0]["data"]
        assert v["closed_at"] > v["deadline"]
        time.sleep(2)
        assert len(sub.matching(about(late["id"], "overdue"))) == 1


def test_responded_but_unverified_past_the_deadline_is_overdue():
    """Not closed by its deadline: overdue even though the department
    responded; the response still awaits verification and can be verified."""
    with Subscriber("") as sub:
        sub.ready()
        p = approved_project()
        rid = rectification(p["id"], instant_in(2))["id"]
        expect(respond_rectification(rid), 200)
        sub.wait(about(rid, "overdue"), timeout=12, what="rectification.overdue")
        x = get_rectification(rid)
        assert x["status"] == "overdue" and x["awaiting_verification"] is True
        # the response awaits verification: no second one
        invalid_state(respond_rectification(rid), "overdue")
        # reopened: open again (it went overdue once: no second event)
        y = expect(verify_rectification(rid, "reopened", comment="仍未整改"), 200)
        assert y["status"] == "open" and y["overdue_at"] == x["overdue_at"]
        time.sleep(2.5)
        assert len(sub.matching(about(rid, "overdue"))) == 1
        expect(respond_rectification(rid), 200)
        assert expect(verify_rectification(rid, "closed"), 200)["status"] == "closed"


def test_overdue_rectification_helper():
    x = overdue_rectification()
    assert x["status"] == "overdue" and x["overdue_at"] is not None


# ---------------------------------------------------------------- refusals


def test_issue_refusals_in_order():
    p = approved_project()
    pid = p["id"]
    # route role: only the IT office
    for role in ("applicant", "secretary", "auditor", "expert"):
        problem(post_rectification(pid, role=role), 403, "forbidden")
    problem(post_rectification(999999999), 404, "not_found")
    # every bad field, before the state
    b = validation(post_rectification(pid, {"issue": "", "required_action": "x" * 10001,
                                            "deadline": "2026-13-01", "extra": 1}),
                   "issue", "required_action", "deadline", "extra")
    assert len(b["errors"]) == 4
    validation(post_rectification(pid, {}), "issue", "required_action", "deadline")
    validation(post_rectification(pid, rectification_body(deadline="tomorrow")), "deadline")
    problem(http("POST", f"/projects/{pid}/rectifications", raw=b"{", token=tok("it"),
                 headers={"Content-Type": "application/json"}), 400, "invalid_json")
    # states before approved: 409 invalid_state naming it (after validation)
    draft = create_project()
    validation(post_rectification(draft["id"], {}), "issue")
    invalid_state(post_rectification(draft["id"]), "draft")
    sub, case = submitted_project()
    invalid_state(post_rectification(sub["id"]), "under_review")
    expect(review(case["id"], "reject"), 200)
    wait_state(sub["id"], "rejected")
    invalid_state(post_rectification(sub["id"]), "rejected")
    assert expect(http("GET", f"/projects/{draft['id']}/rectifications", token=tok("it")),
                  200)["items"] == []


def test_response_refusals_in_order():
    p = approved_project()
    rid = rectification(p["id"])["id"]
    # route role: applicants only
    for role in ("it", "secretary", "auditor", "expert"):
        problem(respond_rectification(rid, role=role), 403, "forbidden")
    # another department's applicant may not see it
    problem(respond_rectification(rid, role="other"), 404, "not_found")
    problem(respond_rectification(999999999), 404, "not_found")
    problem(http("GET", "/rectifications/999999999", token=tok("it")), 404, "not_found")
    # every bad field
    validation(respond_rectification(rid, description="", evidence_uri="not a uri"),
               "description", "evidence_uri")
    validation(http("POST", f"/rectifications/{rid}/response", {"extra": True}, token=tok("applicant")),
               "description", "evidence_uri", "extra")
    # nothing was written
    assert get_rectification(rid)["status"] == "open"


def test_verify_refusals_in_order():
    p = approved_project()
    rid = rectification(p["id"])["id"]
    for role in ("applicant", "secretary", "auditor", "expert"):
        problem(verify_rectification(rid, role=role), 403, "forbidden")
    problem(verify_rectification(999999999), 404, "not_found")
    validation(verify_rectification(rid, outcome="approved"), "outcome")
    validation(verify_rectification(rid, outcome="reopened", comment=None), "comment")
    validation(http("POST", f"/rectifications/{rid}/verify", {}, token=tok("it")), "outcome")
    # nothing to verify yet
    invalid_state(verify_rectification(rid, "closed"), "open")
    assert get_rectification(rid)["status"] == "open"


# ---------------------------------------------------------------- concurrency


def test_parallel_responses_and_verifications_act_once():
    from concurrent.futures import ThreadPoolExecutor
    p = approved_project()
    rid = rectification(p["id"])["id"]
    with Subscriber("") as sub:
        sub.ready()
        with ThreadPoolExecutor(8) as pool:
            rs = list(pool.map(lambda i: respond_rectification(
                rid, role=("applicant", "applicant2")[i % 2]), range(8)))
        assert sorted(r.status for r in rs) == [200] + [409] * 7, [r.status for r in rs]
        for r in rs:
            if r.status == 409:
                invalid_state(r, "responded")
        with ThreadPoolExecutor(8) as pool:
            vs = list(pool.map(lambda i: verify_rectification(rid, ("closed", "reopened")[i % 2]),
                               range(8)))
        assert sorted(v.status for v in vs) == [200] + [409] * 7, [v.status for v in vs]
        sub.wait(about(rid, "verified"), what="rectification.verified")
        time.sleep(0.5)  # a second event would have come by now
        assert len(sub.matching(about(rid, "responded"))) == 1
        assert len(sub.matching(about(rid, "verified"))) == 1
    x = get_rectification(rid)
    assert x["version"] == 3 and x["status"] in ("closed", "open")


def test_one_who_sees_the_project_but_is_not_its_department_gets_403():
    """An applicant of another department who is also an expert invited to
    the project's case sees the project (and its orders and requests) but
    may not respond or answer for the department: 403, not 404."""
    from client import make_department, make_user, poll
    from projects_flow import decide, info_request, open_case
    dual = make_user(("applicant", "expert"), dept=make_department()["id"])
    p, case = submitted_project()
    pid = p["id"]
    expect(http("POST", f"/approvals/{case['id']}/experts", {"user_id": dual["id"]}, token=tok("it")),
           201)
    poll(lambda: http("GET", f"/projects/{pid}", token=dual["token"]).status == 200, 5,
         "the invited expert seeing the project")
    expect(review(case["id"], "pass"), 200)
    wait_state(pid, "awaiting_decision")
    expect(decide(open_case(f"projects/{pid}")["id"], "approve"), 200)
    wait_state(pid, "approved")
    rid = rectification(pid)["id"]
    iid = info_request(pid)["id"]
    assert expect(http("GET", f"/rectifications/{rid}", token=dual["token"]), 200)["id"] == rid
    assert expect(http("GET", f"/info-requests/{iid}", token=dual["token"]), 200)["id"] == iid
    problem(http("POST", f"/rectifications/{rid}/response",
                 {"description": "代为答复", "evidence_uri": "https://docs.example.edu/x.pdf"},
                 token=dual["token"]), 403, "forbidden")
    problem(http("POST", f"/info-requests/{iid}/answer", {"answer": "代为答复"}, token=dual["token"]),
            403, "forbidden")
    # and the body is not even read: 403 before 400
    problem(http("POST", f"/rectifications/{rid}/response", {}, token=dual["token"]), 403, "forbidden")
    assert get_rectification(rid)["status"] == "open"
