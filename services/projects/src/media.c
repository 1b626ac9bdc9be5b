/*
 * Storage media and their chain of custody (article 17): the IT office
 * registers a medium (tape, disk, ...) with its custodian and location, and
 * records each hand-over to another custodian. The chain is append-only
 * (the database refuses to change or remove a link) and never forks: a
 * transfer runs under the medium's row lock in media_transfer()
 * (migrations/0012_operations.sql), which takes the link's from_custodian_id
 * from the medium as it is then. A transfer to the custodian who holds the
 * medium already is 409 conflict. The IT office, auditors and admins read
 * media.
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

#define MAX_ID LLONG_MAX

void media_create(struct req *r)
{
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *label = fields_str(&f, "label", F_REQUIRED, 1, 200);
    const char *kind = fields_str(&f, "kind", F_REQUIRED, 1, 64);
    long long custodian = 0;
    fields_int(&f, "custodian_id", F_REQUIRED, 1, MAX_ID, &custodian);
    const char *location = fields_str(&f, "location", F_REQUIRED, 1, 500);
    static const char *const known[] = {"label", "kind", "custodian_id", "location", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);
    char cust[24], actor[24];
    id_text(cust, custodian);
    id_text(actor, r->user->id);
    const char *params[] = {label, kind, cust, location, actor};
    db_query(req_service(r)->db,
             "WITH m AS (INSERT INTO media (label, kind, custodian_id, location, created_by) "
             "VALUES ($1, $2, $3, $4, $5) RETURNING *) "
             "SELECT media_full_doc(m)::text, m.version, "
             "emit('itgov.media.registered', 'media/' || m.id, $5, media_doc(m)) FROM m",
             5, params, reply_created_etag, r);
}

void media_list(struct req *r)
{
    int limit;
    long long cursor;
    if (!req_page(r, &limit, &cursor)) return;
    struct error *e = NULL;
    long long cust = 0;
    req_query_int(r, "custodian_id", 1, MAX_ID, "must be a user id", &cust, &e);
    if (e) return reply_error(r, e);
    char c[24], l[16];
    id_text(c, cursor);
    snprintf(l, sizeof l, "%d", limit);
    const char *params[] = {c, l, req_query(r, "custodian_id")};
    db_query(req_service(r)->db,
             DB_PAGE_SQL("SELECT m.id, media_doc(m) AS doc FROM media m WHERE m.id > $1 "
                         "AND ($3::bigint IS NULL OR m.custodian_id = $3::bigint) "
                         "ORDER BY m.id LIMIT $2"),
             3, params, reply_row, r);
}

void media_get(struct req *r)
{
    id_query(r, "SELECT media_full_doc(m)::text, m.version FROM media m WHERE m.id = $1",
             reply_one_etag);
}

/* ---- transfers ------------------------------------------------------------------- */

static void s_on_transferred(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    const char *outcome = PQntuples(res) ? PQgetvalue(res, 0, 0) : "not_found";
    if (strcmp(outcome, "not_found") == 0)
        return reply_error(r, error_new(ERR_NOT_FOUND, "no such medium"));
    if (strcmp(outcome, "same_custodian") == 0) {
        const char *cust = PQgetvalue(res, 0, 1);
        struct error *e =
            error_new(ERR_CONFLICT, "the medium is in the custody of user %s already", cust);
        error_set(e, "custodian_id", cJSON_CreateNumber((double)atoll(cust)));
        return reply_error(r, e);
    }
    if (strcmp(outcome, "before_last") == 0) {
        struct error *e = error_new(ERR_UNPROCESSABLE,
                                    "a transfer cannot be earlier than the last one of the chain");
        error_add_field(e, "at", "is earlier than the last transfer of this medium");
        return reply_error(r, e);
    }
    char etag[32];
    snprintf(etag, sizeof etag, "\"%s\"", PQgetvalue(res, 0, 3));
    req_add_header(r, "ETag", etag);
    char loc[64];
    snprintf(loc, sizeof loc, "/api/v1/media/%s", req_param(r, "id"));
    req_add_header(r, "Location", loc);
    reply_raw(r, 201, PQgetvalue(res, 0, 2), (size_t)PQgetlength(res, 0, 2));
}

static void s_on_medium_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such medium"));
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    long long to = 0;
    fields_int(&f, "to_custodian_id", F_REQUIRED, 1, MAX_ID, &to);
    const char *at = fields_instant(&f, "at", F_REQUIRED);
    const char *reason = fields_str(&f, "reason", F_REQUIRED, 1, 2000);
    static const char *const known[] = {"to_custodian_id", "at", "reason", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);
    char tos[24], actor[24];
    id_text(tos, to);
    id_text(actor, r->user->id);
    const char *params[] = {req_param(r, "id"), tos, at, reason, actor};
    db_query(req_service(r)->db,
             "SELECT outcome, custodian_id, doc::text, version "
             "FROM media_transfer($1::bigint, $2::bigint, $3::timestamptz, $4, $5::bigint)",
             5, params, s_on_transferred, r);
}

void media_transfer(struct req *r)
{
    id_query(r, "SELECT 1 FROM media WHERE id = $1", s_on_medium_loaded);
}
