/* Small helpers the resources share: who sees a project, reading and
 * paging what one holds, loading one for an action, ETags, If-Match,
 * invalid_state and gate refusals. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/db.h"
#include "itgov/service.h"
#include "projects.h"

void who_of(const struct req *r, struct who *w)
{
    id_text(w->uid, r->user->id);
    id_text(w->dept, r->user->department_id);
    w->all = (r->user->roles & SEE_ALL) ? "true" : "false";
    w->applicant = (r->user->roles & ROLE_APPLICANT) ? "true" : "false";
    w->expert = (r->user->roles & ROLE_EXPERT) ? "true" : "false";
}

bool query_flag(struct req *r, const char *name, const char **out)
{
    const char *v = req_query(r, name);
    if (v && strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
        struct error *e = NULL;
        query_fail(&e, name, "must be true or false");
        reply_error(r, e);
        return false;
    }
    *out = v && strcmp(v, "true") == 0 ? "true" : "false";
    return true;
}

void id_query(struct req *r, const char *sql, db_cb cb)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    const char *params[] = {req_param(r, "id")};
    db_query(req_service(r)->db, sql, 1, params, cb, r);
}

static void s_project_query(struct req *r, const char *name, const char *sql,
                            const char *const *extra, int nextra, db_cb cb, bool read)
{
    long long id;
    if (!req_param_id(r, name, &id)) return;
    struct who w;
    who_of(r, &w);
    const char *params[6 + PROJECT_MAX_EXTRA] = {req_param(r, name), w.uid,   w.dept, w.all,
                                                 w.applicant,        w.expert};
    int n = 6;
    for (int i = 0; i < nextra && i < PROJECT_MAX_EXTRA; i++)
        params[n++] = extra[i];
    (read ? db_read : db_query)(req_service(r)->db, sql, n, params, cb, r);
}

void project_query(struct req *r, const char *name, const char *sql, const char *const *extra,
                   int nextra, db_cb cb)
{
    s_project_query(r, name, sql, extra, nextra, cb, false);
}

/* a read: it may share a busy connection (db_read) */
void project_read(struct req *r, const char *sql, db_cb cb)
{
    s_project_query(r, "id", sql, NULL, 0, cb, true);
}

void project_page(struct req *r, const char *sql, const char *const *extra, int nextra)
{
    long long id, cursor;
    int limit;
    if (!req_param_id(r, "id", &id)) return;
    if (!req_page(r, &limit, &cursor)) return;
    char lim[16], cur[24];
    snprintf(lim, sizeof lim, "%d", limit);
    id_text(cur, cursor);
    const char *more[PROJECT_MAX_EXTRA] = {lim, cur};
    int n = 2;
    for (int i = 0; i < nextra && n < PROJECT_MAX_EXTRA; i++)
        more[n++] = extra[i];
    project_query(r, "id", sql, more, n, reply_row);
}

void project_load(struct req *r, db_cb next)
{
    project_read(r, PROJECT_LOAD_SQL(""), next);
}

bool project_visible_check(struct req *r, PGresult *res)
{
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, PROJECT_VISIBLE), "t") != 0) {
        reply_error(r, error_new(ERR_NOT_FOUND, "no such project"));
        return false;
    }
    return true;
}

bool project_owner_checks(struct req *r, PGresult *res)
{
    if (!project_visible_check(r, res)) return false;
    if (atoll(PQgetvalue(res, 0, PROJECT_DEPT)) != r->user->department_id) {
        reply_error(r, error_new(ERR_FORBIDDEN,
                                 "only applicants of the owning department may change a project"));
        return false;
    }
    return true;
}

const cJSON *project_visible_body(struct req *r, PGresult *res, struct error *err)
{
    if (err) {
        reply_error(r, err);
        return NULL;
    }
    if (!project_visible_check(r, res)) return NULL;
    return req_body(r);
}

const cJSON *project_action_body(struct req *r, PGresult *res, struct error *err)
{
    if (err) {
        reply_error(r, err);
        return NULL;
    }
    if (!project_owner_checks(r, res)) return NULL;
    return req_body(r);
}

void reply_gate(struct req *r, const char *code, cJSON *missing, const char *fmt, ...)
{
    struct error *e = error_new(ERR_CONFLICT, NULL);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->detail, sizeof e->detail, fmt, ap);
    va_end(ap);
    e->code_override = code;
    error_set(e, "missing", missing);
    reply_error(r, e);
}

void reply_doc_etag(struct req *r, int status, PGresult *res)
{
    char etag[32];
    snprintf(etag, sizeof etag, "\"%s\"", PQgetvalue(res, 0, 1));
    req_add_header(r, "ETag", etag);
    reply_raw(r, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

void reply_one_etag(void *req, PGresult *res, struct error *err)
{
    struct req *r = req;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such record"));
    reply_doc_etag(r, 200, res);
}

void reply_created_etag(void *req, PGresult *res, struct error *err)
{
    struct req *r = req;
    if (err) return reply_error(r, err);
    reply_doc_etag(r, 201, res);
}

void reply_created_at(struct req *r, PGresult *res, int col, const char *fmt, ...)
{
    char loc[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(loc, sizeof loc, fmt, ap);
    va_end(ap);
    req_add_header(r, "Location", loc);
    reply_raw(r, 201, PQgetvalue(res, 0, col), (size_t)PQgetlength(res, 0, col));
}

void reply_created_in_state(struct req *r, PGresult *res, struct error *err, const char *collection,
                            const char *action)
{
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such project"));
    if (PQgetisnull(res, 0, 0))
        return reply_invalid_state(r, "project", PQgetvalue(res, 0, 3), action);
    char where[96];
    snprintf(where, sizeof where, "/api/v1/%s/%s", collection, PQgetvalue(res, 0, 2));
    req_add_header(r, "Location", where);
    reply_doc_etag(r, 201, res);
}

void reply_acted(struct req *r, PGresult *res, struct error *err, const char *status_sql,
                 db_cb reloaded)
{
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) {
        const char *params[] = {req_param(r, "id")};
        return db_query(req_service(r)->db, status_sql, 1, params, reloaded, r);
    }
    reply_doc_etag(r, 200, res);
}

void reply_reloaded_state(struct req *r, PGresult *res, struct error *err, const char *what,
                          const char *action)
{
    if (err) return reply_error(r, err);
    reply_invalid_state(r, what, PQntuples(res) ? PQgetvalue(res, 0, 0) : "unknown", action);
}

void reply_written_etag(struct req *r, PGresult *res, struct error *err, const char *what)
{
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0)
        return reply_error(r, error_new(ERR_PRECONDITION_FAILED,
                                        "the %s changed meanwhile; read it and try again", what));
    reply_doc_etag(r, 200, res);
}

int if_match_version(struct req *r, long long current)
{
    const char *h = req_header(r, "If-Match");
    if (!h) return -1;
    char tag[32];
    snprintf(tag, sizeof tag, "\"%lld\"", current);
    enum etag_result m = etag_match(h, tag, false);
    return m == ETAG_MALFORMED ? -2 : m == ETAG_MATCH;
}

void reply_bad_if_match(struct req *r)
{
    reply_error(r, error_new(ERR_BAD_REQUEST, "If-Match must be \"*\" or a list of quoted "
                                              "entity-tags such as \"3\""));
}

bool project_halted_reply(struct req *r, const char *state)
{
    struct error *e = error_project_halted(state);
    if (e) reply_error(r, e);
    return e != NULL;
}

void reply_invalid_state(struct req *r, const char *what, const char *state, const char *action)
{
    /* every action on a project checks its state after the body: a halted
     * one answers here, in that place of the refusal order */
    if (strcmp(what, "project") == 0 && project_halted_reply(r, state)) return;
    struct error *e =
        error_new(ERR_INVALID_STATE, "a %s in state %s cannot be %s", what, state, action);
    error_set(e, "state", cJSON_CreateString(state));
    reply_error(r, e);
}
