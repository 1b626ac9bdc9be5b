/*
 * The HTTP front end every service shares: an evhttp server, a route table
 * with :param segments (wrong method → 405 with Allow), token check and role
 * check before the handler runs, CORS, request ids, access logs, metrics,
 * and the one reply path. A handler never calls evhttp itself: it ends,
 * possibly after asynchronous work, in exactly one reply_*() call, which
 * sends the answer and frees the request.
 */
#ifndef ITGOV_HTTP_H
#define ITGOV_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include "itgov/error.h"
#include "itgov/session.h"

#define HTTP_MAX_BODY   (1024 * 1024)
#define HTTP_MAX_PARAMS 4
/* Limits like the gateway's (nginx large_client_header_buffers 4 8k): a
 * longer request URI is 414, a longer header line or more header bytes in
 * all is 431, both problem+json. Beyond HTTP_MAX_HEADERS_HARD (request line
 * and headers together) evhttp stops reading and refuses by itself. */
#define HTTP_MAX_URI          8192
#define HTTP_MAX_HEADER_LINE  8192
#define HTTP_MAX_HEADERS      32768
#define HTTP_MAX_HEADERS_HARD 65536
/* At most this many query parameters (more is 400). */
#define HTTP_MAX_QUERY_PARAMS 64

struct req;
struct server;
struct query;
typedef void (*handler_fn)(struct req *r);

/* One row of a service's route table. roles: ROLE_* bits allowed to call it;
 * ROLE_PUBLIC means no token is needed; ROLE_INTERNAL means the internal key
 * and nothing else (below). */
struct route {
    const char *method;
    const char *path;
    handler_fn handler;
    unsigned roles;
};

/* Routes for other services and the metrics scraper, never for users: they
 * need Authorization: Bearer <internal key> (server_config.internal_key,
 * compared in constant time); a session token is not enough. /metrics is
 * treated the same. */
#define ROLE_INTERNAL (1u << 30)
/* In a route's roles: a system key (syskey.h) may call it too. A key gets
 * past authorization only on such routes, through the service's verifier
 * (server_config.system_auth), as a principal whose roles are ROLE_SYSTEM;
 * the handler then checks the key's project and scopes. A bearer token with
 * the key prefix on any other route is 401, and never a session. */
#define ROLE_SYSTEM (1u << 29)

/* A service's system-key verifier: looks the key up (without blocking the
 * loop) and calls cb(cb_arg, principal, NULL) — roles ROLE_SYSTEM, key_id,
 * project_id, scopes; the callee allocates it, the request owns it — or
 * cb(cb_arg, NULL, NULL) for no such live key, or cb(cb_arg, NULL, err)
 * when it cannot tell (503). key is well formed (syskey_well_formed) and
 * lives until cb runs; it must never be logged. app is server_config.app. */
typedef void (*system_auth_fn)(void *app, const char *key, session_auth_cb cb, void *cb_arg);

struct server_config {
    const char *service; /* name used in logs and metrics */
    const char *bind;    /* listen address */
    int port;
    const char *cors_origins; /* comma-separated, may be NULL */
    const struct route *routes;
    size_t nroutes;
    struct redis *redis;        /* sessions; also checked by /readyz */
    struct db *db;              /* checked by /readyz, may be NULL */
    void *app;                  /* service state, reachable from handlers */
    const char *internal_key;   /* ROLE_INTERNAL routes and /metrics; NULL refuses them all */
    system_auth_fn system_auth; /* ROLE_SYSTEM routes; NULL: no key is ever accepted */
};

struct server *server_new(struct event_base *base, const struct server_config *cfg);
void server_destroy(struct server **self_p);
/* Extra text appended to /metrics (a part's own gauges and counters): each
 * hook added is called with its arg, in the order added; removed by the part
 * that goes away before the server does. */
typedef void (*metrics_hook_fn)(void *arg, struct evbuffer *out);
void server_add_metrics_hook(struct server *s, metrics_hook_fn hook, void *arg);
void server_remove_metrics_hook(struct server *s, metrics_hook_fn hook, void *arg);
/* Pure, for tests: whether an Authorization header carries the key. */
bool internal_key_matches(const char *authorization, const char *key);

/* The request as a handler sees it. */
struct req {
    struct evhttp_request *ev;
    struct server *srv;
    void *app; /* server_config.app */
    const struct route *route;
    const struct principal *user; /* NULL on public routes */
    void *ctx;                    /* handler's own state, freed by the handler */
    char request_id[65];
    /* private */
    const char *param_names[HTTP_MAX_PARAMS];
    char *param_values[HTTP_MAX_PARAMS];
    int nparams;
    struct principal *principal;
    cJSON *body;
    struct query *query;
    int route_index;
    double started;
    atomic_bool gone;     /* the client closed its connection before the reply */
    struct event *hangup; /* watches for that, once req_cancel_flag() was asked */
};

/* A path parameter as sent (still percent-encoded); every one today is an id:
 * read it with req_param_id. */
const char *req_param(const struct req *r, const char *name);
/* A positive 63-bit integer path parameter in canonical form (text_to_int:
 * "01", "1abc" or 20 digits are not ids); replies 404 and returns false if not. */
bool req_param_id(struct req *r, const char *name, long long *out);
/* A query-string parameter (percent-decoded), or NULL. Every parameter was
 * checked before the handler ran: valid UTF-8, no NUL, well-formed %-escapes,
 * none given twice (else 400 validation_failed naming it). */
const char *req_query(struct req *r, const char *name);
/* An integer query parameter in [min, max] (text_to_int). True when present
 * and good; false when absent (*out untouched) or bad: then {name, msg} (msg
 * NULL: "must be an integer from min to max") is added to *e, which is made a
 * validation_failed error if NULL. Nothing out of range is clamped. */
bool req_query_int(struct req *r, const char *name, long long min, long long max, const char *msg,
                   long long *out, struct error **e);
/* Adds {name, msg} to *e, made a validation_failed error if NULL. */
void query_fail(struct error **e, const char *name, const char *msg);
const char *req_header(const struct req *r, const char *name);
/* Client address as seen by the service (X-Forwarded-For first hop if any). */
const char *req_client_ip(const struct req *r);
/* The body as JSON; on failure replies (400/413/415: a Content-Type other
 * than JSON, see media_type_is_json; none at all is taken as JSON) and
 * returns NULL. The request owns the result. */
const cJSON *req_body(struct req *r);
/* The same without replying: NULL and *err (caller owns it) on failure, for
 * handlers that must refuse with 404/403 before a bad body's 400. */
const cJSON *req_json(struct req *r, struct error **err);
/* limit (default 50, 1..200) and cursor (opaque, from a previous page: a
 * canonical integer 0..2^63-1);
 * on a bad value replies 400 validation_failed and returns false. */
bool req_page(struct req *r, int *limit, long long *cursor);
void req_add_header(struct req *r, const char *name, const char *value);
/* A flag set (on the loop thread) once the client has closed its
 * connection: work still queued for it need not run (worker.h), a long
 * answer need not be computed. Asking for it starts watching the
 * connection (libevent reads nothing while a request is being handled, so
 * it would notice only when replying); ask only for expensive work. The
 * reply of a request whose client has gone is dropped; the handler still
 * ends in one reply_*() call, as always. */
const atomic_bool *req_cancel_flag(struct req *r);

/* The one reply path. Each takes ownership of what it is given.
 * Done for every handler on the way out (s_finish):
 * - HEAD is routed to the GET route of its path and answered as GET
 *   without the body, with the Content-Length GET would have had.
 * - A 200 to GET/HEAD that carries an ETag (req_add_header) becomes 304
 *   without a body when If-None-Match matches it (weak comparison; a
 *   malformed If-None-Match is ignored: the full answer is sent).
 * - A 201 gets Location (unless the handler set one): the request path
 *   + "/" + the body's "id" when a GET route serves that, else the request
 *   path's parent when a GET route serves it (a member added to a case
 *   points at the case). */
void reply_json(struct req *r, int status, cJSON *body);
void reply_raw(struct req *r, int status, const char *json, size_t len);
void reply_error(struct req *r, struct error *e);
void reply_status(struct req *r, int status); /* empty body, e.g. 204 */

/* Pure routing, exposed for unit tests: matches path against pattern,
 * filling names/values (values point into a copy owned by the caller).
 * Returns the number of params, or -1 if no match. */
int route_match(const char *pattern, const char *path, const char **names, char **values, int max);

/* Pure query-string parsing, exposed for unit tests and fuzzing: raw is the
 * text after '?' (NULL or "" for none); names and values are percent-decoded
 * ('+' is a space). NULL and *err (validation_failed naming each bad
 * parameter) when a name or value is not valid UTF-8, holds a NUL, has a
 * malformed %-escape, or a name comes twice, or there are more than
 * HTTP_MAX_QUERY_PARAMS. */
struct query *query_parse(const char *raw, struct error **err);
const char *query_get(const struct query *q, const char *name);
void query_destroy(struct query **self_p);
/* Pure entity-tag matching (RFC 9110 13.1.1-2): header is an If-Match or
 * If-None-Match value, "*" or a comma-separated list of entity-tags
 * ("5", W/"5"); tag is the current entity-tag as sent in ETag ("\"5\"").
 * weak false (If-Match) compares strongly: a W/ entry never matches; weak
 * true (If-None-Match) ignores W/. A list matches if any entry does; "*"
 * matches any current tag. An entry that is not a quoted tag (an unquoted
 * 5) makes the whole header ETAG_MALFORMED: the caller answers 400. */
enum etag_result { ETAG_NO_MATCH, ETAG_MATCH, ETAG_MALFORMED };
enum etag_result etag_match(const char *header, const char *tag, bool weak);
/* Pure: whether a Content-Type names JSON: application/json or
 * application/<x>+json, any case, with no charset or charset=utf-8. */
bool media_type_is_json(const char *content_type);
/* A strong ETag made from a representation's bytes ("\"<16 hex>\"", a
 * SHA-256 prefix), for resources without a version column; out holds 19. */
void etag_of(const char *doc, size_t len, char out[19]);

/* Pure transport checks, for unit tests: the request line's URI and the
 * header lines (name ": " value) against the limits above; NULL or the
 * error (414 uri_too_long, 431 headers_too_large, 400 bad_request for
 * Content-Length headers that disagree or come with Transfer-Encoding). */
struct evkeyvalq;
struct error *http_check_request(const char *uri, const struct evkeyvalq *headers);

#endif
