/*
 * Changes to a system in operation (article 15). An applicant of the owning
 * department submits one for a project in_operation, at a level: general or
 * major. The submission (itgov.change.submitted, subject changes/{cid})
 * opens an approvals case of kind `change`, its level the case's variant;
 * the case's events move the change (consumer.c, change_fsm in
 * project_fsm.c): a general change is approved by the IT office's review; a
 * major one passes the review to a meeting (minister_office or
 * joint_meeting), whose decision approves or rejects it; the review may
 * reclassify a general change as major (it then goes to a meeting too) or
 * reject either. Once approved, the department reports it implemented, with
 * when and the evidence of its tests, and optionally (issue 14 C) the SHA-256
 * of each configuration component as it is after the change (config_sha256):
 * the audit service holds the system's next fingerprint of that component to
 * it. Readers: whoever may see the project.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/outbox.h"
#include "itgov/service.h"
#include "project_fsm.h"
#include "projects.h"

#define PLAN_MAX      20000 /* characters of a requirement or test plan */
#define CONFIG_MAX    50    /* components a report declares */
#define COMPONENT_MAX 200   /* characters of a component's name */

static const char *const s_levels[] = {"general", "major", NULL};

/* ---- submit ------------------------------------------------------------------ */

static void s_on_created(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 2)) /* the project left in_operation */
        return reply_invalid_state(r, "project", PQntuples(res) ? PQgetvalue(res, 0, 3) : "unknown",
                                   "changed");
    char where[64];
    snprintf(where, sizeof where, "/api/v1/changes/%s", PQgetvalue(res, 0, 2));
    req_add_header(r, "Location", where);
    reply_doc_etag(r, 201, res);
}

static void s_on_create_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (!project_owner_checks(r, res)) return;
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *level = fields_enum(&f, "level", F_REQUIRED, s_levels);
    const char *title = fields_str(&f, "title", F_REQUIRED, 1, 200);
    const char *req_plan = fields_str(&f, "requirement_plan", F_REQUIRED, 1, PLAN_MAX);
    const char *test_plan = fields_str(&f, "test_plan", F_REQUIRED, 1, PLAN_MAX);
    static const char *const known[] = {"level", "title", "requirement_plan", "test_plan", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);

    const char *state = PQgetvalue(res, 0, PROJECT_STATE);
    if (project_halted_reply(r, state)) return;
    if (strcmp(state, "in_operation") != 0) {
        struct error *ie = error_new(
            ERR_INVALID_STATE, "changes apply to systems in operation; the project is %s", state);
        error_set(ie, "state", cJSON_CreateString(state));
        return reply_error(r, ie);
    }
    char ids[24], actor[24];
    id_text(ids, atoll(req_param(r, "id")));
    id_text(actor, r->user->id);
    const char *params[] = {ids, level, title, req_plan, test_plan, actor};
    /* one statement: the change (if the project is still in operation), its first transition
     * and the event that opens its case; else no document and the project's state */
    db_query(req_service(r)->db,
             "WITH p AS (SELECT id FROM projects WHERE id = $1 AND state = 'in_operation'), "
             "c AS (INSERT INTO changes (project_id, level, requested_level, title, "
             "requirement_plan, test_plan, created_by) "
             "SELECT p.id, $2, $2, $3, $4, $5, $6 FROM p RETURNING *), "
             "h AS (INSERT INTO transitions (subject, from_state, to_state, action, actor_id) "
             "SELECT 'changes/' || c.id, NULL, c.state, 'submit', $6 FROM c RETURNING 1), "
             "e AS (SELECT emit('itgov.change.submitted', 'changes/' || c.id, $6, "
             "change_event(c)) AS n FROM c) "
             "SELECT change_doc(c)::text, c.version, c.id, "
             "(SELECT state FROM projects WHERE id = $1), (SELECT count(*) FROM h), "
             "(SELECT count(*) FROM e) FROM (SELECT 1) one LEFT JOIN c ON true",
             6, params, s_on_created, r);
}

void changes_create(struct req *r)
{
    project_load(r, s_on_create_loaded);
}

/* ---- read --------------------------------------------------------------------------- */

/* The project's changes, oldest first, optionally of one status ($9);
 * 404 when the project is not visible. */
void changes_list(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    const char *status = req_query(r, "status");
    if (status && !fsm_has_state(&change_fsm, status)) {
        struct error *e = error_new(ERR_VALIDATION, "bad query parameters");
        error_add_field(e, "status", "is not a change status");
        return reply_error(r, e);
    }
    const char *extra[] = {status};
    project_page(r,
                 PROJECT_PAGE_SQL("SELECT c.id AS k, change_doc(c) AS doc FROM changes c "
                                  "WHERE c.project_id = p.id AND c.id > $8::bigint "
                                  "AND ($9::text IS NULL OR c.state = $9) ORDER BY c.id "
                                  "LIMIT $7::int"),
                 extra, 1);
}

void changes_get(struct req *r)
{
    project_query(r, "id", PROJECT_RECORD_SQL("changes", "change_doc"), NULL, 0, reply_one_etag);
}

/* ---- implemented ---------------------------------------------------------------------- */

static void s_on_state_reloaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    reply_invalid_state(r, "change", PQntuples(res) ? PQgetvalue(res, 0, 0) : "unknown",
                        "implemented");
}

static void s_on_implemented(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) { /* another request moved it first: say where it is now */
        const char *params[] = {req_param(r, "id")};
        return db_query(req_service(r)->db, "SELECT state FROM changes WHERE id = $1", 1, params,
                        s_on_state_reloaded, r);
    }
    reply_doc_etag(r, 200, res);
}

/* A component's name holds no control character (C0, DEL, C1): NULL, or why not. */
static const char *s_component_bad(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7F || (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F))
            return "must not hold control characters";
    return NULL;
}

/* One item of config_sha256: exactly {component, sha256}, a component named
 * once in the array (ctx: the array). */
static cJSON *s_config_item(struct fields *g, const cJSON *item, void *ctx)
{
    const cJSON *arr = ctx;
    const char *component = fields_str(g, "component", F_REQUIRED, 1, COMPONENT_MAX);
    const char *sha = fields_sha256(g, "sha256", F_REQUIRED);
    static const char *const known[] = {"component", "sha256", NULL};
    fields_only(g, known);
    const char *why = component ? s_component_bad(component) : NULL;
    if (why) fields_fail(g, "component", why);
    for (const cJSON *prev = arr->child; component && !why && prev != item; prev = prev->next) {
        const cJSON *pc =
            cJSON_IsObject(prev) ? cJSON_GetObjectItemCaseSensitive(prev, "component") : NULL;
        if (cJSON_IsString(pc) && strcmp(pc->valuestring, component) == 0) {
            fields_fail(g, "component", "appears twice in config_sha256");
            break;
        }
    }
    if (g->err) return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "component", component);
    cJSON_AddStringToObject(o, "sha256", sha);
    return o;
}

/* The optional config_sha256 as a JSON array text (caller frees; "[]" when
 * absent), or NULL with the bad fields recorded in f. */
static char *s_config_sha256(struct fields *f)
{
    const cJSON *v =
        cJSON_IsObject(f->obj) ? cJSON_GetObjectItemCaseSensitive(f->obj, "config_sha256") : NULL;
    const cJSON *arr = fields_array(f, "config_sha256", F_OPTIONAL);
    if (!arr && v && !cJSON_IsNull(v)) return NULL; /* not an array: named in f */
    if (arr && cJSON_GetArraySize(arr) > CONFIG_MAX) {
        fields_fail(f, "config_sha256", "must hold at most 50 components");
        return NULL;
    }
    if (!arr || !arr->child) { /* absent, null or empty: none declared */
        char *none = strdup("[]");
        if (!none) abort();
        return none;
    }
    cJSON *out = fields_each(f, "config_sha256", arr, s_config_item, (void *)arr);
    char *text = out ? cJSON_PrintUnformatted(out) : NULL;
    cJSON_Delete(out);
    return text;
}

/* columns of s_change_load */
enum { CHANGE_DEPT, CHANGE_STATE, CHANGE_VERSION, CHANGE_VISIBLE };

static void s_on_implement_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, CHANGE_VISIBLE), "t") != 0)
        return reply_error(r, error_new(ERR_NOT_FOUND, "no such change"));
    if (atoll(PQgetvalue(res, 0, CHANGE_DEPT)) != r->user->department_id)
        return reply_error(r, error_new(ERR_FORBIDDEN, "only applicants of the owning department "
                                                       "may report a change implemented"));
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *at = fields_instant(&f, "implemented_at", F_REQUIRED);
    const char *uri = fields_uri(&f, "test_evidence_uri", F_REQUIRED);
    char *config = s_config_sha256(&f);
    static const char *const known[] = {"implemented_at", "test_evidence_uri", "config_sha256",
                                        NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) {
        free(config);
        return reply_error(r, e);
    }

    const char *state = PQgetvalue(res, 0, CHANGE_STATE);
    if (!fsm_next(&change_fsm, state, "implement")) {
        free(config);
        return reply_invalid_state(r, "change", state, "implemented");
    }
    char from[128], to[128], ids[24], actor[24];
    const char *event = NULL;
    fsm_action_sql(&change_fsm, "implement", from, sizeof from, to, sizeof to, &event);
    id_text(ids, atoll(req_param(r, "id")));
    id_text(actor, r->user->id);
    const char *params[] = {ids, from, to, at, uri, actor, event, config};
    db_query(req_service(r)->db,
             "WITH cur AS (SELECT id, state FROM changes WHERE id = $1), "
             "t AS (SELECT * FROM unnest($2::text[], $3::text[]) AS t(f, t)), "
             "c AS (UPDATE changes c SET state = t.t, implemented_at = $4::timestamptz, "
             "test_evidence_uri = $5, implemented_by = $6::bigint, config_sha256 = $8::jsonb, "
             "version = c.version + 1, "
             "updated_at = now() FROM t, cur WHERE c.id = cur.id AND c.state = t.f "
             "RETURNING c.*), "
             "h AS (INSERT INTO transitions (subject, from_state, to_state, action, actor_id) "
             "SELECT 'changes/' || c.id, cur.state, c.state, 'implement', $6::bigint "
             "FROM c, cur RETURNING 1), "
             "e AS (SELECT emit($7, 'changes/' || c.id, $6::bigint, change_event(c)) AS n FROM c) "
             "SELECT change_doc(c)::text, c.version, (SELECT count(*) FROM h), "
             "(SELECT count(*) FROM e) FROM c",
             8, params, s_on_implemented, r);
    free(config);
}

void changes_implemented(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    struct who w;
    who_of(r, &w);
    const char *params[] = {req_param(r, "id"), w.uid, w.dept, w.all, w.applicant, w.expert};
    db_query(req_service(r)->db,
             "SELECT p.department_id, c.state, c.version, " VISIBLE(
                 "2", "3", "4", "5", "6") " FROM changes c "
                                          "JOIN projects p ON p.id = c.project_id WHERE c.id = $1",
             6, params, s_on_implement_loaded, r);
}
