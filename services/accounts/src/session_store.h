/*
 * The session store's writing side, the accounts service's alone (the
 * other services only read sessions: itgov/session.h, which has the keys).
 * Every operation below is one Redis function (Lua, Redis 7) of one
 * library, loaded on every connect (redis_add_library): one round trip,
 * atomic, except session_cache_user (two).
 */
#ifndef ACCOUNTS_SESSION_STORE_H
#define ACCOUNTS_SESSION_STORE_H

#include <cjson/cJSON.h>
#include "itgov/error.h"
#include "itgov/session.h"

struct redis;
/* The Redis functions library the operations below call. */
extern const char session_redis_library[];
/* Records last_seen_at of a session that still exists (session_on_seen). */
void session_touch(struct redis *rd, const char *key, const char *now);

struct session_new {
    char token[65];
    char sid[33];
    long long expires_at; /* epoch seconds */
};
typedef void (*session_create_cb)(void *arg, const struct session_new *s, struct error *err);
/* sid: a new session id (accounts allocates them from PostgreSQL). */
void session_create(struct redis *rd, long long sid, long long uid, const char *user_json,
                    const char *ip, const char *user_agent, int ttl_s, session_create_cb cb,
                    void *arg);

typedef void (*session_end_cb)(void *arg, cJSON *ended, struct error *err);
/* Ends one session by id; ended = array of {sid, uid} (empty if none). */
void session_end(struct redis *rd, const char *sid, session_end_cb cb, void *arg);
/* Ends every session of a user except keep_sid (may be NULL). */
void session_end_user(struct redis *rd, long long uid, const char *keep_sid, session_end_cb cb,
                      void *arg);

typedef void (*session_list_cb)(void *arg, cJSON *items, struct error *err);
/* Live sessions as [{id,user_id,username,ip,user_agent,created_at,
 * last_seen_at,expires_at}], in no particular order. */
void session_list(struct redis *rd, session_list_cb cb, void *arg);

typedef void (*session_done_cb)(void *arg, struct error *err);
/* Replaces the cached user JSON, and the user record (with a new MAC) in
 * every live session of the user: two round trips, a session ended in
 * between stays ended. */
void session_cache_user(struct redis *rd, long long uid, const char *user_json, session_done_cb cb,
                        void *arg);

#endif
