/*
 * Sessions in Redis (architecture, invariant 5). A login yields a random
 * token; Redis keeps only its SHA-256, with a TTL, and every service checks
 * the token on every request, so ending a session takes effect everywhere at
 * once. Keys (prefix itgov:):
 *   sess:<token sha256>  hash  sid uid user ip ua created_at last_seen_at
 *                              expires_at mac ("user": the user's public
 *                              JSON — roles, department, disabled —
 *                              refreshed in every session of the user on
 *                              each change, so a role change applies to the
 *                              next request)
 *   sid:<sid>            string  token sha256
 *   usess:<uid>          set of sids of a user
 *   sessions             zset sid → expiry (epoch s), for the admin list
 *   user:<uid>           the user's public JSON, for the admin list
 * The token check is one plain HMGET (session_auth, here: every service).
 *
 * Only the writer (accounts) changes Redis: its session store
 * (services/accounts/src/session_store.c) creates, refreshes and ends
 * sessions through Redis functions it loads, and records last_seen_at
 * (session_on_seen: the last request accounts served in that session, /me
 * included); the other services' Redis users may only read session hashes.
 *
 * A record in Redis is not believed on its own: "mac" is an HMAC-SHA256,
 * under ITGOV_SESSION_MAC_KEY (held by the services, never by Redis), over
 * the token hash, sid, uid, user JSON and expires_at; the writer computes it
 * (session_sign) whenever it writes those, and session_auth checks it
 * (constant time), and the expiry, before any role is read. A forged or
 * altered record is no session; an old record kept and written back by
 * someone with Redis access is still valid until its expires_at (a MAC
 * proves origin, not freshness).
 */
#ifndef ITGOV_SESSION_H
#define ITGOV_SESSION_H

#include <stdbool.h>
#include <time.h>
#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>
#include "itgov/error.h"

enum role {
    ROLE_ADMIN = 1u << 0,
    ROLE_IT_OFFICE = 1u << 1,
    ROLE_APPLICANT = 1u << 2,
    ROLE_EXPERT = 1u << 3,
    ROLE_SECRETARY = 1u << 4,
    ROLE_AUDITOR = 1u << 5,
};
#define ROLE_PUBLIC 0u
#define ROLE_ANY    0x3fu

/* The bit of a role name, 0 if unknown. */
unsigned role_bit(const char *name);

/* Who is calling: a user with a session, or a system key (roles exactly
 * ROLE_SYSTEM, http.h; id and department_id 0, no sid, user_json NULL). */
struct principal {
    long long id;
    long long department_id;
    unsigned roles;
    char sid[33];
    char *user_json; /* the cached public user record */
    /* a system key's (syskey.h), 0 for a user */
    long long key_id;
    long long project_id; /* the one project the key acts for */
    unsigned scopes;      /* SYSKEY_SCOPE_* bits */
};
void principal_destroy(struct principal **self_p);
/* Builds a principal from the cached user JSON; NULL if malformed. */
struct principal *principal_from_json(const char *sid, const char *user_json);

struct redis;

#define SESSION_MAC_KEY_BYTES 32
/* Once at start: the MAC key (64 hex characters); false if malformed. */
bool session_init(const char *mac_key_hex);
/* Once at start, by the writer only: session_auth calls fn for a live
 * session whose last_seen_at is not this second (key: itgov:sess:<token
 * sha256>; now: this second, RFC 3339). */
typedef void (*session_seen_fn)(struct redis *rd, const char *key, const char *now);
void session_on_seen(session_seen_fn fn);

/* What a session's MAC covers, as stored in Redis (all text). */
struct session_record {
    const char *token_hash; /* 64 hex: the key is itgov:sess:<token_hash> */
    const char *sid;
    const char *uid;
    const char *user_json;
    const char *expires_at; /* RFC 3339, UTC, to the second */
};
/* Parses 64 hex characters into a key; false on anything else. */
bool session_mac_key_parse(const char *hex, unsigned char key[SESSION_MAC_KEY_BYTES]);
/* HMAC-SHA256 over the record's fields, each length-prefixed; 64 hex. */
void session_mac(const unsigned char key[SESSION_MAC_KEY_BYTES], const struct session_record *rec,
                 char out[65]);
/* session_mac under the key given to session_init. */
void session_sign(const struct session_record *rec, char out[65]);
/* True if mac_hex (may be NULL) is the record's MAC; constant time. */
bool session_mac_ok(const unsigned char key[SESSION_MAC_KEY_BYTES],
                    const struct session_record *rec, const char *mac_hex);

/* The 503 a failed session-store call answers (NULL if reply is a real
 * answer). Redis's own error text is logged, never shown to a client. */
struct error *session_store_error(const redisReply *reply);
/* t as an RFC 3339 UTC instant, as session records keep them. */
void session_time_text(time_t t, char out[32]);

/* Forgets the records session_auth keeps verified and parsed (session.c:
 * the principal cache; each is still read from Redis on every request and
 * used only while its bytes and MAC are unchanged). Frees its memory. */
void session_cache_clear(void);

typedef void (*session_auth_cb)(void *arg, struct principal *p, struct error *err);
/* p: the session's user (caller owns it), NULL if no such live session, the
 * record's MAC is missing or wrong (logged), it has expired or the user is
 * disabled. err: Redis unavailable (caller owns it). */
void session_auth(struct redis *rd, const char *token, session_auth_cb cb, void *arg);

#endif
