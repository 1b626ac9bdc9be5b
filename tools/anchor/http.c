/*
 * One POST with libevent's evhttp client (http.h): a loop of its own that
 * runs until the answer or the error arrives. The key goes only into the
 * Authorization header; it is never in a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include "http.h"
#include "why.h"
#ifdef ANCHOR_TLS
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#endif

#define MAX_ANSWER (8u << 20)

struct exchange {
    struct event_base *base;
    struct anchor_answer *out;
    const char *failure; /* set by the error callback */
};

static void s_on_error(enum evhttp_request_error e, void *arg)
{
    struct exchange *x = arg;
    switch (e) {
    case EVREQ_HTTP_TIMEOUT:
        x->failure = "timed out";
        break;
    case EVREQ_HTTP_EOF:
        x->failure = "the connection closed before the answer";
        break;
    case EVREQ_HTTP_INVALID_HEADER:
        x->failure = "the answer was not HTTP";
        break;
    case EVREQ_HTTP_DATA_TOO_LONG:
        x->failure = "the answer is too large";
        break;
    case EVREQ_HTTP_BUFFER_ERROR:
        x->failure = "cannot connect (refused or unreachable)";
        break;
    default:
        x->failure = "the request failed";
        break;
    }
}

static void s_on_done(struct evhttp_request *req, void *arg)
{
    struct exchange *x = arg;
    event_base_loopexit(x->base, NULL);
    if (!req || evhttp_request_get_response_code(req) == 0) {
        if (!x->failure) x->failure = "no answer (refused, reset or timed out)";
        return;
    }
    x->out->status = evhttp_request_get_response_code(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    x->out->body = malloc(len + 1);
    if (!x->out->body) abort();
    evbuffer_remove(in, x->out->body, len);
    x->out->body[len] = '\0';
    x->out->len = len;
    const char *ra = evhttp_find_header(evhttp_request_get_input_headers(req), "Retry-After");
    if (ra) {
        char *end = NULL;
        long v = strtol(ra, &end, 10);
        if (end != ra && *end == '\0' && v >= 0 && v < 86400) x->out->retry_after = (int)v;
    }
}

/* Splits url; the caller frees *uri. */
static bool s_parse(const char *url, struct evhttp_uri **uri, char *why, size_t cap)
{
    *uri = evhttp_uri_parse(url);
    if (!*uri) return anchor_why(why, cap, "the URL %s is not a URL", url);
    const char *scheme = evhttp_uri_get_scheme(*uri), *host = evhttp_uri_get_host(*uri);
    bool ok = false;
#ifdef ANCHOR_TLS
    if (!scheme || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
        anchor_why(why, cap, "the URL must start with https:// (or http:// on loopback)");
#else
    if (!scheme || strcmp(scheme, "http") != 0)
        anchor_why(why, cap, "the URL must start with http:// (this build has no TLS)");
#endif
    else if (!host || !*host)
        anchor_why(why, cap, "the URL %s names no host", url);
    else if (evhttp_uri_get_query(*uri) || evhttp_uri_get_fragment(*uri) ||
             evhttp_uri_get_userinfo(*uri))
        anchor_why(why, cap, "the URL must be a base (no user, query or fragment)");
    else
        ok = true;
    if (!ok) {
        evhttp_uri_free(*uri);
        *uri = NULL;
    }
    return ok;
}

bool anchor_url_ok(const char *url, char *why, size_t cap)
{
    struct evhttp_uri *uri;
    if (!s_parse(url, &uri, why, cap)) return false;
    evhttp_uri_free(uri);
    return true;
}

#ifdef ANCHOR_TLS
static char s_tls_failure[200]; /* the first certificate error seen */

static int s_on_verify(int ok, X509_STORE_CTX *ctx)
{
    if (!ok && !s_tls_failure[0])
        snprintf(s_tls_failure, sizeof s_tls_failure,
                 "the server's certificate does not verify: %s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    return ok;
}

/* A TLS connection to host:port whose certificate is checked; NULL with
 * why. *ctx_out is freed by the caller. */
static struct evhttp_connection *s_tls_conn(struct event_base *base, const char *host, int port,
                                            const char *ca_file, SSL_CTX **ctx_out, char *why,
                                            size_t cap)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    *ctx_out = ctx;
    if (!ctx) return anchor_why(why, cap, "cannot set up TLS"), NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, s_on_verify);
    if (ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1
                : SSL_CTX_set_default_verify_paths(ctx) != 1)
        return anchor_why(why, cap, "cannot load the CA certificates%s%s", ca_file ? " of " : "",
                          ca_file ? ca_file : ""),
               NULL;
    SSL *ssl = SSL_new(ctx);
    if (!ssl) return anchor_why(why, cap, "cannot set up TLS"), NULL;
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1) { /* a name, not an address */
        SSL_set_tlsext_host_name(ssl, host);
        SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(ssl, host) != 1) {
            SSL_free(ssl);
            return anchor_why(why, cap, "cannot set up TLS for %s", host), NULL;
        }
    }
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (!bev) {
        SSL_free(ssl);
        return anchor_why(why, cap, "cannot set up TLS"), NULL;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    struct evhttp_connection *conn =
        evhttp_connection_base_bufferevent_new(base, NULL, bev, host, (unsigned short)port);
    if (!conn) {
        bufferevent_free(bev);
        anchor_why(why, cap, "cannot set up TLS");
    }
    return conn;
}
#endif

bool anchor_post(const struct anchor_target *t, const char *path, const char *json,
                 struct anchor_answer *out, char *why, size_t cap)
{
    const char *url = t->url;
    memset(out, 0, sizeof *out);
    out->retry_after = -1;
    struct evhttp_uri *uri;
    if (!s_parse(url, &uri, why, cap)) return false;
    const char *host = evhttp_uri_get_host(uri), *prefix = evhttp_uri_get_path(uri);
    bool tls = strcmp(evhttp_uri_get_scheme(uri), "https") == 0;
    int port = evhttp_uri_get_port(uri);
    if (port < 0) port = tls ? 443 : 80;
    if (!prefix) prefix = "";
    size_t plen = strlen(prefix);
    while (plen > 0 && prefix[plen - 1] == '/')
        plen--;
    size_t tlen = plen + strlen(path) + 1;
    char *target = malloc(tlen), host_hdr[300];
    if (!target) abort();
    snprintf(target, tlen, "%.*s%s", (int)plen, prefix, path);
    snprintf(host_hdr, sizeof host_hdr, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);

    bool ok = false;
    struct exchange x = {.out = out};
    x.base = event_base_new();
    if (!x.base) abort();
    struct evhttp_connection *conn = NULL;
#ifdef ANCHOR_TLS
    SSL_CTX *ctx = NULL;
    s_tls_failure[0] = '\0';
    if (tls) {
        conn = s_tls_conn(x.base, host, port, t->ca_file, &ctx, why, cap);
        if (!conn) goto done;
    } else
#endif
    {
        conn = evhttp_connection_base_new(x.base, NULL, host, (unsigned short)port);
        if (!conn) {
            anchor_why(why, cap, "cannot reach %s", url);
            goto done;
        }
    }
    evhttp_connection_set_timeout(conn, t->timeout_s);
    evhttp_connection_set_retries(conn, 0);
    evhttp_connection_set_max_body_size(conn, MAX_ANSWER);
    struct evhttp_request *req = evhttp_request_new(s_on_done, &x);
    if (!req) abort();
    evhttp_request_set_error_cb(req, s_on_error);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    char auth[512];
    snprintf(auth, sizeof auth, "Bearer %s", t->key);
    evhttp_add_header(h, "Host", host_hdr);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "Accept", "application/json, application/problem+json");
    evhttp_add_header(h, "Authorization", auth);
    evhttp_add_header(h, "User-Agent", "itgov-anchor/1");
    evhttp_add_header(h, "Connection", "close");
    memset(auth, 0, sizeof auth);
    evbuffer_add(evhttp_request_get_output_buffer(req), json, strlen(json));
    if (evhttp_make_request(conn, req, EVHTTP_REQ_POST, target) != 0) { /* req is freed */
        anchor_why(why, cap, "cannot send the request to %s", url);
        goto done;
    }
    event_base_dispatch(x.base);
    if (out->status != 0) ok = true;
#ifdef ANCHOR_TLS
    else if (s_tls_failure[0])
        anchor_why(why, cap, "%s: %s", url, s_tls_failure);
#endif
    else
        anchor_why(why, cap, "%s: %s", url, x.failure ? x.failure : "no answer");
done:
    if (conn) evhttp_connection_free(conn);
#ifdef ANCHOR_TLS
    SSL_CTX_free(ctx);
#endif
    event_base_free(x.base);
    evhttp_uri_free(uri);
    free(target);
    return ok;
}

void anchor_answer_free(struct anchor_answer *a)
{
    free(a->body);
    a->body = NULL;
    a->len = 0;
}
