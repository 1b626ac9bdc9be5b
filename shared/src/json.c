/*
 * Request bodies: strict parsing (one value, valid UTF-8) and field
 * validation that names every bad field at once.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/json.h"

/* ---- what cJSON does not check ------------------------------------------- */

/* cJSON decodes \u0000 into a NUL byte, so a C string ends there: "admin\u0000x"
 * would read as "admin". s_nul_tokens() finds, in text cJSON has accepted, the
 * ordinals of the string tokens (keys and string values, in document order)
 * that hold an escaped NUL; s_walk() then visits the tree in the same order to
 * name them, and checks every object for a key given twice. */

/* Appends to *hits the ordinal of each string token holding \u0000. */
static size_t s_nul_tokens(const char *buf, size_t len, size_t *hits, size_t max)
{
    size_t n = 0, ordinal = 0;
    bool in_string = false, has_nul = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (!in_string) {
            if (c == '"') in_string = true, has_nul = false;
        } else if (c == '\\') {
            if (buf[i + 1] == 'u' && i + 5 < len && memcmp(buf + i + 2, "0000", 4) == 0)
                has_nul = true;
            i += buf[i + 1] == 'u' ? 5 : 1;
        } else if (c == '"') {
            if (has_nul && n < max) hits[n++] = ordinal;
            ordinal++;
            in_string = false;
        }
    }
    return n;
}

struct walk {
    const size_t *hits; /* ordinals of strings with a NUL, ascending */
    size_t nhits, next;
    size_t ordinal; /* of the next string token */
    struct error *nul, *dup;
    char path[512];
};

static int s_cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The field name of the member or element being visited: "a.b[2].c". */
static size_t s_push(struct walk *w, size_t len, const cJSON *item, int index)
{
    size_t cap = sizeof w->path;
    if (len >= cap - 1) return len;
    int n = item->string ? snprintf(w->path + len, cap - len, "%s%s", len ? "." : "", item->string)
                         : snprintf(w->path + len, cap - len, "[%d]", index);
    size_t end = len + (size_t)n;
    return end < cap ? end : cap - 1;
}

static void s_string_token(struct walk *w)
{
    if (w->next < w->nhits && w->hits[w->next] == w->ordinal) {
        if (!w->nul) w->nul = error_new(ERR_VALIDATION, "some fields are missing or invalid");
        error_add_field(w->nul, w->path, "must not contain a NUL character (\\u0000)");
        w->next++;
    }
    w->ordinal++;
}

static void s_walk(struct walk *w, const cJSON *item, size_t len)
{
    if (cJSON_IsString(item)) return s_string_token(w);
    if (!cJSON_IsObject(item) && !cJSON_IsArray(item)) return;
    int index = 0, count = 0;
    for (const cJSON *m = item->child; m; m = m->next, index++) {
        count++;
        size_t end = s_push(w, len, m, index);
        w->path[end] = '\0';
        if (m->string) s_string_token(w); /* the key comes before its value */
        s_walk(w, m, end);
        w->path[len] = '\0';
    }
    if (!cJSON_IsObject(item) || count < 2) return;
    const char **keys = malloc((size_t)count * sizeof *keys);
    if (!keys) abort();
    int k = 0;
    for (const cJSON *m = item->child; m; m = m->next)
        keys[k++] = m->string;
    qsort(keys, (size_t)count, sizeof *keys, s_cmp_keys);
    for (int i = 1; i < count; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0 && (i < 2 || strcmp(keys[i - 2], keys[i]) != 0)) {
            if (!w->dup)
                w->dup = error_new(ERR_INVALID_JSON, "an object in the request body repeats a key");
            char field[sizeof w->path + 64];
            snprintf(field, sizeof field, "%s%s%s", w->path, len ? "." : "", keys[i]);
            error_add_field(w->dup, field, "appears more than once in one object");
        }
    free(keys);
}

/* NUL in a string or key → validation_failed naming each; else a repeated
 * key → invalid_json; else NULL. */
static struct error *s_check_tree(const cJSON *root, const char *buf, size_t len)
{
    struct walk w = {0};
    size_t hits[64];
    if (memmem(buf, len, "\\u0000", 6)) {
        w.hits = hits;
        w.nhits = s_nul_tokens(buf, len, hits, sizeof hits / sizeof hits[0]);
    }
    s_walk(&w, root, 0);
    if (w.nul) {
        error_destroy(&w.dup);
        return w.nul;
    }
    return w.dup;
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
    *err = s_check_tree(j, buf, len);
    if (*err) cJSON_Delete(j);
    return *err ? NULL : j;
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
    /* range first: casting a double outside long long's range is undefined */
    double d = cJSON_IsNumber(v) ? v->valuedouble : 0;
    bool ok = cJSON_IsNumber(v) && d >= -0x1p63 && d < 0x1p63;
    long long n = ok ? (long long)d : 0;
    if (!ok || (double)n != d || n < min || n > max) {
        char msg[96];
        snprintf(msg, sizeof msg, "must be an integer from %lld to %lld", min, max);
        fields_fail(f, name, msg);
        return false;
    }
    *out = n;
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

const char *fields_date(struct fields *f, const char *name, int flags)
{
    const cJSON *v = s_get(f, name, flags);
    if (!v) return NULL;
    if (!cJSON_IsString(v) || !text_is_date(v->valuestring)) {
        char msg[96];
        snprintf(msg, sizeof msg, "must be a date YYYY-MM-DD from %d-01-01 to %d-12-31",
                 TEXT_YEAR_MIN, TEXT_YEAR_MAX);
        fields_fail(f, name, msg);
        return NULL;
    }
    return v->valuestring;
}

const char *fields_instant(struct fields *f, const char *name, int flags)
{
    const cJSON *v = s_get(f, name, flags);
    if (!v) return NULL;
    if (!cJSON_IsString(v) || !text_is_instant(v->valuestring)) {
        fields_fail(f, name, "must be an RFC 3339 instant such as 2026-11-30T08:00:00Z");
        return NULL;
    }
    return v->valuestring;
}

static bool s_is_uri(const char *s)
{
    size_t n = strlen(s), i = 0;
    if (n > 2000 || !isalpha((unsigned char)s[0])) return false;
    while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    if (s[i] != ':' || s[i + 1] == '\0') return false;
    for (; s[i]; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f) return false;
    return true;
}

const char *fields_uri(struct fields *f, const char *name, int flags)
{
    const cJSON *v = s_get(f, name, flags);
    if (!v) return NULL;
    if (!cJSON_IsString(v) || !s_is_uri(v->valuestring)) {
        fields_fail(f, name,
                    "must be an absolute URI (such as https://... or urn:...) of at most 2000 "
                    "characters, without spaces");
        return NULL;
    }
    return v->valuestring;
}

const char *fields_sha256(struct fields *f, const char *name, int flags)
{
    const cJSON *v = s_get(f, name, flags);
    if (!v) return NULL;
    bool ok = cJSON_IsString(v) && strlen(v->valuestring) == 64;
    for (const char *c = ok ? v->valuestring : ""; *c; c++)
        ok = ok && ((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'));
    if (!ok) {
        fields_fail(f, name, "must be a SHA-256 digest: 64 lower-case hex digits");
        return NULL;
    }
    return v->valuestring;
}

cJSON *fields_each(struct fields *f, const char *name, const cJSON *arr,
                   cJSON *(*read)(struct fields *g, const cJSON *item, void *ctx), void *ctx)
{
    if (!arr) return NULL;
    cJSON *out = cJSON_CreateArray();
    bool ok = true;
    int i = 0;
    char at[512]; /* error_add_field cuts a long name at a character */
    for (const cJSON *it = arr->child; it; it = it->next, i++) {
        if (!cJSON_IsObject(it)) {
            snprintf(at, sizeof at, "%s[%d]", name, i);
            fields_fail(f, at, "must be an object");
            ok = false;
            continue;
        }
        struct fields g;
        fields_init(&g, it);
        cJSON *kept = read(&g, it, ctx);
        struct error *e = fields_done(&g);
        if (!e && kept) {
            cJSON_AddItemToArray(out, kept);
            continue;
        }
        cJSON_Delete(kept);
        ok = false;
        for (const cJSON *fe = e && e->fields ? e->fields->child : NULL; fe; fe = fe->next) {
            const cJSON *fld = cJSON_GetObjectItem(fe, "field");
            const cJSON *msg = cJSON_GetObjectItem(fe, "message");
            snprintf(at, sizeof at, "%s[%d].%s", name, i,
                     cJSON_IsString(fld) ? fld->valuestring : "");
            fields_fail(f, at, cJSON_IsString(msg) ? msg->valuestring : "is invalid");
        }
        error_destroy(&e);
    }
    if (ok) return out;
    cJSON_Delete(out);
    return NULL;
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
