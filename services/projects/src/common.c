/* Small helpers the resources share: ETags, If-Match, invalid_state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "projects.h"

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
