/*
 * Sessions as every service reads them (see session.h for the keys): the
 * token check (one plain HMGET of the record, believed only with its MAC
 * and before its expiry), principals and the MACs. The token itself never
 * reaches Redis, only its SHA-256. Writing sessions is the accounts
 * service's (services/accounts/src/session_store.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "itgov/crypto.h"
#include "itgov/log.h"
#include "itgov/redis.h"
#include "itgov/session.h"

static const char *const s_roles[] = {"admin",  "it_office", "applicant",
                                      "expert", "secretary", "auditor"};

unsigned role_bit(const char *name)
{
    for (unsigned i = 0; i < sizeof s_roles / sizeof *s_roles; i++)
        if (strcmp(s_roles[i], name) == 0) return 1u << i;
    return 0;
}

void principal_destroy(struct principal **self_p)
{
    if (!*self_p) return;
    free((*self_p)->user_json);
    free(*self_p);
    *self_p = NULL;
}

struct principal *principal_from_json(const char *sid, const char *user_json)
{
    cJSON *u = cJSON_Parse(user_json);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(u, "id");
    const cJSON *dept = cJSON_GetObjectItemCaseSensitive(u, "department_id");
    const cJSON *roles = cJSON_GetObjectItemCaseSensitive(u, "roles");
    if (!cJSON_IsNumber(id) || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "disabled"))) {
        cJSON_Delete(u);
        return NULL;
    }
    struct principal *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->id = (long long)id->valuedouble;
    p->department_id = cJSON_IsNumber(dept) ? (long long)dept->valuedouble : 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, roles) if (cJSON_IsString(r)) p->roles |= role_bit(r->valuestring);
    snprintf(p->sid, sizeof p->sid, "%s", sid ? sid : "");
    p->user_json = strdup(user_json);
    cJSON_Delete(u);
    return p;
}

/* ---- MACs ---------------------------------------------------------------- */

static unsigned char s_mac_key[SESSION_MAC_KEY_BYTES];
static session_seen_fn s_on_seen; /* the writer's, NULL elsewhere */

bool session_mac_key_parse(const char *hex, unsigned char key[SESSION_MAC_KEY_BYTES])
{
    size_t len = 0;
    if (!hex || strlen(hex) != 2 * SESSION_MAC_KEY_BYTES) return false;
    return sodium_hex2bin(key, SESSION_MAC_KEY_BYTES, hex, strlen(hex), NULL, &len, NULL) == 0 &&
           len == SESSION_MAC_KEY_BYTES;
}

bool session_init(const char *mac_key_hex)
{
    return session_mac_key_parse(mac_key_hex, s_mac_key);
}

void session_on_seen(session_seen_fn fn)
{
    s_on_seen = fn;
}

static void s_mac_field(crypto_auth_hmacsha256_state *st, const char *v)
{
    char len[24];
    if (!v) v = "";
    int n = snprintf(len, sizeof len, "%zu:", strlen(v));
    crypto_auth_hmacsha256_update(st, (const unsigned char *)len, (unsigned long long)n);
    crypto_auth_hmacsha256_update(st, (const unsigned char *)v, strlen(v));
}

static void s_mac_raw(const unsigned char key[SESSION_MAC_KEY_BYTES],
                      const struct session_record *rec,
                      unsigned char out[crypto_auth_hmacsha256_BYTES])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, SESSION_MAC_KEY_BYTES);
    s_mac_field(&st, "itgov-session-1");
    s_mac_field(&st, rec->token_hash);
    s_mac_field(&st, rec->sid);
    s_mac_field(&st, rec->uid);
    s_mac_field(&st, rec->user_json);
    s_mac_field(&st, rec->expires_at);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

void session_mac(const unsigned char key[SESSION_MAC_KEY_BYTES], const struct session_record *rec,
                 char out[65])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    s_mac_raw(key, rec, mac);
    hex_encode(mac, sizeof mac, out);
}

void session_sign(const struct session_record *rec, char out[65])
{
    session_mac(s_mac_key, rec, out);
}

bool session_mac_ok(const unsigned char key[SESSION_MAC_KEY_BYTES],
                    const struct session_record *rec, const char *mac_hex)
{
    unsigned char want[crypto_auth_hmacsha256_BYTES], got[crypto_auth_hmacsha256_BYTES];
    size_t len = 0;
    if (!mac_hex || strlen(mac_hex) != 2 * sizeof got ||
        sodium_hex2bin(got, sizeof got, mac_hex, strlen(mac_hex), NULL, &len, NULL) != 0 ||
        len != sizeof got)
        return false;
    s_mac_raw(key, rec, want);
    return sodium_memcmp(want, got, sizeof got) == 0;
}

void session_time_text(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct error *session_store_error(const redisReply *reply)
{
    if (!reply) return error_new(ERR_UNAVAILABLE, "the session store is unreachable");
    if (reply->type != REDIS_REPLY_ERROR) return NULL;
    log_warn("session store: %.200s", reply->str);
    return error_new(ERR_UNAVAILABLE, "the session store failed");
}

/* ---- the principal cache ----------------------------------------------- */

/* What the token check computes from a session record — its MAC verified,
 * its user JSON parsed into a principal — is a pure function of the record's
 * bytes (the MAC key is fixed at start). So each record that passed is kept
 * here, keyed by its token hash, with the very fields the MAC covers and the
 * MAC itself: a later HMGET that returns the same bytes, compared in full,
 * skips the HMAC and the JSON parse and copies the principal. Nothing else
 * is skipped: the record is still read from Redis on every request (a
 * logout, an ended or refreshed session, a role change, a disabled user, a
 * password change — every one changes or deletes the record — applies to the
 * very next request), and the expiry is checked against this second each
 * time. Bounded: CACHE_SLOTS entries, direct-mapped on the token hash (a
 * SHA-256, uniform), user JSON up to CACHE_MAX_JSON bytes; a collision just
 * replaces the entry. Used from the event loop's thread only. */
#define CACHE_SLOTS    512
#define CACHE_MAX_JSON 4096

struct cached {
    char token_hash[65];
    char mac[65];
    char *fields; /* sid, uid, user JSON and expires_at, each NUL-terminated */
    size_t len;
    struct principal p; /* user_json NULL: principal_copy() sets it */
};
static struct cached *s_cache; /* CACHE_SLOTS entries, allocated at first use */

static size_t s_fields_len(const struct session_record *rec)
{
    return strlen(rec->sid) + strlen(rec->uid) + strlen(rec->user_json) + strlen(rec->expires_at) +
           4;
}

static void s_fields_put(char *out, const struct session_record *rec)
{
    const char *f[] = {rec->sid, rec->uid, rec->user_json, rec->expires_at};
    for (size_t i = 0; i < 4; i++) {
        size_t n = strlen(f[i]) + 1;
        memcpy(out, f[i], n);
        out += n;
    }
}

static bool s_fields_same(const struct cached *c, const struct session_record *rec)
{
    const char *f[] = {rec->sid, rec->uid, rec->user_json, rec->expires_at};
    const char *at = c->fields;
    size_t left = c->len;
    for (size_t i = 0; i < 4; i++) {
        size_t n = strlen(f[i]) + 1;
        if (n > left || memcmp(at, f[i], n) != 0) return false;
        at += n;
        left -= n;
    }
    return left == 0;
}

static struct cached *s_slot(const char *token_hash)
{
    if (!s_cache && !(s_cache = calloc(CACHE_SLOTS, sizeof *s_cache))) abort();
    unsigned h = 0;
    for (int i = 0; i < 8; i++)
        h = h * 16 +
            (unsigned)(token_hash[i] <= '9' ? token_hash[i] - '0' : token_hash[i] - 'a' + 10);
    return &s_cache[h % CACHE_SLOTS];
}

static struct principal *s_principal_copy(const struct principal *from, const char *user_json)
{
    struct principal *p = malloc(sizeof *p);
    if (!p) abort();
    *p = *from;
    if (!(p->user_json = strdup(user_json))) abort();
    return p;
}

/* The entry of a record whose bytes and MAC are exactly the entry's, or NULL. */
static const struct cached *s_cache_get(const struct session_record *rec, const char *mac)
{
    const struct cached *c = s_slot(rec->token_hash);
    if (!c->fields || !mac || strcmp(c->token_hash, rec->token_hash) != 0 ||
        strcmp(c->mac, mac) != 0 || !s_fields_same(c, rec))
        return NULL;
    return c;
}

static void s_cache_put(const struct session_record *rec, const char *mac,
                        const struct principal *p)
{
    if (strlen(rec->user_json) > CACHE_MAX_JSON || strlen(mac) != 64) return;
    struct cached *c = s_slot(rec->token_hash);
    free(c->fields);
    c->len = s_fields_len(rec);
    if (!(c->fields = malloc(c->len))) abort();
    s_fields_put(c->fields, rec);
    memcpy(c->token_hash, rec->token_hash, 65);
    memcpy(c->mac, mac, 65);
    c->p = *p;
    c->p.user_json = NULL;
}

void session_cache_clear(void)
{
    for (size_t i = 0; s_cache && i < CACHE_SLOTS; i++)
        free(s_cache[i].fields);
    free(s_cache);
    s_cache = NULL;
}

/* ---- auth -------------------------------------------------------------- */

struct call {
    session_auth_cb cb;
    void *arg;
    struct redis *rd;
    char key[80], now[32]; /* the session key and this second */
};

static bool s_is_string(const redisReply *r)
{
    return r->type == REDIS_REPLY_STRING;
}

/* The hot path: one plain HMGET, no script; the record counts only with
 * its MAC and before its expiry. The writer (session_on_seen) records
 * last_seen_at at most once a second per session. */
static void s_on_auth(void *arg, redisReply *reply)
{
    struct call *c = arg;
    session_auth_cb cb = c->cb;
    struct error *err = session_store_error(reply);
    struct principal *p = NULL;
    if (!err && reply->type == REDIS_REPLY_ARRAY && reply->elements == 6 &&
        s_is_string(reply->element[0])) {
        redisReply **e = reply->element;
        struct session_record rec = {
            .token_hash = c->key + 11,
            .sid = e[0]->str,
            .uid = s_is_string(e[1]) ? e[1]->str : NULL,
            .user_json = s_is_string(e[2]) ? e[2]->str : NULL,
            .expires_at = s_is_string(e[3]) ? e[3]->str : NULL,
        };
        bool whole = rec.uid && rec.user_json && rec.expires_at;
        const char *mac = s_is_string(e[4]) ? e[4]->str : NULL;
        const struct cached *hit = whole ? s_cache_get(&rec, mac) : NULL;
        if (hit) { /* the very bytes of a record already verified and parsed */
            if (strcmp(rec.expires_at, c->now) > 0) p = s_principal_copy(&hit->p, rec.user_json);
        } else if (!whole || !session_mac_ok(s_mac_key, &rec, mac)) {
            bool numeric = strspn(rec.sid, "0123456789") == strlen(rec.sid) && strlen(rec.sid) < 20;
            log_warn("session: refused a session record whose MAC is missing or wrong (sid %s)",
                     numeric ? rec.sid : "?");
        } else if (strcmp(rec.expires_at, c->now) > 0 &&
                   (p = principal_from_json(rec.sid, rec.user_json))) {
            s_cache_put(&rec, mac, p);
        }
        const redisReply *seen = e[5];
        if (p && s_on_seen && (!s_is_string(seen) || strcmp(seen->str, c->now) != 0))
            s_on_seen(c->rd, c->key, c->now);
    }
    cb(c->arg, p, err);
    free(c);
}

void session_auth(struct redis *rd, const char *token, session_auth_cb cb, void *arg)
{
    struct call *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->cb = cb;
    c->arg = arg;
    c->rd = rd;
    memcpy(c->key, "itgov:sess:", 11);
    sha256_hex(token, strlen(token), c->key + 11);
    session_time_text(time(NULL), c->now);
    const char *argv[] = {"HMGET", c->key,       "sid", "uid",
                          "user",  "expires_at", "mac", "last_seen_at"};
    redis_cmd(rd, s_on_auth, c, 8, argv, NULL);
}
