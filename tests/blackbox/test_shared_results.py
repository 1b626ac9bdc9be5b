"""Shared results (issue 12 A, article 26): the IT office shares what a
project produced with the university or the public; every signed-in user
reads every shared result (filtered by project and audience); refusals
(roles, states, validation, query)."""
import urllib.parse

from client import Subscriber, expect, http, problem, validation
from projects_flow import (approved_project, create_project, invalid_state, post_shared_result,
                           shared_result_body, tok, users)

ORDER = 64


def walk(path, token, limit, **query):
    """Every item of a filtered list, following next_cursor page by page."""
    items, cursor = [], None
    while True:
        q = dict(query, limit=limit, **({"cursor": cursor} if cursor else {}))
        b = expect(http("GET", f"{path}?{urllib.parse.urlencode(q)}", token=token), 200)
        assert len(b["items"]) <= limit
        items += b["items"]
        cursor = b["next_cursor"]
        if cursor is None:
            return items


def test_share_and_read_everywhere():
    with Subscriber("") as sub:
        sub.ready()
        p = approved_project()
        pid = p["id"]
        body = shared_result_body(title="接入规范", audience="public",
                                  uri="https://docs.example.edu/shared/spec.pdf")
        r = post_shared_result(pid, body)
        s = expect(r, 201)
        sid = s["id"]
        assert r.header("Location") == f"/api/v1/shared-results/{sid}"
        assert s["project_id"] == pid and s["department_id"] == users()["dept"]
        assert s["title"] == "接入规范" and s["audience"] == "public" and s["uri"] == body["uri"]
        assert s["summary"] == body["summary"] and s["published_by"] == users()["it"]["id"]
        ev = sub.wait(lambda e: e.get("type") == "itgov.shared_result.published"
                      and e.get("subject") == f"shared-results/{sid}", what="shared_result.published")[0]
        assert ev["data"] == s
        u = expect(post_shared_result(pid, shared_result_body(audience="university")), 201)

    # every signed-in user, another department's applicant and an expert included
    for role in ("other", "expert", "applicant", "auditor", "secretary", "it"):
        assert expect(http("GET", f"/shared-results/{sid}", token=tok(role)), 200) == s
        got = walk("/shared-results", tok(role), 1, project_id=pid)
        assert [x["id"] for x in got] == [sid, u["id"]]
    pub = walk("/shared-results", tok("other"), 50, project_id=pid, audience="public")
    assert [x["id"] for x in pub] == [sid]
    uni = walk("/shared-results", tok("other"), 50, project_id=pid, audience="university")
    assert [x["id"] for x in uni] == [u["id"]]
    everything = walk("/shared-results", tok("expert"), 200, audience="public")
    assert sid in {x["id"] for x in everything} and all(x["audience"] == "public" for x in everything)
    problem(http("GET", "/shared-results"), 401, "unauthorized")
    problem(http("GET", "/shared-results/999999999", token=tok("it")), 404, "not_found")
    validation(http("GET", "/shared-results?audience=everyone", token=tok("it")), "audience")
    validation(http("GET", "/shared-results?project_id=abc", token=tok("it")), "project_id")


def test_share_refusals_in_order():
    p = approved_project()
    pid = p["id"]
    for role in ("applicant", "secretary", "auditor", "expert"):
        problem(post_shared_result(pid, role=role), 403, "forbidden")
    problem(post_shared_result(999999999), 404, "not_found")
    b = validation(post_shared_result(pid, {"title": "", "summary": "", "audience": "world",
                                            "uri": "docs example", "x": 1}),
                   "title", "summary", "audience", "uri", "x")
    assert len(b["errors"]) == 5
    validation(post_shared_result(pid, {}), "title", "summary", "audience", "uri")
    validation(post_shared_result(pid, shared_result_body(title="题" * 201)), "title")
    draft = create_project()
    validation(post_shared_result(draft["id"], {}), "title")
    invalid_state(post_shared_result(draft["id"]), "draft")
