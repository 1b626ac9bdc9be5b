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
