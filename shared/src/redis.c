/*
 * One asynchronous hiredis connection on the loop. When Redis goes away the
 * pending commands get a NULL reply (→ 503 upstream) and a timer tries to
 * reconnect every second, so the service recovers without a restart. Each
 * (re)connect first authenticates (AUTH user password, when configured),
 * then loads the functions libraries (if any), and only then counts as
 * ready, so no command ever runs unauthenticated or without its functions.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>
#include <sodium.h>
#include "itgov/log.h"
#include "itgov/redis.h"

struct redis {
    struct event_base *base;
    char *host;
    int port;
    char *user, *password;                      /* the ACL user, or NULL: no AUTH */
    const char *libraries[REDIS_MAX_LIBRARIES]; /* loaded on every (re)connect */
    int nlibraries, loading;                    /* loading: replies still awaited */
    redisAsyncContext *ac;
    bool connected;
    bool stopping;
    struct event *retry;
};

struct pending {
    redis_cb cb;
    void *arg;
};

static void s_connect(struct redis *rd);

static void s_schedule_retry(struct redis *rd)
{
    if (rd->stopping) return;
    struct timeval one = {1, 0};
    evtimer_add(rd->retry, &one);
}

static void s_on_loaded(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct redis *rd = privdata;
    redisReply *r = reply;
    if (!r) return; /* disconnected meanwhile; the next connect loads again */
    if (r->type == REDIS_REPLY_ERROR) {
        log_error("redis: cannot load the functions (Redis 7 or later is needed): %s", r->str);
        redisAsyncDisconnect(ac);
        return;
    }
    if (--rd->loading > 0) return;
    rd->connected = true;
    log_info("redis: connected to %s:%d", rd->host, rd->port);
}

/* After AUTH: load the functions, if any; else ready. */
static void s_after_auth(struct redis *rd)
{
    if (rd->nlibraries == 0) {
        rd->connected = true;
        log_info("redis: connected to %s:%d", rd->host, rd->port);
        return;
    }
    /* ready only once the functions are there, so no call can miss them */
    rd->loading = rd->nlibraries;
    for (int i = 0; i < rd->nlibraries; i++) {
        const char *argv[] = {"FUNCTION", "LOAD", "REPLACE", rd->libraries[i]};
        redisAsyncCommandArgv(rd->ac, s_on_loaded, rd, 4, argv, NULL);
    }
}

static void s_on_auth(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct redis *rd = privdata;
    redisReply *r = reply;
    if (!r) return; /* disconnected meanwhile; the next connect authenticates again */
    if (r->type == REDIS_REPLY_ERROR) {
        /* Redis's answer names no password: WRONGPASS, or ERR with no ACL */
        log_error("redis: authentication as user %s failed: %s", rd->user, r->str);
        redisAsyncDisconnect(ac);
        return;
    }
    s_after_auth(rd);
}

static void s_on_connect(const redisAsyncContext *ac, int status)
{
    struct redis *rd = ac->data;
    if (status != REDIS_OK) {
        log_warn("redis: cannot connect to %s:%d: %s", rd->host, rd->port, ac->errstr);
        rd->ac = NULL; /* hiredis frees it */
        s_schedule_retry(rd);
        return;
    }
    if (!rd->user) return s_after_auth(rd);
    const char *argv[] = {"AUTH", rd->user, rd->password};
    redisAsyncCommandArgv(rd->ac, s_on_auth, rd, 3, argv, NULL);
}

static void s_on_disconnect(const redisAsyncContext *ac, int status)
{
    struct redis *rd = ac->data;
    if (rd->connected) log_warn("redis: connection lost");
    rd->connected = false;
    rd->ac = NULL;
    s_schedule_retry(rd);
}

static void s_connect(struct redis *rd)
{
    redisAsyncContext *ac = redisAsyncConnect(rd->host, rd->port);
    if (!ac || ac->err) {
        if (ac) redisAsyncFree(ac);
        s_schedule_retry(rd);
        return;
    }
    ac->data = rd;
    redisLibeventAttach(ac, rd->base);
    redisAsyncSetConnectCallback(ac, s_on_connect);
    redisAsyncSetDisconnectCallback(ac, s_on_disconnect);
    rd->ac = ac;
}

static void s_on_retry(evutil_socket_t fd, short what, void *arg)
{
    struct redis *rd = arg;
    if (!rd->ac) s_connect(rd);
}

struct redis *redis_new(struct event_base *base, const char *host, int port, const char *user,
                        const char *password)
{
    struct redis *rd = calloc(1, sizeof *rd);
    if (!rd) abort();
    rd->base = base;
    rd->host = strdup(host);
    rd->port = port;
    if (user && password) {
        rd->user = strdup(user);
        rd->password = strdup(password);
    }
    rd->retry = evtimer_new(base, s_on_retry, rd);
    s_connect(rd);
    return rd;
}

void redis_add_library(struct redis *rd, const char *library)
{
    if (rd->nlibraries == REDIS_MAX_LIBRARIES) abort();
    rd->libraries[rd->nlibraries++] = library;
}

void redis_close(struct redis *rd)
{
    if (rd->stopping) return;
    rd->stopping = true;
    rd->connected = false;
    event_del(rd->retry);
    redisAsyncContext *ac = rd->ac;
    rd->ac = NULL;
    if (ac) redisAsyncFree(ac); /* pending callbacks get NULL now */
}

void redis_destroy(struct redis **self_p)
{
    struct redis *rd = *self_p;
    if (!rd) return;
    redis_close(rd);
    event_free(rd->retry);
    free(rd->host);
    free(rd->user);
    if (rd->password) sodium_memzero(rd->password, strlen(rd->password));
    free(rd->password);
    free(rd);
    *self_p = NULL;
}

bool redis_ready(const struct redis *rd)
{
    return rd->connected;
}

static void s_on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct pending *p = privdata;
    p->cb(p->arg, reply);
    free(p);
}

static void s_fail_later(evutil_socket_t fd, short what, void *arg)
{
    struct pending *p = arg;
    p->cb(p->arg, NULL);
    free(p);
}

void redis_cmd(struct redis *rd, redis_cb cb, void *arg, int argc, const char **argv,
               const size_t *lens)
{
    struct pending *p = malloc(sizeof *p);
    if (!p) abort();
    p->cb = cb;
    p->arg = arg;
    if (rd->stopping) { /* the loop no longer runs: answer now */
        cb(arg, NULL);
        free(p);
        return;
    }
    if (rd->connected && rd->ac &&
        redisAsyncCommandArgv(rd->ac, s_on_reply, p, argc, argv, lens) == REDIS_OK)
        return;
    struct timeval now = {0, 0};
    event_base_once(rd->base, -1, EV_TIMEOUT, s_fail_later, p, &now);
}

/* EVAL or FCALL: verb, script or function, nkeys, keys and args. */
static void s_call(struct redis *rd, redis_cb cb, void *arg, const char *verb, const char *what,
                   int nkeys, int argc, const char **argv)
{
    const char *all[16];
    char n[12];
    if (argc > 13) abort();
    snprintf(n, sizeof n, "%d", nkeys);
    all[0] = verb;
    all[1] = what;
    all[2] = n;
    for (int i = 0; i < argc; i++)
        all[3 + i] = argv[i];
    redis_cmd(rd, cb, arg, argc + 3, all, NULL);
}

void redis_eval(struct redis *rd, redis_cb cb, void *arg, const char *script, int nkeys, int argc,
                const char **argv)
{
    s_call(rd, cb, arg, "EVAL", script, nkeys, argc, argv);
}

void redis_fcall(struct redis *rd, redis_cb cb, void *arg, const char *function, int nkeys,
                 int argc, const char **argv)
{
    s_call(rd, cb, arg, "FCALL", function, nkeys, argc, argv);
}
