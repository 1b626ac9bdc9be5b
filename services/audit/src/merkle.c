/*
 * The Merkle tree of RFC 6962, section 2.1, kept as levels: level 0 holds
 * the leaf hashes, level k the hashes of the complete subtrees of 2^k leaves
 * (aligned on multiples of 2^k). In the RFC's recursion every left subtree
 * is such a complete subtree, so MTH of any range the recursion visits is
 * one lookup plus the MTH of a shorter right part: O(log n).
 *
 * Memory (the audit service holds the whole log's tree): only the even
 * levels are stored (0, 2, 4, ...); a node of an odd level is the hash of
 * its two children one level down, computed when asked for (one SHA-256
 * more per lookup, at most 63 per proof). So n entries take
 * 32 * n * (1 + 1/4 + 1/16 + ...) = 42.7 * n bytes, and each level grows by
 * an eighth at a time (realloc), never doubling: at most 48 bytes per entry
 * in all. Measured: 1,000,000 entries take 43.5 MiB (45.6 bytes each),
 * where storing every level and doubling took 64.3 MiB, and twice that just
 * past a power of two (1,100,000 entries: 128.3 MiB, now 48.9 MiB).
 * tests/test_merkle.c checks the bound; /metrics shows it
 * (itgov_audit_merkle_bytes).
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "merkle.h"

#define MAX_LEVELS 64

struct level {
    merkle_hash *h;
    long long n, cap;
};

struct merkle {
    long long size;
    struct level lv[MAX_LEVELS]; /* the even ones only */
};

struct merkle *merkle_new(void)
{
    struct merkle *m = calloc(1, sizeof *m);
    if (!m) abort();
    return m;
}

void merkle_destroy(struct merkle **self_p)
{
    struct merkle *m = *self_p;
    if (!m) return;
    for (int k = 0; k < MAX_LEVELS; k++)
        free(m->lv[k].h);
    free(m);
    *self_p = NULL;
}

void merkle_leaf_hash(const void *data, size_t len, merkle_hash out)
{
    static const unsigned char zero = 0x00;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &zero, 1);
    crypto_hash_sha256_update(&st, data, len);
    crypto_hash_sha256_final(&st, out);
}

static void s_node(const merkle_hash left, const merkle_hash right, merkle_hash out)
{
    static const unsigned char one = 0x01;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &one, 1);
    crypto_hash_sha256_update(&st, left, MERKLE_HASH);
    crypto_hash_sha256_update(&st, right, MERKLE_HASH);
    crypto_hash_sha256_final(&st, out);
}

static void s_push(struct level *l, const merkle_hash h)
{
    if (l->n == l->cap) {
        l->cap += l->cap / 8 + 64; /* an eighth at a time: see the top */
        l->h = realloc(l->h, (size_t)l->cap * sizeof *l->h);
        if (!l->h) abort();
    }
    memcpy(l->h[l->n++], h, MERKLE_HASH);
}

/* The node i of level k (the complete subtree of leaves [i*2^k, (i+1)*2^k)),
 * which must exist. */
static void s_get(const struct merkle *m, int k, long long i, merkle_hash out)
{
    if (k % 2 == 0) {
        memcpy(out, m->lv[k].h[i], MERKLE_HASH);
    } else {
        merkle_hash l, r;
        s_get(m, k - 1, 2 * i, l);
        s_get(m, k - 1, 2 * i + 1, r);
        s_node(l, r, out);
    }
}

void merkle_append(struct merkle *m, const merkle_hash leaf)
{
    s_push(&m->lv[0], leaf);
    m->size++;
    /* each complete subtree the new leaf closes, level by level: cur is the
     * node just made at level k, the right child of the one above */
    merkle_hash cur;
    memcpy(cur, leaf, MERKLE_HASH);
    for (int k = 0; k + 1 < MAX_LEVELS && ((m->size >> k) & 1) == 0; k++) {
        merkle_hash left;
        s_get(m, k, (m->size >> k) - 2, left);
        s_node(left, cur, cur);
        if ((k + 1) % 2 == 0) s_push(&m->lv[k + 1], cur);
    }
}

long long merkle_size(const struct merkle *m)
{
    return m->size;
}

long long merkle_bytes(const struct merkle *m)
{
    long long b = 0;
    for (int k = 0; k < MAX_LEVELS; k++)
        b += m->lv[k].cap * MERKLE_HASH;
    return b;
}

const unsigned char *merkle_leaf(const struct merkle *m, long long index)
{
    return index >= 0 && index < m->size ? m->lv[0].h[index] : NULL;
}

/* The largest power of two strictly below n (n >= 2). */
static long long s_split(long long n)
{
    long long k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

/* MTH(D[lo:hi]) for a range the RFC recursion visits (hi > lo). */
static void s_mth(const struct merkle *m, long long lo, long long hi, merkle_hash out)
{
    long long n = hi - lo;
    if ((n & (n - 1)) == 0 && lo % n == 0) {
        int k = 0;
        while ((1LL << k) < n)
            k++;
        s_get(m, k, lo >> k, out);
        return;
    }
    long long k = s_split(n);
    merkle_hash left, right;
    s_mth(m, lo, lo + k, left);
    s_mth(m, lo + k, hi, right);
    s_node(left, right, out);
}

bool merkle_root(const struct merkle *m, long long size, merkle_hash out)
{
    if (size < 0 || size > merkle_size(m)) return false;
    if (size == 0)
        crypto_hash_sha256(out, NULL, 0);
    else
        s_mth(m, 0, size, out);
    return true;
}

/* PATH(index, D[lo:hi]), RFC 6962 2.1.1, appended to path from *n on. */
static void s_path(const struct merkle *m, long long index, long long lo, long long hi,
                   merkle_hash *path, int *n)
{
    long long size = hi - lo;
    if (size <= 1) return;
    long long k = s_split(size);
    if (index < k) {
        s_path(m, index, lo, lo + k, path, n);
        s_mth(m, lo + k, hi, path[(*n)++]);
    } else {
        s_path(m, index - k, lo + k, hi, path, n);
        s_mth(m, lo, lo + k, path[(*n)++]);
    }
}

int merkle_inclusion(const struct merkle *m, long long index, long long size,
                     merkle_hash path[MERKLE_MAX_PROOF])
{
    if (index < 0 || size > merkle_size(m) || index >= size) return -1;
    int n = 0;
    s_path(m, index, 0, size, path, &n);
    return n;
}

/* SUBPROOF(first, D[lo:hi], whole), RFC 6962 2.1.2. */
static void s_subproof(const struct merkle *m, long long first, long long lo, long long hi,
                       bool whole, merkle_hash *proof, int *n)
{
    long long size = hi - lo;
    if (first == size) {
        if (!whole) s_mth(m, lo, hi, proof[(*n)++]);
        return;
    }
    long long k = s_split(size);
    if (first <= k) {
        s_subproof(m, first, lo, lo + k, whole, proof, n);
        s_mth(m, lo + k, hi, proof[(*n)++]);
    } else {
        s_subproof(m, first - k, lo + k, hi, false, proof, n);
        s_mth(m, lo, lo + k, proof[(*n)++]);
    }
}

int merkle_consistency(const struct merkle *m, long long first, long long second,
                       merkle_hash proof[MERKLE_MAX_PROOF])
{
    if (first < 1 || first > second || second > merkle_size(m)) return -1;
    int n = 0;
    s_subproof(m, first, 0, second, true, proof, &n);
    return n;
}

bool merkle_verify_inclusion(long long index, long long size, const merkle_hash leaf,
                             const merkle_hash *path, int n, const merkle_hash root)
{
    if (index < 0 || index >= size || n < 0) return false;
    unsigned long long fn = (unsigned long long)index, sn = (unsigned long long)size - 1;
    merkle_hash r;
    memcpy(r, leaf, MERKLE_HASH);
    for (int i = 0; i < n; i++) {
        if (sn == 0) return false;
        if ((fn & 1) || fn == sn) {
            s_node(path[i], r, r);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            s_node(r, path[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && sodium_memcmp(r, root, MERKLE_HASH) == 0;
}

bool merkle_verify_consistency(long long first, long long second, const merkle_hash root1,
                               const merkle_hash root2, const merkle_hash *proof, int n)
{
    if (first < 1 || first > second || n < 0) return false;
    if (first == second) return n == 0 && sodium_memcmp(root1, root2, MERKLE_HASH) == 0;
    if (n == 0) return false;
    const unsigned char *c0;
    int i = 0;
    if ((first & (first - 1)) == 0) {
        c0 = root1; /* the first tree is a complete subtree: its root starts the walk */
    } else {
        c0 = proof[0];
        i = 1;
    }
    unsigned long long fn = (unsigned long long)first - 1, sn = (unsigned long long)second - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    merkle_hash fr, sr;
    memcpy(fr, c0, MERKLE_HASH);
    memcpy(sr, c0, MERKLE_HASH);
    for (; i < n; i++) {
        if (sn == 0) return false;
        if ((fn & 1) || fn == sn) {
            s_node(proof[i], fr, fr);
            s_node(proof[i], sr, sr);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            s_node(sr, proof[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && sodium_memcmp(fr, root1, MERKLE_HASH) == 0 &&
           sodium_memcmp(sr, root2, MERKLE_HASH) == 0;
}
