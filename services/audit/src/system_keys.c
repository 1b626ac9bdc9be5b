/*
 * System keys (issue 14 A): the keys a governed system acts with, each for
 * one project and a set of scopes (syskey.h: metrics, log_digests, config).
 * Many live keys per project (kind 'system'; one per component, say), each
 * revoked on its own; the metrics key of issue 12 (kind 'metrics',
 * metrics_keys.c) keeps working and is listed with them. The key is in the
 * one answer that issues it: audit keeps its SHA-256, and neither is in any
 * event, answer or log line. A revoked key is unknown at once (401): the
 * verifier (metrics_key_auth) reads the row on every request.
 *
 * POST /api/v1/projects/{id}/system-keys (it_office) {scopes}:
 *   401 → 403 (role) → 404 a project audit has no event of → 400 the body
 *   (scopes: a non-empty array of known names, none twice) → 409
 *   project_suspended / invalid_state (terminated) → the write: the key and
 *   its event itgov.system.key.issued in one statement, conditioned on the
 *   project's state as audit knows it.
 * POST /api/v1/system-keys/{key_id}/revoke (it_office): 404 → 409
 *   invalid_state (state revoked) → the revocation and its event
 *   itgov.system.key.revoked in one conditional UPDATE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "audit.h"
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/service.h"
#include "itgov/session.h"
#include "itgov/syskey.h"
#include "metrics.h"
#include "systems.h"

struct error *system_key_check(const struct principal *u, long long project_id, unsigned scope)
{
    if (u->key_id == 0) return NULL;
    if (u->project_id != project_id)
        return error_new(ERR_FORBIDDEN, "this key acts for project %lld only", u->project_id);
    if (!(u->scopes & scope)) return error_new(ERR_FORBIDDEN, "this key lacks the scope needed");
    return NULL;
}

/* the scope names in their canonical order (the bits') */
static const char *const s_scope_names[] = {"metrics", "log_digests", "config"};
#define NSCOPES (sizeof s_scope_names / sizeof *s_scope_names)

unsigned system_key_scopes_read(const cJSON *body, struct error **e)
{
    struct fields f;
    fields_init(&f, body);
    static const char *const known[] = {"scopes", NULL};
    fields_only(&f, known);
    const cJSON *arr = fields_array(&f, "scopes", F_REQUIRED);
    unsigned bits = 0;
    if (arr && cJSON_GetArraySize(arr) == 0)
        fields_fail(&f, "scopes", "must name at least one scope: metrics, log_digests, config");
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        char name[32];
        snprintf(name, sizeof name, "scopes[%d]", i++);
        unsigned bit = cJSON_IsString(it) ? syskey_scope_bit(it->valuestring) : 0;
        if (!bit)
            fields_fail(&f, name, "must be one of metrics, log_digests, config");
        else if (bits & bit)
            fields_fail(&f, name, "is named twice");
        bits |= bit;
    }
    *e = fields_done(&f);
    return *e ? 0 : bits;
}

/* A PostgreSQL array literal of the scopes of bits, canonical order. */
static void s_scopes_literal(unsigned bits, char *out, size_t n)
{
    size_t used = (size_t)snprintf(out, n, "{");
    for (size_t i = 0; i < NSCOPES; i++)
        if (bits & syskey_scope_bit(s_scope_names[i]))
            used += (size_t)snprintf(out + used, n - used, "%s%s", used > 1 ? "," : "",
                                     s_scope_names[i]);
    snprintf(out + used, n - used, "}");
}

/* ---- POST /api/v1/projects/{id}/system-keys -------------------------------- */

struct issue {
    struct req *r;
    long long project_id;
    struct error *body_err; /* the body's 400, answered once the project is known */
    char key[SYSKEY_LEN + 1];
    char hash[65];
};

static void s_issue_free(struct issue *c)
{
    sodium_memzero(c->key, sizeof c->key);
    sodium_memzero(c->hash, sizeof c->hash);
    error_destroy(&c->body_err);
    free(c);
}

void key_issued_reply(struct req *r, const char *record, const char *key, const char *location)
{
    cJSON *doc = cJSON_Parse(record);
    if (!doc) abort();
    cJSON_AddStringToObject(doc, "key", key);
    req_add_header(r, "Location", location);
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (!text) abort();
    reply_raw(r, 201, text, strlen(text));
    sodium_memzero(text, strlen(text));
    free(text);
}

/* (key record JSON or NULL, the project's state or NULL: unknown, events) */
static void s_on_issued(void *arg, PGresult *res, struct error *err)
{
    struct issue *c = arg;
    struct req *r = c->r;
    if (err) {
        s_issue_free(c);
        return reply_error(r, err);
    }
    if (PQgetisnull(res, 0, 1)) {
        long long id = c->project_id;
        s_issue_free(c);
        return reply_error(r, error_new(ERR_NOT_FOUND, "no such project: %lld", id));
    }
    if (c->body_err) {
        struct error *e = c->body_err;
        c->body_err = NULL;
        s_issue_free(c);
        return reply_error(r, e);
    }
    if (PQgetisnull(res, 0, 0)) {
        struct error *e =
            metrics_state_error(c->project_id, PQgetvalue(res, 0, 1), "get a system key");
        s_issue_free(c);
        return reply_error(r, e);
    }
    char location[96];
    snprintf(location, sizeof location, "/api/v1/projects/%lld/system-keys", c->project_id);
    key_issued_reply(r, PQgetvalue(res, 0, 0), c->key, location);
    s_issue_free(c);
}

void system_keys_issue(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    struct issue *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->r = r;
    c->project_id = id;
    struct error *e = NULL;
    const cJSON *body = req_json(r, &e);
    unsigned bits = e ? 0 : system_key_scopes_read(body, &e);
    c->body_err = e;
    char pid[24], actor[24], scopes[64];
    snprintf(pid, sizeof pid, "%lld", id);
    snprintf(actor, sizeof actor, "%lld", r->user->id);
    s_scopes_literal(bits, scopes, sizeof scopes);
    if (!e) {
        syskey_new(c->key);
        syskey_hash(c->key, c->hash);
    }
    /* a bad body writes nothing: the statement then only tells whether audit
     * knows the project (404 before 400) */
    const char *params[] = {pid, e ? NULL : scopes, e ? NULL : c->hash, actor};
    db_query(req_service(r)->db,
             "WITH f AS (SELECT * FROM project_fact($1::bigint)), "
             "ins AS (INSERT INTO system_keys (project_id, kind, scopes, key_sha256, issued_by) "
             "SELECT $1::bigint, 'system', $2::text[], $3, $4::bigint FROM f "
             "WHERE $2::text[] IS NOT NULL AND f.state NOT IN ('suspended', 'terminated') "
             "RETURNING *), "
             "e AS (SELECT emit('itgov.system.key.issued', 'projects/' || i.project_id, "
             "$4::bigint, system_key_record(i)) AS n FROM ins i) "
             "SELECT (SELECT system_key_record(i)::text FROM ins i), (SELECT state FROM f), "
             "(SELECT count(*) FROM e)",
             4, params, s_on_issued, c);
}

/* ---- GET /api/v1/projects/{id}/system-keys --------------------------------- */

void system_keys_list(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    int limit;
    long long cursor;
    if (!req_page(r, &limit, &cursor)) return;
    char cs[24], ls[16];
    snprintf(cs, sizeof cs, "%lld", cursor);
    snprintf(ls, sizeof ls, "%d", limit);
    const char *params[] = {cs, ls, req_param(r, "id")};
    /* no row (404): audit knows no such project; every key of every kind,
     * revoked ones too, oldest first */
    db_query(req_service(r)->db,
             "WITH f AS (SELECT 1 FROM project_fact($3::bigint)), "
             "page AS (SELECT k.id, system_key_record(k) AS doc FROM system_keys k "
             "WHERE k.project_id = $3::bigint AND k.id > $1::bigint ORDER BY k.id "
             "LIMIT $2::int) "
             "SELECT json_build_object('items', "
             "coalesce((SELECT json_agg(doc ORDER BY id) FROM page), '[]'::json), "
             "'next_cursor', CASE WHEN (SELECT count(*) FROM page) = $2::int THEN "
             "(SELECT max(id) FROM page)::text END)::text FROM f",
             3, params, reply_row, r);
}

/* ---- POST /api/v1/system-keys/{key_id}/revoke ------------------------------ */

/* (record JSON or NULL, whether the key exists, events) */
static void s_on_revoked(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (!PQgetisnull(res, 0, 0))
        return reply_raw(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
        return reply_error(r, error_new(ERR_NOT_FOUND, "no such key: %s", req_param(r, "key_id")));
    /* revoked before, or by a parallel request a moment ago */
    struct error *e = error_new(ERR_INVALID_STATE, "this key is revoked already");
    error_set(e, "state", cJSON_CreateString("revoked"));
    reply_error(r, e);
}

void system_keys_revoke(struct req *r)
{
    long long id;
    if (!req_param_id(r, "key_id", &id)) return;
    char actor[24];
    snprintf(actor, sizeof actor, "%lld", r->user->id);
    const char *params[] = {req_param(r, "key_id"), actor};
    db_query(req_service(r)->db,
             "WITH k AS (UPDATE system_keys k SET revoked_at = now(), revoked_by = $2::bigint "
             "WHERE k.id = $1::bigint AND k.revoked_at IS NULL RETURNING k.*), "
             "e AS (SELECT emit('itgov.system.key.revoked', 'projects/' || k.project_id, "
             "$2::bigint, system_key_record(k)) AS n FROM k) "
             "SELECT (SELECT system_key_record(k)::text FROM k), "
             "EXISTS (SELECT 1 FROM system_keys o WHERE o.id = $1::bigint), "
             "(SELECT count(*) FROM e)",
             2, params, s_on_revoked, r);
}
