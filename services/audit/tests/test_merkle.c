/* merkle.c: the RFC 6962 test vectors (roots of the eight-leaf test tree,
 * audit paths, consistency proofs), then every proof of every small tree
 * checked by the RFC 9162 verifiers, and tampered proofs refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../../shared/tests/check.h"
#include "../src/chain.h"
#include "../src/merkle.h"
#include "itgov/crypto.h"

static const char *leaves[] = {"",
                               "00",
                               "10",
                               "2021",
                               "3031",
                               "40414243",
                               "5051525354555657",
                               "606162636465666768696a6b6c6d6e6f"};
static const char *roots[] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void s_unhex(const char *hex, unsigned char *out, size_t *len)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
    *len = n;
}

static bool s_eq_hex(const unsigned char *h, const char *hex)
{
    char out[65];
    hex_encode(h, MERKLE_HASH, out);
    return strcmp(out, hex) == 0;
}

static bool s_proof_is(merkle_hash *p, int n, const char *const *want, int nwant)
{
    if (n != nwant) return false;
    for (int i = 0; i < n; i++)
        if (!s_eq_hex(p[i], want[i])) return false;
    return true;
}

static void s_vectors(void)
{
    struct merkle *m = merkle_new();
    merkle_hash h, root;
    CHECK(merkle_root(m, 0, root) &&
          s_eq_hex(root, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    for (int i = 0; i < 8; i++) {
        unsigned char data[32];
        size_t len;
        s_unhex(leaves[i], data, &len);
        merkle_leaf_hash(data, len, h);
        merkle_append(m, h);
        CHECK(merkle_root(m, i + 1, root) && s_eq_hex(root, roots[i]));
    }
    for (int i = 0; i < 8; i++)
        CHECK(merkle_root(m, i + 1, root) && s_eq_hex(root, roots[i]));
    CHECK(!merkle_root(m, 9, root));

    merkle_hash p[MERKLE_MAX_PROOF];
    const char *path_0_8[] = {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                              "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"};
    CHECK(s_proof_is(p, merkle_inclusion(m, 0, 8, p), path_0_8, 3));
    const char *path_5_8[] = {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                              "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"};
    CHECK(s_proof_is(p, merkle_inclusion(m, 5, 8, p), path_5_8, 3));
    const char *path_2_3[] = {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"};
    CHECK(s_proof_is(p, merkle_inclusion(m, 2, 3, p), path_2_3, 1));
    CHECK(merkle_inclusion(m, 0, 1, p) == 0);

    CHECK(merkle_consistency(m, 1, 1, p) == 0);
    CHECK(s_proof_is(p, merkle_consistency(m, 1, 8, p), path_0_8, 3));
    const char *cons_6_8[] = {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                              "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"};
    CHECK(s_proof_is(p, merkle_consistency(m, 6, 8, p), cons_6_8, 3));
    const char *cons_2_5[] = {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                              "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"};
    CHECK(s_proof_is(p, merkle_consistency(m, 2, 5, p), cons_2_5, 2));
    CHECK(merkle_consistency(m, 0, 5, p) == -1);
    CHECK(merkle_consistency(m, 6, 5, p) == -1);
    CHECK(merkle_consistency(m, 2, 9, p) == -1);
    CHECK(merkle_inclusion(m, 8, 8, p) == -1);
    merkle_destroy(&m);
    CHECK(m == NULL);
}

/* Every proof of every tree up to N leaves verifies; every tampered one not. */
static void s_exhaustive(void)
{
    enum { N = 70 };
    struct merkle *m = merkle_new();
    merkle_hash leaf[N], root[N + 1], p[MERKLE_MAX_PROOF];
    for (int i = 0; i < N; i++) {
        char data[16];
        snprintf(data, sizeof data, "leaf %d", i);
        merkle_leaf_hash(data, strlen(data), leaf[i]);
        merkle_append(m, leaf[i]);
    }
    for (int s = 0; s <= N; s++)
        merkle_root(m, s, root[s]);
    int bad_inclusion = 0, bad_consistency = 0, forged_ok = 0;
    for (int size = 1; size <= N; size++) {
        for (int i = 0; i < size; i++) {
            int n = merkle_inclusion(m, i, size, p);
            if (n < 0 ||
                !merkle_verify_inclusion(i, size, leaf[i], (const merkle_hash *)p, n, root[size]))
                bad_inclusion++;
            /* another leaf, another index, another root (a size alone is not bound by a
             * proof: the signed head binds it) */
            if (merkle_verify_inclusion(i, size, leaf[(i + 1) % N], (const merkle_hash *)p, n,
                                        root[size]) ||
                (size > 1 && merkle_verify_inclusion((i + 1) % size, size, leaf[i],
                                                     (const merkle_hash *)p, n, root[size])) ||
                merkle_verify_inclusion(i, size, leaf[i], (const merkle_hash *)p, n,
                                        root[size - 1]))
                forged_ok++;
            for (int j = 0; j < n; j++) {
                p[j][j % MERKLE_HASH] ^= 1;
                if (merkle_verify_inclusion(i, size, leaf[i], (const merkle_hash *)p, n,
                                            root[size]))
                    forged_ok++;
                p[j][j % MERKLE_HASH] ^= 1;
            }
            if (n > 0 && merkle_verify_inclusion(i, size, leaf[i], (const merkle_hash *)p, n - 1,
                                                 root[size]))
                forged_ok++;
        }
        for (int first = 1; first <= size; first++) {
            int n = merkle_consistency(m, first, size, p);
            if (n < 0 || !merkle_verify_consistency(first, size, root[first], root[size],
                                                    (const merkle_hash *)p, n))
                bad_consistency++;
            if (first == size) continue;
            if (merkle_verify_consistency(first, size, root[first - 1], root[size],
                                          (const merkle_hash *)p, n) ||
                merkle_verify_consistency(first, size, root[first], root[size - 1],
                                          (const merkle_hash *)p, n) ||
                merkle_verify_consistency(first, size, root[first], root[size],
                                          (const merkle_hash *)p, n - 1))
                forged_ok++;
            for (int j = 0; j < n; j++) {
                p[j][(j * 7) % MERKLE_HASH] ^= 0x80;
                if (merkle_verify_consistency(first, size, root[first], root[size],
                                              (const merkle_hash *)p, n))
                    forged_ok++;
                p[j][(j * 7) % MERKLE_HASH] ^= 0x80;
            }
        }
    }
    CHECK(bad_inclusion == 0);
    CHECK(bad_consistency == 0);
    CHECK(forged_ok == 0);
    if (bad_inclusion || bad_consistency || forged_ok)
        fprintf(stderr, "bad inclusion %d, bad consistency %d, forged accepted %d\n", bad_inclusion,
                bad_consistency, forged_ok);
    CHECK(merkle_leaf(m, 0) && memcmp(merkle_leaf(m, 0), leaf[0], MERKLE_HASH) == 0);
    CHECK(merkle_leaf(m, N) == NULL && merkle_size(m) == N);
    merkle_destroy(&m);
}

/* A log-sized tree: the root after many appends equals the one rebuilt. */
static void s_large(void)
{
    struct merkle *a = merkle_new(), *b = merkle_new();
    merkle_hash h, ra, rb, p[MERKLE_MAX_PROOF];
    for (int i = 0; i < 100003; i++) {
        merkle_leaf_hash(&i, sizeof i, h);
        merkle_append(a, h);
        if (i < 65537) merkle_append(b, h);
    }
    CHECK(merkle_root(a, 65537, ra) && merkle_root(b, 65537, rb) && memcmp(ra, rb, 32) == 0);
    merkle_root(a, 100003, ra);
    int n = merkle_consistency(a, 65537, 100003, p);
    CHECK(n > 0 && merkle_verify_consistency(65537, 100003, rb, ra, (const merkle_hash *)p, n));
    int i = 77777;
    merkle_leaf_hash(&i, sizeof i, h);
    n = merkle_inclusion(a, 77777, 100003, p);
    CHECK(n == 17 && merkle_verify_inclusion(77777, 100003, h, (const merkle_hash *)p, n, ra));
    /* memory: the hashes of 100003 entries take at most 48 bytes each (and
     * the few blocks each level starts with); see merkle.c */
    CHECK(merkle_bytes(a) >= 100003LL * 32 && merkle_bytes(a) <= 100003LL * 48 + 64LL * 64 * 32);
    merkle_destroy(&a);
    merkle_destroy(&b);
}

int main(void)
{
    crypto_init();
    s_vectors();
    s_exhaustive();
    s_large();
    return check_done();
}
