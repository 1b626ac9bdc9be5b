/*
 * One asynchronous hiredis connection on the loop. When Redis goes away the
 * pending commands get a NULL reply (→ 503 upstream) and a timer tries to
 * reconnect every second, so the service recovers without a restart.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>
#include "itgov/log.h"
#include "itgov/redis.h"

struct redis {
    struct event_base *base;
    char *host;
    int port;
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

static void s_on_connect(const redisAsyncContext *ac, int status)
{
    struct redis *rd = ac->data;
    if (status != REDIS_OK) {
        log_warn("redis: cannot connect to %s:%d: %s", rd->host, rd->port, ac->errstr);
        rd->ac = NULL; /* hiredis frees it */
        s_schedule_retry(rd);
        return;
    }
    rd->connected = true;
    log_info("redis: connected to %s:%d", rd->host, rd->port);
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

struct redis *redis_new(struct event_base *base, const char *host, int port)
{
    struct redis *rd = calloc(1, sizeof *rd);
    if (!rd) abort();
    rd->base = base;
    rd->host = strdup(host);
    rd->port = port;
    rd->retry = evtimer_new(base, s_on_retry, rd);
    s_connect(rd);
    return rd;
}

void redis_destroy(struct redis **self_p)
{
    struct redis *rd = *self_p;
    if (!rd) return;
    rd->stopping = true;
    if (rd->ac) redisAsyncFree(rd->ac);
    event_free(rd->retry);
    free(rd->host);
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
    if (rd->connected && rd->ac &&
        redisAsyncCommandArgv(rd->ac, s_on_reply, p, argc, argv, lens) == REDIS_OK)
        return;
    struct timeval now = {0, 0};
    event_base_once(rd->base, -1, EV_TIMEOUT, s_fail_later, p, &now);
}

void redis_eval(struct redis *rd, redis_cb cb, void *arg, const char *script, int nkeys, int argc,
                const char **argv)
{
    const char *all[16];
    char n[12];
    if (argc > 13) abort();
    snprintf(n, sizeof n, "%d", nkeys);
    all[0] = "EVAL";
    all[1] = script;
    all[2] = n;
    for (int i = 0; i < argc; i++)
        all[3 + i] = argv[i];
    redis_cmd(rd, cb, arg, argc + 3, all, NULL);
}
