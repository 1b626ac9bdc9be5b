/*
 * Access reviews (articles 18-19). An admin or auditor reads the findings:
 * the accounts that need a decision, each with a kind (access_rules.h):
 *   dormant — enabled, no login for the threshold (ITGOV_DORMANT_DAYS, or
 *     ITGOV_DORMANT_S seconds), counted from the last login or, never
 *     logged in, from the account's creation;
 *   admin_outside_it_office / it_office_role_outside_it_office — an enabled
 *     user holding that role in a department that is not the IT office
 *     (kind it_office, made by the first migration: ITO);
 *   shared_account — an enabled user with live sessions from two or more
 *     client addresses at once (the address each session was created from,
 *     as the gateway gave it: X-Forwarded-For);
 *   system_account_holder_disabled — a disabled user who still holds a
 *     live system account of a governed system (the projects service's
 *     register, followed by consumer.c).
 * An admin then records the certification: the findings reviewed and one
 * decision per user (keep, disable, change_roles). It is kept as written,
 * and applied in the same statement: disabling ends the user's sessions as
 * POST /users/{id}/disable does, changing roles is PATCH's change, and the
 * last enabled admin is never taken away (409 last_admin, nothing
 * recorded).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "access_rules.h"
#include "accounts.h"
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/log.h"
#include "itgov/outbox.h"
#include "itgov/redis.h"
#include "itgov/service.h"

#define MAX_FINDINGS  10000
#define MAX_DECISIONS 1000

static const char *const s_actions[] = {"keep", "disable", "change_roles", NULL};

/* ---- applying user changes: cache, sessions --------------------------------- */

struct effects {
    struct service *svc;
    cJSON *users;
    cJSON *cur;
    long long actor;
    void (*done)(void *arg);
    void *arg;
};

static void s_effects_next(struct effects *fx);

static void s_effects_step_done(struct effects *fx)
{
    fx->cur = fx->cur->next;
    s_effects_next(fx);
}

static void s_on_ended_recorded(void *arg, PGresult *res, struct error *err)
{
    struct effects *fx = arg;
    if (err) {
        log_warn("sessions ended but not recorded: %s", err->detail);
        error_destroy(&err);
    }
    s_effects_step_done(fx);
}

static void s_on_sessions_ended(void *arg, cJSON *ended, struct error *err)
{
    struct effects *fx = arg;
    if (err || cJSON_GetArraySize(ended) == 0) {
        if (err) log_warn("a disabled user's sessions were not ended: %s", err->detail);
        error_destroy(&err);
        cJSON_Delete(ended);
        return s_effects_step_done(fx);
    }
    char *list = cJSON_PrintUnformatted(ended);
    cJSON_Delete(ended);
    char actor[24];
    id_text(actor, fx->actor);
    const char *params[] = {fx->actor ? actor : NULL, list};
    db_query(fx->svc->db,
             "SELECT emit('itgov.account.session.ended', 'users/' || (s->>'uid'), $1::bigint, "
             "jsonb_build_object('session_id', (s->>'sid')::bigint, "
             "'user_id', (s->>'uid')::bigint, 'reason', 'user_disabled')) "
             "FROM jsonb_array_elements($2::jsonb) s",
             2, params, s_on_ended_recorded, fx);
    free(list);
}

static void s_on_user_cached(void *arg, struct error *err)
{
    struct effects *fx = arg;
    if (err) {
        log_warn("user saved but its cached copy was not refreshed: %s", err->detail);
        error_destroy(&err);
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(fx->cur, "id");
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(fx->cur, "disabled")))
        return s_effects_step_done(fx);
    session_end_user(fx->svc->redis, (long long)id->valuedouble, NULL, s_on_sessions_ended, fx);
}

static void s_effects_next(struct effects *fx)
{
    if (!fx->cur) {
        void (*done)(void *) = fx->done;
        void *arg = fx->arg;
        cJSON_Delete(fx->users);
        free(fx);
        return done(arg);
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(fx->cur, "id");
    const cJSON *doc = cJSON_GetObjectItemCaseSensitive(fx->cur, "doc");
    if (!cJSON_IsNumber(id) || !cJSON_IsString(doc)) return s_effects_step_done(fx);
    session_cache_user(fx->svc->redis, (long long)id->valuedouble, doc->valuestring,
                       s_on_user_cached, fx);
}

void users_changed_apply(struct service *svc, cJSON *users, long long actor,
                         void (*done)(void *arg), void *arg)
{
    struct effects *fx = calloc(1, sizeof *fx);
    if (!fx) abort();
    fx->svc = svc;
    fx->users = users ? users : cJSON_CreateArray();
    fx->cur = fx->users->child;
    fx->actor = actor;
    fx->done = done;
    fx->arg = arg;
    s_effects_next(fx);
}

/* ---- findings ------------------------------------------------------------------ */

/* $1 dormancy threshold in seconds, $2 [{user_id, addresses}] sharing users */
#define FINDINGS_SQL                                                                               \
    "WITH u AS (SELECT u.*, d.kind AS dept_kind, d.code AS dept_code FROM users u "                \
    "JOIN departments d ON d.id = u.department_id), "                                              \
    "f AS ("                                                                                       \
    "SELECT id, username, 'dormant' AS kind, CASE WHEN last_login_at IS NULL "                     \
    "THEN 'never logged in since the account was created at ' || rfc3339(created_at) "             \
    "ELSE 'last login at ' || rfc3339(last_login_at) END AS detail FROM u "                        \
    "WHERE NOT disabled AND coalesce(last_login_at, created_at) < "                                \
    "now() - make_interval(secs => $1::double precision) "                                         \
    "UNION ALL SELECT id, username, 'admin_outside_it_office', "                                   \
    "'holds the admin role in department ' || dept_code || ', not the IT office' FROM u "          \
    "WHERE NOT disabled AND 'admin' = ANY(roles) AND dept_kind <> 'it_office' "                    \
    "UNION ALL SELECT id, username, 'it_office_role_outside_it_office', "                          \
    "'holds the it_office role in department ' || dept_code || ', not the IT office' FROM u "      \
    "WHERE NOT disabled AND 'it_office' = ANY(roles) AND dept_kind <> 'it_office' "                \
    "UNION ALL SELECT u.id, u.username, 'shared_account', "                                        \
    "'live sessions from ' || array_to_string(s.addresses, ', ') || ' at once' FROM u "            \
    "JOIN jsonb_to_recordset($2::jsonb) AS s(user_id bigint, addresses text[]) "                   \
    "ON s.user_id = u.id WHERE NOT u.disabled "                                                    \
    "UNION ALL SELECT u.id, u.username, 'system_account_holder_disabled', "                        \
    "'disabled, still holds the ' || a.kind || ' account ' || a.account_name || "                  \
    "' (system account ' || a.id || ') of project ' || a.project_id FROM u "                       \
    "JOIN system_accounts a ON a.holder_user_id = u.id AND a.revoked_at IS NULL "                  \
    "WHERE u.disabled) "                                                                           \
    "SELECT json_build_object('items', coalesce(json_agg(json_build_object('user_id', id, "        \
    "'username', username, 'kind', kind, 'detail', detail) "                                       \
    "ORDER BY id, array_position(ARRAY['dormant', 'admin_outside_it_office', "                     \
    "'it_office_role_outside_it_office', 'shared_account', "                                       \
    "'system_account_holder_disabled'], kind), detail), '[]'::json))::text FROM f"

static void s_on_sessions(void *arg, cJSON *items, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    cJSON *shared = shared_account_sessions(items);
    cJSON_Delete(items);
    char *shared_text = cJSON_PrintUnformatted(shared);
    cJSON_Delete(shared);
    char threshold[24];
    snprintf(threshold, sizeof threshold, "%lld",
             dormant_threshold_s(accounts_cfg.dormant_days, accounts_cfg.dormant_s));
    const char *params[] = {threshold, shared_text};
    db_query(req_service(r)->db, FINDINGS_SQL, 2, params, reply_row, r);
    free(shared_text);
}

void access_reviews_findings(struct req *r)
{
    session_list(req_service(r)->redis, s_on_sessions, r);
}

/* ---- recording a certification --------------------------------------------------- */

/* one of findings_reviewed: {user_id, kind, username?, detail?} → normalized copy */
static cJSON *s_finding(struct fields *g, const cJSON *item, void *ctx)
{
    long long uid = 0;
    fields_int(g, "user_id", F_REQUIRED, 1, 1LL << 53, &uid);
    const char *kind = fields_enum(g, "kind", F_REQUIRED, access_finding_kinds);
    const char *username = fields_str(g, "username", F_OPTIONAL, 1, 64);
    const char *detail = fields_str(g, "detail", F_OPTIONAL, 0, 2000);
    static const char *const known[] = {"user_id", "kind", "username", "detail", NULL};
    fields_only(g, known);
    if (g->err) return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "user_id", (double)uid);
    cJSON_AddStringToObject(o, "kind", kind);
    if (username) cJSON_AddStringToObject(o, "username", username);
    if (detail) cJSON_AddStringToObject(o, "detail", detail);
    return o;
}

static cJSON *s_findings(struct fields *f, const cJSON *arr)
{
    if (arr && cJSON_GetArraySize(arr) > MAX_FINDINGS) {
        fields_fail(f, "findings_reviewed", "must hold at most 10000 findings");
        return NULL;
    }
    return fields_each(f, "findings_reviewed", arr, s_finding, NULL);
}

/* roles: known names, at least one, duplicates dropped → a new array */
static cJSON *s_roles(struct fields *f, const char *name, const cJSON *arr)
{
    cJSON *out = cJSON_CreateArray();
    unsigned seen = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        unsigned bit = cJSON_IsString(it) ? role_bit(it->valuestring) : 0;
        if (!bit) {
            fields_fail(f, name,
                        "holds an unknown role (admin, it_office, applicant, expert, "
                        "secretary, auditor)");
            cJSON_Delete(out);
            return NULL;
        }
        if (seen & bit) continue;
        seen |= bit;
        cJSON_AddItemToArray(out, cJSON_CreateString(it->valuestring));
    }
    if (!seen) {
        fields_fail(f, name, "must hold at least one role");
        cJSON_Delete(out);
        return NULL;
    }
    return out;
}

/* one of decisions: {user_id, action, roles?}, one per user (ctx: the
 * decisions array) → normalized copy */
static cJSON *s_decision(struct fields *g, const cJSON *item, void *ctx)
{
    const cJSON *arr = ctx;
    long long uid = 0;
    bool has_uid = fields_int(g, "user_id", F_REQUIRED, 1, 1LL << 53, &uid);
    const char *action = fields_enum(g, "action", F_REQUIRED, s_actions);
    const cJSON *roles_in = fields_array(g, "roles", F_OPTIONAL);
    static const char *const known[] = {"user_id", "action", "roles", NULL};
    fields_only(g, known);
    cJSON *roles = NULL;
    if (action && strcmp(action, "change_roles") == 0) {
        if (!fields_has(g, "roles"))
            fields_fail(g, "roles", "is required with change_roles");
        else if (roles_in)
            roles = s_roles(g, "roles", roles_in);
    } else if (action && fields_has(g, "roles")) {
        fields_fail(g, "roles", "is given only with change_roles");
    }
    for (const cJSON *prev = arr->child; has_uid && prev != item; prev = prev->next) {
        const cJSON *pu = cJSON_GetObjectItemCaseSensitive(prev, "user_id");
        if (cJSON_IsNumber(pu) && pu->valuedouble == (double)uid) {
            fields_fail(g, "user_id", "has another decision in this review");
            break;
        }
    }
    if (g->err) {
        cJSON_Delete(roles);
        return NULL;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "user_id", (double)uid);
    cJSON_AddStringToObject(o, "action", action);
    if (roles) cJSON_AddItemToObject(o, "roles", roles);
    return o;
}

static cJSON *s_decisions(struct fields *f, const cJSON *arr)
{
    if (arr && cJSON_GetArraySize(arr) > MAX_DECISIONS) {
        fields_fail(f, "decisions", "must hold at most 1000 decisions");
        return NULL;
    }
    return fields_each(f, "decisions", arr, s_decision, (void *)arr);
}

static void s_on_applied(void *arg)
{
    struct req *r = arg;
    char *doc = r->ctx;
    r->ctx = NULL;
    reply_raw(r, 201, doc, strlen(doc));
    free(doc);
}

/* Columns: the review's document, last_admin refused, the unknown user ids
 * (JSON array or NULL), the users changed [{id, doc, disabled}]. */
static void s_on_recorded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) != 1) return reply_error(r, error_new(ERR_INTERNAL, "review not recorded"));
    if (!PQgetisnull(res, 0, 2)) {
        struct error *e = error_new(ERR_VALIDATION, "some decisions name users that do not exist");
        cJSON *ids = cJSON_Parse(PQgetvalue(res, 0, 2));
        const cJSON *decisions = cJSON_GetObjectItemCaseSensitive(req_body(r), "decisions");
        int i = 0;
        const cJSON *d;
        cJSON_ArrayForEach(d, decisions)
        {
            const cJSON *uid = cJSON_GetObjectItemCaseSensitive(d, "user_id");
            const cJSON *id;
            cJSON_ArrayForEach(id, ids)
            {
                if (cJSON_IsNumber(uid) && id->valuedouble == uid->valuedouble) {
                    char name[48];
                    snprintf(name, sizeof name, "decisions[%d].user_id", i);
                    error_add_field(e, name, "refers to a user that does not exist");
                }
            }
            i++;
        }
        cJSON_Delete(ids);
        return reply_error(r, e);
    }
    if (PQgetvalue(res, 0, 1)[0] == 't') {
        struct error *e = error_new(ERR_CONFLICT, "these decisions would leave no enabled admin; "
                                                  "make another admin first");
        e->code_override = "last_admin";
        return reply_error(r, e);
    }
    if (PQgetisnull(res, 0, 0))
        return reply_error(r, error_new(ERR_INTERNAL, "review not recorded"));
    r->ctx = strdup(PQgetvalue(res, 0, 0));
    cJSON *changed = cJSON_Parse(PQgetvalue(res, 0, 3));
    users_changed_apply(req_service(r), changed, r->user->id, s_on_applied, r);
}

void access_reviews_create(struct req *r)
{
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    cJSON *findings = s_findings(&f, fields_array(&f, "findings_reviewed", F_REQUIRED));
    cJSON *decisions = s_decisions(&f, fields_array(&f, "decisions", F_REQUIRED));
    static const char *const known[] = {"findings_reviewed", "decisions", NULL};
    fields_only(&f, known);
    struct error *err = fields_done(&f);
    if (err) {
        cJSON_Delete(findings);
        cJSON_Delete(decisions);
        return reply_error(r, err);
    }
    char *findings_text = cJSON_PrintUnformatted(findings);
    char *decisions_text = cJSON_PrintUnformatted(decisions);
    cJSON_Delete(findings);
    cJSON_Delete(decisions);
    char actor[24];
    id_text(actor, r->user->id);
    const char *params[] = {actor, findings_text, decisions_text};
    db_query(
        req_service(r)->db,
        "WITH d AS (SELECT * FROM jsonb_to_recordset($3::jsonb) "
        "AS d(user_id bigint, action text, roles text[])), " ADMINS_LOCKED ", "
        "missing AS (SELECT jsonb_agg(d.user_id ORDER BY d.user_id) AS ids FROM d "
        "WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = d.user_id)), "
        "last AS (SELECT (SELECT count(*) FROM admins) > 0 "
        "AND NOT EXISTS (SELECT 1 FROM admins a LEFT JOIN d ON d.user_id = a.id "
        "WHERE d.action IS NULL OR d.action = 'keep' "
        "OR (d.action = 'change_roles' AND 'admin' = ANY(d.roles))) "
        "AND NOT EXISTS (SELECT 1 FROM d JOIN users u ON u.id = d.user_id "
        "WHERE d.action = 'change_roles' AND 'admin' = ANY(d.roles) AND NOT u.disabled) "
        "AS refused), "
        "go AS (SELECT NOT (SELECT refused FROM last) AND (SELECT ids FROM missing) IS NULL "
        "AS ok), "
        "rv AS (INSERT INTO access_reviews (reviewer_id, findings_reviewed, decisions) "
        "SELECT $1, $2::jsonb, $3::jsonb FROM go WHERE ok RETURNING *), "
        "dis AS (UPDATE users u SET disabled = true, updated_at = now() FROM d, go "
        "WHERE go.ok AND d.user_id = u.id AND d.action = 'disable' AND NOT u.disabled "
        "RETURNING u.*), "
        "chg AS (UPDATE users u SET roles = d.roles, updated_at = now() FROM d, go "
        "WHERE go.ok AND d.user_id = u.id AND d.action = 'change_roles' "
        "AND u.roles IS DISTINCT FROM d.roles RETURNING u.*), "
        "e AS (SELECT emit('itgov.account.user.disabled', 'users/' || dis.id, $1, "
        "user_doc(dis)) FROM dis "
        "UNION ALL SELECT emit('itgov.account.user.updated', 'users/' || chg.id, $1, "
        "user_doc(chg)) FROM chg "
        "UNION ALL SELECT emit('itgov.account.access_review.recorded', "
        "'access-reviews/' || rv.id, $1, access_review_doc(rv)) FROM rv) "
        "SELECT (SELECT access_review_doc(rv)::text FROM rv), (SELECT refused FROM last), "
        "(SELECT ids FROM missing)::text, "
        "(SELECT coalesce(jsonb_agg(c), '[]'::jsonb)::text FROM ("
        "SELECT jsonb_build_object('id', dis.id, 'doc', user_doc(dis)::text, 'disabled', true) "
        "AS c FROM dis UNION ALL "
        "SELECT jsonb_build_object('id', chg.id, 'doc', user_doc(chg)::text, 'disabled', "
        "chg.disabled) FROM chg) x), "
        "(SELECT count(*) FROM e)",
        3, params, s_on_recorded, r);
    free(findings_text);
    free(decisions_text);
}

/* ---- reading certifications --------------------------------------------------------- */

void access_reviews_list(struct req *r)
{
    reply_page(r, DB_PAGE_SQL("SELECT id, access_review_doc(a) AS doc FROM access_reviews a "
                              "WHERE id > $1 ORDER BY id LIMIT $2"));
}

void access_reviews_get(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    const char *params[] = {req_param(r, "id")};
    db_query(req_service(r)->db,
             "SELECT access_review_doc(a)::text FROM access_reviews a WHERE id = $1", 1, params,
             reply_row_tagged, r);
}
