/*
 * ITGOV_* environment variables read through a table of rows; every bad
 * value is reported before giving up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "itgov/config.h"

bool config_parse_long(const char *s, long min, long max, long *out)
{
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max) return false;
    *out = v;
    return true;
}

bool config_load(const struct config_row *rows, size_t n)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        const struct config_row *r = &rows[i];
        const char *v = getenv(r->name);
        if (!v || !*v) v = r->def;
        if (!v) {
            fprintf(stderr, "config: %s is required\n", r->name);
            ok = false;
            continue;
        }
        if (r->type == CFG_STR) {
            *(const char **)r->target = v;
        } else if (!config_parse_long(v, r->min, r->max, (long *)r->target)) {
            fprintf(stderr, "config: %s=\"%s\" must be an integer from %ld to %ld\n", r->name, v,
                    r->min, r->max);
            ok = false;
        }
    }
    return ok;
}
