/* The fee rules: every shape of a period, payer unit names and lists. */
#include <stdlib.h>
#include <string.h>
#include "../../../shared/tests/check.h"
#include "../src/fee_rules.h"

static void s_periods(void)
{
    int y = 0, m = 0;
    CHECK(fee_period_parse("2026-01", &y, &m) && y == 2026 && m == 1);
    CHECK(fee_period_parse("2026-12", &y, &m) && y == 2026 && m == 12);
    CHECK(fee_period_parse("1900-01", NULL, NULL));
    CHECK(fee_period_parse("2200-12", NULL, NULL));
    static const char *const bad[] = {
        "",         "2026",     "2026-",      "2026-1",  "2026-00", "2026-13", "2026-99",
        "1899-12",  "2201-01",  "2026-01-01", "26-01",   "2026/01", "2026-1a", "２０２６-01",
        " 2026-01", "2026-01 ", "+026-01",    "-026-01", "2026--1", "2026-+1", "abcd-ef",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        y = m = -1;
        CHECK(!fee_period_parse(bad[i], &y, &m));
        CHECK(y == -1 && m == -1); /* untouched on failure */
    }
    CHECK(!fee_period_parse(NULL, &y, &m));
}

static void s_unit_names(void)
{
    CHECK(fee_payer_unit_problem("财务处") == NULL);
    CHECK(fee_payer_unit_problem("a") == NULL);
    CHECK(fee_payer_unit_problem("") != NULL);
    CHECK(fee_payer_unit_problem("   ") != NULL);
    CHECK(fee_payer_unit_problem("a\tb") != NULL);
    CHECK(fee_payer_unit_problem("a\x7f") != NULL);
    char name[1024];
    memset(name, 'x', 200);
    name[200] = '\0';
    CHECK(fee_payer_unit_problem(name) == NULL);
    name[200] = 'x';
    name[201] = '\0';
    CHECK(fee_payer_unit_problem(name) != NULL);
    /* 200 characters of three bytes each is fine: characters, not bytes */
    name[0] = '\0';
    for (int i = 0; i < 200; i++)
        strcat(name, "处");
    CHECK(fee_payer_unit_problem(name) == NULL);
    strcat(name, "处");
    CHECK(fee_payer_unit_problem(name) != NULL);
}

/* The field names of the error f collected, comma-separated. */
static void s_fields_of(struct fields *f, char *out, size_t size)
{
    out[0] = '\0';
    struct error *e = fields_done(f);
    if (!e) return;
    for (const cJSON *fe = e->fields ? e->fields->child : NULL; fe; fe = fe->next) {
        const cJSON *name = cJSON_GetObjectItem(fe, "field");
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", used ? "," : "", name->valuestring);
    }
    error_destroy(&e);
}

static void s_unit_lists(void)
{
    struct fields f;
    char names[512];
    cJSON *ok = cJSON_Parse("[\"财务处\",\"后勤处\"]");
    fields_init(&f, ok);
    char *text = fee_payer_units(&f, ok);
    CHECK_STR(text, "[\"财务处\",\"后勤处\"]");
    s_fields_of(&f, names, sizeof names);
    CHECK_STR(names, "");
    free(text);
    cJSON_Delete(ok);

    cJSON *bad = cJSON_Parse("[\"a\",\"b\",\"a\",7,\"\",\"b\"]");
    fields_init(&f, bad);
    CHECK(fee_payer_units(&f, bad) == NULL);
    s_fields_of(&f, names, sizeof names);
    CHECK_STR(names, "payer_units[2],payer_units[3],payer_units[4],payer_units[5]");
    cJSON_Delete(bad);

    cJSON *empty = cJSON_CreateArray();
    fields_init(&f, empty);
    CHECK(fee_payer_units(&f, empty) == NULL);
    s_fields_of(&f, names, sizeof names);
    CHECK_STR(names, "payer_units");

    for (int i = 0; i < 101; i++) {
        char n[16];
        snprintf(n, sizeof n, "unit %d", i);
        cJSON_AddItemToArray(empty, cJSON_CreateString(n));
    }
    fields_init(&f, empty);
    CHECK(fee_payer_units(&f, empty) == NULL);
    s_fields_of(&f, names, sizeof names);
    CHECK_STR(names, "payer_units");
    cJSON_DeleteItemFromArray(empty, 100); /* 100 distinct: fine */
    fields_init(&f, empty);
    text = fee_payer_units(&f, empty);
    CHECK(text != NULL);
    free(text);
    s_fields_of(&f, names, sizeof names);
    CHECK_STR(names, "");
    cJSON_Delete(empty);

    fields_init(&f, NULL);
    CHECK(fee_payer_units(&f, NULL) == NULL); /* absent: nothing recorded here */
    s_fields_of(&f, names, sizeof names);
    CHECK_STR(names, "");
}

int main(void)
{
    s_periods();
    s_unit_names();
    s_unit_lists();
    return check_done();
}
