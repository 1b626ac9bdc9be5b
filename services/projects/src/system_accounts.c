/*
 * The system account register (articles 18-19): who holds which account of
 * a governed system (a project in operation), with what privileges. The IT
 * office assigns every back-end administration account (kind
 * backend_admin); the owning department's applicants register the accounts
 * the department manages itself (department_managed). One person holds an
 * account name of a system at a time: a second live account of that name
 * is 409 conflict, also when two requests race (a partial unique index).
 * Revoking keeps the account in the register; nothing is deleted.
 *
 * itgov never stores credentials of governed systems: a body with a member
 * named like one (credentials.h) is refused before anything is written, and
 * its value is never looked at, logged or sent anywhere.
 *
 * Readers: whoever sees the project (VISIBLE).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "credentials.h"
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/outbox.h"
#include "itgov/service.h"
#include "projects.h"

static const char *const s_kinds[] = {"backend_admin", "department_managed", NULL};

#define NO_CREDENTIALS "itgov never stores credentials of governed systems; leave it out"

static void s_credential_field(void *arg, const char *path)
{
    fields_fail(arg, path, NO_CREDENTIALS);
}

/* Every credential-like member of body (at any depth), and every other
 * member not in known, as field errors of f. */
static void s_only(struct fields *f, const cJSON *body, const char *const *known)
{
    credential_members(body, s_credential_field, f);
    for (const cJSON *m = body->child; m; m = m->next) {
        const char *const *k = known;
        while (*k && strcmp(*k, m->string) != 0)
            k++;
        if (!*k && !credential_name(m->string)) fields_fail(f, m->string, "is not a known field");
    }
}

/* The caller's right to an account of kind on a project of department dept:
 * backend_admin is the IT office's, department_managed the owning
 * department's applicants' (revoking: also the IT office's). NULL when
 * allowed, else why not. */
static const char *s_kind_refusal(const struct req *r, const char *kind, long long dept,
                                  bool revoking)
{
    unsigned roles = r->user->roles;
    if (strcmp(kind, "backend_admin") == 0)
        return (roles & ROLE_IT_OFFICE)
                   ? NULL
                   : "only the IT office assigns and revokes back-end administration accounts";
    if (revoking && (roles & ROLE_IT_OFFICE)) return NULL;
    if ((roles & ROLE_APPLICANT) && dept == r->user->department_id) return NULL;
    return "only applicants of the owning department register the accounts it manages";
}

/* ---- assign ------------------------------------------------------------------- */

static void s_on_assigned(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQgetisnull(res, 0, 0)) {
        const char *state = PQgetisnull(res, 0, 1) ? "unknown" : PQgetvalue(res, 0, 1);
        return reply_invalid_state(r, "project", state, "given system accounts");
    }
    cJSON *doc = cJSON_Parse(PQgetvalue(res, 0, 0));
    char where[64];
    snprintf(where, sizeof where, "/api/v1/system-accounts/%lld",
             (long long)cJSON_GetObjectItem(doc, "id")->valuedouble);
    cJSON_Delete(doc);
    req_add_header(r, "Location", where);
    reply_row_created_tagged(r, res, NULL);
}

static void s_on_project(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (!project_visible_check(r, res)) return;
    long long dept = atoll(PQgetvalue(res, 0, PROJECT_DEPT));
    struct error *bad = NULL;
    const cJSON *body = req_json(r, &bad);
    const cJSON *kind_v = body ? cJSON_GetObjectItemCaseSensitive(body, "kind") : NULL;
    const char *kind = NULL;
    for (const char *const *k = s_kinds; cJSON_IsString(kind_v) && *k; k++)
        if (strcmp(kind_v->valuestring, *k) == 0) kind = *k;
    /* the kind decides who may: 403 before any 400 */
    const char *refusal = kind ? s_kind_refusal(r, kind, dept, false) : NULL;
    if (!kind && !(r->user->roles & ROLE_IT_OFFICE) && dept != r->user->department_id)
        refusal = "only applicants of the owning department register the accounts it manages";
    if (refusal) {
        error_destroy(&bad);
        return reply_error(r, error_new(ERR_FORBIDDEN, "%s", refusal));
    }
    if (bad) return reply_error(r, bad);

    struct fields f;
    fields_init(&f, body);
    const char *name = fields_str(&f, "account_name", F_REQUIRED, 1, 100);
    long long holder = 0;
    fields_int(&f, "holder_user_id", F_REQUIRED, 1, 1LL << 53, &holder);
    fields_enum(&f, "kind", F_REQUIRED, s_kinds);
    const char *privileges = fields_str(&f, "privileges", F_REQUIRED, 1, 2000);
    const char *assigned = fields_instant(&f, "assigned_at", F_REQUIRED);
    static const char *const known[] = {"account_name", "holder_user_id", "kind",
                                        "privileges",   "assigned_at",    NULL};
    s_only(&f, body, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);

    const char *state = PQgetvalue(res, 0, PROJECT_STATE);
    if (strcmp(state, "in_operation") != 0)
        return reply_invalid_state(r, "project", state, "given system accounts");

    char holders[24], actor[24];
    id_text(holders, holder);
    id_text(actor, r->user->id);
    const char *params[] = {req_param(r, "id"), name, holders, kind, privileges, assigned, actor};
    db_query(req_service(r)->db,
             "WITH p AS (SELECT id, state FROM projects WHERE id = $1), "
             "a AS (INSERT INTO system_accounts (project_id, account_name, holder_user_id, kind, "
             "privileges, assigned_at, assigned_by) "
             "SELECT p.id, $2, $3, $4, $5, $6::timestamptz, $7 FROM p "
             "WHERE p.state = 'in_operation' RETURNING *), "
             "e AS (SELECT emit('itgov.project.system_account.assigned', "
             "'projects/' || a.project_id, $7, system_account_doc(a)) AS n FROM a) "
             "SELECT (SELECT system_account_doc(a)::text FROM a), (SELECT state FROM p), "
             "(SELECT count(*) FROM e)",
             7, params, s_on_assigned, r);
}

void system_accounts_create(struct req *r)
{
    project_load(r, s_on_project);
}

/* ---- revoke ----------------------------------------------------------------------- */

enum { ACC_KIND, ACC_REVOKED, ACC_DEPT, ACC_VISIBLE };

/* Columns: the account as it now is (NULL when nothing changed), whether
 * revoked_at comes before assigned_at. */
static void s_on_revoked(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 1 && PQgetvalue(res, 0, 1)[0] == 't') {
        struct error *e = error_new(ERR_VALIDATION, "the account cannot be revoked before it was "
                                                    "assigned");
        error_add_field(e, "revoked_at", "is before the account's assigned_at");
        return reply_error(r, e);
    }
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) /* revoked meanwhile by another request */
        return reply_invalid_state(r, "system account", "revoked", "revoked again");
    reply_row_tagged(r, res, NULL);
}

static void s_on_account(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, ACC_VISIBLE), "t") != 0)
        return reply_error(r, error_new(ERR_NOT_FOUND, "no such system account"));
    const char *refusal =
        s_kind_refusal(r, PQgetvalue(res, 0, ACC_KIND), atoll(PQgetvalue(res, 0, ACC_DEPT)), true);
    if (refusal) return reply_error(r, error_new(ERR_FORBIDDEN, "%s", refusal));
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *reason = fields_str(&f, "reason", F_REQUIRED, 1, 2000);
    const char *revoked = fields_instant(&f, "revoked_at", F_REQUIRED);
    static const char *const known[] = {"reason", "revoked_at", NULL};
    s_only(&f, body, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);
    if (PQgetvalue(res, 0, ACC_REVOKED)[0] == 't')
        return reply_invalid_state(r, "system account", "revoked", "revoked again");

    char actor[24];
    id_text(actor, r->user->id);
    const char *params[] = {req_param(r, "aid"), revoked, reason, actor};
    db_query(req_service(r)->db,
             "WITH cur AS (SELECT id, $2::timestamptz < assigned_at AS early "
             "FROM system_accounts WHERE id = $1), "
             "a AS (UPDATE system_accounts SET revoked_at = $2::timestamptz, "
             "revoke_reason = $3, revoked_by = $4, updated_at = now() "
             "WHERE id = $1 AND revoked_at IS NULL AND NOT (SELECT early FROM cur) RETURNING *), "
             "e AS (SELECT emit('itgov.project.system_account.revoked', "
             "'projects/' || a.project_id, $4, system_account_doc(a)) AS n FROM a) "
             "SELECT (SELECT system_account_doc(a)::text FROM a), cur.early, "
             "(SELECT count(*) FROM e) FROM cur",
             4, params, s_on_revoked, r);
}

void system_accounts_revoke(struct req *r)
{
    project_query(r, "aid",
                  "SELECT a.kind, a.revoked_at IS NOT NULL, p.department_id, " VISIBLE(
                      "2", "3", "4", "5",
                      "6") " FROM system_accounts a JOIN projects p ON p.id = a.project_id "
                           "WHERE a.id = $1",
                  NULL, 0, s_on_account);
}

/* ---- read -------------------------------------------------------------------------- */

void system_accounts_get(struct req *r)
{
    project_query(r, "aid",
                  "SELECT system_account_doc(a)::text FROM system_accounts a "
                  "JOIN projects p ON p.id = a.project_id "
                  "WHERE a.id = $1 AND " VISIBLE("2", "3", "4", "5", "6"),
                  NULL, 0, reply_row_tagged);
}

/* The project's accounts, oldest first; live ones only unless include_revoked=true. */
void system_accounts_list(struct req *r)
{
    long long id, cursor;
    int limit;
    const char *inc;
    /* 404, then a bad page, then a bad include_revoked (project_page checks the first two again) */
    if (!req_param_id(r, "id", &id) || !req_page(r, &limit, &cursor) ||
        !query_flag(r, "include_revoked", &inc))
        return;
    project_page(r,
                 PROJECT_PAGE_SQL("SELECT a.id AS k, system_account_doc(a) AS doc "
                                  "FROM system_accounts a WHERE a.project_id = p.id "
                                  "AND a.id > $8::bigint AND ($9::boolean OR a.revoked_at IS NULL) "
                                  "ORDER BY a.id LIMIT $7::int"),
                 &inc, 1);
}
