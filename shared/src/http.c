/*
 * The HTTP front end: evhttp server, route table, token and role checks,
 * CORS, request ids, access log, metrics and the one reply path.
 *
 * A request's life: s_on_request() matches the route (404 / 405 with Allow),
 * answers CORS preflights and the built-ins (/healthz, /readyz, /metrics),
 * checks the internal key for /metrics and ROLE_INTERNAL routes, or else the
 * bearer token — a session in Redis, or a system key (syskey.h) on
 * ROLE_SYSTEM routes through the service's verifier — (401) and the
 * caller's roles (403), then calls the handler. Whatever the handler does
 * next, the request ends in one reply_*() call: s_finish() sends it, counts
 * it, logs it and frees it.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>
#include "itgov/crypto.h"
#include "itgov/db.h"
#include "itgov/http.h"
#include "itgov/json.h"
#include "itgov/log.h"
#include "itgov/metrics.h"
#include "itgov/redis.h"
#include "itgov/syskey.h"
#include "itgov/text.h"

#define MAX_ORIGINS        16
#define MAX_METRICS_HOOKS  8
#define TRANSPORT_MAX_BODY (4 * HTTP_MAX_BODY) /* beyond this evhttp refuses by itself */
/* The type libevent 2.1 gives a method it does not know (EVHTTP_REQ_UNKNOWN_
 * in its http-internal.h): allowed, such a request reaches s_on_request,
 * which answers 501 problem+json instead of evhttp's text/html. */
#define EVHTTP_REQ_UNKNOWN (1 << 15)

enum { BUILTIN_HEALTHZ, BUILTIN_READYZ, BUILTIN_METRICS, BUILTIN_COUNT };
static const char *const s_builtin_paths[BUILTIN_COUNT] = {"/healthz", "/readyz", "/metrics"};

struct server {
    struct event_base *base;
    struct evhttp *http;
    struct server_config cfg;
    char *origins_buf;
    const char *origins[MAX_ORIGINS];
    size_t norigins;
    bool cors_warned; /* the refused preflight with no origins set was logged */
    char **labels;    /* metrics label per route; then builtins; then "unmatched" */
    struct metrics *metrics;
    struct {
        metrics_hook_fn fn;
        void *arg;
    } hooks[MAX_METRICS_HOOKS];
    int nhooks;
};

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *s_method_name(enum evhttp_cmd_type cmd)
{
    switch (cmd) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_TRACE:
        return "TRACE";
    default:
        return "OTHER";
    }
}

static const char *s_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 428:
        return "Precondition Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return status < 400 ? "OK" : "Error";
    }
}

/* ---- routing (pure) ---------------------------------------------------- */

int route_match(const char *pattern, const char *path, const char **names, char **values, int max)
{
    int n = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == ':') {
            const char *pend = strchr(p, '/'), *send = strchr(s, '/');
            size_t plen = pend ? (size_t)(pend - p) : strlen(p);
            size_t slen = send ? (size_t)(send - s) : strlen(s);
            if (slen == 0 || n >= max) goto fail;
            names[n] = p + 1;
            values[n] = strndup(s, slen);
            n++;
            p += plen;
            s += slen;
        } else if (*p++ != *s++) {
            goto fail;
        }
    }
    if (*p || *s) goto fail;
    return n;
fail:
    for (int i = 0; i < n; i++)
        free(values[i]);
    return -1;
}

static bool s_param_is(const char *name_in_pattern, const char *name)
{
    size_t len = strlen(name);
    return strncmp(name_in_pattern, name, len) == 0 &&
           (name_in_pattern[len] == '/' || name_in_pattern[len] == '\0');
}

const char *req_param(const struct req *r, const char *name)
{
    for (int i = 0; i < r->nparams; i++)
        if (s_param_is(r->param_names[i], name)) return r->param_values[i];
    return NULL;
}

bool req_param_id(struct req *r, const char *name, long long *out)
{
    long long id;
    if (!text_to_int(req_param(r, name), 1, LLONG_MAX, &id)) {
        reply_error(r, error_new(ERR_NOT_FOUND, "no such resource"));
        return false;
    }
    *out = id;
    return true;
}

/* ---- query strings (pure) ---------------------------------------------- */

struct query {
    int n;
    char *names[HTTP_MAX_QUERY_PARAMS];
    char *values[HTTP_MAX_QUERY_PARAMS];
};

static int s_hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* s[0..len) percent-decoded ('+' is a space) into a new string of *out_len
 * bytes (NULs included); *bad when a '%' is not followed by two hex digits. */
static char *s_decode(const char *s, size_t len, size_t *out_len, bool *bad)
{
    char *out = malloc(len + 1);
    if (!out) abort();
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 1 < len ? s_hex(s[i + 1]) : -1, lo = i + 2 < len ? s_hex(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *bad = true;
            } else {
                c = (char)(hi * 16 + lo);
                i += 2;
            }
        }
        out[o++] = c;
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

void query_fail(struct error **e, const char *name, const char *msg)
{
    if (!*e) *e = error_new(ERR_VALIDATION, "bad query parameters");
    error_add_field(*e, name, msg);
}

struct query *query_parse(const char *raw, struct error **err)
{
    struct query *q = calloc(1, sizeof *q);
    if (!q) abort();
    *err = NULL;
    for (const char *p = raw ? raw : ""; *p;) {
        size_t seg = strcspn(p, "&");
        if (seg > 0) {
            const char *eq = memchr(p, '=', seg);
            size_t nlen = eq ? (size_t)(eq - p) : seg, vlen = eq ? seg - nlen - 1 : 0, dn, dv;
            bool bad = false;
            char *name = s_decode(p, nlen, &dn, &bad);
            char *value = s_decode(eq ? eq + 1 : p + seg, vlen, &dv, &bad);
            bool nul = strlen(name) != dn || strlen(value) != dv;
            bool utf8 = utf8_valid(name, dn) && utf8_valid(value, dv);
            /* the field as the client can recognise it: decoded when that is
             * clean text, else as sent (printable ASCII only) */
            char sent[128];
            snprintf(sent, sizeof sent, "%.*s", (int)(nlen < sizeof sent ? nlen : sizeof sent - 1),
                     p);
            for (char *c = sent; *c; c++)
                if (*c < 0x20 || *c > 0x7e) *c = '?';
            const char *field = !bad && !nul && utf8_valid(name, dn) ? name : sent;
            const char *msg = bad     ? "has a malformed percent escape (%XX)"
                              : nul   ? "must not contain a NUL character (%00)"
                              : !utf8 ? "must be valid UTF-8"
                              : q->n == HTTP_MAX_QUERY_PARAMS ? "is one query parameter too many"
                              : query_get(q, name)            ? "is given more than once"
                                                              : NULL;
            if (msg) {
                query_fail(err, field, msg);
                free(name);
                free(value);
            } else {
                q->names[q->n] = name;
                q->values[q->n] = value;
                q->n++;
            }
        }
        p += seg;
        if (*p == '&') p++;
    }
    if (*err) query_destroy(&q);
    return q;
}

const char *query_get(const struct query *q, const char *name)
{
    for (int i = 0; q && i < q->n; i++)
        if (strcmp(q->names[i], name) == 0) return q->values[i];
    return NULL;
}

void query_destroy(struct query **self_p)
{
    struct query *q = *self_p;
    if (!q) return;
    for (int i = 0; i < q->n; i++) {
        free(q->names[i]);
        free(q->values[i]);
    }
    free(q);
    *self_p = NULL;
}

/* ---- transport checks (pure) ------------------------------------------- */

struct error *http_check_request(const char *uri, const struct evkeyvalq *headers)
{
    if (uri && strlen(uri) > HTTP_MAX_URI)
        return error_new(ERR_URI_TOO_LONG, "the request URI exceeds %d bytes", HTTP_MAX_URI);
    size_t total = 0;
    const char *length = NULL;
    bool chunked = false, conflict = false;
    const struct evkeyval *h;
    TAILQ_FOREACH(h, headers, next)
    {
        size_t line = strlen(h->key) + 2 + strlen(h->value);
        if (line > HTTP_MAX_HEADER_LINE)
            return error_new(ERR_HEADERS_TOO_LARGE, "a header line exceeds %d bytes",
                             HTTP_MAX_HEADER_LINE);
        total += line + 2;
        if (strcasecmp(h->key, "Content-Length") == 0) {
            conflict = conflict || (length && strcmp(length, h->value) != 0);
            length = h->value;
        } else if (strcasecmp(h->key, "Transfer-Encoding") == 0) {
            chunked = true;
        }
    }
    if (total > HTTP_MAX_HEADERS)
        return error_new(ERR_HEADERS_TOO_LARGE, "the request headers exceed %d bytes",
                         HTTP_MAX_HEADERS);
    if (conflict)
        return error_new(ERR_BAD_REQUEST, "the request has Content-Length headers that disagree");
    if (length && chunked)
        return error_new(ERR_BAD_REQUEST,
                         "the request has both Content-Length and Transfer-Encoding");
    return NULL;
}

/* ---- conditional requests and media types (pure) ------------------------ */

static const char *s_skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

enum etag_result etag_match(const char *header, const char *tag, bool weak)
{
    if (!header || !tag) return ETAG_NO_MATCH;
    const char *p = s_skip_ows(header);
    if (*p == '*') return *s_skip_ows(p + 1) ? ETAG_MALFORMED : ETAG_MATCH;
    bool tag_weak = strncmp(tag, "W/", 2) == 0;
    const char *cur = tag_weak ? tag + 2 : tag;
    size_t cur_len = strlen(cur);
    enum etag_result res = ETAG_NO_MATCH;
    bool any = false;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') /* empty list elements are allowed */
            p++;
        if (!*p) break;
        bool w = strncmp(p, "W/", 2) == 0;
        if (w) p += 2;
        if (*p != '"') return ETAG_MALFORMED;
        const char *q = p + 1;
        while (*q && *q != '"') { /* etagc: no controls, no space */
            if ((unsigned char)*q <= 0x20 || *q == 0x7f) return ETAG_MALFORMED;
            q++;
        }
        if (*q != '"') return ETAG_MALFORMED;
        size_t len = (size_t)(q + 1 - p);
        if (len == cur_len && memcmp(p, cur, len) == 0 && (weak || (!w && !tag_weak)))
            res = ETAG_MATCH;
        any = true;
        p = s_skip_ows(q + 1);
        if (*p && *p != ',') return ETAG_MALFORMED;
    }
    return any ? res : ETAG_MALFORMED;
}

bool media_type_is_json(const char *ct)
{
    if (!ct) return false;
    ct = s_skip_ows(ct);
    size_t n = strcspn(ct, "; \t");
    if (n < 16 || strncasecmp(ct, "application/", 12) != 0) return false;
    const char *sub = ct + 12;
    size_t sn = n - 12;
    if (!(sn == 4 && strncasecmp(sub, "json", 4) == 0) &&
        !(sn > 5 && strncasecmp(sub + sn - 5, "+json", 5) == 0))
        return false;
    for (const char *p = ct + n; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        size_t len = strcspn(p, ";"), t = len;
        while (t > 0 && (p[t - 1] == ' ' || p[t - 1] == '\t'))
            t--;
        if (t >= 8 && strncasecmp(p, "charset=", 8) == 0) {
            const char *v = p + 8;
            size_t vl = t - 8;
            if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
                v++;
                vl -= 2;
            }
            if (!(vl == 5 && strncasecmp(v, "utf-8", 5) == 0)) return false;
        }
        p += len;
    }
    return true;
}

void etag_of(const char *doc, size_t len, char out[19])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)doc, len);
    out[0] = '"';
    for (int i = 0; i < 8; i++)
        snprintf(out + 1 + 2 * i, 3, "%02x", h[i]);
    out[17] = '"';
    out[18] = '\0';
}

/* ---- request accessors ------------------------------------------------- */

const char *req_header(const struct req *r, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(r->ev), name);
}

void req_add_header(struct req *r, const char *name, const char *value)
{
    evhttp_add_header(evhttp_request_get_output_headers(r->ev), name, value);
}

const char *req_query(struct req *r, const char *name)
{
    return query_get(r->query, name);
}

bool req_query_int(struct req *r, const char *name, long long min, long long max, const char *msg,
                   long long *out, struct error **e)
{
    const char *v = req_query(r, name);
    long long n;
    if (!v) return false;
    if (text_to_int(v, min, max, &n)) {
        *out = n;
        return true;
    }
    char range[96];
    snprintf(range, sizeof range, "must be an integer from %lld to %lld", min, max);
    query_fail(e, name, msg ? msg : range);
    return false;
}

const char *req_client_ip(const struct req *r)
{
    static char ip[64];
    const char *xff = req_header(r, "X-Forwarded-For");
    if (xff && *xff) {
        size_t n = strcspn(xff, ", ");
        snprintf(ip, sizeof ip, "%.*s", (int)(n < sizeof ip ? n : sizeof ip - 1), xff);
        return ip;
    }
    char *addr = NULL;
    ev_uint16_t port = 0;
    struct evhttp_connection *c = evhttp_request_get_connection(r->ev);
    if (c) evhttp_connection_get_peer(c, &addr, &port);
    snprintf(ip, sizeof ip, "%s", addr ? addr : "");
    return ip;
}

const cJSON *req_json(struct req *r, struct error **err)
{
    if (r->body) return r->body;
    struct evbuffer *in = evhttp_request_get_input_buffer(r->ev);
    size_t len = evbuffer_get_length(in);
    if (len > HTTP_MAX_BODY) {
        *err = error_new(ERR_PAYLOAD_TOO_LARGE, "the request body exceeds %d bytes", HTTP_MAX_BODY);
        return NULL;
    }
    const char *type = req_header(r, "Content-Type");
    if (type && !media_type_is_json(type)) {
        *err = error_new(ERR_UNSUPPORTED_MEDIA_TYPE,
                         "send the body as application/json (charset utf-8 if any)");
        return NULL;
    }
    r->body = json_parse((const char *)evbuffer_pullup(in, -1), len, err);
    return r->body;
}

const cJSON *req_body(struct req *r)
{
    struct error *err = NULL;
    const cJSON *body = req_json(r, &err);
    if (!body) reply_error(r, err); /* frees r */
    return body;
}

bool req_page(struct req *r, int *limit, long long *cursor)
{
    struct error *e = NULL;
    long long l = 50, c = 0;
    req_query_int(r, "limit", 1, 200, NULL, &l, &e);
    req_query_int(r, "cursor", 0, LLONG_MAX, "is not a cursor this API returned", &c, &e);
    *limit = (int)l;
    *cursor = c;
    if (!e) return true;
    reply_error(r, e);
    return false;
}

/* ---- the reply path ---------------------------------------------------- */

static void s_free(struct req *r)
{
    for (int i = 0; i < r->nparams; i++)
        free(r->param_values[i]);
    query_destroy(&r->query);
    cJSON_Delete(r->body);
    principal_destroy(&r->principal);
    free(r);
}

static void s_stop_watching(struct req *r)
{
    if (r->hangup) event_free(r->hangup);
    r->hangup = NULL;
}

/* libevent freed the client's connection before the reply (an error or a
 * timeout); it keeps the request, detached, until evhttp_send_reply frees
 * it. */
static void s_on_close(struct evhttp_connection *conn, void *arg)
{
    struct req *r = arg;
    atomic_store(&r->gone, true);
    s_stop_watching(r); /* before its descriptor is closed and reused */
}

/* The client's socket became readable while its request is handled: end of
 * stream means it hung up; data (a pipelined request) tells nothing, so
 * watching stops either way. */
static void s_on_hangup(evutil_socket_t fd, short what, void *arg)
{
    struct req *r = arg;
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) atomic_store(&r->gone, true);
    event_del(r->hangup);
}

const atomic_bool *req_cancel_flag(struct req *r)
{
    if (r->hangup || atomic_load(&r->gone)) return &r->gone;
    struct evhttp_connection *conn = evhttp_request_get_connection(r->ev);
    struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    if (fd >= 0) {
        r->hangup =
            event_new(evhttp_connection_get_base(conn), fd, EV_READ | EV_PERSIST, s_on_hangup, r);
        if (r->hangup) event_add(r->hangup, NULL);
    }
    return &r->gone;
}

/* Whether a GET route serves path. */
static bool s_get_route(const struct server *s, const char *path)
{
    for (size_t i = 0; i < s->cfg.nroutes; i++) {
        const char *names[HTTP_MAX_PARAMS];
        char *values[HTTP_MAX_PARAMS];
        if (strcmp(s->cfg.routes[i].method, "GET") != 0) continue;
        int n = route_match(s->cfg.routes[i].path, path, names, values, HTTP_MAX_PARAMS);
        for (int k = 0; k < n; k++)
            free(values[k]);
        if (n >= 0) return true;
    }
    return false;
}

/* Location of a 201: the new member of the collection posted to (its "id"),
 * else the resource the request path names a part of (http.h). */
static void s_add_location(struct req *r, struct evbuffer *body)
{
    size_t len = evbuffer_get_length(body);
    cJSON *doc = cJSON_ParseWithLength((const char *)evbuffer_pullup(body, -1), len);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
    long long idv = cJSON_IsNumber(id) ? (long long)id->valuedouble : 0;
    cJSON_Delete(doc);
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(r->ev));
    if (!path) return;
    char loc[HTTP_MAX_URI + 32];
    snprintf(loc, sizeof loc, "%s/%lld", path, idv);
    if (idv > 0 && s_get_route(r->srv, loc)) return req_add_header(r, "Location", loc);
    snprintf(loc, sizeof loc, "%s", path);
    char *slash = strrchr(loc, '/');
    if (!slash || slash == loc) return;
    *slash = '\0';
    if (s_get_route(r->srv, loc)) req_add_header(r, "Location", loc);
}

static void s_finish(struct req *r, int status, struct evbuffer *body, const char *type)
{
    s_stop_watching(r);
    /* the connection outlives this request (NULL: libevent freed it) */
    struct evhttp_connection *conn = evhttp_request_get_connection(r->ev);
    if (conn) evhttp_connection_set_closecb(conn, NULL, NULL);
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
    enum evhttp_cmd_type cmd = evhttp_request_get_command(r->ev);
    if (status == 200 && (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD)) {
        const char *tag = evhttp_find_header(h, "ETag");
        if (tag && etag_match(req_header(r, "If-None-Match"), tag, true) == ETAG_MATCH) {
            status = 304; /* the client's copy is current: headers only */
            body = NULL;
            type = NULL;
        }
    }
    if (status == 201 && body && !evhttp_find_header(h, "Location")) s_add_location(r, body);
    if (type) evhttp_add_header(h, "Content-Type", type);
    if (cmd == EVHTTP_REQ_HEAD) {
        /* never a body on HEAD (a keep-alive client would read it as the
         * next answer), but the length a GET would have had */
        if (status != 204 && status != 304) {
            char n[24];
            snprintf(n, sizeof n, "%zu", body ? evbuffer_get_length(body) : 0);
            evhttp_add_header(h, "Content-Length", n);
        }
        body = NULL;
    }
    evhttp_add_header(h, "X-Request-Id", r->request_id);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_send_reply(r->ev, status, s_reason(status), body);

    struct server *s = r->srv;
    double secs = s_now() - r->started;
    metrics_observe(s->metrics, (size_t)r->route_index, status, secs);
    /* probes (/healthz, /readyz, /metrics) and internal polls only at debug */
    const char *label = s->labels[r->route_index];
    bool probe = r->route_index >= (int)s->cfg.nroutes || strncmp(label, "GET /internal/", 14) == 0;
    log_request(probe && status < 400 ? LOG_DEBUG : LOG_INFO, r->request_id,
                r->user ? r->user->id : 0, label, status, secs * 1000.0);
    s_free(r);
}

void reply_raw(struct req *r, int status, const char *json, size_t len)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, json, len);
    s_finish(r, status, b, "application/json");
    evbuffer_free(b);
}

void reply_json(struct req *r, int status, cJSON *body)
{
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    reply_raw(r, status, text, strlen(text));
    free(text);
}

void reply_error(struct req *r, struct error *e)
{
    if (e->retry_after > 0) {
        char v[16];
        snprintf(v, sizeof v, "%d", e->retry_after);
        req_add_header(r, "Retry-After", v);
    }
    if (error_status(e->code) == 401) req_add_header(r, "WWW-Authenticate", "Bearer");
    if (e->code == ERR_INTERNAL || e->code == ERR_UNAVAILABLE)
        log_warn("request %s failed: %s: %s", r->request_id, error_code_str(e), e->detail);
    int status = error_status(e->code);
    cJSON *problem = error_to_json(e);
    if (!cJSON_GetObjectItemCaseSensitive(problem, "request_id"))
        cJSON_AddStringToObject(problem, "request_id", r->request_id);
    char *text = cJSON_PrintUnformatted(problem);
    cJSON_Delete(problem);
    error_destroy(&e);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, text, strlen(text));
    s_finish(r, status, b, "application/problem+json");
    evbuffer_free(b);
    free(text);
}

void reply_status(struct req *r, int status)
{
    s_finish(r, status, NULL, NULL);
}

/* ---- dispatch ---------------------------------------------------------- */

static bool s_origin_allowed(const struct server *s, const char *origin)
{
    for (size_t i = 0; origin && i < s->norigins; i++)
        if (strcmp(s->origins[i], origin) == 0) return true;
    return false;
}

/* 32 hex characters from the CSPRNG, drawn 4 KiB at a time: one getrandom(2)
 * per 256 request ids instead of one per request. The event loop's thread
 * only. */
static void s_random_id(char out[33])
{
    static unsigned char pool[4096];
    static size_t used = sizeof pool;
    if (used + 16 > sizeof pool) {
        randombytes_buf(pool, sizeof pool);
        used = 0;
    }
    hex_encode(pool + used, 16, out);
    used += 16;
}

static void s_set_request_id(struct req *r)
{
    const char *given = req_header(r, "X-Request-Id");
    size_t n = given ? strlen(given) : 0;
    bool ok = n > 0 && n < sizeof r->request_id;
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)given[i]) || strchr("-_.:", given[i]);
    if (ok)
        memcpy(r->request_id, given, n + 1);
    else
        s_random_id(r->request_id);
}

static void s_builtin(struct req *r, int which)
{
    struct server *s = r->srv;
    if (which == BUILTIN_HEALTHZ) {
        reply_raw(r, 200, "{\"status\":\"ok\"}", 15);
    } else if (which == BUILTIN_READYZ) {
        bool db_ok = !s->cfg.db || db_ready(s->cfg.db);
        bool redis_ok = !s->cfg.redis || redis_ready(s->cfg.redis);
        if (db_ok && redis_ok) {
            reply_raw(r, 200, "{\"status\":\"ok\"}", 15);
        } else {
            reply_error(r, error_new(ERR_UNAVAILABLE, "%s%s unreachable",
                                     db_ok ? "" : "postgresql ", redis_ok ? "" : "redis"));
        }
    } else {
        struct evbuffer *b = evbuffer_new();
        metrics_render(s->metrics, b);
        for (int i = 0; i < s->nhooks; i++)
            s->hooks[i].fn(s->hooks[i].arg, b);
        s_finish(r, 200, b, "text/plain; version=0.0.4");
        evbuffer_free(b);
    }
}

/* The key is compared as SHA-256 digests with sodium_memcmp, so neither its
 * bytes nor its length show in the time an answer takes. */
bool internal_key_matches(const char *authorization, const char *key)
{
    if (!authorization || !key || !*key || strncasecmp(authorization, "Bearer ", 7) != 0)
        return false;
    const char *given = authorization + 7;
    unsigned char a[crypto_hash_sha256_BYTES], b[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(a, (const unsigned char *)given, strlen(given));
    crypto_hash_sha256(b, (const unsigned char *)key, strlen(key));
    return sodium_memcmp(a, b, sizeof a) == 0;
}

/* ROLE_INTERNAL routes and /metrics: the internal key or 401. */
static bool s_internal_ok(struct req *r)
{
    if (internal_key_matches(req_header(r, "Authorization"), r->srv->cfg.internal_key)) return true;
    reply_error(r, error_new(ERR_UNAUTHORIZED, "the internal key is required"));
    return false;
}

/* The handler, once the query string has passed query_parse()'s rules. */
static void s_run(struct req *r)
{
    struct error *e = NULL;
    r->query = query_parse(evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->ev)), &e);
    if (!r->query) return reply_error(r, e);
    r->route->handler(r);
}

static void s_on_auth(void *arg, struct principal *p, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (!p) return reply_error(r, error_new(ERR_UNAUTHORIZED, "a valid session token is required"));
    r->principal = p;
    r->user = p;
    if (!(p->roles & r->route->roles))
        return reply_error(r, error_new(ERR_FORBIDDEN, "your roles do not allow this"));
    s_run(r);
}

/* A CORS preflight. With ITGOV_CORS_ORIGINS unset no origin may call, and a
 * browser would fail without saying why: a real preflight (Origin and
 * Access-Control-Request-Method) gets 403 naming the variable, logged once. */
static void s_preflight(struct req *r)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
    if (r->srv->norigins == 0 && req_header(r, "Origin") &&
        req_header(r, "Access-Control-Request-Method")) {
        if (!r->srv->cors_warned) {
            r->srv->cors_warned = true;
            log_warn("a CORS preflight was refused: ITGOV_CORS_ORIGINS is not set, so no browser "
                     "origin may call this service");
        }
        return reply_error(r, error_new(ERR_FORBIDDEN,
                                        "cross-origin requests are off: ITGOV_CORS_ORIGINS is not "
                                        "set on this service"));
    }
    if (s_origin_allowed(r->srv, req_header(r, "Origin"))) {
        evhttp_add_header(h, "Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE");
        evhttp_add_header(h, "Access-Control-Allow-Headers",
                          "Authorization, Content-Type, If-Match, If-None-Match, X-Request-Id");
        evhttp_add_header(h, "Access-Control-Max-Age", "600");
    }
    reply_status(r, 204);
}

static void s_on_request(struct evhttp_request *ev, void *arg)
{
    struct server *s = arg;
    struct req *r = calloc(1, sizeof *r);
    if (!r) abort();
    r->ev = ev;
    r->srv = s;
    r->app = s->cfg.app;
    r->started = s_now();
    r->route_index = (int)(s->cfg.nroutes + BUILTIN_COUNT); /* "unmatched" */
    atomic_init(&r->gone, false);
    struct evhttp_connection *conn = evhttp_request_get_connection(ev);
    if (conn) evhttp_connection_set_closecb(conn, s_on_close, r);
    s_set_request_id(r);

    const char *origin = req_header(r, "Origin");
    if (s_origin_allowed(s, origin)) {
        struct evkeyvalq *h = evhttp_request_get_output_headers(ev);
        evhttp_add_header(h, "Access-Control-Allow-Origin", origin);
        evhttp_add_header(h, "Access-Control-Expose-Headers",
                          "ETag, Location, Retry-After, X-Request-Id");
        evhttp_add_header(h, "Vary", "Origin");
    }

    /* framing and size before anything else (CORS headers aside), like the
     * gateway; the connection closes after the answer, since what follows on
     * it cannot be trusted */
    struct error *bad =
        http_check_request(evhttp_request_get_uri(ev), evhttp_request_get_input_headers(ev));
    if (bad) {
        req_add_header(r, "Connection", "close");
        return reply_error(r, bad);
    }

    enum evhttp_cmd_type cmd = evhttp_request_get_command(ev);
    const char *method = s_method_name(cmd);
    if (strcmp(method, "OTHER") == 0) { /* a body it may have was not read: close after */
        req_add_header(r, "Connection", "close");
        return reply_error(r, error_new(ERR_NOT_IMPLEMENTED,
                                        "not a method this server knows (names are upper case)"));
    }
    const char *as = cmd == EVHTTP_REQ_HEAD ? "GET" : method; /* HEAD is GET without the body */
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(ev));
    if (!path || !*path) path = "/";

    for (int i = 0; i < BUILTIN_COUNT; i++)
        if (strcmp(path, s_builtin_paths[i]) == 0) {
            r->route_index = (int)s->cfg.nroutes + i;
            if (strcmp(as, "GET") != 0) {
                req_add_header(r, "Allow", "GET, HEAD");
                return reply_error(r, error_new(ERR_METHOD_NOT_ALLOWED, "use GET or HEAD"));
            }
            if (i == BUILTIN_METRICS && !s_internal_ok(r)) return;
            return s_builtin(r, i);
        }

    char allow[128] = "";
    for (size_t i = 0; i < s->cfg.nroutes; i++) {
        const struct route *rt = &s->cfg.routes[i];
        const char *names[HTTP_MAX_PARAMS];
        char *values[HTTP_MAX_PARAMS];
        int n = route_match(rt->path, path, names, values, HTTP_MAX_PARAMS);
        if (n < 0) continue;
        if (strcmp(rt->method, as) == 0 && !r->route) {
            r->route = rt;
            r->route_index = (int)i;
            r->nparams = n;
            memcpy(r->param_names, names, sizeof names);
            memcpy(r->param_values, values, sizeof values);
        } else {
            for (int k = 0; k < n; k++)
                free(values[k]);
        }
        size_t used = strlen(allow);
        if (!strstr(allow, rt->method)) /* two routes may share a method: name it once */
            snprintf(allow + used, sizeof allow - used, "%s%s", used ? ", " : "", rt->method);
    }

    if (!allow[0]) return reply_error(r, error_new(ERR_NOT_FOUND, "no such path: %s", path));
    if (strstr(allow, "GET")) {
        size_t used = strlen(allow);
        snprintf(allow + used, sizeof allow - used, ", HEAD");
    }
    if (!r->route) {
        if (strcmp(method, "OPTIONS") == 0) return s_preflight(r);
        req_add_header(r, "Allow", allow);
        return reply_error(
            r, error_new(ERR_METHOD_NOT_ALLOWED, "%s is not allowed here; use %s", method, allow));
    }
    if (r->route->roles == ROLE_PUBLIC) return s_run(r);
    if (r->route->roles & ROLE_INTERNAL) { /* the key and nothing else */
        if (s_internal_ok(r)) s_run(r);
        return;
    }

    const char *auth = req_header(r, "Authorization");
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0 || !auth[7])
        return reply_error(r, error_new(ERR_UNAUTHORIZED, "a bearer token is required"));
    const char *token = auth + 7;
    if (syskey_has_prefix(token)) { /* a system key: never a session (syskey.h) */
        if (!(r->route->roles & ROLE_SYSTEM) || !s->cfg.system_auth || !syskey_well_formed(token))
            return s_on_auth(r, NULL, NULL); /* as an unknown token */
        return s->cfg.system_auth(s->cfg.app, token, s_on_auth, r);
    }
    session_auth(s->cfg.redis, token, s_on_auth, r);
}

/* ---- server ------------------------------------------------------------ */

struct server *server_new(struct event_base *base, const struct server_config *cfg)
{
    struct server *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->base = base;
    s->cfg = *cfg;
    if (cfg->cors_origins) {
        s->origins_buf = strdup(cfg->cors_origins);
        char *save = NULL;
        for (char *t = strtok_r(s->origins_buf, ", ", &save); t && s->norigins < MAX_ORIGINS;
             t = strtok_r(NULL, ", ", &save))
            s->origins[s->norigins++] = t;
    }
    size_t nlabels = cfg->nroutes + BUILTIN_COUNT + 1;
    s->labels = calloc(nlabels, sizeof *s->labels);
    if (!s->labels) abort();
    for (size_t i = 0; i < cfg->nroutes; i++)
        if (asprintf(&s->labels[i], "%s %s", cfg->routes[i].method, cfg->routes[i].path) < 0)
            abort();
    for (size_t i = 0; i < BUILTIN_COUNT; i++)
        if (asprintf(&s->labels[cfg->nroutes + i], "GET %s", s_builtin_paths[i]) < 0) abort();
    s->labels[nlabels - 1] = strdup("unmatched");
    s->metrics = metrics_new(cfg->service, (const char *const *)s->labels, nlabels);

    s->http = evhttp_new(base);
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_TRACE | EVHTTP_REQ_UNKNOWN);
    /* every method but CONNECT reaches the router: 405 problem+json with
     * Allow, or 501 for a method libevent does not know (lower case
     * included). CONNECT stays with evhttp (its answer to one does not
     * finish the exchange), which refuses it 405 text/html, as it refuses
     * what it cannot parse (a malformed request line, a version other than
     * HTTP/1.x: 400 text/html) before any callback: 2.1 has no error hook
     * (evhttp_set_errorcb is 2.2). Behind the gateway nginx refuses those
     * first, as problem+json. */
    evhttp_set_max_body_size(s->http, TRANSPORT_MAX_BODY);
    evhttp_set_max_headers_size(s->http, HTTP_MAX_HEADERS_HARD);
    evhttp_set_timeout(s->http, 65); /* above the gateway's 30 s keepalive */
    evhttp_set_gencb(s->http, s_on_request, s);
    struct evhttp_bound_socket *listener =
        evhttp_bind_socket_with_handle(s->http, cfg->bind, (ev_uint16_t)cfg->port);
    if (!listener) {
        log_error("cannot listen on %s:%d", cfg->bind, cfg->port);
        server_destroy(&s);
        return NULL;
    }
    /* No Nagle: libevent writes at most 16 KiB at a time, so a larger answer
     * (a list page) leaves in two writes, and the second waited for the
     * client's delayed ACK, 40 ms, on every such answer. Accepted
     * connections inherit the option from the listening socket. */
    int one = 1;
    if (setsockopt(evhttp_bound_socket_get_fd(listener), IPPROTO_TCP, TCP_NODELAY, &one,
                   sizeof one) != 0)
        log_warn("cannot set TCP_NODELAY on %s:%d: %s", cfg->bind, cfg->port, strerror(errno));
    return s;
}

void server_add_metrics_hook(struct server *s, metrics_hook_fn hook, void *arg)
{
    if (s->nhooks == MAX_METRICS_HOOKS) abort(); /* a programming error */
    s->hooks[s->nhooks].fn = hook;
    s->hooks[s->nhooks].arg = arg;
    s->nhooks++;
}

void server_remove_metrics_hook(struct server *s, metrics_hook_fn hook, void *arg)
{
    for (int i = 0; i < s->nhooks; i++)
        if (s->hooks[i].fn == hook && s->hooks[i].arg == arg) {
            memmove(&s->hooks[i], &s->hooks[i + 1],
                    (size_t)(s->nhooks - i - 1) * sizeof s->hooks[0]);
            s->nhooks--;
            return;
        }
}

void server_destroy(struct server **self_p)
{
    struct server *s = *self_p;
    if (!s) return;
    if (s->http) evhttp_free(s->http);
    metrics_destroy(&s->metrics);
    for (size_t i = 0; i < s->cfg.nroutes + BUILTIN_COUNT + 1; i++)
        free(s->labels[i]);
    free(s->labels);
    free(s->origins_buf);
    free(s);
    *self_p = NULL;
}
