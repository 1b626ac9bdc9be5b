/*
 * System keys: the credential a governed system (a project in operation)
 * sends as "Authorization: Bearer <key>" instead of a session token (issue
 * 12: usage metrics; issue 14 gives keys more scopes). A key is
 *   itgk_<43 base64url characters>   (32 random bytes, no padding)
 * so it can never be taken for a session token (64 hex digits) nor a session
 * token for a key. The service that issues keys keeps only syskey_hash() of
 * one: the key itself is in the one answer that issues it and nowhere else.
 *
 * How a key is checked (http.h): a bearer token with the prefix is never
 * looked up as a session. On a route whose roles include ROLE_SYSTEM it goes
 * to the service's verifier (server_config.system_auth), which finds the
 * key's hash (asynchronously) and answers a principal with roles ROLE_SYSTEM,
 * the key's id, its project and its scopes — or none (401). On every other
 * route it is 401, as an unknown session token would be.
 */
#ifndef ITGOV_SYSKEY_H
#define ITGOV_SYSKEY_H

#include <stdbool.h>
#include <stddef.h>

#define SYSKEY_PREFIX       "itgk_"
#define SYSKEY_PREFIX_LEN   5
#define SYSKEY_RANDOM_BYTES 32
#define SYSKEY_LEN          (SYSKEY_PREFIX_LEN + 43) /* 48 characters */

/* What a key may do, as bits (principal.scopes); the names are in the table
 * in syskey.c. */
enum syskey_scope {
    SYSKEY_SCOPE_METRICS = 1u << 0,     /* POST /api/v1/metrics/usage */
    SYSKEY_SCOPE_LOG_DIGESTS = 1u << 1, /* POST /api/v1/systems/{id}/log-digests, verify */
    SYSKEY_SCOPE_CONFIG = 1u << 2,      /* POST /api/v1/systems/{id}/config-fingerprints */
};

/* A new key from libsodium's randombytes; out holds SYSKEY_LEN + 1. */
void syskey_new(char out[SYSKEY_LEN + 1]);
/* Whether a bearer token is meant as a system key (has the prefix): such a
 * token is never a session token, well formed or not. */
bool syskey_has_prefix(const char *token);
/* Whether it is a key as syskey_new() makes them: the prefix, then the
 * canonical unpadded base64url form of exactly SYSKEY_RANDOM_BYTES bytes. */
bool syskey_well_formed(const char *token);
/* SHA-256 of the key as sent, lower-case hex: what is stored and looked up. */
void syskey_hash(const char *key, char out[65]);
/* The bit of a scope name, 0 if unknown. */
unsigned syskey_scope_bit(const char *name);
/* The bits of a comma-separated list of scope names (unknown names ignored). */
unsigned syskey_scopes_parse(const char *csv);

#endif
