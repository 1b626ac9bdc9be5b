/*
 * The webhook delivery engine. Each live subscription is a small state
 * machine on the libevent loop with its own HTTP client connection and timer,
 * so a slow or dead receiver delays only its own deliveries:
 *
 *   LOAD  read the row (url, secret, cursor, epoch)     → FETCH
 *   FETCH the next entries after the cursor (≤ BATCH)   → SEND, or SAVE, or IDLE
 *   RESOLVE (no connection yet) the receiver's address,
 *         checked against target.h's rules                → SEND, or SENT (refused)
 *   SEND  POST the next matching event, ≤ timeout       → SENT (then SAVE)
 *   SAVE  persist the cursor (after each success) or the failure, emitting
 *         .failing/.recovered when the state flips     → SEND, FETCH, WAIT
 *   WAIT  a timer: the retry backoff, or a pause after a database error
 *   IDLE  caught up; webhooks_notify() or the 1 s tick wakes it
 *
 * Events are delivered at least once: the cursor is stored after each
 * success, so a crash between a receiver's 2xx and that write resends one
 * event (with the same webhook-id, which receivers deduplicate by). A replay
 * bumps the row's epoch, so writes by a delivery begun before it match no row.
 * The engine assumes a single audit process.
 */
#include <ifaddrs.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>
#include "audit.h"
#include "itgov/config.h"
#include "itgov/db.h"
#include "itgov/log.h"
#include "itgov/outbox.h"
#include "itgov/service.h"
#include "target.h"
#include "webhooks.h"

#define BATCH         200
#define DB_RETRY_S    2
#define TICK_MS       1000
#define MAX_RESP_BODY (1024 * 1024)
#define MAX_ADDRS     16 /* of a resolved name, looked at */

/* ---- pure parts ------------------------------------------------------------ */

int webhooks_parse_backoff(const char *text, long out[WEBHOOK_BACKOFF_MAX])
{
    int n = 0;
    const char *p = text;
    if (!p || !*p) return 0;
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p < '0' || *p > '9' || n == WEBHOOK_BACKOFF_MAX) return 0;
        char *end;
        long v = strtol(p, &end, 10);
        if (v < 1 || v > 86400) return 0;
        out[n++] = v;
        p = end;
        while (*p == ' ')
            p++;
        if (!*p) return n;
        if (*p++ != ',') return 0;
    }
}

long webhooks_backoff_delay(const long *schedule, int n, int failures)
{
    if (n <= 0) return 60;
    if (failures < 1) failures = 1;
    return schedule[failures > n ? n - 1 : failures - 1];
}

void webhooks_new_secret(char out[WEBHOOK_SECRET_LEN])
{
    unsigned char key[WEBHOOK_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    size_t pre = strlen(WEBHOOK_SECRET_PREFIX);
    memcpy(out, WEBHOOK_SECRET_PREFIX, pre);
    sodium_bin2base64(out + pre, WEBHOOK_SECRET_LEN - pre, key, sizeof key,
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(key, sizeof key);
}

int webhooks_secret_key(const char *secret, unsigned char *key, size_t max)
{
    size_t pre = strlen(WEBHOOK_SECRET_PREFIX);
    if (strncmp(secret, WEBHOOK_SECRET_PREFIX, pre) == 0) secret += pre;
    size_t len = 0;
    if (!*secret ||
        sodium_base642bin(key, max, secret, strlen(secret), NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len == 0)
        return -1;
    return (int)len;
}

void webhooks_sign(const unsigned char *key, size_t keylen, const char *id, long long timestamp,
                   const char *body, size_t len, char out[WEBHOOK_SIGNATURE_LEN])
{
    char ts[32];
    int tslen = snprintf(ts, sizeof ts, ".%lld.", timestamp);
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, key, keylen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)id, strlen(id));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (unsigned long long)tslen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "v1,", 3);
    sodium_bin2base64(out + 3, WEBHOOK_SIGNATURE_LEN - 3, mac, sizeof mac,
                      sodium_base64_VARIANT_ORIGINAL);
}

bool webhooks_parse_url(const char *url, struct webhook_url *out, const char **why)
{
    memset(out, 0, sizeof *out);
    *why = NULL;
    if (strncasecmp(url, "http://", 7) != 0) {
        *why = strncasecmp(url, "https://", 8) == 0
                   ? "https is not supported; give an http:// URL (a TLS proxy may forward it)"
                   : "must be an absolute http:// URL";
        return false;
    }
    struct evhttp_uri *u = evhttp_uri_parse_with_flags(url, 0);
    if (!u) {
        *why = "is not a well-formed URL";
        return false;
    }
    const char *host = evhttp_uri_get_host(u), *path = evhttp_uri_get_path(u),
               *query = evhttp_uri_get_query(u);
    int port = evhttp_uri_get_port(u);
    if (!host || !*host)
        *why = "has no host";
    else if (evhttp_uri_get_userinfo(u))
        *why = "must not hold a user name or password";
    else if (evhttp_uri_get_fragment(u))
        *why = "must not have a #fragment";
    else if (port == 0 || port > 65535)
        *why = "has a bad port";
    if (!*why) {
        size_t hl = strlen(host);
        const char *h = host;
        if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
            h = host + 1;
            hl -= 2;
        }
        out->port = port < 0 ? 80 : port;
        if (hl >= sizeof out->host) {
            *why = "has too long a host name";
        } else {
            memcpy(out->host, h, hl);
            out->host[hl] = '\0';
            if (out->port == 80)
                snprintf(out->host_hdr, sizeof out->host_hdr, "%s", host);
            else
                snprintf(out->host_hdr, sizeof out->host_hdr, "%s:%d", host, out->port);
            int n = snprintf(out->target, sizeof out->target, "%s%s%s", path && *path ? path : "/",
                             query ? "?" : "", query ? query : "");
            if (n < 0 || (size_t)n >= sizeof out->target) *why = "is too long";
        }
    }
    evhttp_uri_free(u);
    return *why == NULL;
}

/* ---- the engine -------------------------------------------------------------- */

enum state { ST_IDLE, ST_LOAD, ST_FETCH, ST_RESOLVE, ST_SEND, ST_SENT, ST_SAVE, ST_WAIT };
/* what a WAIT timer does when it fires */
enum then { T_LOAD, T_FETCH, T_SEND, T_SAVE };

struct item {
    long long seq;
    char id[64];
    char *body; /* NULL: not wanted by this subscription */
};

/* A name being resolved: for a subscription's next connection (sub; it
 * outlives the subscription, then NULL, until libevent calls back), or for
 * webhooks_check_target() (cb, arg). */
struct lookup {
    struct sub *sub;
    webhook_target_cb cb;
    void *arg;
    int port;
    struct evdns_getaddrinfo_request *req; /* while pending */
    struct lookup *next;
};

struct sub {
    long long id;
    struct webhook_url url;
    unsigned char key[64];
    int keylen;
    long long cursor; /* last seq dealt with, as stored */
    long long epoch;
    int attempts; /* failures in a row */
    enum state state;
    enum then then;
    bool again;  /* entries may have arrived while busy: fetch once more */
    bool reload; /* the row changed while busy: read it again */
    bool dead;   /* dropped while a database query was in flight */
    /* conn goes to the checked address; lookup is RESOLVE in flight */
    struct evhttp_connection *conn;
    struct lookup *lookup;
    struct event *timer;
    /* the current batch */
    struct item *items;
    int nitems, pos;
    bool full;
    /* the attempt in flight and its outcome */
    bool ok;
    int status;
    enum evhttp_request_error req_error;
    bool has_req_error;
    char error[200];
    /* what SAVE writes */
    long long save_seq;
    bool save_delivered;
    struct sub *next;
};

static struct {
    struct service *svc;
    struct evdns_base *dns;
    struct event *tick;
    long backoff[WEBHOOK_BACKOFF_MAX];
    int nbackoff;
    long timeout_s;
    long long head; /* highest seq known to be stored */
    bool loaded, loading, heading, stopping;
    struct sub *subs;
    struct target_rules rules; /* where receivers may be */
    struct lookup *lookups;
} s_wh;

static void s_fetch(struct sub *s);
static void s_load(struct sub *s);
static void s_next(struct sub *s);
static void s_send(struct sub *s);
static void s_save(struct sub *s);

static void s_clear_batch(struct sub *s)
{
    for (int i = 0; i < s->nitems; i++)
        free(s->items[i].body);
    free(s->items);
    s->items = NULL;
    s->nitems = s->pos = 0;
    s->full = false;
}

static void s_close_conn(struct sub *s)
{
    if (s->conn) evhttp_connection_free(s->conn); /* drops a request in flight, no callback */
    s->conn = NULL;
}

static void s_free(struct sub *s)
{
    if (s->lookup) {
        /* its callback frees it (and finds no subscription); cancelled once */
        struct evdns_getaddrinfo_request *q = s->lookup->req;
        s->lookup->sub = NULL;
        s->lookup->req = NULL;
        s->lookup = NULL;
        if (q) evdns_getaddrinfo_cancel(q);
    }
    s_clear_batch(s);
    s_close_conn(s);
    if (s->timer) event_free(s->timer);
    sodium_memzero(s->key, sizeof s->key);
    free(s);
}

static void s_unlink(struct sub *s)
{
    for (struct sub **p = &s_wh.subs; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            return;
        }
}

static struct sub *s_find(long long id)
{
    for (struct sub *s = s_wh.subs; s; s = s->next)
        if (s->id == id) return s;
    return NULL;
}

/* Drops a subscription now, or (a query in flight) when its callback comes. */
static void s_drop(struct sub *s)
{
    s_unlink(s);
    if (s->state == ST_LOAD || s->state == ST_FETCH || s->state == ST_SAVE)
        s->dead = true;
    else
        s_free(s);
}

/* A database callback's first step: false when the subscription is gone. */
static bool s_alive(struct sub *s)
{
    if (!s->dead) return true;
    s_free(s);
    return false;
}

static void s_wait(struct sub *s, enum then then, long seconds)
{
    s->state = ST_WAIT;
    s->then = then;
    struct timeval tv = {seconds, 0};
    event_add(s->timer, &tv);
}

static void s_idle(struct sub *s)
{
    s->state = ST_IDLE;
    if (s->again) s_fetch(s); /* (the tick catches a hole filling later) */
}

static void s_on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct sub *s = arg;
    if (s->state == ST_SENT) {
        /* the outcome of an attempt: record it */
        if (s->ok) {
            s->save_seq = s->items[s->pos].seq;
            s->save_delivered = true;
        } else {
            s->attempts++;
        }
        s_save(s);
        return;
    }
    if (s->state != ST_WAIT) return;
    switch (s->then) {
    case T_LOAD:
        s_load(s);
        break;
    case T_FETCH:
        s_fetch(s);
        break;
    case T_SEND:
        s_send(s);
        break;
    case T_SAVE:
        s_save(s);
        break;
    }
}

/* ---- LOAD ---- */

/* Columns: id, url, secret, cursor, epoch, attempts, disabled. */
#define SUB_COLUMNS "id, url, secret, cursor, epoch, attempts, disabled"

/* Applies a row; false if the subscription should not run. */
static bool s_apply_row(struct sub *s, PGresult *res, int row)
{
    const char *why;
    if (strcmp(PQgetvalue(res, row, 6), "t") == 0) return false;
    if (!webhooks_parse_url(PQgetvalue(res, row, 1), &s->url, &why)) {
        log_warn("webhooks: subscription %lld: url %s; not delivering", s->id, why);
        return false;
    }
    s->keylen = webhooks_secret_key(PQgetvalue(res, row, 2), s->key, sizeof s->key);
    if (s->keylen <= 0) {
        log_warn("webhooks: subscription %lld: malformed secret; not delivering", s->id);
        return false;
    }
    s->cursor = atoll(PQgetvalue(res, row, 3));
    s->epoch = atoll(PQgetvalue(res, row, 4));
    s->attempts = atoi(PQgetvalue(res, row, 5));
    return true;
}

static struct sub *s_new(long long id)
{
    struct sub *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->id = id;
    s->timer = evtimer_new(s_wh.svc->base, s_on_timer, s);
    s->next = s_wh.subs;
    s_wh.subs = s;
    return s;
}

static void s_on_loaded(void *arg, PGresult *res, struct error *err)
{
    struct sub *s = arg;
    if (!s_alive(s)) return;
    if (err) {
        log_warn("webhooks: cannot read subscription %lld: %s", s->id, err->detail);
        error_destroy(&err);
        return s_wait(s, T_LOAD, DB_RETRY_S);
    }
    if (s->reload) return s_load(s); /* changed again meanwhile */
    if (PQntuples(res) != 1 || !s_apply_row(s, res, 0)) {
        s_unlink(s);
        return s_free(s);
    }
    s_clear_batch(s);
    s_close_conn(s); /* a fresh connection for a fresh start */
    s_fetch(s);
}

static void s_load(struct sub *s)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", s->id);
    const char *params[] = {id};
    event_del(s->timer);
    s->state = ST_LOAD;
    s->reload = false;
    db_query(s_wh.svc->db, "SELECT " SUB_COLUMNS " FROM subscriptions WHERE id = $1", 1, params,
             s_on_loaded, s);
}

/* ---- FETCH ---- */

static void s_on_fetched(void *arg, PGresult *res, struct error *err)
{
    struct sub *s = arg;
    if (!s_alive(s)) return;
    if (s->reload) return s_load(s);
    if (err) {
        log_warn("webhooks: subscription %lld: cannot read the log: %s", s->id, err->detail);
        error_destroy(&err);
        return s_wait(s, T_FETCH, DB_RETRY_S);
    }
    s_clear_batch(s);
    int n = PQntuples(res);
    s->items = calloc((size_t)(n ? n : 1), sizeof *s->items);
    if (!s->items) abort();
    long long expect = s->cursor + 1;
    for (int i = 0; i < n; i++) {
        long long seq = atoll(PQgetvalue(res, i, 0));
        if (seq != expect) break; /* not yet visible: never skip past a hole */
        struct item *it = &s->items[s->nitems++];
        it->seq = seq;
        snprintf(it->id, sizeof it->id, "%s", PQgetvalue(res, i, 1));
        if (!PQgetisnull(res, i, 2)) it->body = strdup(PQgetvalue(res, i, 2));
        expect++;
    }
    s->full = n == BATCH && s->nitems == n;
    s_next(s);
}

static void s_fetch(struct sub *s)
{
    char id[24], cursor[24], epoch[24], limit[16];
    snprintf(id, sizeof id, "%lld", s->id);
    snprintf(cursor, sizeof cursor, "%lld", s->cursor);
    snprintf(epoch, sizeof epoch, "%lld", s->epoch);
    snprintf(limit, sizeof limit, "%d", BATCH);
    const char *params[] = {id, cursor, epoch, limit};
    s->state = ST_FETCH;
    s->again = false;
    db_query(s_wh.svc->db,
             "SELECT e.seq, e.event_id::text, "
             "CASE WHEN subscription_wants(s.type_prefixes, e.type) THEN e.cloudevent END "
             "FROM subscriptions s CROSS JOIN LATERAL (SELECT seq, event_id, type, cloudevent "
             "FROM entries WHERE seq > $2::bigint ORDER BY seq LIMIT $4::int) e "
             "WHERE s.id = $1 AND s.epoch = $3 AND NOT s.disabled ORDER BY e.seq",
             4, params, s_on_fetched, s);
}

/* The next step within the batch: send the next wanted event, or record
 * that the rest was passed over, or fetch more, or rest. */
static void s_next(struct sub *s)
{
    while (s->pos < s->nitems && !s->items[s->pos].body)
        s->pos++;
    if (s->pos < s->nitems) return s_send(s);
    long long last = s->nitems ? s->items[s->nitems - 1].seq : s->cursor;
    if (last > s->cursor) {
        s->ok = true;
        s->save_seq = last;
        s->save_delivered = false;
        return s_save(s);
    }
    bool more = s->full;
    s_clear_batch(s);
    if (more) return s_fetch(s);
    s_idle(s);
}

/* ---- SEND ---- */

static void s_on_req_error(enum evhttp_request_error e, void *arg)
{
    struct sub *s = arg;
    s->req_error = e;
    s->has_req_error = true;
}

static void s_on_response(struct evhttp_request *req, void *arg)
{
    struct sub *s = arg;
    int code = req ? evhttp_request_get_response_code(req) : 0;
    s->status = code;
    s->ok = code >= 200 && code < 300;
    if (s->ok) {
        s->error[0] = '\0';
    } else if (code > 0) {
        snprintf(s->error, sizeof s->error, "the receiver answered HTTP %d", code);
    } else if (s->has_req_error && s->req_error == EVREQ_HTTP_TIMEOUT) {
        snprintf(s->error, sizeof s->error, "no answer within %ld s", s_wh.timeout_s);
    } else if (s->has_req_error && s->req_error == EVREQ_HTTP_DATA_TOO_LONG) {
        snprintf(s->error, sizeof s->error, "the answer was larger than %d bytes", MAX_RESP_BODY);
    } else if (s->has_req_error && s->req_error == EVREQ_HTTP_INVALID_HEADER) {
        snprintf(s->error, sizeof s->error, "the answer was not valid HTTP");
    } else {
        snprintf(s->error, sizeof s->error,
                 "could not connect, or the connection closed before an answer");
    }
    /* Go on outside libevent's callback (which frees req when it returns). */
    s->state = ST_SENT;
    struct timeval now = {0, 0};
    event_add(s->timer, &now);
}

/* An attempt that failed before reaching the receiver (s->error says why):
 * recorded like any other, outside the current call stack. */
static void s_attempt_failed(struct sub *s)
{
    s->ok = false;
    s->status = 0;
    s->state = ST_SENT;
    struct timeval now = {0, 0};
    event_add(s->timer, &now);
}

static void s_refused(struct sub *s, const char *why)
{
    snprintf(s->error, sizeof s->error, "refused to connect: the receiver's address %s", why);
    s_attempt_failed(s);
}

/* A connection to exactly this (checked) address: a numeric host and no DNS
 * base, so nothing is looked up again. */
static void s_connect(struct sub *s, const struct target_addr *a)
{
    char text[TARGET_ADDR_TEXT];
    target_format_addr(a, text);
    s->conn = evhttp_connection_base_new(s_wh.svc->base, NULL, text, (ev_uint16_t)s->url.port);
    if (!s->conn) {
        snprintf(s->error, sizeof s->error, "cannot make a connection to the receiver");
        return s_attempt_failed(s);
    }
    evhttp_connection_set_family(s->conn, a->family == 4 ? AF_INET : AF_INET6);
    evhttp_connection_set_timeout(s->conn, (int)s_wh.timeout_s);
    evhttp_connection_set_retries(s->conn, 0);
    evhttp_connection_set_max_body_size(s->conn, MAX_RESP_BODY);
    s_send(s);
}

static void s_target_checked(webhook_target_cb cb, void *arg, int port, int result,
                             const struct target_addr *addrs, int n);

static void s_on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
    struct lookup *lk = arg;
    struct sub *s = lk->sub;
    webhook_target_cb cb = lk->cb;
    void *cb_arg = lk->arg;
    int port = lk->port;
    for (struct lookup **p = &s_wh.lookups; *p; p = &(*p)->next)
        if (*p == lk) {
            *p = lk->next;
            break;
        }
    free(lk);
    struct target_addr addrs[MAX_ADDRS];
    int n = 0;
    for (struct evutil_addrinfo *ai = res; ai && n < MAX_ADDRS; ai = ai->ai_next) {
        struct target_addr *a = &addrs[n];
        memset(a, 0, sizeof *a);
        if (ai->ai_family == AF_INET) {
            a->family = 4;
            memcpy(a->b, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
            n++;
        } else if (ai->ai_family == AF_INET6) {
            a->family = 6;
            memcpy(a->b, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
            n++;
        }
    }
    if (res) evutil_freeaddrinfo(res);
    if (cb) return s_target_checked(cb, cb_arg, port, result, addrs, n);
    if (!s) return; /* dropped meanwhile */
    s->lookup = NULL;
    if (result != 0) {
        snprintf(s->error, sizeof s->error, "cannot resolve the receiver's host: %s",
                 evutil_gai_strerror(result));
        return s_attempt_failed(s);
    }
    char why[256];
    int i = target_pick(&s_wh.rules, addrs, n, s->url.port, why, sizeof why);
    if (i < 0) return s_refused(s, why);
    s_connect(s, &addrs[i]);
}

/* Starts resolving host; the lookup calls s_on_resolved, perhaps at once
 * (numbers, the hosts file), in which case it is gone when this returns. */
static struct lookup *s_lookup(const char *host, struct sub *s, webhook_target_cb cb, void *arg,
                               int port)
{
    struct lookup *lk = calloc(1, sizeof *lk);
    if (!lk) abort();
    lk->sub = s;
    lk->cb = cb;
    lk->arg = arg;
    lk->port = port;
    lk->next = s_wh.lookups;
    s_wh.lookups = lk;
    if (s) s->lookup = lk;
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    struct evdns_getaddrinfo_request *q =
        evdns_getaddrinfo(s_wh.dns, host, NULL, &hints, s_on_resolved, lk);
    if (!q) return NULL;
    lk->req = q;
    return lk;
}

/* The receiver's address, checked, before a new connection. */
static void s_resolve(struct sub *s)
{
    struct target_addr a[2];
    const char *bad;
    char why[256];
    s->state = ST_RESOLVE;
    switch (target_classify_host(s->url.host, &a[0], &bad)) {
    case TARGET_HOST_BAD:
        return s_refused(s, bad);
    case TARGET_HOST_IP:
        if (target_check(&s_wh.rules, &a[0], s->url.port, why, sizeof why) != TARGET_OK)
            return s_refused(s, why);
        return s_connect(s, &a[0]);
    case TARGET_HOST_LOCALHOST: {
        target_parse_addr("127.0.0.1", &a[0]);
        target_parse_addr("::1", &a[1]);
        int i = target_pick(&s_wh.rules, a, 2, s->url.port, why, sizeof why);
        if (i < 0) return s_refused(s, why);
        return s_connect(s, &a[i]);
    }
    case TARGET_HOST_NAME:
        break;
    }
    if (!s_wh.dns) {
        snprintf(s->error, sizeof s->error, "cannot resolve the receiver's host: no resolver");
        return s_attempt_failed(s);
    }
    s_lookup(s->url.host, s, NULL, NULL, s->url.port);
}

static void s_send(struct sub *s)
{
    if (!s->conn) return s_resolve(s);
    struct item *it = &s->items[s->pos];
    struct evhttp_request *req = evhttp_request_new(s_on_response, s);
    if (!req) abort();
    evhttp_request_set_error_cb(req, s_on_req_error);
    s->has_req_error = false;
    long long ts = (long long)time(NULL);
    char tss[24], sig[WEBHOOK_SIGNATURE_LEN];
    snprintf(tss, sizeof tss, "%lld", ts);
    size_t len = strlen(it->body);
    webhooks_sign(s->key, (size_t)s->keylen, it->id, ts, it->body, len, sig);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", s->url.host_hdr);
    evhttp_add_header(h, "User-Agent", "itgov-audit-webhooks/1");
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "webhook-id", it->id);
    evhttp_add_header(h, "webhook-timestamp", tss);
    evhttp_add_header(h, "webhook-signature", sig);
    evbuffer_add(evhttp_request_get_output_buffer(req), it->body, len);
    s->state = ST_SEND;
    if (evhttp_make_request(s->conn, req, EVHTTP_REQ_POST, s->url.target) != 0) {
        /* req is freed already */
        snprintf(s->error, sizeof s->error, "cannot send the request");
        s_attempt_failed(s);
    }
}

/* ---- SAVE ---- */

static void s_on_saved(void *arg, PGresult *res, struct error *err)
{
    struct sub *s = arg;
    if (!s_alive(s)) return;
    if (s->reload) {
        error_destroy(&err);
        return s_load(s);
    }
    if (err) {
        log_warn("webhooks: subscription %lld: cannot record a delivery: %s", s->id, err->detail);
        error_destroy(&err);
        /* a failure still waits its backoff; a cursor must be stored first */
        if (!s->ok)
            return s_wait(s, T_SEND,
                          webhooks_backoff_delay(s_wh.backoff, s_wh.nbackoff, s->attempts));
        return s_wait(s, T_SAVE, DB_RETRY_S);
    }
    if (PQntuples(res) == 0) return s_load(s); /* replayed or disabled meanwhile */
    if (!s->ok) {
        long delay = webhooks_backoff_delay(s_wh.backoff, s_wh.nbackoff, s->attempts);
        log_info("webhooks: subscription %lld: delivery of seq %lld failed (%s); "
                 "attempt %d, next in %ld s",
                 s->id, s->items[s->pos].seq, s->error, s->attempts, delay);
        s_close_conn(s); /* a fresh connection for the retry */
        return s_wait(s, T_SEND, delay);
    }
    s->cursor = s->save_seq;
    if (s->save_delivered) {
        s->attempts = 0;
        s->pos++;
    }
    s_next(s);
}

/* Writes the outcome held in the sub: a failed attempt (!ok), a delivered
 * event (save_delivered, save_seq) or a stretch of entries passed over. */
static void s_save(struct sub *s)
{
    char id[24], epoch[24], seq[24], attempts[16], delay[16];
    snprintf(id, sizeof id, "%lld", s->id);
    snprintf(epoch, sizeof epoch, "%lld", s->epoch);
    s->state = ST_SAVE;
    if (!s->ok) {
        snprintf(attempts, sizeof attempts, "%d", s->attempts);
        snprintf(delay, sizeof delay, "%ld",
                 webhooks_backoff_delay(s_wh.backoff, s_wh.nbackoff, s->attempts));
        const char *params[] = {id, epoch, s->error, attempts, delay};
        db_query(s_wh.svc->db,
                 "WITH o AS (SELECT failing_since AS was FROM subscriptions "
                 "WHERE id = $1 AND epoch = $2 AND NOT disabled), "
                 "u AS (UPDATE subscriptions SET last_error = $3, last_attempt_at = now(), "
                 "attempts = $4::int, failing_since = coalesce(failing_since, now()), "
                 "next_attempt_at = now() + make_interval(secs => $5::int), updated_at = now() "
                 "FROM o WHERE id = $1 AND epoch = $2 AND NOT disabled "
                 "RETURNING id, subscription_doc(subscriptions) AS doc, o.was IS NULL AS flip) "
                 "SELECT CASE WHEN flip THEN emit('itgov.subscription.failing', "
                 "'subscriptions/' || id, NULL, doc) IS NOT NULL ELSE false END FROM u",
                 5, params, s_on_saved, s);
        return;
    }
    snprintf(seq, sizeof seq, "%lld", s->save_seq);
    const char *params[] = {id, epoch, seq, s->save_delivered ? "true" : "false"};
    db_query(s_wh.svc->db,
             "WITH o AS (SELECT failing_since AS was FROM subscriptions "
             "WHERE id = $1 AND epoch = $2 AND NOT disabled), "
             "u AS (UPDATE subscriptions SET cursor = $3::bigint, updated_at = now(), "
             "delivered = delivered + CASE WHEN $4::bool THEN 1 ELSE 0 END, "
             "last_success_at = CASE WHEN $4::bool THEN now() ELSE last_success_at END, "
             "last_attempt_at = CASE WHEN $4::bool THEN now() ELSE last_attempt_at END, "
             "last_error = CASE WHEN $4::bool THEN NULL ELSE last_error END, "
             "attempts = CASE WHEN $4::bool THEN 0 ELSE attempts END, "
             "next_attempt_at = CASE WHEN $4::bool THEN NULL ELSE next_attempt_at END, "
             "failing_since = CASE WHEN $4::bool THEN NULL ELSE failing_since END "
             "FROM o WHERE id = $1 AND epoch = $2 AND NOT disabled "
             "RETURNING id, subscription_doc(subscriptions) AS doc, "
             "$4::bool AND o.was IS NOT NULL AS flip) "
             "SELECT CASE WHEN flip THEN emit('itgov.subscription.recovered', "
             "'subscriptions/' || id, NULL, doc) IS NOT NULL ELSE false END FROM u",
             4, params, s_on_saved, s);
}

/* ---- all subscriptions: start, tick, notify, reload, stop ---------------- */

static void s_on_all_loaded(void *arg, PGresult *res, struct error *err)
{
    s_wh.loading = false;
    if (s_wh.stopping) {
        error_destroy(&err);
        return;
    }
    if (err) {
        log_warn("webhooks: cannot read the subscriptions (will retry): %s", err->detail);
        error_destroy(&err);
        return;
    }
    s_wh.loaded = true;
    int n = PQntuples(res), live = 0;
    for (int i = 0; i < n; i++) {
        long long id = atoll(PQgetvalue(res, i, 0));
        if (s_find(id)) continue; /* created meanwhile and already running */
        struct sub *s = s_new(id);
        if (!s_apply_row(s, res, i)) {
            s_unlink(s);
            s_free(s);
            continue;
        }
        live++;
        s_fetch(s);
    }
    log_info("webhooks: %d subscription(s) delivering", live);
}

static void s_on_head(void *arg, PGresult *res, struct error *err)
{
    s_wh.heading = false;
    if (s_wh.stopping || err) {
        error_destroy(&err);
        return;
    }
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        webhooks_notify(atoll(PQgetvalue(res, 0, 0)));
}

static void s_on_tick(evutil_socket_t fd, short what, void *arg)
{
    if (s_wh.stopping) return;
    if (!s_wh.loaded) {
        if (s_wh.loading) return;
        s_wh.loading = true;
        db_query(s_wh.svc->db,
                 "SELECT " SUB_COLUMNS " FROM subscriptions WHERE NOT disabled "
                 "ORDER BY id",
                 0, NULL, s_on_all_loaded, NULL);
        return;
    }
    if (s_wh.heading || !s_wh.subs) return;
    s_wh.heading = true;
    db_query(s_wh.svc->db, "SELECT max(seq) FROM entries", 0, NULL, s_on_head, NULL);
}

/* ---- where receivers may be: target.h's rules from the environment -------- */

/* One of itgov's own parts at host:port (host: an address, a name, or NULL
 * for "wherever"): its port is refused on loopback, private and local
 * addresses, and on the addresses host has now. */
static bool s_own(const char *host, long port)
{
    if (port < 1 || port > 65535) return true;
    struct target_addr a;
    const char *why;
    bool ok = true;
    enum target_host h = host && *host ? target_classify_host(host, &a, &why) : TARGET_HOST_BAD;
    if (h == TARGET_HOST_IP) return target_add_own(&s_wh.rules, (int)port, &a);
    if (h != TARGET_HOST_NAME) return target_add_own(&s_wh.rules, (int)port, NULL);
    /* once, at start: a part whose address changes later stays covered on
     * private and loopback addresses, where such parts live */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0)
        log_warn("webhooks: cannot resolve %s (%s), one of itgov's parts; port %ld stays refused "
                 "on loopback and private addresses",
                 host, gai_strerror(rc), port);
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        memset(&a, 0, sizeof a);
        if (ai->ai_family == AF_INET) {
            a.family = 4;
            memcpy(a.b, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
        } else if (ai->ai_family == AF_INET6) {
            a.family = 6;
            memcpy(a.b, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
        } else {
            continue;
        }
        ok = ok && target_add_own(&s_wh.rules, (int)port, &a);
    }
    if (res) freeaddrinfo(res);
    return ok && target_add_own(&s_wh.rules, (int)port, NULL);
}

/* A port from the environment (or its default); false if malformed. */
static bool s_env_port(const char *var, long def, long *out)
{
    const char *v = getenv(var);
    *out = def;
    if (!v || !*v) return true;
    if (config_parse_long(v, 1, 65535, out)) return true;
    log_error("%s: give a port number (1-65535)", var);
    return false;
}

static const char *s_env_host(const char *var)
{
    const char *v = getenv(var);
    return v && *v ? v : "127.0.0.1";
}

/* Every PostgreSQL host and port the audit's conninfo names (host and port
 * may be comma-separated lists), and ITGOV_PG_PORT. */
static bool s_own_postgres(void)
{
    long pg_port;
    bool ok = s_env_port("ITGOV_PG_PORT", 5432, &pg_port) && s_own(NULL, pg_port);
    const char *url = getenv("ITGOV_AUDIT_DATABASE_URL");
    if (!url || !*url) url = getenv("ITGOV_DATABASE_URL");
    if (!url || !*url) url = "host=127.0.0.1 port=5432";
    PQconninfoOption *opts = PQconninfoParse(url, NULL);
    if (!opts) return ok; /* the pool reports a bad conninfo */
    const char *hosts = "", *addrs = "", *ports = "";
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val) continue;
        if (strcmp(o->keyword, "host") == 0) hosts = o->val;
        if (strcmp(o->keyword, "hostaddr") == 0) addrs = o->val;
        if (strcmp(o->keyword, "port") == 0) ports = o->val;
    }
    char port_list[256];
    snprintf(port_list, sizeof port_list, "%s", *ports ? ports : "5432");
    long port_of[16];
    int nport = 0;
    for (char *save = NULL, *p = strtok_r(port_list, ",", &save); p && nport < 16;
         p = strtok_r(NULL, ",", &save)) {
        if (!config_parse_long(p, 1, 65535, &port_of[nport])) port_of[nport] = 5432;
        nport++;
    }
    const char *lists[] = {hosts, addrs};
    for (int l = 0; l < 2; l++) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", lists[l]);
        int i = 0;
        for (char *save = NULL, *h = strtok_r(buf, ",", &save); h;
             h = strtok_r(NULL, ",", &save), i++) {
            long port = nport == 0 ? 5432 : port_of[nport == 1 ? 0 : i < nport ? i : nport - 1];
            ok = (h[0] == '/' ? s_own(NULL, port) : s_own(h, port)) && ok; /* '/': a socket dir */
        }
    }
    for (int i = 0; i < nport; i++)
        ok = s_own(NULL, port_of[i]) && ok;
    PQconninfoFree(opts);
    return ok;
}

/* The hosts and ports of the catch-up URLs (ITGOV_AUDIT_SOURCES). */
static bool s_own_sources(void)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", audit_cfg.sources ? audit_cfg.sources : "");
    bool ok = true;
    for (char *save = NULL, *e = strtok_r(buf, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(e, '=');
        struct webhook_url u;
        const char *why;
        if (eq && webhooks_parse_url(eq + 1, &u, &why)) ok = s_own(u.host, u.port) && ok;
    }
    return ok;
}

/* This machine's own addresses (every interface's). */
static void s_local_addresses(void)
{
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0) {
        log_warn("webhooks: cannot list this machine's addresses; only loopback and private "
                 "ones are guarded");
        return;
    }
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        struct target_addr a = {0};
        if (!i->ifa_addr) continue;
        if (i->ifa_addr->sa_family == AF_INET) {
            a.family = 4;
            memcpy(a.b, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            a.family = 6;
            memcpy(a.b, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
        } else {
            continue;
        }
        target_add_local(&s_wh.rules, &a);
    }
    freeifaddrs(ifs);
}

/* ITGOV_WEBHOOK_ALLOW and every part of itgov this process knows of. */
static bool s_load_rules(void)
{
    char err[256];
    memset(&s_wh.rules, 0, sizeof s_wh.rules);
    if (!target_parse_allow(&s_wh.rules, getenv("ITGOV_WEBHOOK_ALLOW"), err, sizeof err)) {
        log_error("ITGOV_WEBHOOK_ALLOW: %s", err);
        return false;
    }
    static const struct {
        const char *host_var, *port_var;
        long port;
    } parts[] = {
        /* and every service of deploy/services, below */
        {"ITGOV_GATEWAY_HOST", "ITGOV_GATEWAY_PORT", 8080},
        {"ITGOV_BROKER_HOST", "ITGOV_BROKER_XSUB_PORT", 5550},
        {"ITGOV_BROKER_HOST", "ITGOV_BROKER_XPUB_PORT", 5551},
        {"ITGOV_REDIS_HOST", "ITGOV_REDIS_PORT", 6379},
    };
    bool ok = true;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        long port;
        if (!s_env_port(parts[i].port_var, parts[i].port, &port))
            ok = false;
        else
            ok = s_own(s_env_host(parts[i].host_var), port) && ok;
    }
    struct service_peer peers[16];
    int np = service_peers(peers, 16);
    if (np < 0) ok = false;
    for (int i = 0; i < np; i++)
        ok = s_own(peers[i].host, peers[i].port) && ok;
    ok = s_own(s_env_host("ITGOV_AUDIT_HOST"), audit_cfg.pub_port) && ok;
    ok = s_own_postgres() && ok;
    ok = s_own_sources() && ok;
    if (!ok) {
        log_error("webhooks: too many of itgov's own addresses to guard, or a bad port");
        return false;
    }
    s_local_addresses();
    return true;
}

static void s_target_checked(webhook_target_cb cb, void *arg, int port, int result,
                             const struct target_addr *addrs, int n)
{
    char why[256];
    if (result == EVUTIL_EAI_NONAME || result == EVUTIL_EAI_NODATA)
        return cb(arg, WEBHOOK_TARGET_REFUSED, "has a host name that does not resolve");
    if (result != 0) {
        snprintf(why, sizeof why, "cannot resolve the receiver's host name now: %s",
                 result == EVUTIL_EAI_CANCEL ? "the service is stopping"
                                             : evutil_gai_strerror(result));
        return cb(arg, WEBHOOK_TARGET_UNKNOWN, why);
    }
    if (target_pick(&s_wh.rules, addrs, n, port, why, sizeof why) < 0)
        return cb(arg, WEBHOOK_TARGET_REFUSED, why);
    cb(arg, WEBHOOK_TARGET_OK, NULL);
}

void webhooks_check_target(const struct webhook_url *u, webhook_target_cb cb, void *arg)
{
    struct target_addr a[2];
    const char *bad;
    switch (target_classify_host(u->host, &a[0], &bad)) {
    case TARGET_HOST_BAD:
        return cb(arg, WEBHOOK_TARGET_REFUSED, bad);
    case TARGET_HOST_IP:
        return s_target_checked(cb, arg, u->port, 0, a, 1);
    case TARGET_HOST_LOCALHOST:
        target_parse_addr("127.0.0.1", &a[0]);
        target_parse_addr("::1", &a[1]);
        return s_target_checked(cb, arg, u->port, 0, a, 2);
    case TARGET_HOST_NAME:
        break;
    }
    if (!s_wh.dns || s_wh.stopping)
        return cb(arg, WEBHOOK_TARGET_UNKNOWN, "cannot resolve the receiver's host name now");
    s_lookup(u->host, NULL, cb, arg, u->port);
}

int webhooks_start(struct service *svc)
{
    if (!s_load_rules()) return -1;
    const char *b = getenv("ITGOV_WEBHOOK_BACKOFF_S");
    if (!b || !*b) b = WEBHOOK_BACKOFF_DEFAULT;
    s_wh.nbackoff = webhooks_parse_backoff(b, s_wh.backoff);
    if (s_wh.nbackoff == 0) {
        log_error("ITGOV_WEBHOOK_BACKOFF_S: give 1 to %d delays in seconds (1..86400), comma-"
                  "separated, like " WEBHOOK_BACKOFF_DEFAULT,
                  WEBHOOK_BACKOFF_MAX);
        return -1;
    }
    const char *t = getenv("ITGOV_WEBHOOK_TIMEOUT_S");
    s_wh.timeout_s = 10;
    if (t && *t && !config_parse_long(t, 1, 300, &s_wh.timeout_s)) {
        log_error("ITGOV_WEBHOOK_TIMEOUT_S: give seconds from 1 to 300");
        return -1;
    }
    s_wh.svc = svc;
    s_wh.dns = evdns_base_new(svc->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    if (!s_wh.dns) {
        s_wh.dns = evdns_base_new(svc->base, 0); /* no resolv.conf: the hosts file only */
        if (s_wh.dns) evdns_base_load_hosts(s_wh.dns, NULL);
    }
    if (s_wh.dns) {
        /* a creation waits for its URL's name: a few seconds at most */
        evdns_base_set_option(s_wh.dns, "timeout:", "3");
        evdns_base_set_option(s_wh.dns, "attempts:", "2");
    }
    s_wh.tick = event_new(svc->base, -1, EV_PERSIST, s_on_tick, NULL);
    struct timeval iv = {TICK_MS / 1000, (TICK_MS % 1000) * 1000};
    event_add(s_wh.tick, &iv);
    s_on_tick(-1, 0, NULL);
    return 0;
}

void webhooks_notify(long long last_seq)
{
    if (!s_wh.svc || s_wh.stopping) return;
    if (last_seq > s_wh.head) s_wh.head = last_seq;
    for (struct sub *s = s_wh.subs; s; s = s->next) {
        if (s->state == ST_IDLE) {
            if (s->cursor < s_wh.head) s_fetch(s);
        } else {
            s->again = true;
        }
    }
}

void webhooks_reload(long long id)
{
    if (!s_wh.svc || s_wh.stopping) return;
    struct sub *s = s_find(id);
    if (!s) return s_load(s_new(id));
    if (s->state == ST_IDLE || s->state == ST_WAIT)
        s_load(s);
    else
        s->reload = true; /* after the step in flight */
}

void webhooks_stop(void)
{
    if (!s_wh.svc || s_wh.stopping) return;
    s_wh.stopping = true;
    while (s_wh.subs)
        s_drop(s_wh.subs);
    /* cancelled lookups call back (and free themselves) from the loop */
    for (struct lookup *lk = s_wh.lookups, *next; lk; lk = next) {
        next = lk->next;
        struct evdns_getaddrinfo_request *q = lk->req;
        lk->req = NULL;
        if (q) evdns_getaddrinfo_cancel(q);
    }
    for (int i = 0; s_wh.lookups && i < 10; i++)
        event_base_loop(s_wh.svc->base, EVLOOP_NONBLOCK);
    if (s_wh.tick) event_free(s_wh.tick);
    s_wh.tick = NULL;
    if (s_wh.dns) evdns_base_free(s_wh.dns, 0);
    s_wh.dns = NULL;
}
