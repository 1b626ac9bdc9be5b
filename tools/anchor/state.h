/*
 * What itgov-anchor remembers of one log between runs: the sha256 of the
 * last segment it anchored (the next digest's previous_sha256) and every
 * segment anchored (sha256, the audit seq that holds it, its name). A
 * segment is known by its sha256, so a rotation that renames files
 * (access.log.1 -> access.log.2) posts nothing twice. The file is text:
 *
 *   itgov-anchor-state v1
 *   log <log name>
 *   last <sha256>                      (absent before the first anchor)
 *   posted <sha256> <seq> <segment>    (one line per segment, oldest first)
 *
 * It is replaced atomically (a temporary file in the same directory,
 * fsync, rename, fsync of the directory): a crash leaves the old state or
 * the new one, never half of one.
 */
#ifndef ANCHOR_STATE_H
#define ANCHOR_STATE_H

#include <stdbool.h>
#include <stddef.h>

#define ANCHOR_NAME_MAX 200

struct anchor_posted {
    char sha256[65];
    long long seq;
    char segment[ANCHOR_NAME_MAX + 1];
};

struct anchor_state {
    char log[ANCHOR_NAME_MAX + 1];
    char last[65]; /* "" before the first anchor */
    struct anchor_posted *items;
    size_t n, cap;
};

/* Whether a log or segment name is acceptable: 1..200 bytes, no control
 * characters (the server's rule; UTF-8 allowed). */
bool anchor_name_ok(const char *name);

/* An empty state for log. */
void anchor_state_init(struct anchor_state *s, const char *log);
void anchor_state_free(struct anchor_state *s);
/* Parses the text of a state file (len bytes) for log; false with the
 * reason in why (a malformed line, another log's state). */
bool anchor_state_parse(const char *text, size_t len, const char *log, struct anchor_state *out,
                        char *why, size_t cap);
/* The text of the state; the caller frees it. */
char *anchor_state_format(const struct anchor_state *s);
/* Whether a segment with this sha256 was anchored. */
bool anchor_state_has(const struct anchor_state *s, const char *sha256);
/* Records an anchored segment; it becomes the last. */
void anchor_state_add(struct anchor_state *s, const char *sha256, long long seq,
                      const char *segment);

/* Loads path (a missing file: the empty state); false with why. */
bool anchor_state_load(const char *path, const char *log, struct anchor_state *out, char *why,
                       size_t cap);
/* Writes path atomically; false with why. */
bool anchor_state_save(const char *path, const struct anchor_state *s, char *why, size_t cap);

#endif
