/*
 * An asynchronous Redis connection on the libevent loop (hiredis), which
 * reconnects by itself. A command's callback always runs later from the loop,
 * with reply NULL when Redis is unreachable or the connection dropped.
 */
#ifndef ITGOV_REDIS_H
#define ITGOV_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <hiredis/hiredis.h>
#include <event2/event.h>

struct redis;
typedef void (*redis_cb)(void *arg, redisReply *reply);

/* user and password: the ACL user to AUTH as on every (re)connect, before
 * the connection counts as ready (both NULL: no AUTH). */
struct redis *redis_new(struct event_base *base, const char *host, int port, const char *user,
                        const char *password);
/* Shutdown, step one: pending commands get a NULL reply now, later ones at
 * once. */
void redis_close(struct redis *rd);
void redis_destroy(struct redis **self_p);
bool redis_ready(const struct redis *rd);
void redis_cmd(struct redis *rd, redis_cb cb, void *arg, int argc, const char **argv,
               const size_t *lens);
/* A Lua library of Redis functions (Redis 7, "#!lua name=..."), loaded
 * with FUNCTION LOAD REPLACE on every (re)connect, after AUTH, before the
 * connection counts as ready; the string must outlive the connection. Call
 * before the loop runs; at most REDIS_MAX_LIBRARIES. */
#define REDIS_MAX_LIBRARIES 4
void redis_add_library(struct redis *rd, const char *library);
/* FCALL function with nkeys keys followed by args (all strings). */
void redis_fcall(struct redis *rd, redis_cb cb, void *arg, const char *function, int nkeys,
                 int argc, const char **argv);
/* EVAL script with nkeys keys followed by args (all strings). */
void redis_eval(struct redis *rd, redis_cb cb, void *arg, const char *script, int nkeys, int argc,
                const char **argv);

#endif
