#include <limits.h>
#include <stdlib.h>
#include "check.h"
#include "itgov/json.h"

static cJSON *parse_ok(const char *s)
{
    struct error *e = NULL;
    cJSON *j = json_parse(s, strlen(s), &e);
    CHECK(j != NULL && e == NULL);
    error_destroy(&e);
    return j;
}

static void parse_bad(const char *s, size_t len)
{
    struct error *e = NULL;
    cJSON *j = json_parse(s, len, &e);
    CHECK(j == NULL && e != NULL && e->code == ERR_INVALID_JSON);
    cJSON_Delete(j);
    error_destroy(&e);
}

/* The field names of a refusal, "a,b,c". */
static void refused(const char *s, enum err_code code, const char *fields)
{
    struct error *e = NULL;
    cJSON *j = json_parse(s, strlen(s), &e);
    CHECK(j == NULL && e != NULL && e->code == code);
    char got[512] = "";
    for (const cJSON *f = e && e->fields ? e->fields->child : NULL; f; f = f->next) {
        size_t n = strlen(got);
        snprintf(got + n, sizeof got - n, "%s%s", n ? "," : "",
                 cJSON_GetObjectItem(f, "field")->valuestring);
    }
    if (strcmp(got, fields) != 0) fprintf(stderr, "  %s: fields %s, want %s\n", s, got, fields);
    CHECK(strcmp(got, fields) == 0);
    cJSON_Delete(j);
    error_destroy(&e);
}

static void test_nul_and_duplicates(void)
{
    /* \u0000 anywhere in a string or a key is named */
    refused("{\"username\":\"admin\\u0000zzz\",\"password\":\"x\"}", ERR_VALIDATION, "username");
    refused("{\"title\\u0000\":\"x\"}", ERR_VALIDATION, "title");
    refused("{\"a\":{\"b\":[\"ok\",\"\\u0000\"]},\"c\":\"\\u0000\"}", ERR_VALIDATION, "a.b[1],c");
    refused("\"\\u0000\"", ERR_VALIDATION, "");
    refused("[{\"k\":1},{\"x\":\"\\u0000\"}]", ERR_VALIDATION, "[1].x");
    /* an escaped backslash before u0000 is text, not a NUL */
    cJSON_Delete(parse_ok("{\"a\":\"\\\\u0000\"}"));
    cJSON_Delete(parse_ok("{\"a\":\"\\u0001\",\"b\":\"\\\"\\u00e9\"}"));

    /* a key given twice, at any depth */
    refused("{\"kind\":\"upgrade\",\"kind\":\"bogus\"}", ERR_INVALID_JSON, "kind");
    refused("{\"a\":[{\"x\":1,\"y\":2,\"x\":3}]}", ERR_INVALID_JSON, "a[0].x");
    refused("{\"b\":1,\"a\":1,\"b\":2,\"b\":3}", ERR_INVALID_JSON, "b");
    cJSON_Delete(parse_ok("{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}"));
    /* NUL first: a cut key must not pass for a duplicate */
    refused("{\"a\\u0000\":1,\"a\":2}", ERR_VALIDATION, "a");
}

static void test_int_and_date_edges(void)
{
    cJSON *b = parse_ok("{\"big\":1e300,\"neg\":-1e300,\"edge\":9223372036854775808,"
                        "\"max\":9007199254740992,\"frac\":2.5,\"zero\":-0,"
                        "\"old\":\"0000-01-01\",\"late\":\"2201-01-01\",\"ok\":\"1900-01-01\"}");
    struct fields f;
    fields_init(&f, b);
    long long n = 42;
    CHECK(!fields_int(&f, "big", F_REQUIRED, LLONG_MIN, LLONG_MAX, &n) && n == 42);
    CHECK(!fields_int(&f, "neg", F_REQUIRED, LLONG_MIN, LLONG_MAX, &n) && n == 42);
    CHECK(!fields_int(&f, "edge", F_REQUIRED, LLONG_MIN, LLONG_MAX, &n) && n == 42);
    CHECK(fields_int(&f, "max", F_REQUIRED, 0, 1LL << 53, &n) && n == (1LL << 53));
    CHECK(!fields_int(&f, "frac", F_REQUIRED, 0, 10, &n));
    CHECK(fields_int(&f, "zero", F_REQUIRED, 0, 10, &n) && n == 0);
    CHECK(fields_date(&f, "old", F_REQUIRED) == NULL);
    CHECK(fields_date(&f, "late", F_REQUIRED) == NULL);
    CHECK_STR(fields_date(&f, "ok", F_REQUIRED), "1900-01-01");
    struct error *e = fields_done(&f);
    CHECK(e != NULL && e->nfields == 6);
    error_destroy(&e);
    cJSON_Delete(b);
}

static void test_instant_uri_sha256(void)
{
    cJSON *b = parse_ok(
        "{\"at\":\"2026-11-30T08:00:00Z\",\"bad_at\":\"2026-11-30\",\"u\":\"https://x/a?b\","
        "\"urn\":\"urn:isbn:1\",\"rel\":\"/docs/a\",\"sp\":\"https://x/a b\",\"empty\":\"s3:\","
        "\"h\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
        "\"H\":\"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\","
        "\"short\":\"abc\"}");
    struct fields f;
    fields_init(&f, b);
    CHECK_STR(fields_instant(&f, "at", F_REQUIRED), "2026-11-30T08:00:00Z");
    CHECK(fields_instant(&f, "bad_at", F_REQUIRED) == NULL);
    CHECK_STR(fields_uri(&f, "u", F_REQUIRED), "https://x/a?b");
    CHECK_STR(fields_uri(&f, "urn", F_REQUIRED), "urn:isbn:1");
    CHECK(fields_uri(&f, "rel", F_REQUIRED) == NULL);
    CHECK(fields_uri(&f, "sp", F_REQUIRED) == NULL);
    CHECK(fields_uri(&f, "empty", F_REQUIRED) == NULL);
    CHECK(fields_sha256(&f, "h", F_REQUIRED) != NULL);
    CHECK(fields_sha256(&f, "H", F_REQUIRED) == NULL);
    CHECK(fields_sha256(&f, "short", F_REQUIRED) == NULL);
    CHECK(fields_uri(&f, "absent", F_OPTIONAL) == NULL);
    struct error *e = fields_done(&f);
    CHECK(e != NULL && e->nfields == 6);
    error_destroy(&e);
    cJSON_Delete(b);
}

static cJSON *s_item(struct fields *g, const cJSON *item, void *ctx)
{
    (*(int *)ctx)++;
    const char *n = fields_str(g, "n", F_REQUIRED, 1, 10);
    static const char *const known[] = {"n", NULL};
    fields_only(g, known);
    if (g->err) return NULL;
    return cJSON_CreateString(n);
}

static void test_each(void)
{
    cJSON *b = parse_ok("{\"ok\":[{\"n\":\"a\"},{\"n\":\"b\"}],"
                        "\"bad\":[{\"n\":\"a\"},7,{\"n\":\"\",\"x\":1}]}");
    struct fields f;
    fields_init(&f, b);
    int calls = 0;
    cJSON *ok = fields_each(&f, "ok", fields_array(&f, "ok", F_REQUIRED), s_item, &calls);
    CHECK(ok && cJSON_GetArraySize(ok) == 2 && calls == 2);
    CHECK_STR(cJSON_GetArrayItem(ok, 1)->valuestring, "b");
    CHECK(f.err == NULL);
    cJSON_Delete(ok);
    CHECK(fields_each(&f, "bad", fields_array(&f, "bad", F_REQUIRED), s_item, &calls) == NULL);
    CHECK(calls == 4); /* 7 is not an object: not read */
    CHECK(fields_each(&f, "absent", NULL, s_item, &calls) == NULL);
    struct error *e = fields_done(&f);
    CHECK(e != NULL && e->nfields == 3);
    const char *want[] = {"bad[1]", "bad[2].n", "bad[2].x"};
    int i = 0;
    for (const cJSON *fe = e ? e->fields->child : NULL; fe && i < 3; fe = fe->next, i++)
        CHECK_STR(cJSON_GetObjectItem(fe, "field")->valuestring, want[i]);
    error_destroy(&e);
    cJSON_Delete(b);
}

static void test_error_cap(void)
{
    /* 95,000 unknown keys: 50 named, the detail says how many more */
    size_t cap = 95000 * 12 + 16, len = 0;
    char *body = malloc(cap);
    body[len++] = '{';
    for (int i = 0; i < 95000; i++)
        len += (size_t)snprintf(body + len, cap - len, "%s\"k%d\":1", i ? "," : "", i);
    body[len++] = '}';
    struct error *e = NULL;
    cJSON *b = json_parse(body, len, &e);
    CHECK(b != NULL);
    struct fields f;
    fields_init(&f, b);
    static const char *const known[] = {"name", NULL};
    fields_only(&f, known);
    e = fields_done(&f);
    CHECK(e != NULL && cJSON_GetArraySize(e->fields) == ERROR_MAX_FIELDS);
    cJSON *j = error_to_json(e);
    CHECK(strstr(cJSON_GetObjectItem(j, "detail")->valuestring, "94950 more") != NULL);
    cJSON_Delete(j);
    error_destroy(&e);
    cJSON_Delete(b);
    free(body);
}

int main(void)
{
    /* UTF-8 */
    CHECK(utf8_valid("plain", 5));
    CHECK(utf8_valid("节能与信息化办公室", strlen("节能与信息化办公室")));
    CHECK(!utf8_valid("\xff", 1));
    CHECK(!utf8_valid("\xc0\xaf", 2));         /* overlong */
    CHECK(!utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    CHECK(!utf8_valid("\xe8\x8a", 2));         /* truncated */
    CHECK(!utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */

    test_nul_and_duplicates();
    test_int_and_date_edges();
    test_error_cap();
    test_instant_uri_sha256();
    test_each();

    /* exactly one value */
    cJSON_Delete(parse_ok("{\"a\":1}"));
    cJSON_Delete(parse_ok("  [1,2] \n"));
    parse_bad("", 0);
    parse_bad("{\"a\":1", 6);
    parse_bad("{} {}", 5);
    parse_bad("{\"a\":\"\xff\"}", 10);
    parse_bad("{\"a\":1}\0", 8);

    /* fields: every bad field is named */
    cJSON *b = parse_ok("{\"name\":\"\",\"kind\":\"x\",\"n\":1.5,\"flag\":\"yes\",\"extra\":1,"
                        "\"d\":\"2025-02-29\",\"ok\":\"fine\",\"num\":7}");
    struct fields f;
    fields_init(&f, b);
    CHECK(fields_str(&f, "name", F_REQUIRED, 1, 10) == NULL);
    static const char *const kinds[] = {"a", "b", NULL};
    CHECK(fields_enum(&f, "kind", F_REQUIRED, kinds) == NULL);
    long long n = 0;
    CHECK(!fields_int(&f, "n", F_REQUIRED, 0, 10, &n));
    bool flag;
    CHECK(!fields_bool(&f, "flag", F_REQUIRED, &flag));
    CHECK(fields_date(&f, "d", F_REQUIRED) == NULL);
    CHECK(fields_str(&f, "missing", F_REQUIRED, 1, 10) == NULL);
    CHECK(fields_str(&f, "absent_optional", F_OPTIONAL, 1, 10) == NULL);
    CHECK_STR(fields_str(&f, "ok", F_REQUIRED, 1, 10), "fine");
    CHECK(fields_int(&f, "num", F_REQUIRED, 0, 10, &n) && n == 7);
    static const char *const known[] = {"name", "kind", "n", "flag", "d", "ok", "num", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    CHECK(e != NULL && e->code == ERR_VALIDATION);
    CHECK(cJSON_GetArraySize(e->fields) == 7); /* name kind n flag d missing extra */
    error_destroy(&e);
    cJSON_Delete(b);

    /* not an object */
    b = parse_ok("[1]");
    fields_init(&f, b);
    e = fields_done(&f);
    CHECK(e != NULL);
    error_destroy(&e);
    cJSON_Delete(b);

    /* lengths count characters, not bytes */
    b = parse_ok("{\"s\":\"节能\"}");
    fields_init(&f, b);
    CHECK(fields_str(&f, "s", F_REQUIRED, 1, 2) != NULL);
    CHECK(fields_done(&f) == NULL);
    cJSON_Delete(b);

    b = parse_ok("{\"d\":\"2024-02-29\"}");
    fields_init(&f, b);
    CHECK(fields_date(&f, "d", F_REQUIRED) != NULL);
    CHECK(fields_done(&f) == NULL);
    cJSON_Delete(b);
    return check_done();
}
