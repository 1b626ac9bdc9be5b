/*
 * Text rules every input obeys, wherever it arrives (a JSON body, a query
 * string, a path segment): well-formed UTF-8, integers in one canonical
 * decimal form, calendar dates and instants that exist and lie in a sane
 * range. They are checked here, before anything reaches the database, so no
 * client ever sees PostgreSQL's own complaint about a value.
 */
#ifndef ITGOV_TEXT_H
#define ITGOV_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Dates and instants lie in these years unless a field says otherwise. */
#define TEXT_YEAR_MIN 1900
#define TEXT_YEAR_MAX 2200

/* True when buf[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *buf, size_t len);

/* An integer in [min, max] written canonically: an optional '-' (only for a
 * negative value), then digits without leading zeros ("0" itself is fine), and
 * nothing else (no '+', no spaces). "01", "1abc", "+1", " 1" and
 * 99999999999999999999 are refused; *out is set only on success. */
bool text_to_int(const char *s, long long min, long long max, long long *out);

/* A calendar date YYYY-MM-DD that exists, in TEXT_YEAR_MIN..TEXT_YEAR_MAX. */
bool text_is_date(const char *s);

/* An RFC 3339 instant that exists: YYYY-MM-DDTHH:MM:SS, an optional fraction
 * of 1 to 9 digits, then Z or an offset of at most ±14:59; seconds 0..59; the
 * date as text_is_date. */
bool text_is_instant(const char *s);

/* Days since 1970-01-01 of the civil date y-m-d (proleptic Gregorian). */
long long text_civil_days(long long y, int m, int d);

#endif
