/*
 * Deliverables (article 11): the six documents an implementing project
 * hands over. A later one of a kind is its next version and supersedes the
 * earlier ones without erasing them: the list shows the current version of
 * each kind, ?all=true every version. Versions come from a per-kind counter
 * bumped in the same statement as the insert, so concurrent adds of one
 * kind get distinct, consecutive versions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/service.h"
#include "projects.h"

const char *const deliverable_kinds[] = {
    "install_manual",  "user_manual", "admin_manual", "developer_manual", "test_report",
    "training_record", NULL};

/* ---- add ---------------------------------------------------------------------- */

/* columns: doc, (unused), id, the project's state now */
static void s_on_added(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQgetisnull(res, 0, 0)) /* the project moved meanwhile */
        return reply_invalid_state(r, "project", PQgetvalue(res, 0, 3),
                                   "given a deliverable (it must be implementing)");
    reply_created_at(r, res, 0, "/api/v1/projects/%s/deliverables?all=true", req_param(r, "id"));
}

static void s_on_add_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    const cJSON *body = project_action_body(r, res, err);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *kind = fields_enum(&f, "kind", F_REQUIRED, deliverable_kinds);
    const char *title = fields_str(&f, "title", F_REQUIRED, 1, 200);
    const char *uri = fields_uri(&f, "uri", F_REQUIRED);
    const char *sha = fields_sha256(&f, "sha256", F_REQUIRED);
    static const char *const known[] = {"kind", "title", "uri", "sha256", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);

    const char *state = PQgetvalue(res, 0, PROJECT_STATE);
    if (strcmp(state, "implementing") != 0)
        return reply_invalid_state(r, "project", state,
                                   "given a deliverable (it must be implementing)");

    char ids[24], actor[24];
    id_text(ids, atoll(req_param(r, "id")));
    id_text(actor, r->user->id);
    const char *params[] = {ids, kind, title, uri, sha, actor};
    db_query(req_service(r)->db,
             "WITH p AS (SELECT id FROM projects WHERE id = $1 AND state = 'implementing' "
             "FOR SHARE), "
             "v AS (INSERT INTO deliverable_versions (project_id, kind, last_version) "
             "SELECT p.id, $2, 1 FROM p ON CONFLICT (project_id, kind) DO UPDATE "
             "SET last_version = deliverable_versions.last_version + 1 RETURNING last_version), "
             "d AS (INSERT INTO deliverables (project_id, kind, version, title, uri, sha256, "
             "author_id) SELECT p.id, $2, v.last_version, $3, $4, $5, $6::bigint FROM p, v "
             "RETURNING *), "
             "e AS (SELECT emit('itgov.project.deliverable.added', 'projects/' || d.project_id, "
             "$6::bigint, deliverable_doc(d)) AS n FROM d) "
             "SELECT (SELECT deliverable_doc(d)::text FROM d), NULL, (SELECT id FROM d), "
             "(SELECT state FROM projects WHERE id = $1), (SELECT count(*) FROM e)",
             6, params, s_on_added, r);
}

void deliverables_add(struct req *r)
{
    project_load(r, s_on_add_loaded);
}

/* ---- read ----------------------------------------------------------------------- */

/* The current version of each kind (?all=true: every version), by id, paged;
 * 404 when the project is not one the caller may see. */
void deliverables_list(struct req *r)
{
    long long id;
    const char *all; /* 404, then a bad ?all, then a bad page */
    if (!req_param_id(r, "id", &id) || !query_flag(r, "all", &all)) return;
    project_page(r,
                 PROJECT_PAGE_SQL("SELECT d.id AS k, deliverable_doc(d) AS doc FROM deliverables d "
                                  "WHERE d.project_id = p.id AND d.id > $8::bigint "
                                  "AND ($9::boolean OR NOT EXISTS (SELECT 1 FROM deliverables l "
                                  "WHERE l.project_id = d.project_id AND l.kind = d.kind "
                                  "AND l.version > d.version)) ORDER BY d.id LIMIT $7::int"),
                 &all, 1);
}
