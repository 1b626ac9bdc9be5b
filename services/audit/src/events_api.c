/*
 * GET /api/v1/events?after=N&limit=M&type_prefix=P — the events API: the log
 * itself, as the stored CloudEvents (each with "seq"), oldest first, in the
 * list shape of every other list:
 *   {"items": [...], "next_cursor": "<seq of the last item>" or null}
 * next_cursor is null when the page is not full (the reader has caught up);
 * cursor=C means after=C (after wins when both are given, as on GET /audit),
 * so a reader passes either the next_cursor it got or the seq of the last
 * event it has.
 *
 * The route is public in the table; this handler checks the caller: a
 * session whose user is an auditor or admin, or the secret of a live webhook
 * subscription (Authorization: Bearer whsec_...), looked up by its SHA-256.
 * A subscription sees the events its type_prefixes select.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "audit.h"
#include "itgov/crypto.h"
#include "itgov/db.h"
#include "itgov/service.h"
#include "itgov/session.h"
#include "webhooks.h"

#define EVENTS_DEFAULT_LIMIT 50
#define EVENTS_MAX_LIMIT     200

struct events_q {
    char after[24], limit[16];
    char *prefix;         /* NULL = any type */
    struct error *refuse; /* bad parameters: answered once the caller is known */
};

static void s_q_free(struct events_q *q)
{
    if (!q) return;
    error_destroy(&q->refuse);
    free(q->prefix);
    free(q);
}

/* Takes the query state off the request. */
static struct events_q *s_take(struct req *r)
{
    struct events_q *q = r->ctx;
    r->ctx = NULL;
    return q;
}

static void s_on_page(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
        return reply_error(r, error_new(ERR_UNAUTHORIZED, "no live subscription has this secret"));
    reply_raw(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

/* secret_sha256: NULL for a session caller (every event). */
static void s_query(struct req *r, const char *secret_sha256)
{
    struct events_q *q = s_take(r);
    const char *params[] = {q->after, q->limit, q->prefix, secret_sha256};
    db_query(
        req_service(r)->db,
        "WITH a AS (SELECT CASE WHEN $4::text IS NULL THEN '{}'::text[] ELSE "
        "(SELECT type_prefixes FROM subscriptions WHERE secret_sha256 = $4 "
        "AND NOT disabled) END AS prefixes), "
        "page AS (SELECT e.seq, e.cloudevent FROM entries e, a "
        "WHERE a.prefixes IS NOT NULL AND e.seq > $1::bigint "
        "AND ($3::text IS NULL OR starts_with(e.type, $3::text)) "
        "AND subscription_wants(a.prefixes, e.type) ORDER BY e.seq LIMIT $2::int) "
        "SELECT CASE WHEN (SELECT prefixes FROM a) IS NOT NULL THEN "
        "json_build_object('items', coalesce(json_agg(cloudevent::json ORDER BY seq), "
        "'[]'::json), 'next_cursor', CASE WHEN count(*) = $2::int THEN max(seq)::text END)::text "
        "END FROM page",
        4, params, s_on_page, r);
    s_q_free(q);
}

/* A subscription secret with bad parameters: 401 if the secret is wrong,
 * else the 400. */
static void s_on_secret_checked(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    struct events_q *q = s_take(r);
    struct error *refuse = q->refuse;
    q->refuse = NULL;
    s_q_free(q);
    if (err) {
        error_destroy(&refuse);
        return reply_error(r, err);
    }
    if (PQntuples(res) == 0) {
        error_destroy(&refuse);
        return reply_error(r, error_new(ERR_UNAUTHORIZED, "no live subscription has this secret"));
    }
    reply_error(r, refuse);
}

static void s_on_session(void *arg, struct principal *p, struct error *err)
{
    struct req *r = arg;
    if (p) {
        r->principal = p; /* freed with the request */
        r->user = p;
    }
    struct error *refused = err;
    if (!refused && !p)
        refused =
            error_new(ERR_UNAUTHORIZED, "a valid session token or subscription secret is required");
    else if (!refused && !(p->roles & (ROLE_AUDITOR | ROLE_ADMIN)))
        refused = error_new(ERR_FORBIDDEN, "the events API is for auditors and admins");
    struct events_q *q = r->ctx;
    if (!refused && q->refuse) {
        refused = q->refuse;
        q->refuse = NULL;
    }
    if (refused) {
        s_q_free(s_take(r));
        return reply_error(r, refused);
    }
    s_query(r, NULL);
}

void events_list(struct req *r)
{
    const char *auth = req_header(r, "Authorization");
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0 || !auth[7])
        return reply_error(
            r, error_new(ERR_UNAUTHORIZED, "a session token or subscription secret is required"));

    const char *prefix = req_query(r, "type_prefix");
    long long a = 0, l = EVENTS_DEFAULT_LIMIT;
    struct error *e = NULL;
    /* cursor is after's other name, as on GET /audit (after wins) */
    if (!req_query_int(r, "after", 0, LLONG_MAX, "must be a seq (0 or more)", &a, &e))
        req_query_int(r, "cursor", 0, LLONG_MAX, "is not a cursor this API returned", &a, &e);
    req_query_int(r, "limit", 1, EVENTS_MAX_LIMIT, NULL, &l, &e);
    if (prefix && (!*prefix || strlen(prefix) > 200))
        query_fail(&e, "type_prefix", "must be 1 to 200 characters, like itgov.account.");

    struct events_q *q = calloc(1, sizeof *q);
    if (!q) abort();
    snprintf(q->after, sizeof q->after, "%lld", a);
    snprintf(q->limit, sizeof q->limit, "%lld", l);
    q->prefix = prefix ? strdup(prefix) : NULL;
    q->refuse = e;
    r->ctx = q;
    const char *token = auth + 7;
    if (strncmp(token, WEBHOOK_SECRET_PREFIX, strlen(WEBHOOK_SECRET_PREFIX)) == 0) {
        char hash[65];
        sha256_hex(token, strlen(token), hash);
        if (!e) return s_query(r, hash);
        const char *params[] = {hash};
        return db_query(req_service(r)->db,
                        "SELECT 1 FROM subscriptions WHERE secret_sha256 = $1 AND NOT disabled", 1,
                        params, s_on_secret_checked, r);
    }
    session_auth(req_service(r)->redis, token, s_on_session, r);
}
