/*
 * Configuration from ITGOV_* environment variables, described as one table
 * of rows (name, type, target, default, bounds). Loading checks every row
 * and reports every bad value before the process gives up, so an operator
 * fixes them in one go.
 */
#ifndef ITGOV_CONFIG_H
#define ITGOV_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum config_type { CFG_STR, CFG_INT };

struct config_row {
    const char *name; /* environment variable */
    enum config_type type;
    void *target;    /* const char ** or long * */
    const char *def; /* default as text; NULL = required */
    long min, max;   /* bounds for CFG_INT */
};

/* Fills every target; on any bad or missing value prints one line per
 * problem to stderr and returns false. */
bool config_load(const struct config_row *rows, size_t n);
/* Parses a decimal integer in [min,max]; false on anything else. */
bool config_parse_long(const char *s, long min, long max, long *out);

#endif
