/*
 * audit-verify: checks what the audit service hands out, without its code
 * (libsodium and cJSON only), so that anyone can hold the log to account.
 *
 *   audit-verify checkpoint  KEY CHECKPOINT
 *   audit-verify inclusion   KEY CHECKPOINT PROOF ENTRY_HASH
 *   audit-verify consistency KEY OLD_CHECKPOINT NEW_CHECKPOINT PROOF
 *   audit-verify chain       PREV_HASH CLOUDEVENT_FILE HASH
 *
 * KEY, CHECKPOINT, PROOF: the JSON bodies of GET /api/v1/audit/public-key,
 * /checkpoint[?size=N], /proof/inclusion?seq=&size= and
 * /proof/consistency?first=&second=, each given as a file name or as the
 * JSON text itself. ENTRY_HASH: an entry's "hash" (GET /api/v1/audit).
 * CLOUDEVENT_FILE: the entry's CloudEvent exactly as the feed gives it.
 *
 * The formats (the service's contract):
 *   - hashes are lowercase hex, keys and signatures standard padded base64;
 *   - entry hash = SHA-256(prev_hash as 32 raw bytes || CloudEvent bytes),
 *     prev_hash of the first entry = 64 zeros;
 *   - Merkle leaf = SHA-256(0x00 || 32 raw bytes of the entry hash), leaf
 *     index = seq - 1, node = SHA-256(0x01 || left || right) (RFC 6962);
 *   - key_id = the first 16 hex digits of SHA-256(32 raw public-key bytes);
 *   - the Ed25519 signature of a checkpoint covers exactly
 *     "itgov-audit-checkpoint v1\n" size "\n" root_hash "\n" time "\n".
 * Inclusion and consistency proofs are checked with the algorithms of
 * RFC 9162, sections 2.1.3.2 and 2.1.4.2, against signed roots.
 *
 * Exit status: 0 valid, 1 invalid (the reason on stderr), 2 bad usage or
 * unreadable input.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <sodium.h>

#define HASH 32

static int fail(const char *fmt, const char *arg)
{
    fprintf(stderr, "audit-verify: INVALID: ");
    fprintf(stderr, fmt, arg ? arg : "");
    fputc('\n', stderr);
    return 1;
}

static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "audit-verify: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    exit(2);
}

/* JSON given as text or as the name of a file holding it. */
static cJSON *load_json(const char *arg)
{
    if (arg[0] == '{') {
        cJSON *j = cJSON_Parse(arg);
        if (!j) die("not JSON", arg);
        return j;
    }
    FILE *f = fopen(arg, "rb");
    if (!f) die("cannot open", arg);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf) die("out of memory", NULL);
    buf[len] = '\0';
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    if (!j) die("not JSON", arg);
    return j;
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsString(v)) die("missing string member", name);
    return v->valuestring;
}

static long long num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9e15 ||
        (double)(long long)v->valuedouble != v->valuedouble)
        die("missing integer member", name);
    return (long long)v->valuedouble;
}

/* Lowercase hex of exactly 32 bytes. */
static bool unhex(const char *hex, unsigned char out[HASH])
{
    if (strlen(hex) != 2 * HASH) return false;
    for (const char *p = hex; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
    size_t n = 0;
    return sodium_hex2bin(out, HASH, hex, 2 * HASH, NULL, &n, NULL) == 0 && n == HASH;
}

static bool unb64(const char *b64, unsigned char *out, size_t want)
{
    size_t n = 0;
    return sodium_base642bin(out, want, b64, strlen(b64), NULL, &n, NULL,
                             sodium_base64_VARIANT_ORIGINAL) == 0 &&
           n == want;
}

static void node(const unsigned char *l, const unsigned char *r, unsigned char out[HASH])
{
    unsigned char buf[1 + 2 * HASH];
    buf[0] = 0x01;
    memcpy(buf + 1, l, HASH);
    memcpy(buf + 1 + HASH, r, HASH);
    crypto_hash_sha256(out, buf, sizeof buf);
}

/* The public key of KEY, checked against its key_id. */
static int read_key(const cJSON *key, unsigned char pk[crypto_sign_PUBLICKEYBYTES])
{
    if (strcmp(str(key, "algorithm"), "ed25519") != 0)
        return fail("algorithm is not ed25519", NULL);
    if (!unb64(str(key, "public_key"), pk, crypto_sign_PUBLICKEYBYTES))
        return fail("public_key is not 32 bytes of standard base64", NULL);
    unsigned char h[HASH];
    char hex[2 * HASH + 1];
    crypto_hash_sha256(h, pk, crypto_sign_PUBLICKEYBYTES);
    sodium_bin2hex(hex, sizeof hex, h, HASH);
    if (strncmp(hex, str(key, "key_id"), 16) != 0 || strlen(str(key, "key_id")) != 16)
        return fail("key_id is not the SHA-256 prefix of the public key", NULL);
    return 0;
}

/* Checks a checkpoint's signature; fills its size and root. */
static int check_checkpoint(const cJSON *key, const cJSON *cp, long long *size,
                            unsigned char root[HASH])
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
    if (read_key(key, pk)) return 1;
    if (strcmp(str(cp, "key_id"), str(key, "key_id")) != 0)
        return fail("the checkpoint was signed by another key (%s)", str(cp, "key_id"));
    *size = num(cp, "size");
    const char *root_hex = str(cp, "root_hash"), *time = str(cp, "time");
    if (!unhex(root_hex, root)) return fail("root_hash is not 64 lowercase hex digits", NULL);
    if (!unb64(str(cp, "signature"), sig, sizeof sig))
        return fail("signature is not 64 bytes of standard base64", NULL);
    char msg[256];
    int len = snprintf(msg, sizeof msg, "itgov-audit-checkpoint v1\n%lld\n%s\n%s\n", *size,
                       root_hex, time);
    if (len < 0 || (size_t)len >= sizeof msg) return fail("checkpoint fields too long", NULL);
    if (crypto_sign_verify_detached(sig, (const unsigned char *)msg, (unsigned long long)len, pk))
        return fail("the checkpoint signature does not verify", NULL);
    return 0;
}

/* The hashes of a JSON array of hex strings; returns their number. */
static int read_path(const cJSON *arr, unsigned char (**out)[HASH])
{
    if (!cJSON_IsArray(arr)) die("the proof has no array of hashes", NULL);
    int n = cJSON_GetArraySize(arr);
    *out = calloc((size_t)n + 1, HASH);
    for (int i = 0; i < n; i++) {
        const cJSON *h = cJSON_GetArrayItem(arr, i);
        if (!cJSON_IsString(h) || !unhex(h->valuestring, (*out)[i])) {
            free(*out);
            return -1;
        }
    }
    return n;
}

/* RFC 9162 2.1.3.2. */
static bool verify_inclusion(unsigned long long index, unsigned long long size,
                             const unsigned char leaf[HASH], unsigned char (*path)[HASH], int n,
                             const unsigned char root[HASH])
{
    if (index >= size) return false;
    unsigned long long fn = index, sn = size - 1;
    unsigned char r[HASH];
    memcpy(r, leaf, HASH);
    for (int i = 0; i < n; i++) {
        if (sn == 0) return false;
        if ((fn & 1) || fn == sn) {
            node(path[i], r, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            node(r, path[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && sodium_memcmp(r, root, HASH) == 0;
}

/* RFC 9162 2.1.4.2. */
static bool verify_consistency(unsigned long long first, unsigned long long second,
                               const unsigned char r1[HASH], const unsigned char r2[HASH],
                               unsigned char (*proof)[HASH], int n)
{
    if (first == 0 || first > second) return false;
    if (first == second) return n == 0 && sodium_memcmp(r1, r2, HASH) == 0;
    if (n == 0) return false;
    int i = 0;
    const unsigned char *start = r1;
    if (first & (first - 1)) start = proof[i++];
    unsigned long long fn = first - 1, sn = second - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    unsigned char fr[HASH], sr[HASH];
    memcpy(fr, start, HASH);
    memcpy(sr, start, HASH);
    for (; i < n; i++) {
        if (sn == 0) return false;
        if ((fn & 1) || fn == sn) {
            node(proof[i], fr, fr);
            node(proof[i], sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            node(sr, proof[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && sodium_memcmp(fr, r1, HASH) == 0 && sodium_memcmp(sr, r2, HASH) == 0;
}

static int cmd_inclusion(char **argv)
{
    cJSON *key = load_json(argv[0]), *cp = load_json(argv[1]), *pr = load_json(argv[2]);
    long long size;
    unsigned char root[HASH], entry[HASH], leaf[HASH + 1], leaf_hash[HASH], given[HASH];
    unsigned char(*path)[HASH] = NULL;
    int rc = check_checkpoint(key, cp, &size, root);
    if (!rc && !unhex(argv[3], entry)) rc = fail("ENTRY_HASH is not 64 lowercase hex digits", NULL);
    if (!rc) {
        leaf[0] = 0x00;
        memcpy(leaf + 1, entry, HASH);
        crypto_hash_sha256(leaf_hash, leaf, sizeof leaf);
        if (!unhex(str(pr, "leaf_hash"), given) || sodium_memcmp(given, leaf_hash, HASH))
            rc = fail("leaf_hash is not SHA-256(0x00 || entry hash)", NULL);
    }
    if (!rc && num(pr, "tree_size") != size)
        rc = fail("the proof is for another tree size than the checkpoint", NULL);
    int n = rc ? 0 : read_path(cJSON_GetObjectItemCaseSensitive(pr, "audit_path"), &path);
    if (!rc && n < 0) rc = fail("audit_path holds something other than hashes", NULL);
    if (!rc && !verify_inclusion((unsigned long long)num(pr, "leaf_index"),
                                 (unsigned long long)size, leaf_hash, path, n, root))
        rc = fail("the audit path does not lead to the signed root", NULL);
    if (!rc)
        printf("OK: entry %s is leaf %lld of the signed tree of size %lld\n", argv[3],
               num(pr, "leaf_index"), size);
    free(path);
    cJSON_Delete(key);
    cJSON_Delete(cp);
    cJSON_Delete(pr);
    return rc;
}

static int cmd_consistency(char **argv)
{
    cJSON *key = load_json(argv[0]), *c1 = load_json(argv[1]), *c2 = load_json(argv[2]);
    cJSON *pr = load_json(argv[3]);
    long long s1, s2;
    unsigned char r1[HASH], r2[HASH];
    unsigned char(*proof)[HASH] = NULL;
    int rc = check_checkpoint(key, c1, &s1, r1);
    if (!rc) rc = check_checkpoint(key, c2, &s2, r2);
    if (!rc && (num(pr, "first") != s1 || num(pr, "second") != s2))
        rc = fail("the proof is for other sizes than the checkpoints", NULL);
    int n = rc ? 0 : read_path(cJSON_GetObjectItemCaseSensitive(pr, "proof"), &proof);
    if (!rc && n < 0) rc = fail("proof holds something other than hashes", NULL);
    if (!rc &&
        !verify_consistency((unsigned long long)s1, (unsigned long long)s2, r1, r2, proof, n))
        rc = fail("the newer tree does not extend the older one", NULL);
    if (!rc) printf("OK: the tree of size %lld extends the tree of size %lld\n", s2, s1);
    free(proof);
    cJSON_Delete(key);
    cJSON_Delete(c1);
    cJSON_Delete(c2);
    cJSON_Delete(pr);
    return rc;
}

static int cmd_chain(char **argv)
{
    unsigned char prev[HASH], want[HASH], got[HASH];
    if (!unhex(argv[0], prev) || !unhex(argv[2], want))
        die("hashes must be 64 lowercase hex digits", NULL);
    FILE *f = fopen(argv[1], "rb");
    if (!f) die("cannot open", argv[1]);
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, prev, HASH);
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        crypto_hash_sha256_update(&st, buf, n);
    fclose(f);
    crypto_hash_sha256_final(&st, got);
    if (sodium_memcmp(got, want, HASH))
        return fail("SHA-256(prev_hash || cloudevent) is not the hash", NULL);
    printf("OK: the entry hash chains onto %s\n", argv[0]);
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) die("libsodium failed to initialise", NULL);
    const char *cmd = argc > 1 ? argv[1] : "";
    if (!strcmp(cmd, "checkpoint") && argc == 4) {
        cJSON *key = load_json(argv[2]), *cp = load_json(argv[3]);
        long long size;
        unsigned char root[HASH];
        int rc = check_checkpoint(key, cp, &size, root);
        if (!rc) printf("OK: signed head of size %lld, root %s\n", size, str(cp, "root_hash"));
        cJSON_Delete(key);
        cJSON_Delete(cp);
        return rc;
    }
    if (!strcmp(cmd, "inclusion") && argc == 6) return cmd_inclusion(argv + 2);
    if (!strcmp(cmd, "consistency") && argc == 6) return cmd_consistency(argv + 2);
    if (!strcmp(cmd, "chain") && argc == 5) return cmd_chain(argv + 2);
    fprintf(stderr, "usage:\n"
                    "  audit-verify checkpoint  KEY CHECKPOINT\n"
                    "  audit-verify inclusion   KEY CHECKPOINT PROOF ENTRY_HASH\n"
                    "  audit-verify consistency KEY OLD_CHECKPOINT NEW_CHECKPOINT PROOF\n"
                    "  audit-verify chain       PREV_HASH CLOUDEVENT_FILE HASH\n"
                    "KEY, CHECKPOINT, PROOF: JSON from the audit API, as a file or as text\n");
    return 2;
}
