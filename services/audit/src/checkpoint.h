/*
 * Signed tree heads. The Ed25519 key lives in a file (ITGOV_AUDIT_KEY_FILE:
 * the 32-byte seed in standard base64 on one line, mode 0600), generated on
 * first start if absent. key_id = the first 16 hex digits of SHA-256 of the
 * 32 raw public-key bytes. A checkpoint's signature covers exactly the UTF-8
 * bytes
 *   "itgov-audit-checkpoint v1\n" size "\n" root_hash "\n" time "\n"
 * (size in decimal, root_hash in lowercase hex, time in RFC 3339 UTC to the
 * second, as served); keys and signatures are standard padded base64.
 */
#ifndef AUDIT_CHECKPOINT_H
#define AUDIT_CHECKPOINT_H

#include <stdbool.h>
#include <cjson/cJSON.h>
#include <event2/event.h>

struct db;
struct merkle;

struct checkpoint {
    long long size;
    char root_hash[65];
    char time[32];
    char signature[96];
};

/* Loads or creates the key file; false (logged) on failure. */
bool checkpoint_key_load(const char *path);
const char *checkpoint_key_id(void);
/* The public key, base64. */
const char *checkpoint_public_key(void);

/* Signs the head of tree at size (<= merkle size) as of now. */
bool checkpoint_make(const struct merkle *tree, long long size, struct checkpoint *out);
/* The message a signature covers; returns its length. */
int checkpoint_message(const struct checkpoint *c, char *buf, size_t cap);
/* Whether a stored head carries this service's valid signature. */
bool checkpoint_signed_by_us(const struct checkpoint *c, const char *key_id);
/* {size, root_hash, time, key_id, signature}. */
cJSON *checkpoint_json(const struct checkpoint *c);

/* The head of the log as it stands, at most a second behind once asked and
 * at most 5 s behind in any case; every head made is stored in
 * audit.checkpoints. */
void checkpoints_start(struct event_base *base, struct db *db);
void checkpoints_stop(void);
const struct checkpoint *checkpoint_current(void);

#endif
