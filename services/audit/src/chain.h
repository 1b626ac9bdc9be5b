/*
 * The hash chain, pure: an entry's hash is
 *   SHA-256( prev_hash as its 32 raw bytes || the UTF-8 bytes of the entry's
 *            CloudEvent JSON exactly as stored and served, "seq" included )
 * in lowercase hex; the first entry's prev_hash is 64 zeros. Also the checks
 * an incoming event must pass before it may enter the log.
 */
#ifndef AUDIT_CHAIN_H
#define AUDIT_CHAIN_H

#include <stdbool.h>
#include <stddef.h>

#define CHAIN_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* out = the entry hash (hex); false if prev_hex is not 64 hex digits. */
bool chain_hash(const char *prev_hex, const char *cloudevent, size_t len, char out[65]);
/* 64 hex digits (either case) to 32 bytes; false on anything else. */
bool chain_unhex32(const char *hex, unsigned char out[32]);
/* A UUID in its 8-4-4-4-12 hex form. */
bool chain_is_uuid(const char *s);
/* An RFC 3339 instant PostgreSQL reads as timestamptz:
 * YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm). */
bool chain_is_rfc3339(const char *s);

#endif
