/*
 * Webhook subscriptions (subscriptions.c), their delivery engine
 * (webhooks.c) and the events API (events_api.c). webhooks_start() and
 * webhooks_notify() are the engine's entry points for the rest of the
 * service (declared in audit.h as well).
 *
 * A delivery is one HTTP POST of one stored CloudEvent (the entry's
 * `cloudevent` text, with "seq"), in seq order per subscription, signed the
 * Standard Webhooks way:
 *   webhook-id:        the event id
 *   webhook-timestamp: unix seconds of this attempt
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, id "." timestamp "." body)>
 * where the secret given to the subscriber is "whsec_" + base64(key), key
 * being 32 random bytes (so any Standard Webhooks library verifies it as is).
 * Only http:// URLs: there is no TLS client here (put a TLS-terminating proxy
 * in front of an https receiver).
 *
 * Receivers may not be itgov itself nor anything near it (target.h): the URL
 * is checked when a subscription is made, and the address a host resolves to
 * is checked again before each new connection, which then goes to exactly
 * that address (no second lookup, so DNS rebinding gains nothing); a refused
 * address is a failed attempt whose last_error says why.
 */
#ifndef AUDIT_WEBHOOKS_H
#define AUDIT_WEBHOOKS_H

#include <stdbool.h>
#include <stddef.h>

struct req;
struct service;

/* ---- subscriptions.c: the REST handlers (admin) ---- */
void subscriptions_create(struct req *r);
void subscriptions_list(struct req *r);
void subscriptions_get(struct req *r);
void subscriptions_replay(struct req *r);
void subscriptions_disable(struct req *r);

/* ---- events_api.c: GET /api/v1/events (a public route; the handler checks a
 * session with role auditor/admin, or a subscription secret) ---- */
void events_list(struct req *r);

/* ---- webhooks.c: the delivery engine ---- */
int webhooks_start(struct service *svc);
void webhooks_notify(long long last_seq);
/* A subscription row was created or changed (replay, disable): re-read it. */
void webhooks_reload(long long id);
/* Ends every delivery and frees the engine (after the loop has stopped and
 * before the database pool goes); optional, everything stays reachable. */
void webhooks_stop(void);

/* ---- pure parts, unit-tested ---- */
#define WEBHOOK_SECRET_PREFIX   "whsec_"
#define WEBHOOK_KEY_BYTES       32
#define WEBHOOK_BACKOFF_MAX     16
#define WEBHOOK_BACKOFF_DEFAULT "5,30,120,600,3600"

/* Parses "5,30,120" (1..WEBHOOK_BACKOFF_MAX delays of 1..86400 s) into out;
 * returns the count, or 0 if the text is not such a list. */
int webhooks_parse_backoff(const char *text, long out[WEBHOOK_BACKOFF_MAX]);
/* The delay before retry number `failures` (1 = after the first failure):
 * the schedule's entries in turn, then its last one forever. */
long webhooks_backoff_delay(const long *schedule, int n, int failures);

/* A new secret: "whsec_" + base64 of 32 random bytes. */
#define WEBHOOK_SECRET_LEN 51 /* 6 + 44 + NUL */
void webhooks_new_secret(char out[WEBHOOK_SECRET_LEN]);
/* The HMAC key of a secret ("whsec_" + base64; the prefix is optional);
 * returns its length, or -1 if the secret is malformed. */
int webhooks_secret_key(const char *secret, unsigned char *key, size_t max);
/* "v1,<base64 signature>" into out (at least WEBHOOK_SIGNATURE_LEN). */
#define WEBHOOK_SIGNATURE_LEN 52 /* 3 + 44 + NUL, rounded */
void webhooks_sign(const unsigned char *key, size_t keylen, const char *id, long long timestamp,
                   const char *body, size_t len, char out[WEBHOOK_SIGNATURE_LEN]);

/* A receiver URL, taken apart. */
struct webhook_url {
    char host[256];
    int port;
    char target[2048];  /* path and query, as sent in the request line */
    char host_hdr[272]; /* Host header value */
};
/* Accepts http://host[:port][/path][?query] only; on refusal returns false
 * with why (a static message). */
bool webhooks_parse_url(const char *url, struct webhook_url *out, const char **why);

/* Where a receiver may be (target.h), checked when a subscription is made:
 * the host is a canonical IP address, localhost (127.0.0.1 or ::1) or a name
 * (resolved, asynchronously), and the address passes the rules of
 * ITGOV_WEBHOOK_ALLOW and itgov's own ports; the delivery engine checks
 * again before each new connection. Calls cb exactly once, possibly before
 * returning: OK; REFUSED with why (the end of a sentence about the URL, like
 * "points at a link-local address (...)"); or UNKNOWN when the name cannot
 * be resolved now (why says so). */
enum webhook_target { WEBHOOK_TARGET_OK, WEBHOOK_TARGET_REFUSED, WEBHOOK_TARGET_UNKNOWN };
typedef void (*webhook_target_cb)(void *arg, enum webhook_target result, const char *why);
void webhooks_check_target(const struct webhook_url *u, webhook_target_cb cb, void *arg);

#endif
