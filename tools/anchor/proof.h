/*
 * Checking an anchor without trusting the server: the answer of
 * POST /api/v1/log-digests/verify holds an inclusion proof (the JSON of
 * GET /api/v1/audit/proof/inclusion: leaf_index, tree_size, leaf_hash,
 * audit_path) and a signed checkpoint (the JSON of GET
 * /api/v1/audit/checkpoint: size, root_hash, time, key_id, signature). The
 * audit public key comes from the operator (a file fetched once), never
 * from the answer. Formats (services/audit/src/checkpoint.h, proofs.c):
 *   - hashes lowercase hex; keys and signatures standard padded base64;
 *   - key_id = the first 16 hex digits of SHA-256(32 raw public-key bytes);
 *   - the Ed25519 signature covers exactly
 *     "itgov-audit-checkpoint v1\n" size "\n" root_hash "\n" time "\n";
 *   - the leaf of entry seq is at index seq - 1 and is
 *     SHA-256(0x00 || entry hash), entry hash = SHA-256(prev_hash bytes ||
 *     CloudEvent bytes); the path is checked with RFC 9162 2.1.3.2
 *     (merkle_verify_inclusion of the audit service's merkle.c).
 * The answer must also carry the entry itself ("entry": {prev_hash, hash,
 * cloudevent}), which ties the leaf to the digest: the CloudEvent text must
 * hash to the leaf, be an itgov.system.log_digest.anchored event with the
 * answer's seq, and name this project, log and sha256 — else a proof of
 * some other entry could pass for this one. Pure: no I/O.
 */
#ifndef ANCHOR_PROOF_H
#define ANCHOR_PROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

struct anchor_pubkey {
    unsigned char pk[32];
    char key_id[17];
};

/* The audit public key from the text of the operator's file: the JSON body
 * of GET /api/v1/audit/public-key ({key_id, algorithm: "ed25519",
 * public_key}; key_id must match the key) or one line of base64 (32 bytes).
 * False with the reason in why. */
bool anchor_pubkey_parse(const char *text, struct anchor_pubkey *out, char *why, size_t cap);

/* The signed message of a checkpoint; its length, or -1 if it does not fit. */
int anchor_checkpoint_message(long long size, const char *root_hex, const char *time, char *buf,
                              size_t cap);

/* Whether the answer of verify proves that the claim (this digest of this
 * log of this project) is in the log under the checkpoint signed with key: true
 * and *seq set, or false with the reason in why. */
struct anchor_claim {
    long long project_id;
    const char *log_name;
    const char *sha256; /* 64 lowercase hex */
};
bool anchor_proof_check(const cJSON *answer, const struct anchor_pubkey *key,
                        const struct anchor_claim *claim, long long *seq, char *why, size_t cap);

/* 64 lowercase hex digits into 32 bytes. */
bool anchor_unhex(const char *hex, unsigned char out[32]);

#endif
