/*
 * The gates of asset registration, payments and go-live: pure functions,
 * tested in tests/test_money_rules.c.
 */
#include <stddef.h>
#include <string.h>
#include "money_rules.h"

bool money_accepted(const char *state)
{
    return state && (strcmp(state, "accepted") == 0 || strcmp(state, "in_operation") == 0);
}

cJSON *payment_missing(const char *project_state, bool has_asset, const char *contract_state)
{
    cJSON *missing = cJSON_CreateArray();
    if (!money_accepted(project_state))
        cJSON_AddItemToArray(missing, cJSON_CreateString("acceptance"));
    if (!has_asset) cJSON_AddItemToArray(missing, cJSON_CreateString("asset"));
    if (!contract_state || strcmp(contract_state, "approved") != 0)
        cJSON_AddItemToArray(missing, cJSON_CreateString("approved_contract"));
    return missing;
}

cJSON *golive_missing(const struct golive_given *g)
{
    cJSON *missing = cJSON_CreateArray();
    const struct {
        bool ok;
        const char *name;
    } need[] = {
        {g->deployment_plan_uri, "deployment_plan_uri"},
        {g->emergency_plan_uri, "emergency_plan_uri"},
        {g->test_environment_report_uri, "test_environment_report_uri"},
        {g->test_passed, "test_passed"},
        {g->planned_at, "planned_at"},
    };
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!need[i].ok) cJSON_AddItemToArray(missing, cJSON_CreateString(need[i].name));
    return missing;
}

bool payment_fits(long long amount_cents, long long paid_cents, long long amount,
                  long long *remaining)
{
    long long left = amount_cents - paid_cents;
    if (left < 0) left = 0;
    if (remaining) *remaining = left;
    return amount >= 0 && amount <= left;
}
