/*
 * Request bodies: strict parsing (one value, valid UTF-8) and field
 * validation that names every bad field at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/json.h"

bool utf8_valid(const char *buf, size_t len)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1, min = 0x80, c &= 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, min = 0x800, c &= 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, min = 0x10000, c &= 0x07;
        } else {
            return false;
        }
        if (i + n >= len) return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            c = (c << 6) | (s[i + k] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return false;
        i += n + 1;
    }
    return true;
}

cJSON *json_parse(const char *buf, size_t len, struct error **err)
{
    if (len == 0) {
        *err = error_new(ERR_INVALID_JSON, "the request body is empty; a JSON value is required");
        return NULL;
    }
    if (memchr(buf, '\0', len) || !utf8_valid(buf, len)) {
        *err = error_new(ERR_INVALID_JSON, "the request body is not valid UTF-8");
        return NULL;
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(buf, len, &end, false);
    if (j && end) {
        while (end < buf + len && strchr(" \t\r\n", *end))
            end++;
        if (end != buf + len) {
            cJSON_Delete(j);
            *err = error_new(ERR_INVALID_JSON, "the request body holds more than one JSON value");
            return NULL;
        }
    }
    if (!j) {
        *err = error_new(ERR_INVALID_JSON, "the request body is not valid JSON");
        return NULL;
    }
    return j;
}

void fields_init(struct fields *f, const cJSON *body)
{
    f->obj = body;
    f->err = NULL;
    if (!cJSON_IsObject(body)) fields_fail(f, "", "must be a JSON object");
}

void fields_fail(struct fields *f, const char *field, const char *message)
{
    if (!f->err) f->err = error_new(ERR_VALIDATION, "some fields are missing or invalid");
    error_add_field(f->err, field, message);
}

bool fields_has(const struct fields *f, const char *name)
{
    return cJSON_IsObject(f->obj) && cJSON_GetObjectItemCaseSensitive(f->obj, name) &&
           !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(f->obj, name));
}

/* The member, or NULL; records "is required" when it must be there. */
static const cJSON *s_get(struct fields *f, const char *name, int flags)
{
    const cJSON *v = cJSON_IsObject(f->obj) ? cJSON_GetObjectItemCaseSensitive(f->obj, name) : NULL;
    if (v && cJSON_IsNull(v)) v = NULL;
    if (!v && (flags & F_REQUIRED) && cJSON_IsObject(f->obj)) fields_fail(f, name, "is required");
    return v;
}

/* Number of UTF-8 characters (the body was validated as UTF-8). */
static size_t s_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80) n++;
    return n;
}

const char *fields_str(struct fields *f, const char *name, int flags, size_t min, size_t max)
{
    const cJSON *v = s_get(f, name, flags);
    if (!v) return NULL;
    if (!cJSON_IsString(v)) {
        fields_fail(f, name, "must be a string");
        return NULL;
    }
    size_t n = s_chars(v->valuestring);
    char msg[96];
    if (n < min || n > max) {
        if (min > 0 && n == 0)
            snprintf(msg, sizeof msg, "must not be empty");
        else
            snprintf(msg, sizeof msg, "must be %zu to %zu characters long", min, max);
        fields_fail(f, name, msg);
        return NULL;
    }
    return v->valuestring;
}

const char *fields_enum(struct fields *f, const char *name, int flags, const char *const *allowed)
{
    const cJSON *v = s_get(f, name, flags);
    if (!v) return NULL;
    if (cJSON_IsString(v))
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, v->valuestring) == 0) return *a;
    char msg[200] = "must be one of:";
    for (const char *const *a = allowed; *a; a++) {
        size_t used = strlen(msg);
        snprintf(msg + used, sizeof msg - used, "%s %s", a == allowed ? "" : ",", *a);
    }
    fields_fail(f, name, msg);
    return NULL;
}

bool fields_int(struct fields *f, const char *name, int flags, long long min, long long max,
                long long *out)
{
    const cJSON *v = s_get(f, name, flags);
    if (!v) return false;
    double d = cJSON_IsNumber(v) ? v->valuedouble : 0;
    if (!cJSON_IsNumber(v) || d != (double)(long long)d || d < (double)min || d > (double)max) {
        char msg[96];
        snprintf(msg, sizeof msg, "must be an integer from %lld to %lld", min, max);
        fields_fail(f, name, msg);
        return false;
    }
    *out = (long long)d;
    return true;
}

bool fields_bool(struct fields *f, const char *name, int flags, bool *out)
{
    const cJSON *v = s_get(f, name, flags);
    if (!v) return false;
    if (!cJSON_IsBool(v)) {
        fields_fail(f, name, "must be true or false");
        return false;
    }
    *out = cJSON_IsTrue(v);
    return true;
}

const cJSON *fields_array(struct fields *f, const char *name, int flags)
{
    const cJSON *v = s_get(f, name, flags);
    if (!v) return NULL;
    if (!cJSON_IsArray(v)) {
        fields_fail(f, name, "must be an array");
        return NULL;
    }
    return v;
}

static bool s_is_date(const char *s)
{
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) return false;
    if (s[4] != '-' || s[7] != '-' || m < 1 || m > 12 || d < 1) return false;
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[m - 1] && !(m == 2 && d == 29 && !leap);
}

const char *fields_date(struct fields *f, const char *name, int flags)
{
    const cJSON *v = s_get(f, name, flags);
    if (!v) return NULL;
    if (!cJSON_IsString(v) || !s_is_date(v->valuestring)) {
        fields_fail(f, name, "must be a date YYYY-MM-DD");
        return NULL;
    }
    return v->valuestring;
}

void fields_only(struct fields *f, const char *const *known)
{
    if (!cJSON_IsObject(f->obj)) return;
    for (const cJSON *m = f->obj->child; m; m = m->next) {
        const char *const *k = known;
        while (*k && strcmp(*k, m->string) != 0)
            k++;
        if (!*k) fields_fail(f, m->string, "is not a known field");
    }
}

struct error *fields_done(struct fields *f)
{
    struct error *e = f->err;
    f->err = NULL;
    return e;
}

char *json_quote(const char *s)
{
    cJSON *str = cJSON_CreateString(s);
    char *out = cJSON_PrintUnformatted(str);
    cJSON_Delete(str);
    return out;
}
