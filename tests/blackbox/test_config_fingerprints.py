"""Configuration fingerprints of a governed system (issue 14 C, articles
15-16), through the gateway with the real services.

A system in operation posts, with a system key holding the scope `config`,
the SHA-256 of a component of its configuration. The first one of a
component is its baseline; a later one that differs with no change of the
project reported implemented in between raises `unauthorized_config_change`
(its event, evidence: the fingerprint's event); an implemented change in
between explains it; a change that declared the component's sha256
(`config_sha256` of its implemented report) must be matched, else
`config_differs_from_change`. A key of another project or without the scope
is 403; every bad field is 400, on both sides (the fingerprint, and the
change's `config_sha256`).

The audit service learns the implemented changes from its own log: after
reporting a change implemented, the tests wait until its event is in the log
before posting the next fingerprint."""
import hashlib
from concurrent.futures import ThreadPoolExecutor

from client import expect, http, poll, problem, sfx, validation
import projects_flow
from projects_flow import halted_project, in_operation_project, open_case, review, tok
from test_changes import change_body, wait_change
from test_findings import task_of

ORDER = 66
_cache = {}


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def audit_items(query):
    return expect(http("GET", f"/audit?{query}&limit=200", token=tok("it")), 200)["items"]


def audit_state(pid):
    """The project's state as audit knows it: its newest project event's."""
    states = [e["data"]["state"] for e in audit_items(f"subject=projects/{pid}&type_prefix=itgov.project.")
              if isinstance(e.get("data"), dict) and e["data"].get("id") == pid
              and "state" in e["data"] and "department_id" in e["data"]]
    return states[-1] if states else None


def live_project(name="p"):
    """A project in operation that audit knows as such (made once per name)."""
    if name not in _cache:
        p = in_operation_project()
        poll(lambda: audit_state(p["id"]) == "in_operation", 10,
             f"audit knowing project {p['id']} in operation", interval=0.1)
        _cache[name] = p
    return _cache[name]


def issue_key(pid, scopes):
    """(key_id, key) of a new system key of the project with these scopes."""
    helper = getattr(projects_flow, "system_key", None)
    if helper is not None:
        return helper(None, pid, scopes)
    k = expect(http("POST", f"/projects/{pid}/system-keys", {"scopes": scopes}, token=tok("it")), 201)
    return k["key_id"], k["key"]


def config_key(name="p"):
    """A key with the scope config of live_project(name) (made once)."""
    if ("key", name) not in _cache:
        _cache[("key", name)] = issue_key(live_project(name)["id"], ["config"])
    return _cache[("key", name)]


def body(component, digest, **kw):
    b = {"component": component, "sha256": digest, "observed_at": "2026-11-30T08:00:00Z"}
    b.update(kw)
    return b


def post(pid, b, key):
    return http("POST", f"/systems/{pid}/config-fingerprints", b, token=key)


def fingerprint(component, digest, name="p"):
    """Posts a fingerprint with config_key(name): the 201 record."""
    p = live_project(name)
    f = expect(post(p["id"], body(component, digest), config_key(name)[1]), 201)
    assert f["project_id"] == p["id"] and f["component"] == component and f["sha256"] == digest, f
    assert f["key_id"] == config_key(name)[0], f
    return f


def implemented_change(pid, **kw):
    """A change of the project approved by the review and reported implemented
    (kw: the report's extra members, e.g. config_sha256), once its
    itgov.change.implemented event is in the audit log. Returns the change."""
    c = expect(http("POST", f"/projects/{pid}/changes", change_body(), token=tok("applicant")), 201)
    case = open_case(f"changes/{c['id']}")
    expect(review(case["id"], "pass"), 200)
    wait_change(c["id"], "approved")
    b = {"implemented_at": "2026-12-10T09:30:00Z", "test_evidence_uri": "https://docs.example.edu/tests/" + sfx()}
    b.update(kw)
    done = expect(http("POST", f"/changes/{c['id']}/implemented", b, token=tok("applicant")), 200)
    poll(lambda: audit_items(f"subject=changes/{c['id']}&type_prefix=itgov.change.implemented"), 10,
         f"changes/{c['id']}'s itgov.change.implemented in the audit log", interval=0.1)
    return done


def events_of(pid, type_):
    return audit_items(f"subject=projects/{pid}&type_prefix={type_}")


def event_where(pid, type_, pred, what):
    return poll(lambda: next((e for e in events_of(pid, type_) if pred(e["data"])), None), 10, what,
                interval=0.1)


def component():
    return "/etc/nginx/nginx.conf " + sfx()


# ---- the rule ------------------------------------------------------------------------------


def test_a_baseline_then_a_change_nothing_explains_is_unauthorized():
    p = live_project()
    comp = component()
    base = fingerprint(comp, sha("v1"))
    assert base["previous_id"] is None and base["previous_sha256"] is None and base["finding"] is None, base
    # the same configuration again: nothing to say
    same = fingerprint(comp, sha("v1"))
    assert same["previous_id"] == base["id"] and same["finding"] is None, same
    # another component's baseline says nothing about this one
    assert fingerprint(component(), sha("v9"))["finding"] is None
    changed = fingerprint(comp, sha("v2"))
    assert changed["previous_id"] == same["id"] and changed["previous_sha256"] == sha("v1"), changed
    f = changed["finding"]
    assert f and f["kind"] == "unauthorized_config_change" and f["status"] == "open", changed
    assert f["project_id"] == p["id"] and f["resolved_at"] is None, f
    assert f["detail"] == {"component": comp, "previous_sha256": sha("v1"), "sha256": sha("v2"),
                           "change_ids": [], "fingerprint_id": changed["id"],
                           "previous_fingerprint_id": same["id"]}, f
    # the events: the fingerprint's (actor null: a system key), then the finding's, whose
    # evidence is the fingerprint's event
    obs = event_where(p["id"], "itgov.system.config.observed", lambda d: d["id"] == changed["id"],
                      "the fingerprint's itgov.system.config.observed")
    assert obs["actor_id"] is None and obs["data"]["sha256"] == sha("v2"), obs
    assert obs["data"]["previous_sha256"] == sha("v1") and "finding" not in obs["data"], obs
    raised = event_where(p["id"], "itgov.system.finding.raised", lambda d: d["id"] == f["id"],
                         "the finding's itgov.system.finding.raised")
    assert raised["actor_id"] is None and raised["data"]["kind"] == "unauthorized_config_change", raised
    assert raised["data"]["detail"] == f["detail"], raised

    # the findings list: the same finding, its evidence the fingerprint's log entry
    def listed():
        b = expect(http("GET", f"/systems/findings?project_id={p['id']}&kind=unauthorized_config_change"
                                "&limit=200", token=tok("auditor")), 200)
        mine = [x for x in b["items"] if x["id"] == f["id"]]
        return mine[0] if mine and mine[0]["evidence_seq"] is not None else None
    kept = poll(listed, 10, "the finding listed with its evidence_seq", interval=0.1)
    assert kept["evidence_seq"] == obs["seq"] and kept["detail"] == f["detail"], (kept, obs)
    # and a task for the IT office
    t = poll(lambda: task_of(f["id"]), 10, "the IT office's system_finding task", interval=0.1)
    assert t["project_id"] == p["id"] and "unauthorized_config_change" in t["title"], t
    # changing back is a change too
    back = fingerprint(comp, sha("v1"))
    assert back["finding"] and back["finding"]["kind"] == "unauthorized_config_change", back


def test_an_implemented_change_in_between_explains_the_difference():
    p = live_project()
    comp = component()
    base = fingerprint(comp, sha("a1"))
    c = implemented_change(p["id"])
    assert c["config_sha256"] == [], c
    after = fingerprint(comp, sha("a2"))
    assert after["previous_id"] == base["id"] and after["finding"] is None, after
    # that change explained one difference, not the next one
    again = fingerprint(comp, sha("a3"))
    assert again["finding"]["kind"] == "unauthorized_config_change", again
    assert again["finding"]["detail"]["change_ids"] == [], again


def test_a_declared_fingerprint_must_be_matched():
    p = live_project()
    comp, other = component(), component()
    fingerprint(comp, sha("b1"))
    fingerprint(other, sha("o1"))
    c = implemented_change(p["id"], config_sha256=[{"component": comp, "sha256": sha("b2")}])
    assert c["config_sha256"] == [{"component": comp, "sha256": sha("b2")}], c
    assert expect(http("GET", f"/changes/{c['id']}", token=tok("auditor")), 200)["config_sha256"] == \
        c["config_sha256"]
    # the event carries the declaration (audit judges by it)
    ev = audit_items(f"subject=changes/{c['id']}&type_prefix=itgov.change.implemented")[0]
    assert ev["data"]["config_sha256"] == c["config_sha256"] and ev["data"]["project_id"] == p["id"], ev
    # as declared: no finding; another component the change did not declare: explained by it
    assert fingerprint(comp, sha("b2"))["finding"] is None
    assert fingerprint(other, sha("o2"))["finding"] is None
    # a change declares b3; the system shows b4
    d = implemented_change(p["id"], config_sha256=[{"component": other, "sha256": sha("o3")},
                                                   {"component": comp, "sha256": sha("b3")}])
    got = fingerprint(comp, sha("b4"))
    f = got["finding"]
    assert f and f["kind"] == "config_differs_from_change", got
    assert f["detail"] == {"component": comp, "previous_sha256": sha("b2"), "sha256": sha("b4"),
                           "change_ids": [d["id"]], "fingerprint_id": got["id"],
                           "previous_fingerprint_id": got["previous_id"],
                           "declared_sha256": sha("b3"), "declared_by_change_id": d["id"]}, f
    # unchanged although a change declared a new fingerprint: differs too
    still = fingerprint(other, sha("o2"))
    assert still["finding"]["kind"] == "config_differs_from_change", still
    assert still["finding"]["detail"]["declared_sha256"] == sha("o3"), still
    # two changes declaring the component: the last declaration counts
    implemented_change(p["id"], config_sha256=[{"component": comp, "sha256": sha("b5")}])
    last = implemented_change(p["id"], config_sha256=[{"component": comp, "sha256": sha("b6")}])
    assert fingerprint(comp, sha("b6"))["finding"] is None
    implemented_change(p["id"], config_sha256=[{"component": comp, "sha256": sha("b7")}])
    implemented_change(p["id"], config_sha256=[{"component": comp, "sha256": sha("b8")}])
    got = fingerprint(comp, sha("b7"))
    assert got["finding"]["kind"] == "config_differs_from_change", got
    assert got["finding"]["detail"]["declared_sha256"] == sha("b8"), got
    assert last["id"] not in got["finding"]["detail"]["change_ids"], got


def test_parallel_fingerprints_of_a_component_form_one_chain():
    comp = component()
    base = fingerprint(comp, sha("c0"))
    with ThreadPoolExecutor(6) as pool:
        got = list(pool.map(lambda i: fingerprint(comp, sha(f"c{i + 1}")), range(6)))
    # each one judged against exactly one other: the previous ids form a single line
    prev = {f["id"]: f["previous_id"] for f in got}
    assert sorted(prev.values()) == sorted([base["id"]] + sorted(prev)[:-1]), prev
    by_id = {f["id"]: f for f in got}
    by_id[base["id"]] = base
    for f in got:
        assert f["previous_sha256"] == by_id[f["previous_id"]]["sha256"], f
        assert f["finding"]["kind"] == "unauthorized_config_change", f


def test_a_suspended_systems_fingerprints_are_still_taken():
    """Evidence, not acts: a suspended project's system still anchors its configuration."""
    s = live_project("s")
    _, key = config_key("s")
    comp = component()
    assert expect(post(s["id"], body(comp, sha("s1")), key), 201)["finding"] is None
    halted_project(s)
    got = expect(post(s["id"], body(comp, sha("s2")), key), 201)
    assert got["finding"]["kind"] == "unauthorized_config_change", got


# ---- refusals ------------------------------------------------------------------------------


def test_a_key_of_another_project_or_without_the_scope_is_403():
    p, q = live_project(), live_project("q")
    _, key = config_key()
    problem(post(q["id"], body(component(), sha("x")), key), 403, "forbidden")
    # before any check of the body
    problem(post(q["id"], {"component": ""}, key), 403, "forbidden")
    problem(post(999999999, body(component(), sha("x")), key), 403, "forbidden")
    # a key of the project without the scope config
    _, digests = issue_key(p["id"], ["log_digests", "metrics"])
    problem(post(p["id"], body(component(), sha("x")), digests), 403, "forbidden")
    # a person, whatever the role, is no system
    for role in ("it", "auditor", "applicant"):
        problem(post(p["id"], body(component(), sha("x")), tok(role)), 403, "forbidden")
    problem(post(p["id"], body(component(), sha("x")), None), 401, "unauthorized")
    forged = "itgk_" + "A" * 43
    problem(post(p["id"], body(component(), sha("x")), forged), 401, "unauthorized")
    problem(http("POST", "/systems/01/config-fingerprints", body(component(), sha("x")), token=key), 404,
            "not_found")
    # the key of the other project works for it
    expect(post(q["id"], body(component(), sha("y")), config_key("q")[1]), 201)


def test_every_bad_field_is_400():
    p = live_project()
    _, key = config_key()
    pid = p["id"]
    validation(post(pid, {}, key), "component", "sha256", "observed_at")
    validation(post(pid, {"component": "", "sha256": sha("x").upper(), "observed_at": "yesterday",
                          "extra": 1}, key), "component", "sha256", "observed_at", "extra")
    validation(post(pid, body("x" * 201, sha("x")[:63]), key), "component", "sha256")
    validation(post(pid, body(7, sha("x") + "0", observed_at="2026-11-30"), key),
               "component", "sha256", "observed_at")
    for bad in ("a\nb", "tab\there", "del\x7f", "c1\u0085"):
        validation(post(pid, body(bad, sha("x")), key), "component")
    validation(post(pid, ["not", "an", "object"], key), "")
    problem(http("POST", f"/systems/{pid}/config-fingerprints", raw=b"{", token=key), 400, "invalid_json")
    # 200 characters (not bytes) is fine, and nothing was stored by the refusals
    f = fingerprint("配" * 200, sha("ok"))
    assert f["previous_id"] is None, f


def test_the_changes_config_sha256_is_validated():
    p = live_project()
    c = expect(http("POST", f"/projects/{p['id']}/changes", change_body(), token=tok("applicant")), 201)
    cid = c["id"]

    def report(config):
        return http("POST", f"/changes/{cid}/implemented",
                    {"implemented_at": "2026-12-10T09:30:00Z",
                     "test_evidence_uri": "https://docs.example.edu/tests/x", "config_sha256": config},
                    token=tok("applicant"))
    # 400 comes before the state (the change is still pending)
    validation(report("nginx"), "config_sha256")
    validation(report({"component": "a", "sha256": sha("a")}), "config_sha256")
    validation(report([{"component": f"c{i}", "sha256": sha(str(i))} for i in range(51)]), "config_sha256")
    b = validation(report(["x", {"component": "", "sha256": "ABC"}, {"component": "a\nb", "sha256": sha("1")},
                           {"component": "dup", "sha256": sha("2")}, {"component": "dup", "sha256": sha("3")},
                           {"component": "y", "sha256": sha("4"), "note": "extra"}, {"sha256": sha("5")}]),
                   "config_sha256[0]", "config_sha256[1].component", "config_sha256[1].sha256",
                   "config_sha256[2].component", "config_sha256[4].component", "config_sha256[5]",
                   "config_sha256[6].component")
    named = {e["field"] for e in b["errors"]}
    assert "config_sha256[3].component" not in named, b  # the first of the two is fine
    # well formed: the state decides
    problem(report([{"component": "a", "sha256": sha("a")}]), 409, "invalid_state")
    problem(report(None), 409, "invalid_state")
    problem(report([]), 409, "invalid_state")
    case = open_case(f"changes/{cid}")
    expect(review(case["id"], "pass"), 200)
    wait_change(cid, "approved")
    validation(report([{"component": "a", "sha256": sha("a")}] * 2), "config_sha256[1].component")
    assert expect(http("GET", f"/changes/{cid}", token=tok("it")), 200)["status"] == "approved"
    fifty = [{"component": f"组件 {i}", "sha256": sha(str(i))} for i in range(50)]
    done = expect(report(fifty), 200)
    assert done["config_sha256"] == fifty and done["status"] == "implemented", done
