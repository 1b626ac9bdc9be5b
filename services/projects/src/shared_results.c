/*
 * Shared results (article 26). The IT office publishes what a project
 * produced that others may reuse — a title, a summary, a URI — for the
 * university or the public (audience); every signed-in user reads every
 * shared result, whatever the project, filtered by project and audience. A
 * result can be shared for a project from `approved` on, except a
 * terminated one. Nothing shared is changed or removed.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/outbox.h"
#include "itgov/service.h"
#include "projects.h"
#include "supervision.h"

static const char *const s_audiences[] = {"university", "public", NULL};

/* 201, or the project's state refused (it left the supervised states meanwhile) */
static void s_on_created(void *arg, PGresult *res, struct error *err)
{
    reply_created_in_state(arg, res, err, "shared-results", "shared");
}

static void s_on_create_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    const cJSON *body = project_visible_body(r, res, err);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *title = fields_str(&f, "title", F_REQUIRED, 1, 200);
    const char *summary = fields_str(&f, "summary", F_REQUIRED, 1, 20000);
    const char *audience = fields_enum(&f, "audience", F_REQUIRED, s_audiences);
    const char *uri = fields_uri(&f, "uri", F_REQUIRED);
    static const char *const known[] = {"title", "summary", "audience", "uri", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);

    const char *state = PQgetvalue(res, 0, PROJECT_STATE);
    if (!supervised_state(state)) return reply_invalid_state(r, "project", state, "shared");
    char ids[24], actor[24];
    id_text(ids, atoll(req_param(r, "id")));
    id_text(actor, r->user->id);
    const char *params[] = {ids, title, summary, audience, uri, actor, supervised_states_sql};
    db_query(req_service(r)->db,
             "WITH p AS (SELECT id, department_id, state FROM projects WHERE id = $1), "
             "s AS (INSERT INTO shared_results (project_id, department_id, title, summary, "
             "audience, uri, published_by) SELECT p.id, p.department_id, $2, $3, $4, $5, "
             "$6::bigint FROM p WHERE p.state = ANY($7::text[]) RETURNING *), "
             "e AS (SELECT emit('itgov.shared_result.published', 'shared-results/' || s.id, "
             "$6::bigint, shared_result_doc(s)) AS n FROM s) "
             "SELECT shared_result_doc(s)::text, s.version, s.id, p.state, "
             "(SELECT count(*) FROM e) FROM p LEFT JOIN s ON true",
             7, params, s_on_created, r);
}

void shared_results_create(struct req *r)
{
    project_load(r, s_on_create_loaded);
}

/* Every shared result, oldest first, of one project ($3) and audience ($4)
 * when asked: every signed-in user. */
void shared_results_list(struct req *r)
{
    int limit;
    long long cursor;
    if (!req_page(r, &limit, &cursor)) return;
    const char *audience = req_query(r, "audience");
    struct error *e = NULL;
    bool known = false;
    for (const char *const *a = s_audiences; audience && *a; a++)
        known = known || strcmp(*a, audience) == 0;
    if (audience && !known) query_fail(&e, "audience", "must be university or public");
    long long pid = 0;
    req_query_int(r, "project_id", 1, LLONG_MAX, "must be a project id", &pid, &e);
    if (e) return reply_error(r, e);
    char c[24], l[16];
    id_text(c, cursor);
    snprintf(l, sizeof l, "%d", limit);
    const char *params[] = {c, l, req_query(r, "project_id"), audience};
    db_query(req_service(r)->db,
             DB_PAGE_SQL("SELECT s.id, shared_result_doc(s) AS doc FROM shared_results s "
                         "WHERE s.id > $1 AND ($3::bigint IS NULL OR s.project_id = $3::bigint) "
                         "AND ($4::text IS NULL OR s.audience = $4) ORDER BY s.id LIMIT $2"),
             4, params, reply_row, r);
}

void shared_results_get(struct req *r)
{
    id_query(r,
             "SELECT shared_result_doc(s)::text, s.version FROM shared_results s WHERE s.id = $1",
             reply_one_etag);
}
