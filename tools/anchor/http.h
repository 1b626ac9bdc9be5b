/*
 * The one HTTP exchange itgov-anchor makes: POST a JSON body to the base
 * URL + path with the system key as a Bearer token, and read the whole
 * answer (at most 8 MiB). libevent's evhttp client on a loop of its own.
 * https:// (when built with libevent_openssl, ANCHOR_TLS): TLS 1.2 or
 * later, the server's certificate verified against the system's CA store
 * or ca_file, and its name (or IP address) against the URL's host; any
 * failure stops the exchange before the key is sent. http:// is for
 * loopback and tests: production goes through the gateway's TLS.
 */
#ifndef ANCHOR_HTTP_H
#define ANCHOR_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct anchor_answer {
    int status; /* 0: no answer */
    char *body; /* NUL-terminated, owned */
    size_t len;
    int retry_after; /* seconds, -1 if absent */
};

struct anchor_target {
    const char *url; /* base: http(s)://host[:port][/prefix] */
    const char *key;
    int timeout_s;
    const char *ca_file; /* NULL: the system's CA store */
};

/* Whether url is one this client can use. */
bool anchor_url_ok(const char *url, char *why, size_t cap);
/* POSTs json to the base URL + path; true when an answer came (any
 * status), false with why on a network or TLS failure or a timeout. */
bool anchor_post(const struct anchor_target *t, const char *path, const char *json,
                 struct anchor_answer *out, char *why, size_t cap);
void anchor_answer_free(struct anchor_answer *a);

#endif
