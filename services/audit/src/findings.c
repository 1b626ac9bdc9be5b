/*
 * Findings about the systems under watch (issue 14 A, articles 15-17): the
 * rows of system_findings (migrations/0020_systems.sql) the rules raise
 * with raise_finding() — a broken log chain (log_digests.c), a configuration
 * change no implemented change explains (config_fingerprints.c), a silent
 * system (here) — read and resolved by the IT office. Nothing is deleted:
 * resolving sets status, resolution and, when the finding led to one, the
 * rectification order (article 22).
 *
 * POST /api/v1/systems/findings/{id}/resolve, in the order of the REST
 * rules: 401 → 403 → 404 no such finding → 400 every bad field → 409
 * invalid_state (resolved already) → 422 rectification_id names no order of
 * the finding's project known to the log (itgov.rectification.issued) →
 * the write: one conditional UPDATE with its event
 * itgov.system.finding.resolved (which closes the IT office's task).
 *
 * Silence (log_silent): every ITGOV_SCAN_INTERVAL_S, raise_silence()
 * (migrations/0021_system_keys.sql) with ITGOV_ANCHOR_SILENCE_H.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "audit.h"
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/scan.h"
#include "itgov/service.h"
#include "itgov/session.h"
#include "systems.h"

static const char *const s_kinds[] = {"log_chain_broken", "unauthorized_config_change",
                                      "config_differs_from_change", "log_silent", NULL};

static bool s_known(const char *const *names, const char *v)
{
    for (size_t i = 0; names[i]; i++)
        if (strcmp(names[i], v) == 0) return true;
    return false;
}

/* ---- GET /api/v1/systems/findings ------------------------------------------ */

void findings_list(struct req *r)
{
    struct error *e = NULL;
    long long pid = 0, limit = 50, cursor = 0;
    req_query_int(r, "project_id", 1, LLONG_MAX, "must be a project id", &pid, &e);
    const char *kind = req_query(r, "kind"), *status = req_query(r, "status");
    if (kind && !s_known(s_kinds, kind))
        query_fail(&e, "kind",
                   "must be log_chain_broken, unauthorized_config_change, "
                   "config_differs_from_change or log_silent");
    static const char *const statuses[] = {"open", "resolved", NULL};
    if (status && !s_known(statuses, status)) query_fail(&e, "status", "must be open or resolved");
    req_query_int(r, "limit", 1, 200, NULL, &limit, &e);
    req_query_int(r, "cursor", 0, LLONG_MAX, "is not a cursor this API returned", &cursor, &e);
    if (e) return reply_error(r, e);
    char ps[24], cs[24], ls[24];
    snprintf(ps, sizeof ps, "%lld", pid);
    snprintf(cs, sizeof cs, "%lld", cursor);
    snprintf(ls, sizeof ls, "%lld", limit);
    const char *params[] = {pid ? ps : NULL, kind, status, cs, ls};
    /* newest first: the cursor is the last item's id */
    db_query(req_service(r)->db,
             "WITH page AS (SELECT f.id, system_finding_doc(f) AS doc FROM system_findings f "
             "WHERE ($1::bigint IS NULL OR f.project_id = $1::bigint) "
             "AND ($2::text IS NULL OR f.kind = $2) AND ($3::text IS NULL OR f.status = $3) "
             "AND ($4::bigint = 0 OR f.id < $4::bigint) ORDER BY f.id DESC LIMIT $5::int) "
             "SELECT json_build_object('items', "
             "coalesce((SELECT json_agg(doc ORDER BY id DESC) FROM page), '[]'::json), "
             "'next_cursor', CASE WHEN (SELECT count(*) FROM page) = $5::int THEN "
             "(SELECT min(id) FROM page)::text END)::text",
             5, params, reply_row, r);
}

/* ---- POST /api/v1/systems/findings/{id}/resolve ---------------------------- */

struct resolve {
    struct req *r;
    struct error *body_err; /* the body's 400, answered once the finding is known */
    bool with_rectification;
};

/* (finding JSON or NULL, its status before (NULL: no such finding), whether
 * the rectification is known, events) */
static void s_on_resolved(void *arg, PGresult *res, struct error *err)
{
    struct resolve c = *(struct resolve *)arg;
    free(arg);
    struct req *r = c.r;
    if (err) {
        error_destroy(&c.body_err);
        return reply_error(r, err);
    }
    if (PQgetisnull(res, 0, 1)) {
        error_destroy(&c.body_err);
        return reply_error(r, error_new(ERR_NOT_FOUND, "no such finding: %s", req_param(r, "id")));
    }
    if (c.body_err) return reply_error(r, c.body_err);
    if (!PQgetisnull(res, 0, 0))
        return reply_raw(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    if (strcmp(PQgetvalue(res, 0, 1), "open") != 0 || !c.with_rectification ||
        strcmp(PQgetvalue(res, 0, 2), "t") == 0) {
        /* resolved before, or by a parallel request a moment ago */
        struct error *e = error_new(ERR_INVALID_STATE, "this finding is resolved already");
        error_set(e, "state", cJSON_CreateString("resolved"));
        return reply_error(r, e);
    }
    struct error *e =
        error_new(ERR_UNPROCESSABLE, "rectification_id names no rectification order of this "
                                     "finding's project");
    reply_error(r, e);
}

void findings_resolve(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    struct error *e = NULL;
    const cJSON *body = req_json(r, &e);
    const char *resolution = NULL;
    long long rect = 0;
    if (!e) {
        struct fields f;
        fields_init(&f, body);
        static const char *const known[] = {"resolution", "rectification_id", NULL};
        fields_only(&f, known);
        resolution = fields_str(&f, "resolution", F_REQUIRED, 1, 2000);
        const cJSON *rv = cJSON_IsObject(body)
                              ? cJSON_GetObjectItemCaseSensitive(body, "rectification_id")
                              : NULL;
        if (rv && !cJSON_IsNull(rv))
            fields_int(&f, "rectification_id", F_OPTIONAL, 1, LLONG_MAX, &rect);
        e = fields_done(&f);
    }
    struct resolve *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->r = r;
    c->body_err = e;
    c->with_rectification = rect > 0;
    char actor[24], rs[24];
    snprintf(actor, sizeof actor, "%lld", r->user->id);
    snprintf(rs, sizeof rs, "%lld", rect);
    /* a bad body writes nothing ($2 NULL): the statement then only tells
     * whether the finding exists (404 before 400) */
    const char *params[] = {req_param(r, "id"), e ? NULL : resolution, actor, rect > 0 ? rs : NULL};
    db_query(req_service(r)->db,
             "WITH f0 AS (SELECT * FROM system_findings WHERE id = $1::bigint), "
             "x AS (SELECT 1 FROM f0 WHERE $4::bigint IS NOT NULL AND EXISTS ("
             "SELECT 1 FROM entries e WHERE e.subject = 'rectifications/' || $4::bigint "
             "AND e.type = 'itgov.rectification.issued' AND jsonb_typeof(e.data) = 'object' "
             "AND e.data->>'project_id' = f0.project_id::text)), "
             "u AS (UPDATE system_findings f SET status = 'resolved', resolution = $2, "
             "rectification_id = $4::bigint, resolved_at = now(), resolved_by = $3::bigint "
             "WHERE f.id = $1::bigint AND f.status = 'open' AND $2::text IS NOT NULL "
             "AND ($4::bigint IS NULL OR EXISTS (SELECT 1 FROM x)) RETURNING f.*), "
             "e AS (SELECT emit('itgov.system.finding.resolved', 'projects/' || u.project_id, "
             "$3::bigint, system_finding_doc(u)) AS n FROM u) "
             "SELECT (SELECT system_finding_doc(u)::text FROM u), (SELECT status FROM f0), "
             "EXISTS (SELECT 1 FROM x), (SELECT count(*) FROM e)",
             4, params, s_on_resolved, c);
}

/* ---- silence ----------------------------------------------------------------- */

static struct scan *s_silence;
static char s_silence_sql[160];

int silence_start(struct service *svc)
{
    double seconds;
    if (!silence_hours_parse(audit_cfg.silence_h, &seconds)) return -1;
    snprintf(s_silence_sql, sizeof s_silence_sql,
             "SELECT raise_silence(make_interval(secs => %.3f))", seconds);
    s_silence = scan_new(svc, audit_cfg.scan_interval_s,
                         "system(s) fell silent (log_silent findings raised)", s_silence_sql);
    return s_silence ? 0 : -1;
}

void silence_stop(void)
{
    scan_destroy(&s_silence);
}
