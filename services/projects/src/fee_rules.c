/* The pure rules of maintenance fees: periods and payer units (fee_rules.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/text.h"
#include "fee_rules.h"

bool fee_period_parse(const char *s, int *year, int *month)
{
    if (!s || strlen(s) != 7 || s[4] != '-') return false;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (s[i] < '0' || s[i] > '9')) return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    if (y < TEXT_YEAR_MIN || y > TEXT_YEAR_MAX || m < 1 || m > 12) return false;
    if (year) *year = y;
    if (month) *month = m;
    return true;
}

const char *fee_payer_unit_problem(const char *name)
{
    size_t chars = 0;
    bool blank = true;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if ((*p & 0xC0) != 0x80) chars++;
        if (*p < 0x20 || *p == 0x7F) return "must not hold control characters";
        if (*p != ' ') blank = false;
    }
    if (chars == 0 || blank) return "must not be empty";
    if (chars > FEE_MAX_PAYER_UNIT_LEN) return "must be 1 to 200 characters long";
    return NULL;
}

char *fee_payer_units(struct fields *f, const cJSON *arr)
{
    if (!arr) return NULL;
    int n = cJSON_GetArraySize(arr);
    if (n < 1 || n > FEE_MAX_PAYER_UNITS) {
        fields_fail(f, "payer_units", "must name 1 to 100 payer units");
        return NULL;
    }
    bool ok = true;
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        char name[32];
        snprintf(name, sizeof name, "payer_units[%d]", i++);
        const char *bad = NULL;
        if (!cJSON_IsString(it)) {
            bad = "must be a string";
        } else {
            bad = fee_payer_unit_problem(it->valuestring);
            for (const cJSON *prev = arr->child; !bad && prev != it; prev = prev->next)
                if (cJSON_IsString(prev) && strcmp(prev->valuestring, it->valuestring) == 0)
                    bad = "is named twice";
        }
        if (bad) {
            fields_fail(f, name, bad);
            ok = false;
        }
    }
    return ok ? cJSON_PrintUnformatted(arr) : NULL;
}
