"""Implementation plans and milestones (issue 10, articles 8 and 10), through
the gateway: the plan walks an approved project to implementing, revisions are
kept, due dates move while a milestone is incomplete and stay once it is
completed, every refusal in its order, milestone completion, and an overdue
milestone found by the projects service's own scan (tests/run.sh runs it every
second) with no request touching the project, its event emitted once."""
import threading
import time

from client import Subscriber, expect, http, problem, validation, walk
from projects_flow import (approved_project, complete_milestone, complete_milestones, create_project,
                           get_project, implementing_project, invalid_state, milestones_of, plan_body,
                           put_plan, ready_for_acceptance, request_acceptance, tok, users)

ORDER = 61


def history_actions(pid):
    b = expect(http("GET", f"/projects/{pid}/history", token=tok("applicant")), 200)
    return [(h["from"], h["to"], h["action"]) for h in b["items"]]


DONE = {"completed_at": "2026-05-01T09:30:00Z", "note": "已验收"}


def plan_event_of(pid, revision):
    return lambda e: (e.get("type") == "itgov.project.implementation_planned"
                      and e.get("subject") == f"projects/{pid}"
                      and e["data"]["implementation_plan"]["revision"] == revision)


# ---------------------------------------------------------------- the plan


def test_first_plan_moves_approved_to_implementing_and_emits():
    with Subscriber("") as sub:
        sub.ready()
        p = approved_project()
        pid = p["id"]
        r = put_plan(pid)
        plan = expect(r, 201)
        assert r.header("Location") == f"/api/v1/projects/{pid}/implementation-plan", r
        assert r.header("ETag") == '"1"', r
        assert plan["project_id"] == pid and plan["revision"] == 1
        assert plan["author_id"] == users()["applicant"]["id"]
        assert plan["goals"] == plan_body()["goals"] and plan["team"] == plan_body()["team"]
        assert [(m["name"], m["due_date"]) for m in plan["milestones"]] == \
            [("需求确认", "2030-03-01"), ("系统上线", "2030-12-01")]
        assert all(m["completed_at"] is None and m["overdue"] is False for m in plan["milestones"])
        assert get_project(pid)["state"] == "implementing"
        assert history_actions(pid)[-1] == ("approved", "implementing", "plan")
        ev = sub.wait(plan_event_of(pid, 1), what="implementation_planned")[0]
        assert ev["data"]["state"] == "implementing" and ev["data"]["id"] == pid
        assert ev["actor"] == users()["applicant"]["id"]

        # the current plan, for whoever sees the project
        for role in ("applicant", "applicant2", "it", "auditor", "secretary"):
            r = http("GET", f"/projects/{pid}/implementation-plan", token=tok(role))
            assert expect(r, 200) == plan and r.header("ETag") == '"1"'
        r = http("GET", f"/projects/{pid}/implementation-plan", token=tok("it"),
                 headers={"If-None-Match": '"1"'})
        assert r.status == 304, r
        problem(http("GET", f"/projects/{pid}/implementation-plan", token=tok("other")), 404, "not_found")

        # a later revision keeps the state and emits the same type
        plan2 = expect(put_plan(pid, headers={"If-Match": '"1"'}), 200)
        assert plan2["revision"] == 2
        assert get_project(pid)["state"] == "implementing"
        assert [a for a in history_actions(pid) if a[2] == "plan"] == [("approved", "implementing", "plan")]
        ev2 = sub.wait(plan_event_of(pid, 2), what="second implementation_planned")[0]
        assert ev2["data"]["state"] == "implementing"


def test_no_plan_yet_is_404():
    p = approved_project()
    problem(http("GET", f"/projects/{p['id']}/implementation-plan", token=tok("applicant")), 404, "not_found")
    b = expect(http("GET", f"/projects/{p['id']}/implementation-plan/revisions", token=tok("it")), 200)
    assert b == {"items": [], "next_cursor": None}
    assert milestones_of(p["id"]) == {}


def test_revisions_kept_due_dates_moved_nothing_erased():
    pid = implementing_project([{"name": "需求确认", "due_date": "2030-03-01"},
                                {"name": "系统上线", "due_date": "2030-12-01"}])["id"]
    before = milestones_of(pid)
    # revision 2: moves one due date, adds a milestone, leaves 系统上线 unnamed
    r = put_plan(pid, plan_body([{"name": "需求确认", "due_date": "2030-04-15"},
                                 {"name": "联调测试", "due_date": "2030-09-01"}], goals="第二版目标"),
                 headers={"If-Match": '"1"'})
    plan2 = expect(r, 200)
    assert r.header("ETag") == '"2"' and plan2["revision"] == 2 and plan2["goals"] == "第二版目标"
    after = milestones_of(pid)
    assert set(after) == {"需求确认", "系统上线", "联调测试"}
    assert after["需求确认"]["due_date"] == "2030-04-15" and after["需求确认"]["id"] == before["需求确认"]["id"]
    assert after["系统上线"] == before["系统上线"]
    assert [(m["name"], m["due_date"]) for m in plan2["milestones"]] == \
        [("需求确认", "2030-04-15"), ("系统上线", "2030-12-01"), ("联调测试", "2030-09-01")]
    # every revision kept, oldest first, each with the milestones as it left them
    revs = walk(f"/projects/{pid}/implementation-plan/revisions", tok("auditor"), limit=1)
    assert [x["revision"] for x in revs] == [1, 2]
    assert revs[0]["goals"] == plan_body()["goals"]
    assert {m["name"]: m["due_date"] for m in revs[0]["milestones"]} == \
        {"需求确认": "2030-03-01", "系统上线": "2030-12-01"}
    assert revs[1] == plan2
    r = http("GET", f"/projects/{pid}/implementation-plan", token=tok("applicant"))
    assert expect(r, 200) == plan2 and r.header("ETag") == '"2"'
    # a stale If-Match is refused and changes nothing; "*" matches any plan
    problem(put_plan(pid, headers={"If-Match": '"1"'}), 412, "precondition_failed")
    assert expect(put_plan(pid, headers={"If-Match": "*"}), 200)["revision"] == 3
    problem(put_plan(pid, headers={"If-Match": "3"}), 400)
    assert milestones_of(pid)["需求确认"]["due_date"] == "2030-03-01"  # revision 3 moved it back


def test_concurrent_revisions_get_distinct_numbers():
    pid = implementing_project()["id"]
    results = []

    def one(i):
        results.append(put_plan(pid, plan_body([{"name": f"并发{i}", "due_date": "2030-05-01"}])))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in results) == [200] * 8, [str(r) for r in results if r.status != 200]
    assert sorted(r.body["revision"] for r in results) == list(range(2, 10))
    # the last revision holds every milestone any of them added
    last = max((r.body for r in results), key=lambda b: b["revision"])
    assert {m["name"] for m in last["milestones"]} >= {f"并发{i}" for i in range(8)}


def test_completed_milestone_keeps_its_due_date():
    pid = implementing_project()["id"]
    ms = milestones_of(pid)
    m = ms["需求确认"]
    with Subscriber("") as sub:
        sub.ready()
        done = expect(complete_milestone(pid, m["id"], DONE), 200)
        assert done["id"] == m["id"] and done["completed_at"] == "2026-05-01T09:30:00Z"
        assert done["note"] == "已验收" and done["overdue"] is False
        assert done["completed_by"] == users()["applicant"]["id"]
        ev = sub.wait(lambda e: e.get("type") == "itgov.project.milestone.completed"
                      and e.get("subject") == f"projects/{pid}", what="milestone.completed")[0]
        assert ev["data"]["project_id"] == pid and ev["data"]["milestone"]["id"] == m["id"]
    assert milestones_of(pid, role="it")["需求确认"]["completed_at"] == "2026-05-01T09:30:00Z"
    # moving a completed milestone: 400 naming it, nothing written
    b = validation(put_plan(pid, plan_body([{"name": "新增", "due_date": "2030-06-01"},
                                            {"name": "需求确认", "due_date": "2031-01-01"}])),
                   "milestones[1].due_date")
    assert "completed" in [e["message"] for e in b["errors"] if e["field"] == "milestones[1].due_date"][0]
    assert "新增" not in milestones_of(pid)
    assert expect(http("GET", f"/projects/{pid}/implementation-plan", token=tok("it")), 200)["revision"] == 1
    # given with its own due date it stays as it is
    plan = expect(put_plan(pid, plan_body([{"name": "需求确认", "due_date": "2030-03-01"}])), 200)
    kept = [x for x in plan["milestones"] if x["name"] == "需求确认"][0]
    assert kept["completed_at"] == "2026-05-01T09:30:00Z" and kept["due_date"] == "2030-03-01"
    # completing it again
    invalid_state(complete_milestone(pid, m["id"], DONE), "completed")


# ---------------------------------------------------------------- refusals


def test_put_plan_refusals_in_order():
    p = approved_project()
    pid = p["id"]
    bad = {"goals": "", "team": [{"name": "王强", "role": "", "duty": "x"}, {"name": "赵六"}, "x"],
           "milestones": [{"name": "上线", "due_date": "2030-02-30"}, {"name": "上线", "due_date": "2030-01-01"},
                          {"due_date": "2030-01-01", "extra": 1}]}
    # wrong role: 403 whatever the body
    for role in ("it", "secretary", "auditor", "expert"):
        problem(put_plan(pid, bad, role=role), 403, "forbidden")
    # another department's applicant: 404, before the body
    problem(put_plan(pid, bad, role="other"), 404, "not_found")
    problem(put_plan(999999999, role="applicant"), 404, "not_found")
    # every bad field named
    validation(put_plan(pid, bad), "goals", "team[0].role", "team[1].role", "team[1].duty", "team[2]",
               "milestones[0].due_date", "milestones[1].name", "milestones[2].name", "milestones[2].extra")
    validation(put_plan(pid, {"team": [], "milestones": [], "goals": "x" * 10001}), "goals", "team",
               "milestones")
    validation(put_plan(pid, {}), "goals", "team", "milestones")
    validation(put_plan(pid, plan_body(team=[{"name": "x" * 201, "role": "r", "duty": "d" * 2001}])),
               "team[0].name", "team[0].duty")
    validation(put_plan(pid, plan_body([{"name": f"m{i}", "due_date": "2030-01-01"} for i in range(201)])),
               "milestones")
    problem(http("PUT", f"/projects/{pid}/implementation-plan", raw=b"{nope", token=tok("applicant")),
            400, "invalid_json")
    # If-Match while there is no plan yet
    problem(put_plan(pid, headers={"If-Match": '"1"'}), 412, "precondition_failed")
    problem(put_plan(pid, headers={"If-Match": "*"}), 412, "precondition_failed")
    assert get_project(pid)["state"] == "approved"
    # wrong state: a draft project (validation first, then the state)
    d = create_project()
    validation(put_plan(d["id"], bad), "goals")
    invalid_state(put_plan(d["id"]), "draft")
    problem(http("GET", f"/projects/{d['id']}/implementation-plan", token=tok("applicant")), 404)
    # a past due date is accepted
    plan = expect(put_plan(pid, plan_body([{"name": "已过期", "due_date": "2020-01-01"}])), 201)
    assert plan["milestones"][0]["overdue"] is True


def test_complete_refusals():
    pid = implementing_project()["id"]
    other = implementing_project()["id"]
    mid = milestones_of(pid)["系统上线"]["id"]
    other_mid = milestones_of(other)["系统上线"]["id"]
    for role in ("it", "secretary", "auditor", "expert"):
        problem(complete_milestone(pid, mid, DONE, role=role), 403, "forbidden")
    problem(complete_milestone(pid, mid, DONE, role="other"), 404, "not_found")
    problem(complete_milestone(pid, other_mid, DONE), 404, "not_found")  # another project's milestone
    problem(complete_milestone(pid, 999999999, DONE), 404, "not_found")
    validation(complete_milestone(pid, mid, {}), "completed_at")
    validation(complete_milestone(pid, mid, {"completed_at": "2026-05-01", "note": "n" * 2001, "x": 1}),
               "completed_at", "note", "x")
    problem(http("POST", f"/projects/{pid}/milestones/{mid}/complete", raw=b"[", token=tok("applicant")),
            400, "invalid_json")
    # the project must be implementing: under acceptance review (reached
    # through the real gate) a completion and a plan revision are refused
    q = ready_for_acceptance()
    expect(request_acceptance(q["id"]), 200)
    invalid_state(complete_milestone(q["id"], milestones_of(q["id"])["系统上线"]["id"], DONE),
                  "acceptance_review")
    invalid_state(put_plan(q["id"]), "acceptance_review")
    assert milestones_of(pid)["系统上线"]["completed_at"] is None
    assert expect(complete_milestone(pid, mid, {"completed_at": "2026-05-02T00:00:00Z"}), 200)["note"] is None
    invalid_state(complete_milestone(pid, mid, DONE), "completed")


def test_overdue_list_roles():
    for role in ("it", "auditor"):
        b = expect(http("GET", "/milestones/overdue?limit=2", token=tok(role)), 200)
        assert set(b) == {"items", "next_cursor"}
    for role in ("applicant", "secretary", "expert"):
        problem(http("GET", "/milestones/overdue", token=tok(role)), 403, "forbidden")
    validation(http("GET", "/milestones/overdue?limit=0", token=tok("it")), "limit")


# ---------------------------------------------------------------- overdue, by the scan


def test_overdue_milestone_found_by_the_scan_once():
    with Subscriber("") as sub:
        sub.ready()
        # the plan is the last request about this project until the event arrives
        pid = implementing_project([{"name": "逾期里程碑", "due_date": "2021-03-01"},
                                    {"name": "未到期", "due_date": "2030-03-01"}])["id"]
        ms = milestones_of(pid)
        late, fine = ms["逾期里程碑"], ms["未到期"]
        about = lambda e: (e.get("type") == "itgov.project.milestone.overdue"  # noqa: E731
                           and e.get("subject") == f"projects/{pid}")
        ev = sub.wait(about, timeout=10, what="milestone.overdue")[0]
        assert ev["type"] == "itgov.project.milestone.overdue" and ev["actor"] is None
        assert ev["data"]["project_id"] == pid
        assert ev["data"]["milestone"]["id"] == late["id"]
        assert ev["data"]["milestone"]["name"] == "逾期里程碑"
        assert ev["data"]["milestone"]["due_date"] == "2021-03-01"
        ms = milestones_of(pid)
        assert ms["逾期里程碑"]["overdue"] is True and ms["逾期里程碑"]["overdue_at"] is not None
        assert ms["未到期"]["overdue"] is False and ms["未到期"]["overdue_at"] is None
        row = {"project_id": pid, "milestone_id": late["id"], "name": "逾期里程碑", "due_date": "2021-03-01"}
        for role in ("it", "auditor"):
            items = walk("/milestones/overdue", tok(role), limit=200)
            assert row in items
            assert fine["id"] not in {i["milestone_id"] for i in items}
            ids = [i["milestone_id"] for i in items]
            assert ids == sorted(ids)
        # once only: several scans later, still one event
        time.sleep(3)
        assert len(sub.matching(about)) == 1

        # a revision that moves the due date (still past) makes it overdue again, once
        expect(put_plan(pid, plan_body([{"name": "逾期里程碑", "due_date": "2022-06-30"}])), 200)
        sub.wait(about, count=2, timeout=10, what="overdue again after the move")
        evs = sub.matching(about)
        assert evs[1]["data"]["milestone"]["due_date"] == "2022-06-30"
        time.sleep(3)
        assert len(sub.matching(about)) == 2
        # a revision that leaves the due date as it is does not
        expect(put_plan(pid, plan_body([{"name": "逾期里程碑", "due_date": "2022-06-30"}])), 200)
        time.sleep(2.5)
        assert len(sub.matching(about)) == 2

        # completed: no longer overdue, nor listed
        complete_milestones(pid)
        assert milestones_of(pid)["逾期里程碑"]["overdue"] is False
        items = walk("/milestones/overdue", tok("it"), limit=200)
        assert late["id"] not in {i["milestone_id"] for i in items}


def test_a_future_due_date_is_not_overdue():
    """The scan flags only what is past due: a milestone due in the future,
    of a project being implemented, gets no event, is not `overdue` and is
    not listed, scan after scan."""
    with Subscriber("") as sub:
        sub.ready()
        p = implementing_project(milestones=[{"name": "远期里程碑", "due_date": "2199-12-31"}])
        pid = p["id"]
        time.sleep(2.5)  # ITGOV_SCAN_INTERVAL_S=1: two scans at least
        assert not sub.matching(lambda e: e.get("type") == "itgov.project.milestone.overdue"
                                and e.get("subject") == f"projects/{pid}")
    m = milestones_of(pid)["远期里程碑"]
    assert m["overdue"] is False and m["completed_at"] is None
    items = walk("/milestones/overdue", tok("it"), limit=200)
    assert m["id"] not in {i["milestone_id"] for i in items}
