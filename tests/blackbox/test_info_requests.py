"""Information requests (issue 12 A, article 21), through the gateway: the IT
office asks a project's department for information by a due date, the
department answers (open → answered). One answered on time; one that goes
overdue by the projects service's own scan (tests/run.sh runs it every
second) with its event exactly once, then answered late (answered_late);
every refusal in its order (roles, other departments, states, validation)."""
import time

from client import Subscriber, expect, http, problem, validation, walk
from projects_flow import (answer_info_request, approved_project, create_project, get_info_request,
                           in_operation_project, info_request, info_request_body, invalid_state,
                           post_info_request, review, submitted_project, tok, users, wait_state)

ORDER = 64


def about(rid, verb):
    return lambda e: (e.get("type") == f"itgov.info_request.{verb}"
                      and e.get("subject") == f"info-requests/{rid}")


def test_answered_on_time():
    with Subscriber("") as sub:
        sub.ready()
        p = approved_project()
        pid, dept = p["id"], users()["dept"]
        r = post_info_request(pid, info_request_body("2030-06-30", question="请提供等保测评报告"))
        x = expect(r, 201)
        rid = x["id"]
        assert r.header("Location") == f"/api/v1/info-requests/{rid}"
        assert x["status"] == "open" and x["project_id"] == pid and x["department_id"] == dept
        assert x["question"] == "请提供等保测评报告" and x["due_date"] == "2030-06-30"
        assert x["answer"] is None and x["answered_at"] is None and x["answered_late"] is False
        assert x["attachments"] == [] and x["issued_by"] == users()["it"]["id"]
        d = sub.wait(about(rid, "issued"), what="info_request.issued")[0]["data"]
        assert d["project_id"] == pid and d["department_id"] == dept and d["due_date"] == "2030-06-30"

        for role in ("applicant", "applicant2", "it", "auditor", "secretary"):
            assert get_info_request(rid, role)["id"] == rid
        problem(http("GET", f"/info-requests/{rid}", token=tok("other")), 404, "not_found")
        assert [i["id"] for i in walk(f"/projects/{pid}/info-requests", tok("applicant"), limit=1)] == [rid]
        problem(http("GET", f"/projects/{pid}/info-requests", token=tok("other")), 404, "not_found")

        uris = ["https://docs.example.edu/info/report.pdf", "urn:isbn:9787111111111"]
        y = expect(answer_info_request(rid, role="applicant2", answer="见附件", attachments=uris), 200)
        assert y["status"] == "answered" and y["answer"] == "见附件" and y["attachments"] == uris
        assert y["answered_by"] == users()["applicant2"]["id"] and y["answered_late"] is False
        d = sub.wait(about(rid, "answered"), what="info_request.answered")[0]["data"]
        assert d["due_date"] == "2030-06-30" and d["answered_at"] == y["answered_at"]
        assert d["status"] == "answered" and d["answered_late"] is False
        assert d["project_id"] == pid and d["department_id"] == dept
        assert get_info_request(rid, "applicant") == y
        # answered once only
        invalid_state(answer_info_request(rid), "answered")
        # without attachments: none
        z = expect(answer_info_request(info_request(pid)["id"], attachments=[]), 200)
        assert z["attachments"] == []
        w = info_request(pid)
        body = {"answer": "无附件"}
        assert expect(http("POST", f"/info-requests/{w['id']}/answer", body, token=tok("applicant")),
                      200)["attachments"] == []
        time.sleep(2)
        assert not sub.matching(about(rid, "overdue"))


def test_overdue_by_the_scan_once_then_answered_late():
    with Subscriber("") as sub:
        sub.ready()
        p = in_operation_project()
        pid = p["id"]
        late = info_request(pid, "2021-03-01")  # past: accepted, overdue at the next scan
        assert late["status"] == "open"
        fine = info_request(pid, "2199-12-31")
        ev = sub.wait(about(late["id"], "overdue"), timeout=10, what="info_request.overdue")[0]
        assert ev["actor"] is None
        d = ev["data"]
        assert d["id"] == late["id"] and d["status"] == "overdue" and d["due_date"] == "2021-03-01"
        assert d["project_id"] == pid and d["department_id"] == users()["dept"] and d["overdue_at"]
        x = get_info_request(late["id"])
        assert x["status"] == "overdue" and x["overdue_at"] == d["overdue_at"]
        time.sleep(3)
        assert len(sub.matching(about(late["id"], "overdue"))) == 1
        assert not sub.matching(about(fine["id"], "overdue"))
        assert get_info_request(fine["id"])["status"] == "open"

        # still answerable, late
        y = expect(answer_info_request(late["id"]), 200)
        assert y["status"] == "answered" and y["answered_late"] is True
        assert y["overdue_at"] == x["overdue_at"]
        a = sub.wait(about(late["id"], "answered"), what="info_request.answered")[0]["data"]
        assert a["answered_late"] is True and a["due_date"] == "2021-03-01" and a["answered_at"]
        time.sleep(2)
        assert len(sub.matching(about(late["id"], "overdue"))) == 1


def test_issue_refusals_in_order():
    p = approved_project()
    pid = p["id"]
    for role in ("applicant", "secretary", "auditor", "expert"):
        problem(post_info_request(pid, role=role), 403, "forbidden")
    problem(post_info_request(999999999), 404, "not_found")
    b = validation(post_info_request(pid, {"question": "", "due_date": "2026-02-30", "x": 1}),
                   "question", "due_date", "x")
    assert len(b["errors"]) == 3
    validation(post_info_request(pid, {}), "question", "due_date")
    validation(post_info_request(pid, info_request_body(due_date="2026-06-30T00:00:00Z")), "due_date")
    validation(post_info_request(pid, info_request_body(question="问" * 10001)), "question")
    draft = create_project()
    validation(post_info_request(draft["id"], {}), "question")
    invalid_state(post_info_request(draft["id"]), "draft")
    sub, case = submitted_project()
    invalid_state(post_info_request(sub["id"]), "under_review")
    expect(review(case["id"], "reject"), 200)
    wait_state(sub["id"], "rejected")
    invalid_state(post_info_request(sub["id"]), "rejected")


def test_answer_refusals_in_order():
    p = approved_project()
    rid = info_request(p["id"])["id"]
    for role in ("it", "secretary", "auditor", "expert"):
        problem(answer_info_request(rid, role=role), 403, "forbidden")
    problem(answer_info_request(rid, role="other"), 404, "not_found")
    problem(answer_info_request(999999999), 404, "not_found")
    problem(http("GET", "/info-requests/999999999", token=tok("it")), 404, "not_found")
    validation(answer_info_request(rid, answer=""), "answer")
    b = validation(answer_info_request(rid, attachments=["https://docs.example.edu/a.pdf", "no uri", 5]),
                   "attachments[1]", "attachments[2]")
    assert {"attachments[1]", "attachments[2]"} <= {e["field"] for e in b["errors"]}
    validation(answer_info_request(rid, attachments="https://docs.example.edu/a.pdf"), "attachments")
    validation(answer_info_request(rid, attachments=[f"https://docs.example.edu/{i}" for i in range(21)]),
               "attachments")
    validation(http("POST", f"/info-requests/{rid}/answer", {"extra": 1}, token=tok("applicant")),
               "answer", "extra")
    assert get_info_request(rid)["status"] == "open"


def test_parallel_answers_answer_once():
    from concurrent.futures import ThreadPoolExecutor
    p = approved_project()
    rid = info_request(p["id"])["id"]
    with Subscriber("") as sub:
        sub.ready()
        with ThreadPoolExecutor(8) as pool:
            rs = list(pool.map(lambda i: answer_info_request(
                rid, role=("applicant", "applicant2")[i % 2], answer=f"答复 {i}"), range(8)))
        assert sorted(r.status for r in rs) == [200] + [409] * 7, [r.status for r in rs]
        for r in rs:
            if r.status == 409:
                invalid_state(r, "answered")
        sub.wait(about(rid, "answered"), what="info_request.answered")
        time.sleep(0.5)
        assert len(sub.matching(about(rid, "answered"))) == 1
    assert get_info_request(rid)["version"] == 2
