/*
 * Rotated log segments as itgov-anchor sees them: a file's SHA-256 (of its
 * bytes, lowercase hex), its entries (lines: newline characters, plus one
 * for a last line without one) and the times of its first and last entry.
 * The times are read from the first and last line when they start with an
 * RFC 3339 / ISO 8601 instant with a zone (2026-11-30T08:00:00Z,
 * 2026-11-30 08:00:00.123+01:00: syslog-ng/rsyslog ISO, journalctl -o
 * short-iso, most application logs) or hold a common-log-format time
 * ([30/Nov/2026:08:00:00 +0100]: nginx, Apache); otherwise, or when the
 * first is after the last, both are the file's modification time.
 * Segments are anchored oldest first: by modification time, then by name
 * in natural order (access.log-20261129 before access.log-20261130,
 * part.9 before part.10).
 */
#ifndef ANCHOR_SEGMENT_H
#define ANCHOR_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct anchor_segment {
    const char *path; /* as given; not owned */
    const char *name; /* its last component, inside path */
    long long mtime_ns;
    char sha256[65];
    long long entries;
    char first_at[21], last_at[21]; /* YYYY-MM-DDTHH:MM:SSZ */
};

/* The time of a log line (len bytes, not NUL-terminated), if it has one
 * of the forms above. */
bool anchor_line_time(const char *line, size_t len, time_t *out);
/* t as YYYY-MM-DDTHH:MM:SSZ. */
void anchor_format_time(time_t t, char out[21]);
/* Sorts oldest first (see above). */
void anchor_segments_sort(struct anchor_segment *segs, size_t n);
/* Reads path into seg; false with the reason in why. */
bool anchor_segment_scan(const char *path, struct anchor_segment *seg, char *why, size_t cap);
/* SHA-256 of the files one after the other (a configuration fingerprint);
 * false with why. */
bool anchor_files_sha256(const char *const *paths, size_t n, char out[65], char *why, size_t cap);

#endif
