/*
 * The failure text of itgov-anchor's parts: each check that fails writes
 * why into the caller's buffer and answers false.
 */
#ifndef ANCHOR_WHY_H
#define ANCHOR_WHY_H

#include <stdbool.h>
#include <stddef.h>

/* Formats fmt into why (cap bytes, cut to fit); always false. */
bool anchor_why(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
