/*
 * The state file of itgov-anchor (format in state.h): parsed strictly, so
 * a damaged file stops the client instead of re-anchoring from scratch
 * with a broken chain, and written atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "state.h"
#include "why.h"

#define MAGIC "itgov-anchor-state v1"

bool anchor_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > ANCHOR_NAME_MAX) return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return false;
    return true;
}

static bool s_hex64(const char *s)
{
    if (strlen(s) != 64) return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return false;
    return true;
}

void anchor_state_init(struct anchor_state *s, const char *log)
{
    memset(s, 0, sizeof *s);
    snprintf(s->log, sizeof s->log, "%s", log);
}

void anchor_state_free(struct anchor_state *s)
{
    free(s->items);
    s->items = NULL;
    s->n = s->cap = 0;
}

bool anchor_state_has(const struct anchor_state *s, const char *sha256)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->items[i].sha256, sha256) == 0) return true;
    return false;
}

void anchor_state_add(struct anchor_state *s, const char *sha256, long long seq,
                      const char *segment)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->items = realloc(s->items, s->cap * sizeof *s->items);
        if (!s->items) abort();
    }
    struct anchor_posted *p = &s->items[s->n++];
    snprintf(p->sha256, sizeof p->sha256, "%s", sha256);
    p->seq = seq;
    snprintf(p->segment, sizeof p->segment, "%s", segment);
    snprintf(s->last, sizeof s->last, "%s", sha256);
}

/* One line (without its newline) into out; false with why. */
static bool s_line(char *line, int no, struct anchor_state *out, bool *have_log, char *why,
                   size_t cap)
{
    if (no == 1) {
        if (strcmp(line, MAGIC) != 0) return anchor_why(why, cap, "line 1 is not \"" MAGIC "\"");
        return true;
    }
    if (strncmp(line, "log ", 4) == 0) {
        if (*have_log) return anchor_why(why, cap, "line %d: a second log line", no);
        if (strcmp(line + 4, out->log) != 0)
            return anchor_why(why, cap, "it is the state of another log (%.200s)", line + 4);
        *have_log = true;
        return true;
    }
    if (strncmp(line, "last ", 5) == 0) {
        if (!s_hex64(line + 5) || out->last[0])
            return anchor_why(why, cap, "line %d: a bad or second last line", no);
        snprintf(out->last, sizeof out->last, "%s", line + 5);
        return true;
    }
    if (strncmp(line, "posted ", 7) == 0) {
        char *sha = line + 7, *sp = strchr(sha, ' ');
        if (!sp)
            return anchor_why(why, cap, "line %d: a posted line needs sha256, seq, segment", no);
        *sp = '\0';
        char *seq_s = sp + 1, *sp2 = strchr(seq_s, ' ');
        if (!sp2)
            return anchor_why(why, cap, "line %d: a posted line needs sha256, seq, segment", no);
        *sp2 = '\0';
        char *end = NULL;
        errno = 0;
        long long seq = strtoll(seq_s, &end, 10);
        if (!s_hex64(sha) || errno || end == seq_s || *end || seq < 1 || seq_s[0] == '0' ||
            !anchor_name_ok(sp2 + 1))
            return anchor_why(why, cap, "line %d: a malformed posted line", no);
        if (anchor_state_has(out, sha))
            return anchor_why(why, cap, "line %d: a segment posted twice", no);
        char last[65];
        memcpy(last, out->last, sizeof last);
        anchor_state_add(out, sha, seq, sp2 + 1);
        memcpy(out->last, last, sizeof last); /* the last line says which is last */
        return true;
    }
    return anchor_why(why, cap, "line %d is not understood", no);
}

bool anchor_state_parse(const char *text, size_t len, const char *log, struct anchor_state *out,
                        char *why, size_t cap)
{
    anchor_state_init(out, log);
    if (memchr(text, '\0', len)) return anchor_why(why, cap, "it holds a NUL byte");
    if (len == 0 || text[len - 1] != '\n')
        return anchor_why(why, cap, "it does not end with a newline");
    char *copy = malloc(len + 1);
    if (!copy) abort();
    memcpy(copy, text, len);
    copy[len] = '\0';
    bool ok = true, have_log = false;
    int no = 0;
    for (char *line = copy, *nl; ok && (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = '\0';
        ok = s_line(line, ++no, out, &have_log, why, cap);
    }
    free(copy);
    if (ok && !have_log) ok = anchor_why(why, cap, "it has no log line");
    if (ok && out->n > 0 && !out->last[0])
        ok = anchor_why(why, cap, "segments were posted but no last line says which is last");
    if (ok && out->last[0] && !anchor_state_has(out, out->last))
        ok = anchor_why(why, cap, "the last sha256 is not among the posted segments");
    if (!ok) anchor_state_free(out);
    return ok;
}

char *anchor_state_format(const struct anchor_state *s)
{
    size_t cap = 128 + strlen(s->log) + s->n * (64 + 24 + ANCHOR_NAME_MAX + 16);
    char *out = malloc(cap);
    if (!out) abort();
    size_t len = (size_t)snprintf(out, cap, MAGIC "\nlog %s\n", s->log);
    if (s->last[0]) len += (size_t)snprintf(out + len, cap - len, "last %s\n", s->last);
    for (size_t i = 0; i < s->n; i++)
        len += (size_t)snprintf(out + len, cap - len, "posted %s %lld %s\n", s->items[i].sha256,
                                s->items[i].seq, s->items[i].segment);
    return out;
}

bool anchor_state_load(const char *path, const char *log, struct anchor_state *out, char *why,
                       size_t cap)
{
    anchor_state_init(out, log);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return true;
        return anchor_why(why, cap, "cannot read the state file %s: %s", path, strerror(errno));
    }
    size_t len = 0, size = 4096, n;
    char *buf = malloc(size);
    if (!buf) abort();
    bool big = false;
    while ((n = fread(buf + len, 1, size - len, f)) > 0) {
        len += n;
        if (len == size) {
            if (size >= (64u << 20)) {
                big = true;
                break;
            }
            buf = realloc(buf, size *= 2);
            if (!buf) abort();
        }
    }
    bool err = ferror(f);
    fclose(f);
    bool ok;
    char inner[300];
    if (err || big)
        ok = anchor_why(why, cap, "cannot read the state file %s (an error, or over 64 MiB)", path);
    else if (!(ok = anchor_state_parse(buf, len, log, out, inner, sizeof inner)))
        anchor_why(why, cap, "the state file %s is damaged: %s", path, inner);
    free(buf);
    return ok;
}

bool anchor_state_save(const char *path, const struct anchor_state *s, char *why, size_t cap)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32), *dir = strdup(path);
    if (!tmp || !dir) abort();
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    char *text = anchor_state_format(s);
    size_t len = strlen(text);
    bool ok = false;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        anchor_why(why, cap, "cannot write the state file %s: %s", tmp, strerror(errno));
        goto done;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
    if (off != len || fsync(fd) != 0) {
        anchor_why(why, cap, "cannot write the state file %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto done;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        anchor_why(why, cap, "cannot replace the state file %s: %s", path, strerror(errno));
        unlink(tmp);
        goto done;
    }
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd); /* the rename itself durable */
        close(dfd);
    }
    ok = true;
done:
    free(text);
    free(tmp);
    free(dir);
    return ok;
}
