/*
 * The pure rules of maintenance fees (fees.c, article 20): a fee's period
 * is a real month written YYYY-MM, and an agreement names 1 to 100 distinct
 * payer units. No I/O here: unit-tested by tests/test_fee_rules.c.
 */
#ifndef FEE_RULES_H
#define FEE_RULES_H

#include <stdbool.h>
#include <cjson/cJSON.h>
#include "itgov/json.h"

#define FEE_MAX_PAYER_UNITS    100
#define FEE_MAX_PAYER_UNIT_LEN 200
#define FEE_MAX_AMOUNT_CENTS   1000000000000000LL
#define FEE_MAX_RATE_BASIS_PTS 10000

/* True when s is exactly YYYY-MM: four digits of a year in
 * TEXT_YEAR_MIN..TEXT_YEAR_MAX, '-', two digits of a month 01..12, and
 * nothing else; *year and *month (either may be NULL) are set only then. */
bool fee_period_parse(const char *s, int *year, int *month);

/* A payer unit's name: 1 to FEE_MAX_PAYER_UNIT_LEN characters (UTF-8 code
 * points; the text is valid UTF-8 already), not blank, no control
 * character. NULL when fine, else what is wrong (a static message). */
const char *fee_payer_unit_problem(const char *name);

/* Checks arr (the payer_units field, NULL when absent or not an array:
 * nothing to add) and returns the units as a JSON array text (caller frees),
 * or NULL with every bad entry recorded in f as payer_units or
 * payer_units[i]: not 1..FEE_MAX_PAYER_UNITS entries, not a string, a bad
 * name, or a name given twice. */
char *fee_payer_units(struct fields *f, const cJSON *arr);

#endif
