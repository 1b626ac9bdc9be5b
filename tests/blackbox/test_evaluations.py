"""Evaluations (issue 12 E, articles 23-24): yearly scores of projects and
departments, computed by the audit service from its log and the usage
samples; publishing them as frozen versions.

Two new departments with real projects walked to in_operation through the
real routes (projects_flow), then their records made through the real
routes too: spot checks passed and failed, backups, milestones completed on
time and late, usage samples (one replaced), rectifications and information
requests on time, late and open past their due date. Every component, every
project's score and each department's score is asserted exactly, with the
arithmetic written below (the definitions: api-spec/openapi.yaml,
components/schemas/ProjectEvaluation).

The projects go live today, so each has exactly one day in operation this
year (today, UTC): usage and backup_freshness are 0 or 100 here. Last year
they have none (null), and a spot check dated last year counts there only."""
import contextlib
import datetime
import threading
from fractions import Fraction

import projects_flow as pf
from audit_helpers import entries
from client import expect, http, make_department, make_user, poll, problem, psql, validation

ORDER = 55
NAMES = ("usage", "availability", "spot_checks", "rectifications_on_time", "milestones_on_time",
         "info_requests_on_time", "backup_freshness")
WEIGHTS = dict(zip(NAMES, (20, 20, 15, 15, 10, 10, 10)))
SETTLE_S = 30  # the audit service reads the projects' events asynchronously

TODAY = datetime.datetime.now(datetime.timezone.utc).date()
YEAR = TODAY.year
_state = {}


def day(n):
    """The UTC day n days before today, as YYYY-MM-DD."""
    return (TODAY - datetime.timedelta(days=n)).isoformat()


def at(date, hour=8):
    return f"{date}T{hour:02d}:00:00Z"


def r1(x):
    """Rounded half up to one decimal, as the service does."""
    return float((Fraction(x) * 10 + Fraction(1, 2)).__floor__()) / 10


def r2(x):
    return float((Fraction(x) * 100 + Fraction(1, 2)).__floor__()) / 100


def weighted(values):
    """The score of {name: exact value or None}: sum(w*v)/sum(w) over the present ones."""
    present = {k: v for k, v in values.items() if v is not None}
    if not present:
        return None
    return r1(sum(WEIGHTS[k] * Fraction(v) for k, v in present.items()) / sum(WEIGHTS[k] for k in present))


@contextlib.contextmanager
def department_applicant(dept):
    """projects_flow's walkers act as an applicant of dept while inside."""
    u = pf.users()
    saved = u["applicant"]
    u["applicant"] = make_user(("applicant",), dept=dept)
    try:
        yield u["applicant"]
    finally:
        u["applicant"] = saved


def it():
    return pf.tok("it")


# ---- the records, through the real routes ----------------------------------------


def spot_check(pid, result, when):
    body = {"checked_at": when, "result": result}
    if result == "issues_found":
        body["findings"] = "弱口令未整改"
    expect(http("POST", f"/projects/{pid}/spot-checks", body, token=it()), 201)


def backup(pid, when):
    expect(http("POST", f"/projects/{pid}/backups",
                {"taken_at": when, "method": "disaster_recovery", "location": "异地灾备中心 A 区"},
                token=it()), 201)


def usage(pid, date, active_users, availability):
    """A usage sample (part D's route), once the audit service knows the project is in
    operation (it learns that from the log: until then 409 invalid_state)."""
    body = {"project_id": pid, "date": date, "active_users": active_users, "requests": 100 * active_users,
            "availability_percent": availability, "incidents": 0}

    def post():
        r = http("POST", "/metrics/usage", body, token=it())
        if r.status == 409 and (r.body or {}).get("code") == "invalid_state":
            return None
        assert r.status == 201, f"usage sample: {r}"
        return r
    poll(post, SETTLE_S, f"a usage sample of project {pid}", interval=0.2)


def close_rectification(rid, applicant):
    expect(http("POST", f"/rectifications/{rid}/response",
                {"description": "已完成测评", "evidence_uri": "https://docs.example.edu/dengbao.pdf"},
                token=applicant["token"]), 200)
    expect(http("POST", f"/rectifications/{rid}/verify", {"outcome": "closed", "comment": "整改到位"},
                token=it()), 200)


def answer(qid, applicant):
    expect(http("POST", f"/info-requests/{qid}/answer",
                {"answer": "系统运行平稳", "attachments": ["https://docs.example.edu/report.pdf"]},
                token=applicant["token"]), 200)


def live_project(milestones=None, completions=()):
    """A project of the current applicant in operation. milestones: the plan's;
    completions: (name, completed_at) done while implementing, before the
    walk completes the rest."""
    p = pf.implementing_project(milestones)
    ms = pf.milestones_of(p["id"])
    for name, when in completions:
        expect(pf.complete_milestone(p["id"], ms[name]["id"], {"completed_at": when, "note": "完成"}), 200)
    return pf.in_operation_project(pf.accepted_project(p))


# ---- the scene, built once -----------------------------------------------------------


def scene():
    """Department A: P1 (everything), P2 (a little); department B: P3, and P4
    that never left draft (no score: not one of B's projects)."""
    if _state:
        return _state
    assert TODAY.timetuple().tm_yday > 40, "the dates below need 40 days of this year behind today"
    da, db = make_department()["id"], make_department()["id"]
    with department_applicant(da) as app_a:
        # milestones: due in the year and completed on time (M1), late (M2);
        # due next year (M3: not counted this year)
        p1 = live_project(
            [{"name": "需求确认", "due_date": day(30)}, {"name": "系统联调", "due_date": day(20)},
             {"name": "二期规划", "due_date": f"{YEAR + 1}-03-01"}],
            [("需求确认", at(day(31))), ("系统联调", at(day(15)))])
        p2 = live_project()  # its plan's milestones are due in 2030: none this year
    with department_applicant(db) as app_b:
        p3 = live_project()
        p4 = pf.create_project()
    _state.update(da=da, db=db, app_a=app_a, app_b=app_b, p1=p1["id"], p2=p2["id"], p3=p3["id"], p4=p4["id"])

    # P1: spot checks pass, pass, issues_found this year; one pass last year
    spot_check(p1["id"], "pass", at(day(3)))
    spot_check(p1["id"], "pass", at(day(2)))
    spot_check(p1["id"], "issues_found", at(day(1)))
    spot_check(p1["id"], "pass", f"{YEAR - 1}-12-15T08:00:00Z")
    # P1: a backup 3 days old today (fresh); P2: one 30 days old (stale); P3: today's
    backup(p1["id"], at(day(3)))
    backup(p2["id"], at(day(30)))
    backup(p3["id"], at(day(0), 0))
    # P3: spot checks pass, pass
    spot_check(p3["id"], "pass", at(day(5)))
    spot_check(p3["id"], "pass", at(day(4)))
    # P2: one passed spot check
    spot_check(p2["id"], "pass", at(day(1)))

    # usage today: P1 12 users, 50.00 % replaced by 99.50 %; P2 0 users, 90 %; P3 5 users, 97.25 %
    usage(p1["id"], day(0), 3, 50)
    usage(p1["id"], day(0), 12, 99.5)
    usage(p2["id"], day(0), 0, 90)
    usage(p3["id"], day(0), 5, 97.25)

    # P1 rectifications: closed before its deadline (on time); past its deadline, open (late)
    r_ok = pf.rectification(p1["id"], f"{YEAR}-12-31T00:00:00Z" if TODAY < datetime.date(YEAR, 12, 31)
                            else at(day(0), 23))
    close_rectification(r_ok["id"], app_a)
    pf.rectification(p1["id"], at(day(10)))
    # P1 information requests: answered before due (on time), answered after due (late),
    # past due and unanswered (late), due next year (not counted)
    q_ok = pf.info_request(p1["id"], f"{YEAR}-12-31")
    answer(q_ok["id"], app_a)
    q_late = pf.info_request(p1["id"], day(5))
    answer(q_late["id"], app_a)
    pf.info_request(p1["id"], day(3))
    pf.info_request(p1["id"], f"{YEAR + 1}-01-15")
    return _state


# What each project's components must be this year, exactly, with the arithmetic.
def expected():
    return {
        "p1": {
            "usage": (100, 1, 1),  # today in operation, today's live sample has 12 users: 1/1
            "availability": (Fraction(995, 10), 1, None),  # the one live sample (the 50 % one was replaced)
            "spot_checks": (Fraction(200, 3), 3, 2),  # pass, pass, issues_found this year: 2/3
            "rectifications_on_time": (50, 2, 1),  # closed on time; past deadline and open: 1/2
            "milestones_on_time": (50, 2, 1),  # due this year: one on time, one late: 1/2
            "info_requests_on_time": (Fraction(100, 3), 3, 1),  # on time; late; unanswered past due: 1/3
            "backup_freshness": (100, 1, 1),  # today: newest backup 3 days old (<= 7): 1/1
        },
        "p2": {
            "usage": (0, 1, 0),  # today's sample shows 0 users: 0/1
            "availability": (90, 1, None),
            "spot_checks": (100, 1, 1),
            "rectifications_on_time": (None, 0, 0),
            "milestones_on_time": (None, 0, 0),  # due in 2030
            "info_requests_on_time": (None, 0, 0),
            "backup_freshness": (0, 1, 0),  # newest backup 30 days old: 0/1
        },
        "p3": {
            "usage": (100, 1, 1),
            "availability": (Fraction(9725, 100), 1, None),
            "spot_checks": (100, 2, 2),
            "rectifications_on_time": (None, 0, 0),
            "milestones_on_time": (None, 0, 0),
            "info_requests_on_time": (None, 0, 0),
            "backup_freshness": (100, 1, 1),  # taken today
        },
    }


# P1 = (20*100 + 20*99.5 + 15*66.67 + 15*50 + 10*50 + 10*33.33 + 10*100) / 100
#    = (2000 + 1990 + 1000 + 750 + 500 + 333.33 + 1000) / 100 = 7573.33 / 100 = 75.7333 → 75.7
P1_SCORE = 75.7
# P2 = (20*0 + 20*90 + 15*100 + 10*0) / (20 + 20 + 15 + 10) = 3300 / 65 = 50.769 → 50.8
P2_SCORE = 50.8
# P3 = (20*100 + 20*97.25 + 15*100 + 10*100) / 65 = (2000 + 1945 + 1500 + 1000) / 65 = 6445 / 65 = 99.154 → 99.2
P3_SCORE = 99.2
# A = (75.7 + 50.8) / 2 = 63.25 → 63.3 (half up);  B = 99.2 (P4 has no score: not counted)
A_SCORE = 63.3
B_SCORE = 99.2


def project_eval(pid, year=None, token=None):
    q = f"?year={year}" if year is not None else ""
    return expect(http("GET", f"/evaluations/projects/{pid}{q}", token=token or it()), 200)


def dept_eval(did, year=None, token=None):
    q = f"?year={year}" if year is not None else ""
    return expect(http("GET", f"/evaluations/departments/{did}{q}", token=token or it()), 200)


def components(body):
    return {c["name"]: c for c in body["components"]}


def matches(body, want):
    """Whether every component has the expected value, counted and met."""
    got = components(body)
    for name, (value, counted, met) in want.items():
        c = got[name]
        if c["value"] != (None if value is None else r2(value)):
            return False
        if c["evidence"]["counted"] != counted or c["evidence"]["met"] != met:
            return False
    return True


def settled(pid, want):
    """The project's evaluation once the audit service has read every event."""
    last = {}

    def check():
        last["b"] = project_eval(pid)
        return last["b"] if matches(last["b"], want) else None
    try:
        return poll(check, SETTLE_S, f"evaluation of project {pid}", interval=0.5)
    except AssertionError:
        got = {c["name"]: (c["value"], c["evidence"]["counted"], c["evidence"]["met"])
               for c in last["b"]["components"]}
        raise AssertionError(f"project {pid}: components {got}, want {want}") from None


# ---- the tests ------------------------------------------------------------------------


def test_project_components_and_scores_are_exactly_the_hand_computed_ones():
    s = scene()
    want = expected()
    for key, score in (("p1", P1_SCORE), ("p2", P2_SCORE), ("p3", P3_SCORE)):
        b = settled(s[key], want[key])
        assert b["project_id"] == s[key] and b["year"] == YEAR, b
        assert b["department_id"] == (s["da"] if key in ("p1", "p2") else s["db"]), b
        assert [c["name"] for c in b["components"]] == list(NAMES), b
        assert all(c["weight"] == WEIGHTS[c["name"]] for c in b["components"]), b
        assert b["score"] == score, f"{key}: score {b['score']}, want {score}"
        # the score is the weighted mean of the exact values
        assert weighted({n: v for n, (v, _, _) in want[key].items()}) == score
    # the year defaults to the current one
    assert project_eval(s["p1"], YEAR) == project_eval(s["p1"])


def test_every_component_lists_its_evidence():
    s = scene()
    b = settled(s["p1"], expected()["p1"])
    c = components(b)
    log = entries(token=it(), subject=f"projects/{s['p1']}")
    seqs = lambda t: sorted(e["seq"] for e in log if e["type"] == t)  # noqa: E731
    # the spot checks of this year: the first three recorded (the fourth is dated last year)
    assert c["spot_checks"]["evidence"]["seqs"] == seqs("itgov.project.spot_check.recorded")[:3], c["spot_checks"]
    assert c["backup_freshness"]["evidence"]["seqs"] == seqs("itgov.backup.recorded"), c["backup_freshness"]
    assert c["backup_freshness"]["evidence"]["dates"] == [day(0)], c["backup_freshness"]
    # days in operation: the go-live event is where operation began; today is the one day
    assert seqs("itgov.project.went_live")[0] in c["usage"]["evidence"]["seqs"], c["usage"]
    assert c["usage"]["evidence"]["dates"] == [day(0)], c["usage"]
    assert c["availability"]["evidence"]["dates"] == [day(0)], c["availability"]
    # milestones: the completion events of the two due this year
    done = [e for e in log if e["type"] == "itgov.project.milestone.completed"]
    due = sorted(e["seq"] for e in done if e["data"]["milestone"]["due_date"].startswith(str(YEAR)))
    assert c["milestones_on_time"]["evidence"]["seqs"] == due, (c["milestones_on_time"], done)
    # rectifications and information requests: one event per counted record, of its kind
    rect = entries(token=it(), type_prefix="itgov.rectification.")
    assert set(c["rectifications_on_time"]["evidence"]["seqs"]) <= {e["seq"] for e in rect}
    assert len(c["rectifications_on_time"]["evidence"]["seqs"]) == 2
    infos = entries(token=it(), type_prefix="itgov.info_request.")
    assert set(c["info_requests_on_time"]["evidence"]["seqs"]) <= {e["seq"] for e in infos}
    assert len(c["info_requests_on_time"]["evidence"]["seqs"]) == 3
    # a null component has empty evidence
    p2 = components(settled(s["p2"], expected()["p2"]))
    assert p2["milestones_on_time"]["evidence"] == {"counted": 0, "met": 0, "seqs": [], "dates": []}


def test_suggestions_name_each_weak_component():
    s = scene()
    b = settled(s["p1"], expected()["p1"])
    # weak (below 60): rectifications 50, milestones 50, information requests 33.33
    assert [x.split(" ")[0] for x in b["suggestions"]] == [
        "rectifications_on_time", "milestones_on_time", "info_requests_on_time"], b["suggestions"]
    assert all(x.endswith(".") for x in b["suggestions"]), b["suggestions"]
    # P3 has none weak
    assert settled(s["p3"], expected()["p3"])["suggestions"] == []


def test_last_year_has_no_day_in_operation_and_its_own_spot_check():
    s = scene()
    settled(s["p1"], expected()["p1"])
    b = project_eval(s["p1"], YEAR - 1)
    c = components(b)
    # went live this year: no day in operation last year, so usage and backups are null;
    # the one spot check dated last year passed: 1/1 → score 100.0 (its only component)
    assert c["usage"]["value"] is None and c["usage"]["evidence"]["counted"] == 0, c["usage"]
    assert c["backup_freshness"]["value"] is None, c["backup_freshness"]
    assert c["availability"]["value"] is None, c["availability"]
    assert (c["spot_checks"]["value"], c["spot_checks"]["evidence"]["counted"]) == (100, 1), c["spot_checks"]
    assert b["score"] == 100.0 and b["year"] == YEAR - 1, b
    # a year with nothing: every component null, no score, no suggestion
    b = project_eval(s["p1"], 1990)
    assert b["score"] is None and all(x["value"] is None for x in b["components"]) and not b["suggestions"], b


def test_a_day_that_ends_suspended_is_not_in_operation_and_a_resume_counts_it_again():
    """A project in operation suspended through the real path (an overdue
    rectification, its escalation decided `suspend`) today: today ends
    suspended, so it has no day in operation this year (usage and backups
    null); resumed the same day, today counts again."""
    with department_applicant(make_department()["id"]):
        p = live_project()
    pid = p["id"]
    usage(pid, day(0), 4, 80)
    backup(pid, at(day(1)))
    rid = pf.overdue_rectification(p)["id"]  # deadline just past, made overdue by the scan
    case = poll(lambda: next((c for c in expect(http(
        "GET", f"/approvals?subject=projects/{pid}&kind=escalation&state=open&limit=100", token=it()),
        200)["items"] if c["data"].get("rectification_id") == rid), None), 10, "the escalation case")
    expect(pf.decide(case["id"], "suspend"), 200)
    pf.wait_state(pid, "suspended", timeout=5)
    # usage, backup_freshness: no day in operation → null; availability: the sample (80);
    # rectifications: one past its deadline, not closed → 0/1
    # score = (20*80 + 15*0) / (20 + 15) = 1600 / 35 = 45.714 → 45.7
    b = settled(pid, {"usage": (None, 0, 0), "availability": (80, 1, None), "spot_checks": (None, 0, 0),
                      "rectifications_on_time": (0, 1, 0), "backup_freshness": (None, 0, 0)})
    assert b["score"] == 45.7, b
    assert [x.split(" ")[0] for x in b["suggestions"]] == ["rectifications_on_time"], b["suggestions"]
    # resumed: back in operation at the end of today → one day in operation, used, backup fresh
    expect(http("POST", f"/projects/{pid}/resume", {"reason": "整改已完成，申请恢复"}, token=it()), 202)
    rc = poll(lambda: next((c for c in expect(http(
        "GET", f"/approvals?subject=projects/{pid}&kind=escalation&state=open&limit=100", token=it()),
        200)["items"] if c["variant"] == "resume"), None), 10, "the resume case")
    expect(pf.decide(rc["id"], "resume"), 200)
    pf.wait_state(pid, "in_operation", timeout=5)
    # score = (20*100 + 20*80 + 15*0 + 10*100) / (20 + 20 + 15 + 10) = 4600 / 65 = 70.769 → 70.8
    b = settled(pid, {"usage": (100, 1, 1), "availability": (80, 1, None),
                      "rectifications_on_time": (0, 1, 0), "backup_freshness": (100, 1, 1)})
    assert b["score"] == 70.8, b
    log = entries(token=it(), subject=f"projects/{pid}")
    moves = [e["seq"] for e in log if e["type"] in (
        "itgov.project.went_live", "itgov.project.suspended", "itgov.project.resumed")]
    assert components(b)["usage"]["evidence"]["seqs"] == moves, (components(b)["usage"], moves)


def test_department_scores_are_the_mean_of_their_projects():
    s = scene()
    want = expected()
    for key in ("p1", "p2", "p3"):
        settled(s[key], want[key])
    a = dept_eval(s["da"])
    assert a["department_id"] == s["da"] and a["year"] == YEAR, a
    assert a["projects"] == [{"project_id": s["p1"], "score": P1_SCORE},
                             {"project_id": s["p2"], "score": P2_SCORE}], a["projects"]
    assert a["score"] == A_SCORE == r1((Fraction("75.7") + Fraction("50.8")) / 2), a
    ca = components(a)
    # each component: the mean over the projects that have it
    assert ca["usage"]["value"] == 50  # (100 + 0) / 2
    assert ca["availability"]["value"] == 94.75  # (99.5 + 90) / 2
    assert ca["spot_checks"]["value"] == r2((Fraction(200, 3) + 100) / 2)  # 83.33
    assert ca["rectifications_on_time"]["value"] == 50  # P1 only
    assert ca["info_requests_on_time"]["value"] == 33.33  # P1 only
    assert ca["backup_freshness"]["value"] == 50  # (100 + 0) / 2
    assert ca["usage"]["evidence"]["projects"] == [{"project_id": s["p1"], "value": 100},
                                                   {"project_id": s["p2"], "value": 0}], ca["usage"]
    assert [x.split(" ")[0] for x in a["suggestions"]] == [
        "usage", "rectifications_on_time", "milestones_on_time", "info_requests_on_time",
        "backup_freshness"], a["suggestions"]
    b = dept_eval(s["db"])
    # P4 never left draft: no score, not one of B's scored projects
    assert b["projects"] == [{"project_id": s["p3"], "score": P3_SCORE}], b["projects"]
    assert b["score"] == B_SCORE, b
    # no projects at all: null
    empty = make_department()["id"]  # 404 until the audit service has read its creation
    e = poll(lambda: (lambda r: r.body if r.status == 200 else None)(
        http("GET", f"/evaluations/departments/{empty}", token=it())), SETTLE_S, "the new department")
    assert e["score"] is None and e["projects"] == [] and e["suggestions"] == [], e


def test_publish_twice_makes_two_versions_and_both_are_listed():
    s = scene()
    for key in ("p1", "p2"):
        settled(s[key], expected()[key])
    r1_ = http("POST", f"/evaluations/departments/{s['da']}/publish?year={YEAR}", token=it())
    v1 = expect(r1_, 201)
    assert r1_.header("Location") == f"/api/v1/evaluations/departments/{s['da']}/published?year={YEAR}", r1_
    v2 = expect(http("POST", f"/evaluations/departments/{s['da']}/publish", token=it()), 201)
    assert (v1["version"], v2["version"]) == (1, 2), (v1, v2)
    for v in (v1, v2):
        assert v["year"] == YEAR and v["department_id"] == s["da"] and v["score"] == A_SCORE, v
        assert v["weights"] == WEIGHTS and v["published_by"] == pf.users()["it"]["id"], v
        assert [c["name"] for c in v["components"]] == list(NAMES), v
    listed = expect(http("GET", f"/evaluations/departments/{s['da']}/published?year={YEAR}", token=it()), 200)
    assert [x["version"] for x in listed["items"]] == [1, 2] and listed["next_cursor"] is None, listed
    assert listed["items"] == [v1, v2], listed
    # another year has its own versions
    other = expect(http("POST", f"/evaluations/departments/{s['da']}/publish?year={YEAR - 1}", token=it()), 201)
    # last year: P1's one spot check dated then passed (100.0); P2 had nothing (no score)
    assert other["version"] == 1 and other["score"] == 100.0, other
    assert other["projects"] == [{"project_id": s["p1"], "score": 100.0}], other
    every = expect(http("GET", f"/evaluations/departments/{s['da']}/published", token=pf.tok("auditor")), 200)
    assert [(x["year"], x["version"]) for x in every["items"]] == [(YEAR, 1), (YEAR, 2), (YEAR - 1, 1)], every
    page = expect(http("GET", f"/evaluations/departments/{s['da']}/published?limit=1", token=it()), 200)
    assert len(page["items"]) == 1 and page["next_cursor"], page
    # each publication is an event in the log
    ev = poll(lambda: (lambda x: x if len(x) >= 3 else None)(
        entries(token=it(), subject=f"evaluations/departments/{s['da']}")), SETTLE_S, "the published events")
    assert [e["type"] for e in ev] == ["itgov.evaluation.published"] * 3, ev
    assert [e["data"]["version"] for e in ev] == [1, 2, 1], ev


def test_published_records_are_never_changed_nor_deleted():
    s = scene()
    expect(http("POST", f"/evaluations/departments/{s['da']}/publish?year=1990", token=it()), 201)
    # even the PostgreSQL superuser: the triggers refuse
    for sql in (f"DELETE FROM audit.evaluations WHERE department_id = {s['da']}",
                f"UPDATE audit.evaluations SET score = 1 WHERE department_id = {s['da']}"):
        try:
            psql(sql)
        except AssertionError:
            continue
        raise AssertionError(f"{sql}: not refused")
    n = psql(f"SELECT count(*) FROM audit.evaluations WHERE department_id = {s['da']} AND year = 1990").strip()
    assert n == "1", n


def test_concurrent_publications_get_distinct_versions():
    s = scene()
    dept = s["db"]
    got, errs = [], []

    def one():
        r = http("POST", f"/evaluations/departments/{dept}/publish?year={YEAR}", token=it())
        (got if r.status == 201 else errs).append(r.body.get("version") if r.status == 201 else r)
    ts = [threading.Thread(target=one) for _ in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errs, errs
    assert sorted(got) == [1, 2, 3, 4, 5, 6], got
    listed = expect(http("GET", f"/evaluations/departments/{dept}/published?year={YEAR}", token=it()), 200)
    assert sorted(x["version"] for x in listed["items"]) == [1, 2, 3, 4, 5, 6], listed


def test_who_may_read_and_publish():
    s = scene()
    p1, da, db = s["p1"], s["da"], s["db"]
    # readers: the IT office, auditors, admins, secretaries; applicants of the department
    for role in ("it", "auditor", "secretary"):
        expect(http("GET", f"/evaluations/projects/{p1}", token=pf.tok(role)), 200)
        expect(http("GET", f"/evaluations/departments/{da}", token=pf.tok(role)), 200)
    expect(http("GET", f"/evaluations/projects/{p1}", token=s["app_a"]["token"]), 200)
    expect(http("GET", f"/evaluations/departments/{da}", token=s["app_a"]["token"]), 200)
    expect(http("GET", f"/evaluations/departments/{da}/published", token=s["app_a"]["token"]), 200)
    # an applicant of another department: the project is hidden (404), the department refused (403)
    expect(http("GET", f"/evaluations/projects/{p1}", token=s["app_b"]["token"]), 404, "not_found")
    expect(http("GET", f"/evaluations/departments/{da}", token=s["app_b"]["token"]), 403, "forbidden")
    expect(http("GET", f"/evaluations/departments/{da}/published", token=s["app_b"]["token"]), 403, "forbidden")
    # experts read nothing; no token: 401
    expect(http("GET", f"/evaluations/projects/{p1}", token=pf.tok("expert")), 403, "forbidden")
    expect(http("GET", f"/evaluations/departments/{da}", token=pf.tok("expert")), 403, "forbidden")
    expect(http("GET", f"/evaluations/departments/{da}"), 401, "unauthorized")
    # publishing: the IT office only
    for tok in (pf.tok("auditor"), pf.tok("secretary"), s["app_a"]["token"], pf.tok("expert")):
        expect(http("POST", f"/evaluations/departments/{db}/publish", token=tok), 403, "forbidden")
    expect(http("POST", f"/evaluations/departments/{db}/publish"), 401, "unauthorized")


def test_bad_year_and_bad_ids_are_refused():
    s = scene()
    p1, da = s["p1"], s["da"]
    for bad in ("abc", "1899", "2201", "2026.5", "", "02026"):
        validation(http("GET", f"/evaluations/projects/{p1}?year={bad}", token=it()), "year")
        validation(http("GET", f"/evaluations/departments/{da}?year={bad}", token=it()), "year")
        validation(http("POST", f"/evaluations/departments/{da}/publish?year={bad}", token=it()), "year")
        validation(http("GET", f"/evaluations/departments/{da}/published?year={bad}", token=it()), "year")
    validation(http("GET", f"/evaluations/departments/{da}/published?limit=0", token=it()), "limit")
    validation(http("GET", f"/evaluations/departments/{da}/published?cursor=x", token=it()), "cursor")
    # ids: not an id, or no such project / department in the log (404 before 400)
    for path in ("/evaluations/projects/abc", "/evaluations/projects/0", "/evaluations/projects/999999999",
                 "/evaluations/departments/01", "/evaluations/departments/999999999",
                 "/evaluations/departments/999999999?year=abc",
                 "/evaluations/departments/999999999/published"):
        expect(http("GET", path, token=it()), 404, "not_found")
    for path in ("/evaluations/departments/999999999/publish", "/evaluations/departments/abc/publish",
                 "/evaluations/departments/999999999/publish?year=abc"):
        expect(http("POST", path, token=it()), 404, "not_found")
    # a refused publication published nothing
    listed = expect(http("GET", f"/evaluations/departments/{da}/published?year=1991", token=it()), 200)
    assert listed["items"] == [], listed
    # an applicant of another department with a bad year: 403 first
    problem(http("GET", f"/evaluations/departments/{da}?year=abc", token=s["app_b"]["token"]), 403, "forbidden")
