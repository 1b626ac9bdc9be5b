/*
 * One asynchronous hiredis connection on the loop. When Redis goes away the
 * pending commands get a NULL reply (→ 503 upstream) and a timer tries to
 * reconnect every second, so the service recovers without a restart. Each
 * (re)connect first authenticates (AUTH user password, when configured),
 * then loads the functions libraries (if any), and only then counts as
 * ready, so no command ever runs unauthenticated or without its functions.
 *
 * hiredis 0.14 has no timeouts of its own, so each command carries a timer:
 * when it fires the caller is answered (NULL) and the connection, which is
 * stuck or lost, is dropped; hiredis then answers the remaining commands
 * with NULL and the retry timer connects again. Connecting has the same
 * deadline. A host name is looked up with evdns first, since hiredis would
 * call getaddrinfo() on the loop.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>
#include <sodium.h>
#include "itgov/dns.h"
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
    struct event *connect_timer; /* connecting, AUTH and libraries: the deadline */
    struct timeval timeout;
    struct dns_name name; /* host is a name: its lookups (name.dns set) */
};

struct pending {
    redis_cb cb;
    void *arg;
    struct redis *rd;
    struct event *timer; /* the command's deadline */
    bool expired;        /* answered already (NULL); hiredis's reply is dropped */
};

static void s_connect(struct redis *rd);

static void s_schedule_retry(struct redis *rd)
{
    if (rd->stopping) return;
    struct timeval one = {1, 0};
    evtimer_add(rd->retry, &one);
}

static void s_ready(struct redis *rd)
{
    rd->connected = true;
    evtimer_del(rd->connect_timer);
    log_info("redis: connected to %s:%d", rd->host, rd->port);
}

/* Drops a stuck connection: hiredis answers its pending commands with NULL
 * (from within redisAsyncFree), and the retry timer connects again. */
static void s_drop(struct redis *rd, const char *why)
{
    redisAsyncContext *ac = rd->ac;
    if (!ac) return;
    log_warn("redis: %s; connecting again", why);
    rd->connected = false;
    rd->ac = NULL;
    evtimer_del(rd->connect_timer);
    redisAsyncFree(ac);
    s_schedule_retry(rd);
}

static void s_on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct redis *rd = arg;
    if (!rd->connected) s_drop(rd, "connecting took too long");
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
    s_ready(rd);
}

/* After AUTH: load the functions, if any; else ready. */
static void s_after_auth(struct redis *rd)
{
    if (rd->nlibraries == 0) return s_ready(rd);
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
        evtimer_del(rd->connect_timer);
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
    evtimer_del(rd->connect_timer);
    s_schedule_retry(rd);
}

static void s_connect_to(struct redis *rd, const char *addr)
{
    redisAsyncContext *ac = redisAsyncConnect(addr, rd->port);
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
    evtimer_add(rd->connect_timer, &rd->timeout);
}

/* A lookup ended: connect to the address known, if any. */
static void s_on_resolved(void *arg)
{
    struct redis *rd = arg;
    if (rd->stopping || rd->ac) return;
    if (rd->name.addr[0])
        s_connect_to(rd, rd->name.addr);
    else
        s_schedule_retry(rd);
}

static void s_connect(struct redis *rd)
{
    if (!rd->name.dns) return s_connect_to(rd, rd->host); /* an address (or no resolver) */
    dns_name_resolve(&rd->name);
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
    rd->connect_timer = evtimer_new(base, s_on_connect_timeout, rd);
    redis_set_timeout(rd, REDIS_DEFAULT_TIMEOUT_MS);
    if (!dns_is_numeric(host))
        rd->name = (struct dns_name){.what = "redis",
                                     .host = rd->host,
                                     .dns = dns_new(base),
                                     .done = s_on_resolved,
                                     .arg = rd};
    s_connect(rd);
    return rd;
}

void redis_set_timeout(struct redis *rd, int ms)
{
    if (ms < 1) ms = REDIS_DEFAULT_TIMEOUT_MS;
    rd->timeout.tv_sec = ms / 1000;
    rd->timeout.tv_usec = (ms % 1000) * 1000;
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
    evtimer_del(rd->connect_timer);
    dns_name_cancel(&rd->name);
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
    event_free(rd->connect_timer);
    if (rd->name.dns) evdns_base_free(rd->name.dns, 0);
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
    if (p->timer) event_free(p->timer);
    if (!p->expired) p->cb(p->arg, reply);
    free(p);
}

/* No answer in time: answer the caller now, and drop the connection (which
 * makes hiredis hand this command back to s_on_reply, to be freed). */
static void s_on_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct pending *p = arg;
    struct redis *rd = p->rd;
    p->expired = true;
    event_free(p->timer);
    p->timer = NULL;
    p->cb(p->arg, NULL);
    s_drop(rd, "a command got no answer in time");
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
    struct pending *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->cb = cb;
    p->arg = arg;
    p->rd = rd;
    if (rd->stopping) { /* the loop no longer runs: answer now */
        cb(arg, NULL);
        free(p);
        return;
    }
    if (rd->connected && rd->ac) {
        p->timer = evtimer_new(rd->base, s_on_timeout, p);
        if (redisAsyncCommandArgv(rd->ac, s_on_reply, p, argc, argv, lens) == REDIS_OK) {
            evtimer_add(p->timer, &rd->timeout);
            return;
        }
        event_free(p->timer);
        p->timer = NULL;
    }
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
