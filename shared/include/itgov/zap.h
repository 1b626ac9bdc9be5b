/*
 * Who may connect to our ZeroMQ CURVE servers (the broker's XSUB and XPUB,
 * audit's public feed): a ZAP handler (ZeroMQ RFC 27) that admits a client
 * only when its CURVE public key is on the allowlist of the socket's ZAP
 * domain, and answers 400 to everything else. Each refusal is logged with
 * the first characters of the key (a public key, never a secret) and
 * counted; so are clients that fail the CURVE handshake itself (no CURVE,
 * a wrong server key), which never reach the handler.
 *
 * Keys are Z85 text, 40 characters for 32 bytes. Key lists come from the
 * environment: "k1,k2" (ITGOV_EVENT_CLIENT_KEYS) or "name=k1,name=k2"
 * (ITGOV_PUBLISHER_KEYS; split at the FIRST '=', since Z85 has '=' too).
 *
 * ZAP request frames: "1.0", request id, domain, address, routing id,
 * mechanism, credentials (CURVE: the client's 32-byte public key).
 * Reply frames: "1.0", request id, status code ("200"/"400"), status text,
 * user id (the key's name), metadata (empty).
 *
 * The handler binds inproc://zeromq.zap.01 in its context, which must
 * happen before any CURVE server socket of that context accepts clients:
 * without a handler libzmq admits every CURVE client.
 */
#ifndef ITGOV_ZAP_H
#define ITGOV_ZAP_H

#include <stdbool.h>
#include <stddef.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <zmq.h>

#define ZAP_KEY_Z85_LEN 40

struct zap_key {
    char name[32]; /* "projects", or "client" for unnamed lists */
    unsigned char key[32];
};

struct zap_keys {
    struct zap_key *v;
    size_t n;
};

/* ---- pure: keys and decisions -------------------------------------------- */

/* Decodes len characters of Z85 into a 32-byte key; false unless they are
 * exactly 40 characters of the Z85 alphabet encoding 32 bytes. */
bool zap_key_decode(const char *text, size_t len, unsigned char out[32]);
void zap_key_encode(const unsigned char key[32], char out[ZAP_KEY_Z85_LEN + 1]);
/* True when text is a whole Z85 key. */
bool zap_key_valid(const char *text);
/* Appends the keys of a comma-separated list (spaces around entries ignored;
 * an empty list is no keys). named: each entry is name=key. On a bad entry,
 * false with a message in err naming its position, never its text. */
bool zap_keys_parse(struct zap_keys *ks, const char *list, bool named, char *err, size_t errlen);
const struct zap_key *zap_keys_find(const struct zap_keys *ks, const unsigned char key[32]);
void zap_keys_clear(struct zap_keys *ks);

struct zap_policy;

struct zap_policy *zap_policy_new(void);
void zap_policy_destroy(struct zap_policy **self_p);
/* Adds (copies) keys to the allowlist of domain. */
void zap_policy_allow(struct zap_policy *p, const char *domain, const struct zap_keys *ks);
/* The listed key that a ZAP request of this domain, mechanism and
 * credentials presents, or NULL: refused. Only CURVE is ever admitted. */
const struct zap_key *zap_policy_admit(const struct zap_policy *p, const char *domain,
                                       const char *mechanism, const void *cred, size_t len);

/* ---- configuration ---------------------------------------------------------- */

/* True when value is a Z85 key; otherwise logs that var must be one (the
 * value is never printed: it may be a secret). */
bool zap_check_key(const char *var, const char *value);
/* Parses list (from var) into ks; logs the problem naming var and returns
 * false. required: an empty list is an error too. */
bool zap_load_keys(struct zap_keys *ks, const char *var, const char *list, bool named,
                   bool required);

/* ---- the handler ------------------------------------------------------------ */

struct zap;

/* Binds the ZAP endpoint of zctx and takes the policy; NULL (logged) if the
 * endpoint is taken. */
struct zap *zap_new(void *zctx, struct zap_policy **policy_p);
/* After the sockets it secures are closed: a CURVE server outliving its
 * handler would admit anyone. */
void zap_destroy(struct zap **self_p);
/* Makes sock (not yet bound) a CURVE server with secret (Z85) whose clients
 * are checked against domain, and watches its handshakes; 0 = ok. */
int zap_secure(struct zap *z, void *sock, const char *domain, const char *secret);
/* Answers every pending request and reads every pending handshake event,
 * without blocking. */
void zap_serve(struct zap *z);
/* For a zmq_poll loop: the handler's sockets (at most max) to poll for
 * ZMQ_POLLIN; call zap_serve when one is readable. */
size_t zap_pollitems(struct zap *z, zmq_pollitem_t *items, size_t max);
/* Or let a libevent loop call zap_serve when needed; 0 = ok. */
int zap_attach(struct zap *z, struct event_base *base);
/* Clients refused so far in domain (ZAP 400s plus failed handshakes). */
long long zap_refused(const struct zap *z, const char *domain);
/* Prometheus lines: itgov_bus_clients_refused_total{domain,reason}. */
void zap_metrics(const struct zap *z, struct evbuffer *out);

#endif
