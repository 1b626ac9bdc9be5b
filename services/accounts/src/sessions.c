/*
 * Sessions: login with lockout, logout, the admin's list of live sessions
 * and forced logout. Sessions live in Redis (shared/session.c); the events
 * about them go through the outbox like every other change.
 *
 * Lockout: every attempt for a username (a login, or a password change's
 * current_password) is admitted and counted in itgov:fail:<name> BEFORE its
 * password is checked, by one Redis function, so however many arrive at
 * once at most ITGOV_LOGIN_MAX_FAILURES are checked in a window of
 * ITGOV_LOGIN_LOCK_S seconds; the others get 429 login_locked. The failure
 * that makes ITGOV_LOGIN_MAX_FAILURES sets itgov:lock:<name> for
 * ITGOV_LOGIN_LOCK_S seconds, during which every attempt gets 429 with
 * Retry-After, even with the right password. A success clears the count.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "accounts.h"
#include "itgov/crypto.h"
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/log.h"
#include "itgov/outbox.h"
#include "itgov/redis.h"
#include "itgov/service.h"
#include "itgov/worker.h"

/* A hash to verify against when the username is unknown, so that both
 * cases take the same time. Made once at start (accounts_bootstrap). */
char accounts_dummy_hash[PASSWORD_HASH_MAX];

static void s_log_redis(void *arg, redisReply *reply)
{
    if (!reply || reply->type == REDIS_REPLY_ERROR) log_warn("redis: a bookkeeping command failed");
}

static void s_log_cached(void *arg, struct error *err)
{
    if (err) log_warn("the cached user was not refreshed: %s", err->detail);
    error_destroy(&err);
}

/* ---- recording ended sessions, then answering ------------------------------ */

struct ending {
    struct req *r;
    char *reason;
    char *body;
    int status;
    bool require_one; /* 404 when nothing ended (forced logout of an unknown id) */
};

static void s_ending_free(struct ending *e)
{
    free(e->reason);
    free(e->body);
    free(e);
}

static void s_reply_ending(struct ending *e)
{
    struct req *r = e->r;
    if (e->body)
        reply_raw(r, e->status, e->body, strlen(e->body));
    else
        reply_status(r, e->status);
    s_ending_free(e);
}

static void s_on_recorded(void *arg, PGresult *res, struct error *err)
{
    struct ending *e = arg;
    if (err) {
        reply_error(e->r, err);
        return s_ending_free(e);
    }
    s_reply_ending(e);
}

static void s_on_ended(void *arg, cJSON *ended, struct error *err)
{
    struct ending *e = arg;
    struct req *r = e->r;
    if (err) {
        reply_error(r, err);
        return s_ending_free(e);
    }
    if (cJSON_GetArraySize(ended) == 0) {
        cJSON_Delete(ended);
        if (e->require_one) {
            reply_error(r, error_new(ERR_NOT_FOUND, "no such live session"));
            return s_ending_free(e);
        }
        return s_reply_ending(e);
    }
    char *list = cJSON_PrintUnformatted(ended);
    cJSON_Delete(ended);
    char actor[24];
    snprintf(actor, sizeof actor, "%lld", r->user->id);
    const char *params[] = {actor, e->reason, list};
    db_query(req_service(r)->db,
             "SELECT emit('itgov.account.session.ended', 'users/' || (s->>'uid'), $1::bigint, "
             "jsonb_build_object('session_id', (s->>'sid')::bigint, "
             "'user_id', (s->>'uid')::bigint, 'reason', $2::text)) "
             "FROM jsonb_array_elements($3::jsonb) s",
             3, params, s_on_recorded, e);
    free(list);
}

static struct ending *s_ending(struct req *r, const char *reason, int status, const char *body)
{
    struct ending *e = calloc(1, sizeof *e);
    if (!e) abort();
    e->r = r;
    e->reason = strdup(reason);
    e->status = status;
    e->body = body ? strdup(body) : NULL;
    return e;
}

void sessions_end_user_then_reply(struct req *r, long long uid, const char *keep_sid,
                                  const char *reason, const char *user_json, int status,
                                  const char *body)
{
    struct redis *rd = req_service(r)->redis;
    /* same connection, so the refresh is done before the sessions end */
    session_cache_user(rd, uid, user_json, s_log_cached, NULL);
    session_end_user(rd, uid, keep_sid, s_on_ended, s_ending(r, reason, status, body));
}

void sessions_logout(struct req *r)
{
    session_end(req_service(r)->redis, r->user->sid, s_on_ended, s_ending(r, "logout", 204, NULL));
}

void sessions_end(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    struct ending *e = s_ending(r, "ended_by_admin", 204, NULL);
    e->require_one = true;
    session_end(req_service(r)->redis, req_param(r, "id"), s_on_ended, e);
}

/* ---- the admin's list ---------------------------------------------------------- */

/* Newest first: by id, descending. */
static int s_by_id_desc(const void *a, const void *b)
{
    double x = cJSON_GetObjectItem(*(cJSON *const *)a, "id")->valuedouble;
    double y = cJSON_GetObjectItem(*(cJSON *const *)b, "id")->valuedouble;
    return (x < y) - (x > y);
}

/* A page of the live sessions, newest first; the cursor is the id of the
 * last session shown (0: from the newest), the next page holds older ones. */
static void s_on_list(void *arg, cJSON *items, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    int limit;
    long long cursor;
    req_page(r, &limit, &cursor); /* validated in sessions_list */
    int n = cJSON_GetArraySize(items);
    cJSON **all = calloc((size_t)n + 1, sizeof *all);
    if (!all) abort();
    int k = 0;
    for (cJSON *it = items->child; it; it = it->next)
        if (cJSON_IsNumber(cJSON_GetObjectItem(it, "id"))) all[k++] = it;
    qsort(all, (size_t)k, sizeof *all, s_by_id_desc);
    cJSON *page = cJSON_CreateArray();
    long long last = 0;
    int taken = 0;
    bool more = false;
    for (int i = 0; i < k; i++) {
        long long id = (long long)cJSON_GetObjectItem(all[i], "id")->valuedouble;
        if (cursor > 0 && id >= cursor) continue;
        if (taken == limit) {
            more = true;
            break;
        }
        cJSON_AddItemToArray(page, cJSON_Duplicate(all[i], 1));
        last = id;
        taken++;
    }
    free(all);
    cJSON_Delete(items);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "items", page);
    if (more) {
        char c[24];
        snprintf(c, sizeof c, "%lld", last);
        cJSON_AddStringToObject(out, "next_cursor", c);
    } else {
        cJSON_AddNullToObject(out, "next_cursor");
    }
    reply_json(r, 200, out);
}

void sessions_list(struct req *r)
{
    int limit;
    long long cursor;
    if (!req_page(r, &limit, &cursor)) return;
    session_list(req_service(r)->redis, s_on_list, r);
}

/* ---- attempts per username --------------------------------------------------------- */

/* The attempts as Redis functions, loaded besides the session store's (see
 * main.c). KEYS[1] the attempts hash (n admitted, f failed; lives
 * ARGV[2] s after the last admission), KEYS[2] the lock; ARGV[1] the most
 * attempts one window may check. itgov_login_attempt answers {1, 0}
 * admitted or {0, ms to wait}. */
const char accounts_redis_library[] =
    "#!lua name=itgov_accounts\n"
    "redis.register_function('itgov_login_attempt', function(KEYS, ARGV)\n"
    "local lock = redis.call('PTTL', KEYS[2])\n"
    "if lock > 0 then return {0, lock} end\n"
    "local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')\n"
    "if n >= tonumber(ARGV[1]) then\n"
    "  local left = redis.call('PTTL', KEYS[1])\n"
    "  return {0, left > 0 and left or 1000}\n"
    "end\n"
    "redis.call('HINCRBY', KEYS[1], 'n', 1)\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
    "return {1, 0}\n"
    "end)\n"
    /* an admitted attempt failed: 1 if this failure locks the username */
    "redis.register_function('itgov_login_failed', function(KEYS, ARGV)\n"
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "local f = redis.call('HINCRBY', KEYS[1], 'f', 1)\n"
    "if f >= tonumber(ARGV[1]) and redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then\n"
    "  redis.call('DEL', KEYS[1])\n"
    "  return 1\n"
    "end\n"
    "return 0\n"
    "end)\n"
    /* an admitted attempt succeeded: the count starts again */
    "redis.register_function('itgov_login_ok', function(KEYS, ARGV)\n"
    "redis.call('DEL', KEYS[1])\n"
    "return 1\n"
    "end)\n";

struct attempt {
    void *cb;
    void *arg;
};

static void s_attempt_keys(const char *username, char fail_key[220], char lock_key[220])
{
    char lower[200];
    size_t i = 0;
    for (; username[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)username[i]);
    lower[i] = '\0';
    snprintf(fail_key, 220, "itgov:fail:%s", lower);
    snprintf(lock_key, 220, "itgov:lock:%s", lower);
}

static void s_attempt_call(struct service *svc, const char *function, const char *username,
                           redis_cb done, void *cb, void *arg)
{
    struct attempt *a = malloc(sizeof *a);
    if (!a) abort();
    a->cb = cb;
    a->arg = arg;
    char fail_key[220], lock_key[220], max[16], lock_s[16];
    s_attempt_keys(username, fail_key, lock_key);
    snprintf(max, sizeof max, "%ld", accounts_cfg.max_failures);
    snprintf(lock_s, sizeof lock_s, "%ld", accounts_cfg.lock_s);
    const char *argv[] = {fail_key, lock_key, max, lock_s};
    redis_fcall(svc->redis, done, a, function, 2, 4, argv);
}

static void s_on_admitted(void *arg, redisReply *reply)
{
    struct attempt *a = arg;
    attempt_cb cb = (attempt_cb)a->cb;
    void *cb_arg = a->arg;
    free(a);
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER ||
        reply->element[1]->type != REDIS_REPLY_INTEGER)
        return cb(cb_arg, error_new(ERR_UNAVAILABLE, "the session store is unreachable"));
    if (reply->element[0]->integer == 1) return cb(cb_arg, NULL);
    struct error *e = error_new(ERR_LOGIN_LOCKED, "too many failed logins; try again later");
    e->retry_after = (int)((reply->element[1]->integer + 999) / 1000);
    cb(cb_arg, e);
}

void attempt_begin(struct service *svc, const char *username, attempt_cb cb, void *arg)
{
    s_attempt_call(svc, "itgov_login_attempt", username, s_on_admitted, (void *)cb, arg);
}

static void s_on_failed(void *arg, redisReply *reply)
{
    struct attempt *a = arg;
    attempt_failed_cb cb = (attempt_failed_cb)a->cb;
    void *cb_arg = a->arg;
    free(a);
    if (!reply || reply->type != REDIS_REPLY_INTEGER)
        return cb(cb_arg, false, error_new(ERR_UNAVAILABLE, "the session store is unreachable"));
    cb(cb_arg, reply->integer == 1, NULL);
}

void attempt_failed(struct service *svc, const char *username, attempt_failed_cb cb, void *arg)
{
    s_attempt_call(svc, "itgov_login_failed", username, s_on_failed, (void *)cb, arg);
}

static void s_on_released(void *arg, redisReply *reply)
{
    free(arg);
    s_log_redis(NULL, reply);
}

void attempt_ok(struct service *svc, const char *username)
{
    s_attempt_call(svc, "itgov_login_ok", username, s_on_released, NULL, NULL);
}

/* ---- login ----------------------------------------------------------------------- */

struct login {
    struct req *r;
    char key[200]; /* lower-cased username, for the Redis counters */
    char *password;
    long long uid;
    char *stored;
    bool disabled, verified;
    long long sid;
    char *user_json;
};

static void s_login_free(struct login *l)
{
    if (l->password) sodium_memzero(l->password, strlen(l->password));
    free(l->password);
    free(l->stored);
    free(l->user_json);
    free(l);
}

static void s_login_fail(struct login *l, struct error *err)
{
    reply_error(l->r, err);
    s_login_free(l);
}

static void s_on_session(void *arg, const struct session_new *s, struct error *err)
{
    struct login *l = arg;
    if (err) return s_login_fail(l, err);
    attempt_ok(req_service(l->r), l->key);

    char expires[32];
    time_t t = (time_t)s->expires_at;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(expires, sizeof expires, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "token", s->token);
    cJSON_AddStringToObject(out, "expires_at", expires);
    cJSON_AddItemToObject(out, "user", cJSON_Parse(l->user_json));
    struct req *r = l->r;
    char where[64]; /* the session as an admin ends it: DELETE /api/v1/sessions/:id */
    snprintf(where, sizeof where, "/api/v1/sessions/%lld", l->sid);
    req_add_header(r, "Location", where);
    s_login_free(l);
    reply_json(r, 201, out);
}

static void s_on_login_recorded(void *arg, PGresult *res, struct error *err)
{
    struct login *l = arg;
    if (err) return s_login_fail(l, err);
    if (PQntuples(res) != 1) return s_login_fail(l, error_new(ERR_INTERNAL, "login not recorded"));
    l->user_json = strdup(PQgetvalue(res, 0, 0));
    l->sid = atoll(PQgetvalue(res, 0, 1));
    struct req *r = l->r;
    session_create(req_service(r)->redis, l->sid, l->uid, l->user_json, req_client_ip(r),
                   req_header(r, "User-Agent"), (int)accounts_cfg.session_ttl_s, s_on_session, l);
}

static void s_on_failure_recorded(void *arg, PGresult *res, struct error *err)
{
    struct login *l = arg;
    if (err) return s_login_fail(l, err);
    s_login_fail(l, error_new(ERR_INVALID_CREDENTIALS, "wrong username or password"));
}

static void s_on_counted(void *arg, bool locked, struct error *err)
{
    struct login *l = arg;
    if (err) return s_login_fail(l, err);
    char uid[24], username[200];
    snprintf(uid, sizeof uid, "%lld", l->uid);
    snprintf(username, sizeof username, "%s", l->key);
    const char *params[] = {l->uid ? uid : NULL, username, locked ? "true" : "false"};
    db_query(req_service(l->r)->db,
             "SELECT emit(t, coalesce('users/' || $1::bigint, 'sessions'), NULL, "
             "jsonb_build_object('username', $2::text, 'user_id', $1::bigint)) "
             "FROM unnest(CASE WHEN $3::boolean "
             "THEN ARRAY['itgov.account.login.failed', 'itgov.account.login.locked'] "
             "ELSE ARRAY['itgov.account.login.failed'] END) t",
             3, params, s_on_failure_recorded, l);
}

static void s_on_verified(void *arg, bool ran)
{
    struct login *l = arg;
    struct req *r = l->r;
    if (!ran) /* neither a success nor a failure: nothing was checked */
        return s_login_fail(l, error_new(ERR_UNAVAILABLE, "stopping, or the client has gone"));
    if (l->verified && !l->disabled) {
        char uid[24];
        snprintf(uid, sizeof uid, "%lld", l->uid);
        const char *params[] = {uid, req_client_ip(r)};
        db_query(req_service(r)->db,
                 "WITH s AS (SELECT nextval('session_ids') AS sid), "
                 "u AS (UPDATE users SET last_login_at = now() WHERE id = $1 RETURNING *) "
                 "SELECT user_doc(u)::text, s.sid, emit('itgov.account.session.created', "
                 "'users/' || u.id, u.id, jsonb_build_object('session_id', s.sid, "
                 "'user_id', u.id, 'ip', $2::text)) FROM u, s",
                 2, params, s_on_login_recorded, l);
        return;
    }
    attempt_failed(req_service(r), l->key, s_on_counted, l);
}

static void s_verify_work(void *arg)
{
    struct login *l = arg;
    bool ok = password_verify(l->stored ? l->stored : accounts_dummy_hash, l->password);
    l->verified = ok && l->stored != NULL;
}

static void s_on_user(void *arg, PGresult *res, struct error *err)
{
    struct login *l = arg;
    if (err) return s_login_fail(l, err);
    if (PQntuples(res) == 1) {
        l->uid = atoll(PQgetvalue(res, 0, 0));
        l->stored = strdup(PQgetvalue(res, 0, 1));
        l->disabled = PQgetvalue(res, 0, 2)[0] == 't';
    }
    if (!worker_run(req_service(l->r)->worker, s_verify_work, s_on_verified, l,
                    req_cancel_flag(l->r)))
        s_login_fail(l, error_new(ERR_UNAVAILABLE, "too many passwords are being checked; retry"));
}

/* Counted before anything is checked (see the top of this file). */
static void s_on_admitted_login(void *arg, struct error *err)
{
    struct login *l = arg;
    if (err) return s_login_fail(l, err);
    const char *params[] = {l->key};
    db_query(req_service(l->r)->db,
             "SELECT id, password_hash, disabled FROM users WHERE lower(username) = $1", 1, params,
             s_on_user, l);
}

void sessions_login(struct req *r)
{
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *username = fields_str(&f, "username", F_REQUIRED, 1, 64);
    const char *password = fields_str(&f, "password", F_REQUIRED, 1, 1024);
    struct error *err = fields_done(&f);
    if (err) return reply_error(r, err);

    struct login *l = calloc(1, sizeof *l);
    if (!l) abort();
    l->r = r;
    l->password = strdup(password);
    size_t i = 0;
    for (; username[i] && i + 1 < sizeof l->key; i++)
        l->key[i] = (char)tolower((unsigned char)username[i]);
    l->key[i] = '\0';
    attempt_begin(req_service(r), l->key, s_on_admitted_login, l);
}
