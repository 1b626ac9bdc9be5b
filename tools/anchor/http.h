/*
 * The one HTTP exchange itgov-anchor makes: POST a JSON body to the base
 * URL + path with the system key as a Bearer token, and read the whole
 * answer (at most 8 MiB). libevent's evhttp client on a loop of its own;
 * http:// only (production: through the gateway's TLS, see
 * deploy/anchor/README.md).
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

/* Whether url is one this client can use: http://host[:port][/prefix]. */
bool anchor_url_ok(const char *url, char *why, size_t cap);
/* POSTs json; true when an answer came (any status), false with why on a
 * network failure or timeout. */
bool anchor_post(const char *url, const char *path, const char *key, const char *json,
                 int timeout_s, struct anchor_answer *out, char *why, size_t cap);
void anchor_answer_free(struct anchor_answer *a);

#endif
