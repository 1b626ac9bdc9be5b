/* Small helpers the resources share: who sees a project, loading one for
 * an action, ETags, If-Match, invalid_state and gate refusals. */
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

void project_load(struct req *r, db_cb next)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    struct who w;
    who_of(r, &w);
    const char *params[] = {req_param(r, "id"), w.uid, w.dept, w.all, w.applicant, w.expert};
    db_query(req_service(r)->db,
             "SELECT p.department_id, p.state, p.version, " VISIBLE(
                 "2", "3", "4", "5", "6") ", p.submission FROM projects p WHERE p.id = $1",
             6, params, next, r);
}

bool project_owner_checks(struct req *r, PGresult *res)
{
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, PROJECT_VISIBLE), "t") != 0) {
        reply_error(r, error_new(ERR_NOT_FOUND, "no such project"));
        return false;
    }
    if (atoll(PQgetvalue(res, 0, PROJECT_DEPT)) != r->user->department_id) {
        reply_error(r, error_new(ERR_FORBIDDEN,
                                 "only applicants of the owning department may change a project"));
        return false;
    }
    return true;
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

void reply_invalid_state(struct req *r, const char *what, const char *state, const char *action)
{
    struct error *e =
        error_new(ERR_INVALID_STATE, "a %s in state %s cannot be %s", what, state, action);
    error_set(e, "state", cJSON_CreateString(state));
    reply_error(r, e);
}
