/*
 * Creating, refreshing, listing and ending sessions in Redis (see
 * session_store.h; the keys are in itgov/session.h). The MACs come from
 * here (session_sign): Redis never holds the key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "itgov/crypto.h"
#include "itgov/log.h"
#include "itgov/redis.h"
#include "session_store.h"

/* The session store as Redis functions (one library, loaded on every
 * connect): each runs atomically, in one round trip, without resending its
 * code. The MACs come from the caller: Redis never holds the key. */
const char session_redis_library[] =
    "#!lua name=itgov_sessions\n"
    "redis.register_function('itgov_session_touch', function(KEYS, ARGV)\n"
    "if redis.call('EXISTS', KEYS[1]) == 1 then\n"
    "  redis.call('HSET', KEYS[1], 'last_seen_at', ARGV[1])\n"
    "end\n"
    "return 1\n"
    "end)\n"
    /* the user's live sessions, as hash, sid, expires_at triples */
    "redis.register_function('itgov_session_user_list', function(KEYS, ARGV)\n"
    "redis.call('SET', 'itgov:user:' .. ARGV[1], ARGV[2])\n"
    "local out = {}\n"
    "for _, sid in ipairs(redis.call('SMEMBERS', 'itgov:usess:' .. ARGV[1])) do\n"
    "  local h = redis.call('GET', 'itgov:sid:' .. sid)\n"
    "  local e = h and redis.call('HGET', 'itgov:sess:' .. h, 'expires_at')\n"
    "  if e then table.insert(out, h); table.insert(out, sid); table.insert(out, e) end\n"
    "end\n"
    "return out\n"
    "end)\n"
    /* ARGV: uid, user, then hash, sid, mac per session; only sessions that
     * still exist with that sid get the new record */
    "redis.register_function('itgov_session_user_set', function(KEYS, ARGV)\n"
    "for i = 3, #ARGV - 2, 3 do\n"
    "  local k = 'itgov:sess:' .. ARGV[i]\n"
    "  if redis.call('HGET', k, 'sid') == ARGV[i + 1] then\n"
    "    redis.call('HSET', k, 'user', ARGV[2], 'mac', ARGV[i + 2])\n"
    "  end\n"
    "end\n"
    "return 1\n"
    "end)\n"
    "redis.register_function('itgov_session_create', function(KEYS, ARGV)\n"
    "local sid = ARGV[10]\n"
    "local k = 'itgov:sess:' .. ARGV[1]\n"
    "redis.call('HSET', k, 'sid', sid, 'uid', ARGV[2], 'user', ARGV[3], 'ip', ARGV[4], 'ua', "
    "ARGV[5],\n"
    "  'created_at', ARGV[6], 'last_seen_at', ARGV[6], 'expires_at', ARGV[7], 'mac', ARGV[11])\n"
    "redis.call('EXPIRE', k, ARGV[9])\n"
    "redis.call('SET', 'itgov:sid:' .. sid, ARGV[1], 'EX', ARGV[9])\n"
    "redis.call('SADD', 'itgov:usess:' .. ARGV[2], sid)\n"
    "redis.call('ZADD', 'itgov:sessions', ARGV[8], sid)\n"
    "redis.call('SET', 'itgov:user:' .. ARGV[2], ARGV[3])\n"
    "return sid\n"
    "end)\n"
    "redis.register_function('itgov_session_end', function(KEYS, ARGV)\n"
    "local h = redis.call('GET', 'itgov:sid:' .. ARGV[1])\n"
    "redis.call('ZREM', 'itgov:sessions', ARGV[1])\n"
    "if not h then return {} end\n"
    "local uid = redis.call('HGET', 'itgov:sess:' .. h, 'uid')\n"
    "redis.call('DEL', 'itgov:sess:' .. h, 'itgov:sid:' .. ARGV[1])\n"
    "if not uid then return {} end\n"
    "redis.call('SREM', 'itgov:usess:' .. uid, ARGV[1])\n"
    "return {ARGV[1], uid}\n"
    "end)\n"
    "redis.register_function('itgov_session_end_user', function(KEYS, ARGV)\n"
    "local out = {}\n"
    "for _, sid in ipairs(redis.call('SMEMBERS', 'itgov:usess:' .. ARGV[1])) do\n"
    "  if sid ~= ARGV[2] then\n"
    "    local h = redis.call('GET', 'itgov:sid:' .. sid)\n"
    "    if h and redis.call('DEL', 'itgov:sess:' .. h) == 1 then\n"
    "      table.insert(out, sid); table.insert(out, ARGV[1])\n"
    "    end\n"
    "    redis.call('DEL', 'itgov:sid:' .. sid)\n"
    "    redis.call('SREM', 'itgov:usess:' .. ARGV[1], sid)\n"
    "    redis.call('ZREM', 'itgov:sessions', sid)\n"
    "  end\n"
    "end\n"
    "return out\n"
    "end)\n"
    "redis.register_function('itgov_session_list', function(KEYS, ARGV)\n"
    "redis.call('ZREMRANGEBYSCORE', 'itgov:sessions', '-inf', ARGV[1])\n"
    "local out = {}\n"
    "for _, sid in ipairs(redis.call('ZRANGE', 'itgov:sessions', 0, -1)) do\n"
    "  local h = redis.call('GET', 'itgov:sid:' .. sid)\n"
    "  local s = h and redis.call('HMGET', 'itgov:sess:' .. h, 'uid', 'ip', 'ua',\n"
    "    'created_at', 'last_seen_at', 'expires_at')\n"
    "  if s and s[1] then\n"
    "    local u = cjson.decode(redis.call('GET', 'itgov:user:' .. s[1]) or '{}')\n"
    "    table.insert(out, cjson.encode({id = tonumber(sid), user_id = tonumber(s[1]),\n"
    "      username = u.username or '', ip = s[2], user_agent = s[3], created_at = s[4],\n"
    "      last_seen_at = s[5], expires_at = s[6]}))\n"
    "  else redis.call('ZREM', 'itgov:sessions', sid) end\n"
    "end\n"
    "return out\n"
    "end)\n";

struct call {
    void *cb;
    void *arg;
    struct redis *rd;
    char key[80];    /* cache: the uid */
    char *user_json; /* cache: the new user record */
    struct session_new s;
};

static struct call *s_call(void *cb, void *arg)
{
    struct call *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->cb = cb;
    c->arg = arg;
    return c;
}

static bool s_is_string(const redisReply *r)
{
    return r->type == REDIS_REPLY_STRING;
}

static void s_log_failure(void *arg, redisReply *reply)
{
    if (!reply || reply->type == REDIS_REPLY_ERROR) log_warn("redis: a session update failed");
}

/* A function that never recreates an ended session. */
void session_touch(struct redis *rd, const char *key, const char *now)
{
    const char *argv[] = {key, now};
    redis_fcall(rd, s_log_failure, NULL, "itgov_session_touch", 1, 2, argv);
}

/* ---- create ------------------------------------------------------------ */

static void s_on_create(void *arg, redisReply *reply)
{
    struct call *c = arg;
    session_create_cb cb = (session_create_cb)c->cb;
    struct error *err = session_store_error(reply);
    if (!err && reply->type != REDIS_REPLY_STRING)
        err = error_new(ERR_UNAVAILABLE, "the session store gave an unexpected answer");
    if (!err) snprintf(c->s.sid, sizeof c->s.sid, "%s", reply->str);
    cb(c->arg, err ? NULL : &c->s, err);
    free(c);
}

void session_create(struct redis *rd, long long sid, long long uid, const char *user_json,
                    const char *ip, const char *user_agent, int ttl_s, session_create_cb cb,
                    void *arg)
{
    struct call *c = s_call((void *)cb, arg);
    char hash[65], uids[24], created[32], expires[32], epoch[24], ttl[16], sids[24];
    snprintf(sids, sizeof sids, "%lld", sid);
    random_hex(c->s.token, 32);
    sha256_hex(c->s.token, strlen(c->s.token), hash);
    time_t now = time(NULL);
    c->s.expires_at = (long long)now + ttl_s;
    session_time_text(now, created);
    session_time_text((time_t)c->s.expires_at, expires);
    snprintf(uids, sizeof uids, "%lld", uid);
    snprintf(epoch, sizeof epoch, "%lld", c->s.expires_at);
    snprintf(ttl, sizeof ttl, "%d", ttl_s);
    char mac[65];
    const struct session_record rec = {hash, sids, uids, user_json, expires};
    session_sign(&rec, mac);
    const char *argv[] = {hash,    uids,    user_json, ip ? ip : "", user_agent ? user_agent : "",
                          created, expires, epoch,     ttl,          sids,
                          mac};
    redis_fcall(rd, s_on_create, c, "itgov_session_create", 0, 11, argv);
}

/* ---- end --------------------------------------------------------------- */

static void s_on_end(void *arg, redisReply *reply)
{
    struct call *c = arg;
    session_end_cb cb = (session_end_cb)c->cb;
    struct error *err = session_store_error(reply);
    cJSON *ended = NULL;
    if (!err) {
        ended = cJSON_CreateArray();
        for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "sid", atof(reply->element[i]->str));
            cJSON_AddNumberToObject(o, "uid", atof(reply->element[i + 1]->str));
            cJSON_AddItemToArray(ended, o);
        }
    }
    cb(c->arg, ended, err);
    free(c);
}

void session_end(struct redis *rd, const char *sid, session_end_cb cb, void *arg)
{
    const char *argv[] = {sid};
    redis_fcall(rd, s_on_end, s_call((void *)cb, arg), "itgov_session_end", 0, 1, argv);
}

void session_end_user(struct redis *rd, long long uid, const char *keep_sid, session_end_cb cb,
                      void *arg)
{
    char uids[24];
    snprintf(uids, sizeof uids, "%lld", uid);
    const char *argv[] = {uids, keep_sid ? keep_sid : ""};
    redis_fcall(rd, s_on_end, s_call((void *)cb, arg), "itgov_session_end_user", 0, 2, argv);
}

/* ---- list and cache ------------------------------------------------------ */

static void s_on_list(void *arg, redisReply *reply)
{
    struct call *c = arg;
    session_list_cb cb = (session_list_cb)c->cb;
    struct error *err = session_store_error(reply);
    cJSON *items = NULL;
    if (!err) {
        items = cJSON_CreateArray();
        for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
            cJSON *o = cJSON_Parse(reply->element[i]->str);
            if (o) cJSON_AddItemToArray(items, o);
        }
    }
    cb(c->arg, items, err);
    free(c);
}

void session_list(struct redis *rd, session_list_cb cb, void *arg)
{
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)time(NULL));
    const char *argv[] = {now};
    redis_fcall(rd, s_on_list, s_call((void *)cb, arg), "itgov_session_list", 0, 1, argv);
}

static void s_on_done(void *arg, redisReply *reply)
{
    struct call *c = arg;
    ((session_done_cb)c->cb)(c->arg, session_store_error(reply));
    free(c->user_json);
    free(c);
}

/* Step two of a refresh: the new user record with a new MAC per session. */
static void s_on_user_sessions(void *arg, redisReply *reply)
{
    struct call *c = arg;
    struct error *err = session_store_error(reply);
    if (err || reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
        ((session_done_cb)c->cb)(c->arg, err);
        free(c->user_json);
        free(c);
        return;
    }
    size_t n = reply->elements / 3, argc = 5 + 3 * n;
    const char **argv = calloc(argc, sizeof *argv);
    char(*macs)[65] = calloc(n ? n : 1, sizeof *macs);
    if (!argv || !macs) abort();
    argv[0] = "FCALL";
    argv[1] = "itgov_session_user_set";
    argv[2] = "0";
    argv[3] = c->key; /* the uid */
    argv[4] = c->user_json;
    size_t k = 5;
    for (size_t i = 0; i < n; i++) {
        redisReply **e = reply->element + 3 * i;
        if (!s_is_string(e[0]) || !s_is_string(e[1]) || !s_is_string(e[2])) continue;
        const struct session_record rec = {e[0]->str, e[1]->str, c->key, c->user_json, e[2]->str};
        session_sign(&rec, macs[i]);
        argv[k++] = e[0]->str;
        argv[k++] = e[1]->str;
        argv[k++] = macs[i];
    }
    redis_cmd(c->rd, s_on_done, c, (int)k, argv, NULL);
    free(argv);
    free(macs);
}

void session_cache_user(struct redis *rd, long long uid, const char *user_json, session_done_cb cb,
                        void *arg)
{
    struct call *c = s_call((void *)cb, arg);
    c->rd = rd;
    snprintf(c->key, sizeof c->key, "%lld", uid);
    c->user_json = strdup(user_json);
    if (!c->user_json) abort();
    const char *argv[] = {c->key, user_json};
    redis_fcall(rd, s_on_user_sessions, c, "itgov_session_user_list", 0, 2, argv);
}
