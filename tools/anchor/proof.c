/*
 * The offline checks of itgov-anchor verify (formats in proof.h): the
 * checkpoint's signature with the operator's key, then the audit path from
 * the leaf to the signed root, then (when the answer carries it) the entry
 * behind the leaf.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "merkle.h"
#include "proof.h"
#include "why.h"

bool anchor_unhex(const char *hex, unsigned char out[32])
{
    if (!hex || strlen(hex) != 64) return false;
    for (const char *p = hex; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
    size_t n = 0;
    return sodium_hex2bin(out, 32, hex, 64, NULL, &n, NULL) == 0 && n == 32;
}

static bool s_unb64(const char *b64, unsigned char *out, size_t want)
{
    size_t n = 0;
    return b64 &&
           sodium_base642bin(out, want, b64, strlen(b64), NULL, &n, NULL,
                             sodium_base64_VARIANT_ORIGINAL) == 0 &&
           n == want;
}

static void s_key_id(const unsigned char pk[32], char out[17])
{
    unsigned char h[32];
    char hex[65];
    crypto_hash_sha256(h, pk, 32);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    memcpy(out, hex, 16);
    out[16] = '\0';
}

static const char *s_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A non-negative integer member (exact in a double), or -1. */
static long long s_int(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 9e15)) return -1;
    long long n = (long long)v->valuedouble;
    return (double)n == v->valuedouble ? n : -1;
}

bool anchor_pubkey_parse(const char *text, struct anchor_pubkey *out, char *why, size_t cap)
{
    while (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')
        text++;
    if (*text == '{') {
        cJSON *j = cJSON_Parse(text);
        if (!j) return anchor_why(why, cap, "the public key file is not JSON");
        const char *alg = s_str(j, "algorithm"), *b64 = s_str(j, "public_key");
        const char *kid = s_str(j, "key_id");
        bool ok = false;
        if (!alg || strcmp(alg, "ed25519") != 0)
            anchor_why(why, cap, "the public key's algorithm is not ed25519");
        else if (!s_unb64(b64, out->pk, sizeof out->pk))
            anchor_why(why, cap, "public_key is not 32 bytes of standard base64");
        else {
            s_key_id(out->pk, out->key_id);
            if (!kid || strcmp(kid, out->key_id) != 0)
                anchor_why(why, cap, "key_id is not the SHA-256 prefix of the public key");
            else
                ok = true;
        }
        cJSON_Delete(j);
        return ok;
    }
    char line[128];
    size_t n = strcspn(text, "\r\n");
    if (n >= sizeof line) return anchor_why(why, cap, "the public key file holds no base64 key");
    memcpy(line, text, n);
    line[n] = '\0';
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        line[--n] = '\0';
    if (!s_unb64(line, out->pk, sizeof out->pk))
        return anchor_why(why, cap, "the public key file holds no 32-byte base64 key");
    s_key_id(out->pk, out->key_id);
    return true;
}

int anchor_checkpoint_message(long long size, const char *root_hex, const char *time, char *buf,
                              size_t cap)
{
    int len = snprintf(buf, cap, "itgov-audit-checkpoint v1\n%lld\n%s\n%s\n", size, root_hex, time);
    return len < 0 || (size_t)len >= cap ? -1 : len;
}

/* The checkpoint signed with key: its size and root. */
static bool s_checkpoint(const cJSON *cp, const struct anchor_pubkey *key, long long *size,
                         unsigned char root[32], char *why, size_t cap)
{
    if (!cJSON_IsObject(cp)) return anchor_why(why, cap, "the answer holds no checkpoint");
    const char *root_hex = s_str(cp, "root_hash"), *time = s_str(cp, "time");
    const char *kid = s_str(cp, "key_id"), *sig_b64 = s_str(cp, "signature");
    *size = s_int(cp, "size");
    if (*size < 1) return anchor_why(why, cap, "the checkpoint's size is not a positive integer");
    if (!anchor_unhex(root_hex, root))
        return anchor_why(why, cap, "the checkpoint's root_hash is not 64 lowercase hex digits");
    if (!time || strlen(time) > 40) return anchor_why(why, cap, "the checkpoint has no time");
    if (!kid || strcmp(kid, key->key_id) != 0)
        return anchor_why(why, cap, "the checkpoint was signed by another key (%.20s, not %s)",
                          kid ? kid : "none", key->key_id);
    unsigned char sig[crypto_sign_BYTES];
    if (!s_unb64(sig_b64, sig, sizeof sig))
        return anchor_why(why, cap, "the checkpoint's signature is not 64 bytes of base64");
    char msg[256];
    int len = anchor_checkpoint_message(*size, root_hex, time, msg, sizeof msg);
    if (len < 0) return anchor_why(why, cap, "the checkpoint's fields are too long");
    if (crypto_sign_verify_detached(sig, (const unsigned char *)msg, (unsigned long long)len,
                                    key->pk) != 0)
        return anchor_why(why, cap,
                          "the checkpoint's signature does not verify with the audit key");
    return true;
}

/* The entry behind the leaf: it must hash to the leaf and be the anchoring
 * of this digest, at seq. */
static bool s_entry(const cJSON *entry, const unsigned char leaf[32], long long seq,
                    const struct anchor_claim *claim, char *why, size_t cap)
{
    if (!cJSON_IsObject(entry))
        return anchor_why(why, cap, "the answer does not show the entry behind the proven leaf");
    const char *prev_hex = s_str(entry, "prev_hash"), *ce = s_str(entry, "cloudevent");
    unsigned char prev[32], hash[32], leaf_in[33], want[32];
    if (!anchor_unhex(prev_hex, prev) || !ce)
        return anchor_why(why, cap, "the entry lacks prev_hash or its cloudevent text");
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, prev, sizeof prev);
    crypto_hash_sha256_update(&st, (const unsigned char *)ce, strlen(ce));
    crypto_hash_sha256_final(&st, hash);
    leaf_in[0] = 0x00;
    memcpy(leaf_in + 1, hash, 32);
    crypto_hash_sha256(want, leaf_in, sizeof leaf_in);
    if (sodium_memcmp(want, leaf, 32) != 0)
        return anchor_why(why, cap, "the entry does not hash to the proven leaf");
    cJSON *ev = cJSON_Parse(ce);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(ev, "data");
    const char *type = s_str(ev, "type"), *got = s_str(data, "sha256");
    const char *log = s_str(data, "log_name");
    bool ok = type && strcmp(type, "itgov.system.log_digest.anchored") == 0 &&
              s_int(ev, "seq") == seq && s_int(data, "project_id") == claim->project_id && got &&
              strcmp(got, claim->sha256) == 0 && log && strcmp(log, claim->log_name) == 0;
    cJSON_Delete(ev);
    if (!ok)
        return anchor_why(
            why, cap,
            "the proven entry is not the anchoring of this digest of this log and project");
    return true;
}

bool anchor_proof_check(const cJSON *answer, const struct anchor_pubkey *key,
                        const struct anchor_claim *claim, long long *seq, char *why, size_t cap)
{
    const cJSON *anchored = cJSON_GetObjectItemCaseSensitive(answer, "anchored");
    if (!cJSON_IsTrue(anchored)) return anchor_why(why, cap, "the answer does not say anchored");
    *seq = s_int(answer, "seq");
    if (*seq < 1) return anchor_why(why, cap, "the answer's seq is not a positive integer");
    long long size;
    merkle_hash root, leaf;
    if (!s_checkpoint(cJSON_GetObjectItemCaseSensitive(answer, "checkpoint"), key, &size, root, why,
                      cap))
        return false;
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(answer, "inclusion_proof");
    if (!cJSON_IsObject(pr)) return anchor_why(why, cap, "the answer holds no inclusion_proof");
    long long index = s_int(pr, "leaf_index"), tree = s_int(pr, "tree_size");
    if (index != *seq - 1)
        return anchor_why(why, cap, "the proof is for leaf %lld, not for entry %lld", index, *seq);
    if (tree != size)
        return anchor_why(
            why, cap, "the proof is for a tree of size %lld, the checkpoint's is %lld", tree, size);
    if (!anchor_unhex(s_str(pr, "leaf_hash"), leaf))
        return anchor_why(why, cap, "the proof's leaf_hash is not 64 lowercase hex digits");
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(pr, "audit_path");
    int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : -1;
    if (n < 0 || n > MERKLE_MAX_PROOF)
        return anchor_why(why, cap, "the proof's audit_path is not a list of at most %d hashes",
                          MERKLE_MAX_PROOF);
    merkle_hash *path = calloc((size_t)n + 1, sizeof *path);
    if (!path) abort();
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        const cJSON *h = cJSON_GetArrayItem(arr, i);
        ok = cJSON_IsString(h) && anchor_unhex(h->valuestring, path[i]);
    }
    if (!ok)
        anchor_why(why, cap, "the proof's audit_path holds something other than hashes");
    else if (!merkle_verify_inclusion(index, size, leaf, (const merkle_hash *)path, n, root))
        ok = anchor_why(why, cap, "the audit path does not lead to the signed root");
    free(path);
    if (!ok) return false;
    return s_entry(cJSON_GetObjectItemCaseSensitive(answer, "entry"), leaf, *seq, claim, why, cap);
}
