/*
 * Passwords (argon2id via libsodium), random tokens and SHA-256, all as
 * lowercase hex where they are text.
 */
#ifndef ITGOV_CRYPTO_H
#define ITGOV_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <sodium.h>

#define PASSWORD_HASH_MAX crypto_pwhash_STRBYTES

bool crypto_init(void);
/* Hashes pw into out (a NUL-terminated argon2id string). */
bool password_hash(const char *pw, char out[PASSWORD_HASH_MAX]);
bool password_verify(const char *hash, const char *pw);
/* nbytes random bytes as 2*nbytes hex characters plus NUL. */
void random_hex(char *out, size_t nbytes);
void sha256_hex(const void *data, size_t len, char out[65]);
void hex_encode(const unsigned char *in, size_t len, char *out);

#endif
