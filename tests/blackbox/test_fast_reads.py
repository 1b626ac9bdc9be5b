"""Issue 15 P1: the project reads build their documents as text
(project_doc_text(), DB_PAGE_TEXT_SQL) instead of json_build_object() and
json_agg(). The answers must stay byte for byte what project_doc() and
DB_PAGE_SQL give: this compares them on projects with awkward text (quotes,
backslashes, control characters, non-ASCII, a suspended project), and on
every project the tests created before it."""
from client import expect, http
from client import psql as _psql
from projects_flow import create_project, tok

ORDER = 95  # late: the comparison covers the projects other tests made

def psql(sql):
    """In the projects schema: its functions call each other unqualified."""
    return _psql("SET search_path TO projects; " + sql)


AWKWARD = [
    {"title": 'say "hi" \\ back\\slash /', "summary": "line 1\nline 2\ttab \u0001 \u2028 </script>"},
    {"title": "门禁系统 é ü 😀", "summary": "", "plan_item_code": "PI-\"1\""},
    {"title": "", "summary": "\\u0000 is not a NUL, \\\" neither"},
]


def test_a_project_read_is_byte_for_byte_project_doc():
    for body in AWKWARD:
        p = create_project(**body)
        r = http("GET", f"/projects/{p['id']}", token=tok("applicant"))
        expect(r, 200)
        want = psql(f"SELECT projects.project_doc(p)::text FROM projects.projects p "
                    f"WHERE p.id = {int(p['id'])}").rstrip("\n")
        assert r.text == want, f"GET /projects/{p['id']} differs from project_doc():\n{r.text}\n{want}"
        assert r.body["title"] == body["title"] and r.body["summary"] == body["summary"]


def test_every_project_document_equals_project_doc():
    n = psql("SELECT count(*) FROM projects.projects").strip()
    assert int(n) >= len(AWKWARD), f"expected projects to compare, found {n}"
    differ = psql("SELECT p.id FROM projects.projects p "
                  "WHERE projects.project_doc_text(p) IS DISTINCT FROM projects.project_doc(p)::text "
                  "ORDER BY p.id LIMIT 5").split()
    assert not differ, f"project_doc_text() differs from project_doc() for projects {differ}"


def test_a_list_page_is_byte_for_byte_the_json_aggregate():
    """GET /projects (DB_PAGE_TEXT_SQL over project_doc_text) against
    DB_PAGE_SQL over project_doc, for the same page the caller sees."""
    for limit in (1, 3, 50):
        r = http("GET", f"/projects?limit={limit}", token=tok("it"))
        expect(r, 200)
        want = psql(
            "SELECT json_build_object('items', coalesce(json_agg(doc ORDER BY id), '[]'::json), "
            f"'next_cursor', CASE WHEN count(*) = {limit} THEN max(id)::text END)::text FROM "
            "(SELECT id, projects.project_doc(p) AS doc FROM projects.projects p "
            f"ORDER BY id LIMIT {limit}) page").rstrip("\n")
        assert r.text == want, f"GET /projects?limit={limit} differs from the json_agg page"
    last = psql("SELECT max(id) FROM projects.projects").strip()
    r = http("GET", f"/projects?limit=5&cursor={last}", token=tok("it"))
    expect(r, 200)
    assert r.text == '{"items" : [], "next_cursor" : null}', r.text
