/*
 * Webhook subscriptions (admin): create (the secret is in that one reply and
 * nowhere else, ever), list, read, replay from a seq, disable. Each change
 * emits its itgov.subscription.* event in the same statement and then tells
 * the delivery engine to re-read the row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "audit.h"
#include "itgov/crypto.h"
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/outbox.h"
#include "itgov/service.h"
#include "webhooks.h"

#define MAX_PREFIXES   32
#define MAX_PREFIX_LEN 200

/* The reply of a statement returning (doc text, id): wake the relay and the
 * engine, then answer with the doc. */
static void s_on_written(struct req *r, int status, PGresult *res, struct error *err)
{
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
        return reply_error(r, error_new(ERR_NOT_FOUND, "no such subscription"));
    webhooks_reload(atoll(PQgetvalue(res, 0, 1)));
    reply_raw(r, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

static void s_on_created(void *arg, PGresult *res, struct error *err)
{
    s_on_written(arg, 201, res, err);
}

static void s_on_changed(void *arg, PGresult *res, struct error *err)
{
    s_on_written(arg, 200, res, err);
}

/* type_prefixes: an array of 0..MAX_PREFIXES strings of 1..MAX_PREFIX_LEN
 * characters; returns them as a JSON array text (malloc'd), or NULL after
 * recording the field errors. */
static char *s_prefixes(struct fields *f)
{
    const cJSON *a = fields_array(f, "type_prefixes", F_OPTIONAL);
    if (!fields_has(f, "type_prefixes")) return strdup("[]");
    if (!a) return NULL;
    bool ok = true;
    if (cJSON_GetArraySize(a) > MAX_PREFIXES) {
        fields_fail(f, "type_prefixes", "give at most 32 prefixes");
        ok = false;
    }
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        char name[32];
        snprintf(name, sizeof name, "type_prefixes[%d]", i++);
        size_t len = cJSON_IsString(it) ? strlen(it->valuestring) : 0;
        if (!cJSON_IsString(it) || len < 1 || len > MAX_PREFIX_LEN) {
            fields_fail(f, name,
                        "must be a non-empty string of at most 200 characters, "
                        "like \"itgov.account.\"");
            ok = false;
        }
    }
    return ok ? cJSON_PrintUnformatted(a) : NULL;
}

/* A creation waiting for its URL's host to be resolved and checked. */
struct create {
    struct req *r;
    struct fields f;
    const char *name, *url; /* in the request's body */
    char *prefixes;
};

static void s_create_checked(void *arg, enum webhook_target result, const char *why)
{
    struct create *c = arg;
    struct req *r = c->r;
    if (result == WEBHOOK_TARGET_REFUSED) fields_fail(&c->f, "url", why);
    struct error *err = fields_done(&c->f);
    if (!err && result == WEBHOOK_TARGET_UNKNOWN) {
        err = error_new(ERR_UNAVAILABLE, "%s", why);
        err->retry_after = 5;
    }
    if (err) {
        free(c->prefixes);
        free(c);
        return reply_error(r, err);
    }

    char secret[WEBHOOK_SECRET_LEN], hash[65], actor[24];
    webhooks_new_secret(secret);
    sha256_hex(secret, strlen(secret), hash);
    snprintf(actor, sizeof actor, "%lld", r->user->id);
    const char *params[] = {c->name, c->url, c->prefixes, secret, hash, actor};
    /* a new subscription starts after the newest stored entry (its own
     * .created event comes after that); a replay reaches further back */
    db_query(req_service(r)->db,
             "WITH s AS (INSERT INTO subscriptions (name, url, type_prefixes, secret, "
             "secret_sha256, created_by, cursor) VALUES ($1, $2, "
             "ARRAY(SELECT jsonb_array_elements_text($3::jsonb)), $4, $5, $6, "
             "(SELECT coalesce(max(seq), 0) FROM entries)) RETURNING *) "
             "SELECT (subscription_doc(s) || jsonb_build_object('secret', $4::text))::text, s.id, "
             "emit('itgov.subscription.created', 'subscriptions/' || s.id, $6, "
             "subscription_doc(s)) FROM s",
             6, params, s_on_created, r);
    sodium_memzero(secret, sizeof secret);
    free(c->prefixes);
    free(c);
}

void subscriptions_create(struct req *r)
{
    const cJSON *body = req_body(r);
    if (!body) return;
    struct create *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->r = r;
    struct fields *f = &c->f;
    fields_init(f, body);
    c->name = fields_str(f, "name", F_REQUIRED, 1, 200);
    c->url = fields_str(f, "url", F_REQUIRED, 1, 2000);
    c->prefixes = s_prefixes(f);
    static const char *const known[] = {"name", "url", "type_prefixes", NULL};
    fields_only(f, known);
    struct webhook_url parsed;
    const char *why;
    if (c->url && !webhooks_parse_url(c->url, &parsed, &why)) {
        fields_fail(f, "url", why);
    } else if (c->url) {
        /* where it points: at once, or once its host name is resolved */
        return webhooks_check_target(&parsed, s_create_checked, c);
    }
    s_create_checked(c, WEBHOOK_TARGET_OK, NULL);
}

void subscriptions_list(struct req *r)
{
    reply_page(r, DB_PAGE_SQL("SELECT id, subscription_doc(s) AS doc FROM subscriptions s "
                              "WHERE id > $1 ORDER BY id LIMIT $2"));
}

void subscriptions_get(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    const char *params[] = {req_param(r, "id")};
    db_query(req_service(r)->db,
             "SELECT subscription_doc(s)::text FROM subscriptions s WHERE id = $1", 1, params,
             reply_row, r);
}

/* Replay: (doc, id, outcome) where outcome is ok, disabled or beyond. */
static void s_on_replayed(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0)
        return reply_error(r, error_new(ERR_NOT_FOUND, "no such subscription"));
    const char *outcome = PQgetvalue(res, 0, 2);
    if (strcmp(outcome, "disabled") == 0)
        return reply_error(
            r, error_new(ERR_INVALID_STATE, "the subscription is disabled; create a new one"));
    if (strcmp(outcome, "beyond") == 0) {
        struct error *e = error_new(ERR_VALIDATION, "from_seq is past the end of the log");
        char msg[96];
        snprintf(msg, sizeof msg, "must be at most %s (the next entry's seq)",
                 PQgetvalue(res, 0, 3));
        error_add_field(e, "from_seq", msg);
        return reply_error(r, e);
    }
    s_on_changed(r, res, NULL);
}

void subscriptions_replay(struct req *r)
{
    long long id, from = 0;
    if (!req_param_id(r, "id", &id)) return;
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    fields_int(&f, "from_seq", F_REQUIRED, 1, 1LL << 53, &from);
    static const char *const known[] = {"from_seq", NULL};
    fields_only(&f, known);
    struct error *err = fields_done(&f);
    if (err) return reply_error(r, err);

    char froms[24], actor[24];
    snprintf(froms, sizeof froms, "%lld", from);
    snprintf(actor, sizeof actor, "%lld", r->user->id);
    const char *params[] = {req_param(r, "id"), froms, actor};
    /* the epoch bump makes a delivery begun before this unable to move the
     * cursor; attempts restart so the next try is at once */
    db_query(req_service(r)->db,
             "WITH c AS (SELECT s.id, s.disabled, "
             "(SELECT coalesce(max(seq), 0) FROM entries) + 1 AS next_seq "
             "FROM subscriptions s WHERE s.id = $1), "
             "u AS (UPDATE subscriptions s SET cursor = $2::bigint - 1, epoch = epoch + 1, "
             "attempts = 0, next_attempt_at = NULL, updated_at = now() FROM c "
             "WHERE s.id = c.id AND NOT s.disabled AND $2::bigint <= c.next_seq RETURNING s.*), "
             "e AS (SELECT emit('itgov.subscription.replayed', 'subscriptions/' || u.id, $3, "
             "subscription_doc(u) || jsonb_build_object('from_seq', $2::bigint)) FROM u) "
             "SELECT (SELECT subscription_doc(u)::text FROM u), c.id, "
             "CASE WHEN c.disabled THEN 'disabled' WHEN (SELECT count(*) FROM e) = 0 "
             "THEN 'beyond' ELSE 'ok' END, c.next_seq FROM c",
             3, params, s_on_replayed, r);
}

/* Disabling is final (a new subscription gets a new secret); disabling a
 * disabled one changes nothing and emits nothing. */
void subscriptions_disable(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    char actor[24];
    snprintf(actor, sizeof actor, "%lld", r->user->id);
    const char *params[] = {req_param(r, "id"), actor};
    db_query(req_service(r)->db,
             "WITH u AS (UPDATE subscriptions SET disabled = true, disabled_at = now(), "
             "next_attempt_at = NULL, updated_at = now() WHERE id = $1 AND NOT disabled "
             "RETURNING *), "
             "e AS (SELECT emit('itgov.subscription.disabled', 'subscriptions/' || u.id, $2, "
             "subscription_doc(u)) FROM u) "
             "SELECT coalesce((SELECT subscription_doc(u) FROM u), subscription_doc(c))::text, "
             "c.id, (SELECT count(*) FROM e) FROM subscriptions c WHERE c.id = $1",
             2, params, s_on_changed, r);
}
