/*
 * The RFC 6962 / RFC 9162 Merkle tree over the log, in memory: leaf hash
 * SHA-256(0x00 || leaf data), node hash SHA-256(0x01 || left || right), the
 * tree of n leaves split at the largest power of two below n. Every complete
 * subtree (2^k aligned leaves) is kept, so a root, an inclusion path or a
 * consistency proof for any size costs O(log n) hashes. Pure: no I/O.
 */
#ifndef AUDIT_MERKLE_H
#define AUDIT_MERKLE_H

#include <stdbool.h>
#include <stddef.h>

#define MERKLE_HASH      32
#define MERKLE_MAX_PROOF 128 /* inclusion needs at most 63, consistency 126 */

typedef unsigned char merkle_hash[MERKLE_HASH];

struct merkle;

struct merkle *merkle_new(void);
void merkle_destroy(struct merkle **self_p);
/* SHA-256(0x00 || data). */
void merkle_leaf_hash(const void *data, size_t len, merkle_hash out);
/* Appends a leaf given its leaf hash. */
void merkle_append(struct merkle *m, const merkle_hash leaf);
long long merkle_size(const struct merkle *m);
/* The bytes its hashes take (allocated): about 45.6 per entry (merkle.c). */
long long merkle_bytes(const struct merkle *m);
/* The leaf hash at index (0-based), or NULL. */
const unsigned char *merkle_leaf(const struct merkle *m, long long index);
/* The root of the first size leaves (size 0: SHA-256 of nothing); false if
 * size is beyond the tree. */
bool merkle_root(const struct merkle *m, long long size, merkle_hash out);
/* The audit path of leaf index in the tree of the first size leaves, leaf
 * level first; returns its length, or -1 if index >= size or size is beyond
 * the tree. */
int merkle_inclusion(const struct merkle *m, long long index, long long size,
                     merkle_hash path[MERKLE_MAX_PROOF]);
/* The consistency proof between sizes first and second (0 < first <=
 * second); returns its length (0 when first == second), or -1. */
int merkle_consistency(const struct merkle *m, long long first, long long second,
                       merkle_hash proof[MERKLE_MAX_PROOF]);

/* RFC 9162 2.1.3.2: true if leaf is at index in the tree with root. */
bool merkle_verify_inclusion(long long index, long long size, const merkle_hash leaf,
                             const merkle_hash *path, int n, const merkle_hash root);
/* RFC 9162 2.1.4.2: true if the tree of size first with root1 is a prefix of
 * the tree of size second with root2. */
bool merkle_verify_consistency(long long first, long long second, const merkle_hash root1,
                               const merkle_hash root2, const merkle_hash *proof, int n);

#endif
