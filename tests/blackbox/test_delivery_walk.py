"""One project walked from its application to `in_operation` through the
gateway (issue 10, articles 7-13), hitting at each gate the refusal the
regulation sets: wrong roles, wrong states, each missing deliverable, no
approved contract, an incomplete milestone, payment before acceptance and
before the asset, a payment over the contract, go-live without each plan.
At the end the dossier holds every step (every approval case with its
review or decision, every plan revision, every deliverable version, the
payments, the go-live), every event of the walk arrived on a subscriber in
the order it happened, and the audit log holds them in that order too."""
from client import Subscriber, expect, http, poll, problem, validation
from projects_flow import (DELIVERABLE_KINDS, complete_milestone, contract_body, create_project, decide,
                           deliverable_body, dossier, gate, go_live, golive_body, invalid_state,
                           open_case, pay, plan_body, post_contract, post_deliverable, put_plan,
                           register_asset, request_acceptance, review, submit, tok, users, wait_state)

ORDER = 62


def test_a_project_from_application_to_operation():
    users()  # made before the subscriber starts
    with Subscriber("") as sub:
        sub.ready()
        walked = []  # (type, subject) of every event the projects service should emit, in order

        def did(t, subject):
            walked.append((t, subject))

        # ---- initiation (article 7): application, review, decision
        p = create_project()
        pid = p["id"]
        subj = f"projects/{pid}"
        did("itgov.project.created", subj)
        submit(pid)
        did("itgov.project.submitted", subj)
        init = open_case(subj)
        # not approved yet: none of the delivery actions exists
        invalid_state(put_plan(pid, plan_body([{"name": "需求调研", "due_date": "2027-01-15"}])),
                      "under_review")
        invalid_state(request_acceptance(pid), "under_review")
        expect(review(init["id"], "pass", comment="同意提交会议"), 200)
        wait_state(pid, "awaiting_decision")
        did("itgov.project.review.passed", subj)
        expect(decide(init["id"], "approve"), 200)
        wait_state(pid, "approved")
        did("itgov.project.approved", subj)

        # ---- the implementation plan (article 8): who, then what
        plan1 = plan_body([{"name": "需求调研", "due_date": "2027-01-15"},
                           {"name": "系统开发", "due_date": "2027-03-31"}],
                          goals="建成智慧后勤平台一期，覆盖报修、能耗与资产三项业务")
        problem(put_plan(pid, plan1, role="it"), 403, "forbidden")
        problem(put_plan(pid, plan1, role="other"), 404, "not_found")
        validation(put_plan(pid, {"goals": "x", "team": "nobody", "milestones": [{"name": "a"}]}),
                   "team", "milestones[0].due_date")
        # nothing before a plan: deliverables and acceptance need `implementing`
        invalid_state(post_deliverable(pid, deliverable_body("user_manual")), "approved")
        invalid_state(request_acceptance(pid), "approved")
        invalid_state(go_live(pid), "approved")
        invalid_state(register_asset(pid), "approved")
        expect(put_plan(pid, plan1), 201)
        did("itgov.project.implementation_planned", subj)
        wait_state(pid, "implementing")
        ms = expect(http("GET", f"/projects/{pid}/milestones", token=tok("applicant")), 200)["items"]
        assert [m["name"] for m in ms] == ["需求调研", "系统开发"], ms
        assert all(m["completed_at"] is None and m["overdue"] is False for m in ms), ms
        m1, m2 = ms[0]["id"], ms[1]["id"]
        # a second revision moves a due date and adds a milestone; the first is kept
        plan2 = plan_body([{"name": "需求调研", "due_date": "2027-01-15"},
                           {"name": "系统开发", "due_date": "2027-04-30"},
                           {"name": "试运行", "due_date": "2027-06-30"}],
                          goals="建成智慧后勤平台一期（含试运行）")
        expect(put_plan(pid, plan2, role="applicant2"), 200)
        did("itgov.project.implementation_planned", subj)
        revs = expect(http("GET", f"/projects/{pid}/implementation-plan/revisions",
                           token=tok("auditor")), 200)["items"]
        assert len(revs) == 2, revs
        ms = expect(http("GET", f"/projects/{pid}/milestones", token=tok("applicant")), 200)["items"]
        by_name = {m["name"]: m for m in ms}
        assert by_name["系统开发"]["due_date"] == "2027-04-30" and by_name["系统开发"]["id"] == m2
        m3 = by_name["试运行"]["id"]
        milestones = [m1, m2, m3]

        # ---- acceptance blocked: nothing delivered, no contract, no milestone done
        all_missing = list(DELIVERABLE_KINDS) + ["approved_contract"] + [f"milestone:{m}" for m in milestones]
        problem(request_acceptance(pid, role="it"), 403, "forbidden")
        problem(request_acceptance(pid, role="other"), 404, "not_found")
        gate(request_acceptance(pid), "acceptance_blocked", all_missing, ordered=False)

        # ---- contracts (articles 8-9): one rejected, one approved by the IT office
        problem(post_contract(pid, role="it"), 403, "forbidden")
        problem(post_contract(pid, role="other"), 404, "not_found")
        validation(post_contract(pid, contract_body(amount_cents=0, procurement_method="handshake",
                                                    signed_at="yesterday")),
                   "amount_cents", "procurement_method", "signed_at")
        bad = expect(post_contract(pid, contract_body(vendor="未中标供应商")), 201)
        assert bad["status"] == "pending_review"
        did("itgov.contract.submitted", f"contracts/{bad['id']}")
        problem(post_contract(pid, contract_body(contract_no=bad["contract_no"])), 409, "conflict")
        bad_case = open_case(f"contracts/{bad['id']}")
        assert bad_case["kind"] == "contract" and bad_case["step"] == "review"
        problem(review(bad_case["id"], "pass", role="applicant"), 403, "forbidden")
        expect(review(bad_case["id"], "reject", comment="采购程序不合规"), 200)

        def contract_status(c):
            cs = expect(http("GET", f"/projects/{pid}/contracts", token=tok("auditor")), 200)["items"]
            return {x["id"]: x["status"] for x in cs}.get(c)

        poll(lambda: contract_status(bad["id"]) == "rejected", 5, "the rejected contract")
        did("itgov.contract.rejected", f"contracts/{bad['id']}")
        amount = 1000000
        good = expect(post_contract(pid, contract_body(amount_cents=amount)), 201)
        cid = good["id"]
        did("itgov.contract.submitted", f"contracts/{cid}")
        good_case = open_case(f"contracts/{cid}")

        # a rejected and a pending contract are not an approved one
        gate(request_acceptance(pid), "acceptance_blocked", all_missing, ordered=False)

        # ---- deliverables (article 11): each kind, one at a time, each one named until it comes
        problem(post_deliverable(pid, deliverable_body("user_manual"), role="it"), 403, "forbidden")
        validation(post_deliverable(pid, deliverable_body("poem", uri="not a uri", sha256="abc")),
                   "kind", "uri", "sha256")
        missing = list(all_missing)
        for kind in DELIVERABLE_KINDS:
            gate(request_acceptance(pid), "acceptance_blocked", missing, ordered=False)
            expect(post_deliverable(pid, deliverable_body(kind)), 201)
            did("itgov.project.deliverable.added", subj)
            missing.remove(kind)
        # a second user manual supersedes the first, which stays
        expect(post_deliverable(pid, deliverable_body("user_manual")), 201)
        did("itgov.project.deliverable.added", subj)
        every = expect(http("GET", f"/projects/{pid}/deliverables?all=true",
                                     token=tok("auditor")), 200)["items"]
        assert sorted(d["kind"] for d in every) == sorted(list(DELIVERABLE_KINDS) + ["user_manual"])
        gate(request_acceptance(pid), "acceptance_blocked", missing, ordered=False)

        # ---- the contract approved, then each milestone
        expect(review(good_case["id"], "pass", comment="合同合规"), 200)
        did("itgov.contract.approved", f"contracts/{cid}")
        poll(lambda: contract_status(cid) == "approved", 5, "the approved contract")
        missing.remove("approved_contract")
        gate(request_acceptance(pid), "acceptance_blocked", missing, ordered=False)
        problem(complete_milestone(pid, m1, {"completed_at": "2026-11-01T08:00:00Z", "note": "调研完成"},
                                   role="it"), 403, "forbidden")
        for n, m in enumerate(milestones):
            expect(complete_milestone(pid, m, {"completed_at": f"2026-11-0{n + 1}T08:00:00Z",
                                               "note": f"第{n + 1}阶段完成"}), 200)
            did("itgov.project.milestone.completed", subj)
            missing.remove(f"milestone:{m}")
            if missing:  # an incomplete milestone still blocks
                gate(request_acceptance(pid), "acceptance_blocked", missing, ordered=False)

        # ---- payments wait for acceptance and the asset (article 12)
        gate(pay(pid, cid, amount_cents=100000), "payment_blocked", ["acceptance", "asset"], ordered=False)

        # ---- acceptance (article 12): requested, returned with a comment, requested, passed
        expect(request_acceptance(pid), 200)
        did("itgov.project.acceptance_requested", subj)
        assert wait_state(pid, "acceptance_review")
        invalid_state(request_acceptance(pid), "acceptance_review")
        acc1 = open_case(subj)
        assert acc1["kind"] == "acceptance" and acc1["step"] == "review"
        problem(review(acc1["id"], "pass", role="applicant"), 403, "forbidden")
        problem(review(acc1["id"], "pass", role="secretary"), 403, "forbidden")
        expect(review(acc1["id"], "return", comment="培训记录缺签到表"), 200)
        did("itgov.project.acceptance_returned", subj)
        wait_state(pid, "implementing")
        expect(post_deliverable(pid, deliverable_body("training_record")), 201)
        did("itgov.project.deliverable.added", subj)
        expect(request_acceptance(pid), 200)
        did("itgov.project.acceptance_requested", subj)
        wait_state(pid, "acceptance_review")
        acc2 = open_case(subj)
        assert acc2["id"] != acc1["id"]
        expect(review(acc2["id"], "pass", comment="验收通过"), 200)
        did("itgov.project.accepted", subj)
        wait_state(pid, "accepted")
        invalid_state(request_acceptance(pid), "accepted")

        # ---- the asset first, then payments (article 12)
        gate(pay(pid, cid, amount_cents=100000), "payment_blocked", ["asset"], ordered=False)
        # a payment on the rejected contract is never one
        gate(pay(pid, bad["id"], amount_cents=100000), "payment_blocked", ["asset", "approved_contract"],
             ordered=False)
        problem(register_asset(pid, role="it"), 403, "forbidden")
        asset = expect(register_asset(pid), 201)
        did("itgov.project.asset.registered", subj)
        problem(register_asset(pid), 409, "conflict")
        problem(pay(pid, cid, role="it", amount_cents=100000), 403, "forbidden")
        pay1 = expect(pay(pid, cid, amount_cents=600000), 201)
        did("itgov.project.payment.recorded", subj)
        problem(pay(pid, cid, amount_cents=amount - 600000 + 1), 422, "over_contract")
        pay2 = expect(pay(pid, cid, amount_cents=amount - 600000), 201)
        did("itgov.project.payment.recorded", subj)
        problem(pay(pid, cid, amount_cents=1), 422, "over_contract")

        # ---- go-live (article 13): each plan named while it is missing
        problem(go_live(pid, role="it"), 403, "forbidden")
        plans = ("deployment_plan_uri", "emergency_plan_uri", "test_environment_report_uri")
        for f in plans:
            body = golive_body()
            del body[f]
            gate(go_live(pid, body), "golive_blocked", [f], ordered=False)
        gate(go_live(pid, golive_body(test_passed=False)), "golive_blocked", ["test_passed"], ordered=False)
        gate(go_live(pid, {"planned_at": "2026-12-01T00:00:00Z"}), "golive_blocked",
             list(plans) + ["test_passed"], ordered=False)
        live = expect(go_live(pid), 200)
        assert live["state"] == "in_operation", live
        did("itgov.project.went_live", subj)
        invalid_state(go_live(pid), "in_operation")

        # ---- every event of the walk arrived, in the order it happened
        subjects = {s for _, s in walked}
        mine = lambda e: e.get("source") == "/itgov/projects" and e.get("subject") in subjects  # noqa: E731
        got = sub.wait(mine, count=len(walked), timeout=15, what="the walk's events")
        assert [(e["type"], e["subject"]) for e in got] == walked, [(e["type"], e["subject"]) for e in got]
        cases = [init, bad_case, good_case, acc1, acc2]
        case_events = {
            init["id"]: ["itgov.approval.case.opened", "itgov.approval.review.recorded",
                         "itgov.approval.decision.recorded", "itgov.approval.case.closed"],
        }
        for c in cases[1:]:
            case_events[c["id"]] = ["itgov.approval.case.opened", "itgov.approval.review.recorded",
                                    "itgov.approval.case.closed"]
        for c in cases:
            s = f"approvals/{c['id']}"
            want = case_events[c["id"]]
            evs = sub.wait(lambda e, s=s: e.get("subject") == s, count=len(want), timeout=10, what=s)
            assert [e["type"] for e in evs] == want, (s, [e["type"] for e in evs])

    # ---- the audit log holds them, in the same order
    ids = [e["id"] for e in got]

    def logged():
        out = []
        for s in sorted(subjects):
            b = expect(http("GET", f"/audit?subject={s}&limit=200", token=tok("auditor")), 200)
            out += b["items"]
        have = {e["id"]: e["seq"] for e in out}
        return have if all(i in have for i in ids) else None
    have = poll(logged, 20, "the walk's events in the audit log")
    seqs = [have[i] for i in ids]
    assert seqs == sorted(seqs), "the audit log holds the walk's events in another order"

    # ---- the dossier holds every step
    d = poll(lambda: (lambda d: d if len(d["approvals"]) == 5 and all(
        a["step"] == "closed" for a in d["approvals"]) else None)(dossier(pid)), 10,
        "the five closed cases in the dossier", interval=0.1)
    assert d == dossier(pid, role="applicant2")  # one document, whoever of those who see it asks
    assert d["project"]["state"] == "in_operation"
    # the project's transitions (a second plan revision may or may not be one: it
    # changes no state) and its contracts' reviews, oldest first
    own = [h["action"] for h in d["history"] if h["subject"] == subj]
    own = [x for i, x in enumerate(own) if not (x == "plan" and i and own[i - 1] == "plan")]
    assert own == ["create", "submit", "review_pass", "decide_approve", "plan", "request_acceptance",
                   "acceptance_return", "request_acceptance", "acceptance_pass", "go_live"], own
    theirs = [(h["subject"], h["action"]) for h in d["history"] if h["subject"] != subj]
    assert [t for t in theirs if t[1].startswith("review_")] == [
        (f"contracts/{bad['id']}", "review_reject"), (f"contracts/{cid}", "review_pass")], theirs
    assert all(t[0] in (f"contracts/{bad['id']}", f"contracts/{cid}") for t in theirs), theirs
    # every approval case, with its review or decision
    ap = {a["id"]: a for a in d["approvals"]}
    assert list(ap) == sorted(ap) == sorted(c["id"] for c in cases)
    assert ap[init["id"]]["kind"] == "initiation" and ap[init["id"]]["decision"]["outcome"] == "approve"
    assert ap[init["id"]]["review"]["comment"] == "同意提交会议"
    assert ap[bad_case["id"]]["kind"] == "contract" and ap[bad_case["id"]]["outcome"] == "rejected"
    assert ap[bad_case["id"]]["subject"] == f"contracts/{bad['id']}"
    assert ap[bad_case["id"]]["review"]["comment"] == "采购程序不合规"
    assert ap[good_case["id"]]["outcome"] == "approved"
    assert ap[acc1["id"]]["kind"] == "acceptance" and ap[acc1["id"]]["outcome"] == "returned"
    assert ap[acc1["id"]]["review"]["comment"] == "培训记录缺签到表"
    assert ap[acc2["id"]]["outcome"] == "approved"
    # every plan revision, the current one last
    ip = d["implementation_plan"]
    assert [r["revision"] for r in ip["revisions"]] == [1, 2] and ip["current"] == ip["revisions"][-1]
    assert ip["current"]["goals"] == plan2["goals"] and ip["revisions"][0]["goals"] == plan1["goals"]
    assert [m["name"] for m in d["milestones"]] == ["需求调研", "系统开发", "试运行"]
    assert all(m["completed_at"] for m in d["milestones"])
    # the contracts with their status and what was paid
    cs = {c["id"]: c for c in d["contracts"]}
    assert cs[bad["id"]]["status"] == "rejected" and cs[bad["id"]]["paid_cents"] == 0
    assert cs[cid]["status"] == "approved" and cs[cid]["paid_cents"] == amount
    # every deliverable version
    kinds = [(x["kind"], x["version"], x["current"]) for x in d["deliverables"]]
    assert sorted(kinds) == sorted([(k, 1, k not in ("user_manual", "training_record")) for k in DELIVERABLE_KINDS]
                                   + [("user_manual", 2, True), ("training_record", 2, True)]), kinds
    # the acceptance: both cases and the request, return (with its comment), request, pass
    acc = d["acceptance"]
    assert [c["id"] for c in acc["cases"]] == [acc1["id"], acc2["id"]]
    assert [t["action"] for t in acc["transitions"]] == ["request_acceptance", "acceptance_return",
                                                          "request_acceptance", "acceptance_pass"]
    assert acc["transitions"][1]["comment"] == "培训记录缺签到表" and acc["accepted_at"]
    assert d["asset"]["asset_no"] == asset["asset_no"] and d["asset"]["custodian"] == asset["custodian"]
    assert [(x["id"], x["amount_cents"], x["contract_id"]) for x in d["payments"]] == [
        (pay1["id"], 600000, cid), (pay2["id"], amount - 600000, cid)]
    g = d["go_live"]
    assert g["test_passed"] is True and g["deployment_plan_uri"] == golive_body()["deployment_plan_uri"]
    # the auditor reads it; another department does not know it exists
    problem(http("GET", f"/projects/{pid}/dossier", token=tok("other")), 404, "not_found")
