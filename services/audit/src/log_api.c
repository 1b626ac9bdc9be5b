/*
 * Reading the log: GET /api/v1/audit (filters and keyset paging by seq) and
 * GET /api/v1/audit/verify, which recomputes the whole chain from the
 * stored rows, page by page on the loop, and checks each entry:
 *   - seq is the next one (no entry missing, none out of place);
 *   - prev_hash is the hash of the entry before (64 zeros for the first);
 *   - hash = SHA-256(prev_hash bytes || cloudevent bytes) (chain.h);
 *   - the columns say what the CloudEvent says (id, type, source, subject,
 *     actor, time, data, and its "seq" is the row's seq);
 *   - the entry is the one this service stored (its Merkle leaf in memory);
 * then that no entry the service holds is missing at the end, and that the
 * recomputed tree has the root of every checkpoint ever signed. The first
 * entry that does not fit is named; a failure is itself an event
 * (itgov.audit.verify.failed).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "audit.h"
#include "chain.h"
#include "checkpoint.h"
#include "ingest.h"
#include "itgov/crypto.h"
#include "itgov/db.h"
#include "itgov/log.h"
#include "itgov/outbox.h"
#include "itgov/service.h"
#include "itgov/text.h"
#include "log_api.h"
#include "merkle.h"

/* Entries checked per loop turn: each is parsed and hashed on the loop, so a
 * page is kept small enough (a few milliseconds) that the other requests
 * served between two pages keep a low latency during a long verify
 * (tests/bench/verify.sh measures it). */
#define VERIFY_PAGE "250"

/* ---- GET /api/v1/audit ---------------------------------------------------- */

/* The LIKE pattern matching every string that starts with prefix. */
static char *s_like_prefix(const char *prefix)
{
    size_t n = strlen(prefix);
    char *out = malloc(2 * n + 2), *o = out;
    if (!out) abort();
    for (const char *p = prefix; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\') *o++ = '\\';
        *o++ = *p;
    }
    *o++ = '%';
    *o = '\0';
    return out;
}

void audit_list(struct req *r)
{
    struct error *e = NULL;
    long long limit = 50, after = 0, actor = 0;
    req_query_int(r, "limit", 1, 200, NULL, &limit, &e);
    if (!req_query_int(r, "after", 0, LLONG_MAX, "must be a seq (0 or more)", &after, &e))
        req_query_int(r, "cursor", 0, LLONG_MAX, "is not a cursor this API returned", &after, &e);
    bool by_actor = req_query_int(r, "actor_id", 1, LLONG_MAX,
                                  "must be a user id (a positive integer)", &actor, &e);
    const char *subject = req_query(r, "subject"), *prefix = req_query(r, "type_prefix");
    const char *from = req_query(r, "from"), *to = req_query(r, "to");
    if (subject && (!*subject || strlen(subject) > 500)) {
        if (!e) e = error_new(ERR_VALIDATION, "bad query parameters");
        error_add_field(e, "subject", "must be a resource path such as users/7");
    }
    if (prefix && strlen(prefix) > 200) {
        if (!e) e = error_new(ERR_VALIDATION, "bad query parameters");
        error_add_field(e, "type_prefix", "is too long");
    }
    /* instants that exist, in 1900..2200: PostgreSQL never sees one it refuses */
    if (from && !text_is_instant(from))
        query_fail(&e, "from", "must be an RFC 3339 instant, e.g. 2026-01-31T08:00:00Z");
    if (to && !text_is_instant(to))
        query_fail(&e, "to", "must be an RFC 3339 instant, e.g. 2026-01-31T08:00:00Z");
    if (e) return reply_error(r, e);
    char after_s[24], limit_s[24], actor_s[24];
    snprintf(after_s, sizeof after_s, "%lld", after);
    snprintf(limit_s, sizeof limit_s, "%lld", limit);
    snprintf(actor_s, sizeof actor_s, "%lld", actor);
    char *like = prefix && *prefix ? s_like_prefix(prefix) : NULL;
    const char *params[] = {after_s, limit_s, subject, by_actor ? actor_s : NULL, like, from, to};
    db_query(req_service(r)->db,
             DB_PAGE_SQL("SELECT seq AS id, json_build_object('seq', seq, 'id', event_id, "
                         "'type', type, 'source', source, 'subject', subject, "
                         "'actor_id', actor_id, 'time', to_char(time AT TIME ZONE 'UTC', "
                         "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'data', data, 'hash', hash) AS doc "
                         "FROM entries WHERE seq > $1::bigint "
                         "AND ($3::text IS NULL OR subject = $3) "
                         "AND ($4::bigint IS NULL OR actor_id = $4) "
                         "AND ($5::text IS NULL OR type LIKE $5) "
                         "AND ($6::timestamptz IS NULL OR time >= $6) "
                         "AND ($7::timestamptz IS NULL OR time <= $7) "
                         "ORDER BY seq LIMIT $2::int"),
             7, params, reply_row, r);
    free(like);
}

/* ---- GET /api/v1/audit/verify --------------------------------------------- */

struct verify {
    struct req *r;
    long long target; /* entries the service holds when the check starts */
    long long seen;   /* rows checked */
    char prev[65];
    struct merkle *tree; /* rebuilt from the recomputed hashes */
    long long bad_seq;
    char reason[300];
};

static void s_verify_page(struct verify *v);

static void s_fail(struct verify *v, long long seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_fail(struct verify *v, long long seq, const char *fmt, ...)
{
    if (v->bad_seq && v->bad_seq <= seq) return;
    v->bad_seq = seq;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->reason, sizeof v->reason, fmt, ap);
    va_end(ap);
}

static void s_verify_free(struct verify *v)
{
    merkle_destroy(&v->tree);
    free(v);
}

/* An RFC 3339 instant (chain_is_rfc3339) in microseconds since the epoch,
 * rounded as PostgreSQL rounds it. */
static bool s_instant_us(const char *s, long long *out)
{
    if (!chain_is_rfc3339(s)) return false;
    int y, mo, d, h, mi, sec;
    if (sscanf(s, "%4d-%2d-%2d%*c%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6) return false;
    const char *p = s + 19;
    long long frac_us = 0;
    if (*p == '.') {
        long long scale = 100000;
        int digits = 0, round_digit = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
            if (digits < 6) {
                frac_us += (*p - '0') * scale;
                scale /= 10;
            } else if (digits == 6) {
                round_digit = *p - '0';
            }
        }
        if (round_digit >= 5) frac_us++;
    }
    long long off = 0;
    if (*p == '+' || *p == '-')
        off = (*p == '-' ? -1 : 1) * (atoi(p + 1) * 3600 + atoi(p + 4) * 60);
    long long secs = text_civil_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    *out = secs * 1000000 + frac_us;
    return true;
}

/* Whether the row's columns say what its CloudEvent says; NULL if so, else
 * what differs. */
static const char *s_columns_differ(PGresult *res, int row, long long seq, const cJSON *ev)
{
    if (!cJSON_IsObject(ev)) return "the stored CloudEvent is not a JSON object";
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(ev, "seq");
    if (!cJSON_IsNumber(s) || s->valuedouble != (double)seq)
        return "the CloudEvent's seq is not the entry's";
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "id");
    if (!cJSON_IsString(id) || strcasecmp(id->valuestring, PQgetvalue(res, row, 4)) != 0)
        return "event_id differs from the CloudEvent's id";
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, PQgetvalue(res, row, 5)) != 0)
        return "type differs from the CloudEvent's";
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(ev, "source");
    if (!cJSON_IsString(src) || strcmp(src->valuestring, PQgetvalue(res, row, 6)) != 0)
        return "source differs from the CloudEvent's";
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(ev, "subject");
    bool sub_null = !sub || cJSON_IsNull(sub);
    if (sub_null != (bool)PQgetisnull(res, row, 7) ||
        (!sub_null && (!cJSON_IsString(sub) || strcmp(sub->valuestring, PQgetvalue(res, row, 7)))))
        return "subject differs from the CloudEvent's";
    const cJSON *actor = cJSON_GetObjectItemCaseSensitive(ev, "actor");
    bool actor_num = cJSON_IsNumber(actor);
    if (actor_num == (bool)PQgetisnull(res, row, 8) ||
        (actor_num && actor->valuedouble != (double)atoll(PQgetvalue(res, row, 8))))
        return "actor_id differs from the CloudEvent's actor";
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(ev, "time");
    long long us;
    if (!cJSON_IsString(t) || !s_instant_us(t->valuestring, &us) ||
        us != atoll(PQgetvalue(res, row, 9)))
        return "time differs from the CloudEvent's";
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(ev, "data");
    if (!data != (bool)PQgetisnull(res, row, 10)) return "data differs from the CloudEvent's";
    if (data) {
        cJSON *col = cJSON_Parse(PQgetvalue(res, row, 10));
        bool same = col && cJSON_Compare(data, col, true);
        cJSON_Delete(col);
        if (!same) return "data differs from the CloudEvent's";
    }
    return NULL;
}

static void s_on_emitted(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    struct verify *v = r->ctx;
    if (err) {
        log_warn("cannot record itgov.audit.verify.failed: %s", err->detail);
        error_destroy(&err);
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddFalseToObject(body, "ok");
    cJSON_AddNumberToObject(body, "first_bad_seq", (double)v->bad_seq);
    cJSON_AddStringToObject(body, "reason", v->reason);
    r->ctx = NULL;
    s_verify_free(v);
    reply_json(r, 200, body);
}

static void s_verify_done(struct verify *v)
{
    struct req *r = v->r;
    if (v->bad_seq) {
        log_error("audit log verification failed at seq %lld: %s", v->bad_seq, v->reason);
        char actor[24], seq[24];
        snprintf(actor, sizeof actor, "%lld", r->user ? r->user->id : 0);
        snprintf(seq, sizeof seq, "%lld", v->bad_seq);
        const char *params[] = {r->user ? actor : NULL, seq, v->reason};
        db_query(req_service(r)->db,
                 "SELECT emit('itgov.audit.verify.failed', 'audit/verify', $1::bigint, "
                 "jsonb_build_object('first_bad_seq', $2::bigint, 'reason', $3::text))",
                 3, params, s_on_emitted, r);
        return;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddTrueToObject(body, "ok");
    cJSON_AddNumberToObject(body, "entries", (double)v->seen);
    cJSON *head = cJSON_AddObjectToObject(body, "head");
    cJSON_AddNumberToObject(head, "seq", (double)v->seen);
    cJSON_AddStringToObject(head, "hash", v->prev);
    r->ctx = NULL;
    s_verify_free(v);
    reply_json(r, 200, body);
}

static void s_on_checkpoints(void *arg, PGresult *res, struct error *err)
{
    struct verify *v = arg;
    if (err) {
        struct req *r = v->r;
        r->ctx = NULL;
        s_verify_free(v);
        return reply_error(r, err);
    }
    long long good = 0, skipped = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        long long size = atoll(PQgetvalue(res, i, 0));
        const char *root_hex = PQgetvalue(res, i, 1);
        merkle_hash root;
        char hex[65];
        struct checkpoint c = {.size = size};
        snprintf(c.root_hash, sizeof c.root_hash, "%s", root_hex);
        snprintf(c.time, sizeof c.time, "%s", PQgetvalue(res, i, 2));
        snprintf(c.signature, sizeof c.signature, "%s", PQgetvalue(res, i, 4));
        if (!checkpoint_signed_by_us(&c, PQgetvalue(res, i, 3))) {
            skipped++; /* not a head this key signed: it proves nothing */
            continue;
        }
        if (size > v->seen) {
            s_fail(v, v->seen + 1,
                   "the log ends at seq %lld but a checkpoint of size %lld was signed", v->seen,
                   size);
            break;
        }
        if (!merkle_root(v->tree, size, root)) break;
        hex_encode(root, sizeof root, hex);
        if (strcmp(hex, root_hex) != 0) {
            s_fail(v, good + 1,
                   "entries %lld..%lld do not have the root of the checkpoint signed for size "
                   "%lld",
                   good + 1, size, size);
            break;
        }
        good = size;
    }
    if (skipped)
        log_warn("verify: %lld stored checkpoints are not signed by the current key", skipped);
    s_verify_done(v);
}

static void s_on_verify_page(void *arg, PGresult *res, struct error *err)
{
    struct verify *v = arg;
    if (err) {
        v->r->ctx = NULL;
        struct req *r = v->r;
        s_verify_free(v);
        return reply_error(r, err);
    }
    const struct merkle *held = ingest_tree();
    int rows = PQntuples(res);
    for (int i = 0; i < rows && !v->bad_seq; i++) {
        long long seq = atoll(PQgetvalue(res, i, 0)), want = v->seen + 1;
        if (seq != want) {
            s_fail(v, want, "entry %lld is missing (the next stored one is %lld)", want, seq);
            break;
        }
        const char *prev = PQgetvalue(res, i, 1), *hash = PQgetvalue(res, i, 2);
        const char *ce = PQgetvalue(res, i, 3);
        char computed[65];
        if (strcmp(prev, v->prev) != 0) {
            s_fail(v, seq, "prev_hash is not the hash of entry %lld", seq - 1);
            break;
        }
        chain_hash(v->prev, ce, (size_t)PQgetlength(res, i, 3), computed);
        if (strcmp(computed, hash) != 0) {
            s_fail(v, seq, "the stored hash is not SHA-256(prev_hash || cloudevent)");
            break;
        }
        cJSON *ev = cJSON_ParseWithLength(ce, (size_t)PQgetlength(res, i, 3));
        const char *why = ev ? s_columns_differ(res, i, seq, ev) : "the CloudEvent is not JSON";
        cJSON_Delete(ev);
        if (why) {
            s_fail(v, seq, "%s", why);
            break;
        }
        unsigned char raw[32];
        merkle_hash leaf;
        chain_unhex32(computed, raw);
        merkle_leaf_hash(raw, sizeof raw, leaf);
        const unsigned char *mine = held ? merkle_leaf(held, seq - 1) : NULL;
        if (mine && memcmp(mine, leaf, MERKLE_HASH) != 0) {
            s_fail(v, seq, "the entry is not the one this service stored");
            break;
        }
        merkle_append(v->tree, leaf);
        memcpy(v->prev, computed, 65);
        v->seen = seq;
    }
    if (!v->bad_seq && rows > 0 && v->seen < v->target) return s_verify_page(v);
    if (!v->bad_seq && v->seen < v->target)
        s_fail(v, v->seen + 1, "entries %lld..%lld are missing (this service stored them)",
               v->seen + 1, v->target);
    /* the checkpoints up to what was checked, and any beyond the end of the
     * log as stored now (a truncated log); those signed meanwhile for
     * entries stored after the verify fixed its target are the next one's */
    char seen[24];
    id_text(seen, v->seen);
    const char *params[] = {seen};
    db_query(req_service(v->r)->db,
             "SELECT size, root_hash, time, key_id, signature FROM checkpoints "
             "WHERE size <= $1::bigint OR size > (SELECT coalesce(max(seq), 0) FROM entries) "
             "ORDER BY size",
             1, params, s_on_checkpoints, v);
}

static void s_verify_page(struct verify *v)
{
    if (atomic_load(req_cancel_flag(v->r))) { /* nobody waits for the answer any more */
        struct req *r = v->r;
        r->ctx = NULL;
        s_verify_free(v);
        return reply_error(r, error_new(ERR_UNAVAILABLE, "the client has gone"));
    }
    char after[24], target[24];
    snprintf(after, sizeof after, "%lld", v->seen);
    snprintf(target, sizeof target, "%lld", v->target);
    const char *params[] = {after, target};
    db_query(req_service(v->r)->db,
             "SELECT seq, prev_hash, hash, cloudevent, event_id::text, type, source, subject, "
             "actor_id, (extract(epoch FROM time) * 1000000)::bigint, data::text "
             "FROM entries WHERE seq > $1::bigint AND seq <= $2::bigint "
             "ORDER BY seq LIMIT " VERIFY_PAGE,
             2, params, s_on_verify_page, v);
}

void audit_verify(struct req *r)
{
    struct verify *v = calloc(1, sizeof *v);
    if (!v) abort();
    v->r = r;
    v->target = ingest_size();
    v->tree = merkle_new();
    memcpy(v->prev, CHAIN_GENESIS, 65);
    r->ctx = v;
    s_verify_page(v);
}
