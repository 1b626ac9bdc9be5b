/*
 * What anyone needs to check the log without trusting this service: the
 * public key, signed heads (now or for an earlier size), inclusion proofs
 * (RFC 6962 2.1.1 audit paths) and consistency proofs (2.1.2), all computed
 * from the in-memory tree of committed entries. Hashes are lowercase hex;
 * the leaf of entry seq is SHA-256(0x00 || its 32 raw chain-hash bytes), at
 * leaf index seq - 1. Public: they reveal hashes only.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include "checkpoint.h"
#include "ingest.h"
#include "itgov/crypto.h"
#include "itgov/text.h"
#include "log_api.h"
#include "merkle.h"

/* Reads an integer query parameter in [min, max]; *present tells whether it
 * was given. Adds a field error to *e when it is malformed or out of range. */
static void s_param(struct req *r, const char *name, long long min, long long max, bool required,
                    long long *out, struct error **e, const char *range_msg)
{
    const char *v = req_query(r, name);
    const char *msg = NULL;
    if (!v) {
        if (required) msg = "is required";
    } else {
        long long n;
        if (!text_to_int(v, 0, LLONG_MAX, &n))
            msg = "must be an integer";
        else if (n < min || n > max)
            msg = range_msg;
        else
            *out = n;
    }
    if (!msg) return;
    if (!*e) *e = error_new(ERR_VALIDATION, "bad query parameters");
    error_add_field(*e, name, msg);
}

cJSON *proof_hashes_json(merkle_hash *h, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        char hex[65];
        hex_encode(h[i], MERKLE_HASH, hex);
        cJSON_AddItemToArray(a, cJSON_CreateString(hex));
    }
    return a;
}

void audit_public_key(struct req *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "key_id", checkpoint_key_id());
    cJSON_AddStringToObject(o, "algorithm", "ed25519");
    cJSON_AddStringToObject(o, "public_key", checkpoint_public_key());
    reply_json(r, 200, o);
}

void audit_checkpoint(struct req *r)
{
    long long size = ingest_size(), want = -1;
    struct error *e = NULL;
    char range[96];
    snprintf(range, sizeof range, "must be from 0 to the size of the log (%lld)", size);
    s_param(r, "size", 0, size, false, &want, &e, range);
    if (e) return reply_error(r, e);
    struct checkpoint c;
    const struct checkpoint *cur = want < 0 ? checkpoint_current() : NULL;
    if (!cur) {
        if (!checkpoint_make(ingest_tree(), want < 0 ? size : want, &c))
            return reply_error(r, error_new(ERR_INTERNAL, "cannot sign a checkpoint"));
        cur = &c;
    }
    reply_json(r, 200, checkpoint_json(cur));
}

void audit_inclusion(struct req *r)
{
    long long size = ingest_size(), seq = 0, tree_size = size;
    struct error *e = NULL;
    char range[96];
    snprintf(range, sizeof range, "must be from 1 to the size of the log (%lld)", size);
    s_param(r, "size", 1, size, false, &tree_size, &e, range);
    s_param(r, "seq", 1, size, true, &seq, &e, "must be the seq of a stored entry");
    if (!e && seq > tree_size) {
        e = error_new(ERR_VALIDATION, "bad query parameters");
        error_add_field(e, "seq", "must not exceed size");
    }
    if (e) return reply_error(r, e);
    merkle_hash path[MERKLE_MAX_PROOF];
    int n = merkle_inclusion(ingest_tree(), seq - 1, tree_size, path);
    if (n < 0) return reply_error(r, error_new(ERR_INTERNAL, "cannot build the proof"));
    char leaf[65];
    hex_encode(merkle_leaf(ingest_tree(), seq - 1), MERKLE_HASH, leaf);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "leaf_index", (double)(seq - 1));
    cJSON_AddNumberToObject(o, "tree_size", (double)tree_size);
    cJSON_AddStringToObject(o, "leaf_hash", leaf);
    cJSON_AddItemToObject(o, "audit_path", proof_hashes_json(path, n));
    reply_json(r, 200, o);
}

void audit_consistency(struct req *r)
{
    long long size = ingest_size(), first = 0, second = size;
    struct error *e = NULL;
    char range[96];
    snprintf(range, sizeof range, "must be from 1 to the size of the log (%lld)", size);
    s_param(r, "second", 1, size, false, &second, &e, range);
    s_param(r, "first", 1, size, true, &first, &e, range);
    if (!e && first > second) {
        e = error_new(ERR_VALIDATION, "bad query parameters");
        error_add_field(e, "first", "must not exceed second");
    }
    if (e) return reply_error(r, e);
    merkle_hash proof[MERKLE_MAX_PROOF];
    int n = merkle_consistency(ingest_tree(), first, second, proof);
    if (n < 0) return reply_error(r, error_new(ERR_INTERNAL, "cannot build the proof"));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "first", (double)first);
    cJSON_AddNumberToObject(o, "second", (double)second);
    cJSON_AddItemToObject(o, "proof", proof_hashes_json(proof, n));
    reply_json(r, 200, o);
}
