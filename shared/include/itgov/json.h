/*
 * JSON input: parsing a request body (exactly one JSON value, valid UTF-8)
 * and reading its fields with validation that collects every bad field into
 * one validation_failed error instead of stopping at the first.
 */
#ifndef ITGOV_JSON_H
#define ITGOV_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "itgov/error.h"
#include "itgov/text.h"

/* Parses exactly one JSON value. On failure returns NULL and sets *err:
 * invalid_json for anything that is not one well-formed value in UTF-8, or
 * for an object that repeats a key (a proxy that keeps the last one would see
 * another request than the service does); validation_failed naming the field
 * when a string or a key holds a NUL (\u0000), which C strings would cut. */
cJSON *json_parse(const char *buf, size_t len, struct error **err);

/* Field reader: every getter records a field error and returns a neutral
 * value when the field is missing (and required) or malformed. */
struct fields {
    const cJSON *obj;
    struct error *err; /* NULL while every field is fine */
};

enum { F_OPTIONAL = 0, F_REQUIRED = 1 };

void fields_init(struct fields *f, const cJSON *body);
void fields_fail(struct fields *f, const char *field, const char *message);
bool fields_has(const struct fields *f, const char *name);
/* A string of 1..max characters (after trimming nothing); NULL if absent/bad. */
const char *fields_str(struct fields *f, const char *name, int flags, size_t min, size_t max);
/* One of allowed (NULL-terminated); NULL if absent/bad. */
const char *fields_enum(struct fields *f, const char *name, int flags, const char *const *allowed);
/* An integer in [min,max]; returns false if absent/bad (*out untouched). */
bool fields_int(struct fields *f, const char *name, int flags, long long min, long long max,
                long long *out);
bool fields_bool(struct fields *f, const char *name, int flags, bool *out);
/* An array (of any length); NULL if absent/bad. */
const cJSON *fields_array(struct fields *f, const char *name, int flags);
/* A YYYY-MM-DD calendar date (text_is_date: 1900..2200); NULL if absent/bad. */
const char *fields_date(struct fields *f, const char *name, int flags);
/* An RFC 3339 instant (text_is_instant); NULL if absent/bad. */
const char *fields_instant(struct fields *f, const char *name, int flags);
/* An absolute URI of at most 2000 characters: a scheme (letter, then
 * letters, digits, '+', '-', '.'), ':', then something, and no whitespace or
 * control character; NULL if absent/bad. */
const char *fields_uri(struct fields *f, const char *name, int flags);
/* A SHA-256 digest as 64 lower-case hex digits; NULL if absent/bad. */
const char *fields_sha256(struct fields *f, const char *name, int flags);
/* Reads an array of objects (arr: a member read with fields_array; NULL
 * gives NULL). For each item, read(g, item, ctx) reads the item's members
 * with g, a reader of that object, and returns the item as it will be kept
 * (a new cJSON, or NULL when g holds errors). Every bad member of an item is
 * named <name>[i].<member> in f, an item that is not an object <name>[i].
 * Returns the array of kept items (caller owns it), or NULL when the array
 * or any item was bad. */
cJSON *fields_each(struct fields *f, const char *name, const cJSON *arr,
                   cJSON *(*read)(struct fields *g, const cJSON *item, void *ctx), void *ctx);
/* Rejects members not in known (NULL-terminated). */
void fields_only(struct fields *f, const char *const *known);
/* Returns the collected error (caller owns it) or NULL. */
struct error *fields_done(struct fields *f);

/* Appends "\"s\"" as a JSON string literal; returns a malloc'd literal. */
char *json_quote(const char *s);

#endif
