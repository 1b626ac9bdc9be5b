/*
 * Reading rotated segments (what is read and why in segment.h): one pass
 * over each file hashes it, counts its lines and keeps the head of its
 * first and last line for their times.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "segment.h"
#include "why.h"

#define HEAD 512 /* bytes of a line kept for its time */

/* n decimal digits at s. */
static bool s_digits(const char *s, size_t avail, int n, int *out)
{
    if (avail < (size_t)n) return false;
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Broken-down UTC fields to a time, refusing dates that do not exist. */
static bool s_make(int y, int mo, int d, int h, int mi, int sec, long off_s, time_t *out)
{
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 60)
        return false;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec > 59 ? 59 : sec;
    time_t t = timegm(&tm);
    struct tm back;
    if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != d || back.tm_mon != mo - 1)
        return false;
    *out = t - off_s;
    return true;
}

/* A zone: Z, +HH:MM, +HHMM (or -); its length, or 0. */
static size_t s_zone(const char *s, size_t avail, long *off_s)
{
    if (avail >= 1 && (s[0] == 'Z' || s[0] == 'z')) {
        *off_s = 0;
        return 1;
    }
    if (avail < 5 || (s[0] != '+' && s[0] != '-')) return 0;
    int hh, mm;
    size_t len;
    if (!s_digits(s + 1, avail - 1, 2, &hh)) return 0;
    if (s[3] == ':') {
        if (!s_digits(s + 4, avail - 4, 2, &mm)) return 0;
        len = 6;
    } else {
        if (!s_digits(s + 3, avail - 3, 2, &mm)) return 0;
        len = 5;
    }
    if (hh > 23 || mm > 59) return 0;
    *off_s = (s[0] == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
    return len;
}

/* YYYY-MM-DD[T ]HH:MM:SS[.fff]ZONE at the start of the line. */
static bool s_iso(const char *s, size_t n, time_t *out)
{
    int y, mo, d, h, mi, sec;
    if (n < 20 || !s_digits(s, n, 4, &y) || s[4] != '-' || !s_digits(s + 5, n - 5, 2, &mo) ||
        s[7] != '-' || !s_digits(s + 8, n - 8, 2, &d) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !s_digits(s + 11, n - 11, 2, &h) ||
        s[13] != ':' || !s_digits(s + 14, n - 14, 2, &mi) || s[16] != ':' ||
        !s_digits(s + 17, n - 17, 2, &sec))
        return false;
    size_t i = 19;
    if (i < n && (s[i] == '.' || s[i] == ',')) {
        size_t j = i + 1;
        while (j < n && s[j] >= '0' && s[j] <= '9')
            j++;
        if (j == i + 1) return false;
        i = j;
    }
    long off;
    if (!s_zone(s + i, n - i, &off)) return false;
    return s_make(y, mo, d, h, mi, sec, off, out);
}

/* [dd/Mon/yyyy:HH:MM:SS +zzzz] within the head of the line. */
static bool s_clf(const char *s, size_t n, time_t *out)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    size_t lim = n < 300 ? n : 300;
    for (const char *p = memchr(s, '[', lim); p;
         p = memchr(p + 1, '[', lim - (size_t)(p + 1 - s))) {
        size_t a = n - (size_t)(p - s);
        int d, y, h, mi, sec, mo = 0;
        if (a < 28 || !s_digits(p + 1, a - 1, 2, &d) || p[3] != '/' || p[7] != '/' ||
            !s_digits(p + 8, a - 8, 4, &y) || p[12] != ':' || !s_digits(p + 13, a - 13, 2, &h) ||
            p[15] != ':' || !s_digits(p + 16, a - 16, 2, &mi) || p[18] != ':' ||
            !s_digits(p + 19, a - 19, 2, &sec) || p[21] != ' ')
            continue;
        for (int m = 0; m < 12; m++)
            if (memcmp(p + 4, months + 3 * m, 3) == 0) mo = m + 1;
        long off;
        size_t z = s_zone(p + 22, a - 22, &off);
        if (mo && z == 5 && p[27] == ']' && s_make(y, mo, d, h, mi, sec, off, out)) return true;
    }
    return false;
}

bool anchor_line_time(const char *line, size_t len, time_t *out)
{
    return s_iso(line, len, out) || s_clf(line, len, out);
}

void anchor_format_time(time_t t, char out[21])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int s_cmp(const void *a, const void *b)
{
    const struct anchor_segment *x = a, *y = b;
    if (x->mtime_ns != y->mtime_ns) return x->mtime_ns < y->mtime_ns ? -1 : 1;
    int c = strverscmp(x->name, y->name);
    return c ? c : strcmp(x->path, y->path);
}

void anchor_segments_sort(struct anchor_segment *segs, size_t n)
{
    if (n > 1) qsort(segs, n, sizeof *segs, s_cmp);
}

/* Keeps up to HEAD bytes of the line being read. */
struct head {
    char b[HEAD];
    size_t n;
    bool any; /* the line has at least one byte */
};

static void s_keep(struct head *h, const char *p, size_t len)
{
    if (len) h->any = true;
    size_t take = len < HEAD - h->n ? len : HEAD - h->n;
    memcpy(h->b + h->n, p, take);
    h->n += take;
}

/* Opens path, a regular file, with its stat in *st: the descriptor, or -1
 * and why. */
static int s_open_regular(const char *path, struct stat *st, char *why, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        anchor_why(why, cap, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        anchor_why(why, cap, "%s is not a regular file", path);
        return -1;
    }
    return fd;
}

/* One read of path's fd past EINTR: the bytes read, 0 at the end, or -1
 * with fd closed and why. */
static ssize_t s_read(int fd, char *buf, size_t n, const char *path, char *why, size_t cap)
{
    for (;;) {
        ssize_t r = read(fd, buf, n);
        if (r >= 0) return r;
        if (errno == EINTR) continue;
        int e = errno;
        close(fd);
        anchor_why(why, cap, "cannot read %s: %s", path, strerror(e));
        return -1;
    }
}

bool anchor_segment_scan(const char *path, struct anchor_segment *seg, char *why, size_t cap)
{
    memset(seg, 0, sizeof *seg);
    seg->path = path;
    const char *slash = strrchr(path, '/');
    seg->name = slash ? slash + 1 : path;
    struct stat st;
    int fd = s_open_regular(path, &st, why, cap);
    if (fd < 0) return false;
    seg->mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    crypto_hash_sha256_state sh;
    crypto_hash_sha256_init(&sh);
    static char buf[1 << 16];
    struct head first = {0}, prev = {0}, cur = {0};
    bool have_first = false;
    long long lines = 0;
    ssize_t r;
    while ((r = s_read(fd, buf, sizeof buf, path, why, cap)) > 0) {
        crypto_hash_sha256_update(&sh, (const unsigned char *)buf, (unsigned long long)r);
        const char *p = buf, *end = buf + r, *nl;
        while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
            s_keep(&cur, p, (size_t)(nl - p));
            cur.any = true;
            lines++;
            if (!have_first) {
                first = cur;
                have_first = true;
            }
            prev = cur;
            cur.n = 0;
            cur.any = false;
            p = nl + 1;
        }
        s_keep(&cur, p, (size_t)(end - p));
    }
    if (r < 0) return false;
    close(fd);
    if (cur.any) { /* a last line without a newline */
        lines++;
        if (!have_first) {
            first = cur;
            have_first = true;
        }
        prev = cur;
    }
    unsigned char h[32];
    crypto_hash_sha256_final(&sh, h);
    sodium_bin2hex(seg->sha256, sizeof seg->sha256, h, sizeof h);
    seg->entries = lines;
    time_t t0, t1, m = st.st_mtim.tv_sec;
    if (!have_first || !anchor_line_time(first.b, first.n, &t0) ||
        !anchor_line_time(prev.b, prev.n, &t1) || t0 > t1)
        t0 = t1 = m;
    anchor_format_time(t0, seg->first_at);
    anchor_format_time(t1, seg->last_at);
    return true;
}

bool anchor_files_sha256(const char *const *paths, size_t n, char out[65], char *why, size_t cap)
{
    crypto_hash_sha256_state sh;
    crypto_hash_sha256_init(&sh);
    static char buf[1 << 16];
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        int fd = s_open_regular(paths[i], &st, why, cap);
        if (fd < 0) return false;
        ssize_t r;
        while ((r = s_read(fd, buf, sizeof buf, paths[i], why, cap)) > 0)
            crypto_hash_sha256_update(&sh, (const unsigned char *)buf, (unsigned long long)r);
        if (r < 0) return false;
        close(fd);
    }
    unsigned char h[32];
    crypto_hash_sha256_final(&sh, h);
    sodium_bin2hex(out, 65, h, sizeof h);
    return true;
}
