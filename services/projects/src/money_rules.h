/*
 * The gates of asset registration, payments and go-live (articles 12-13)
 * as pure functions (no I/O), so each rule has a table-driven unit test
 * (tests/test_money_rules.c): the handlers ask them what is missing and
 * reply 409 with the gate's code and that list.
 */
#ifndef MONEY_RULES_H
#define MONEY_RULES_H

#include <stdbool.h>
#include <cjson/cJSON.h>

/* Whether a project in state may have its asset registered (accepted or
 * in operation) — and, the same rule, whether it counts as accepted for a
 * payment. */
bool money_accepted(const char *state);

/* The payment gate: "acceptance" (the project is not accepted yet),
 * "asset" (none registered), "approved_contract" (the contract is not
 * approved), in that order. Caller owns the array; empty when none. */
cJSON *payment_missing(const char *project_state, bool has_asset, const char *contract_state);

/* What go-live was given: each of its body fields present (not null) and
 * test_passed's value. */
struct golive_given {
    bool deployment_plan_uri, emergency_plan_uri, test_environment_report_uri;
    bool test_passed; /* present and true */
    bool planned_at;
};
/* The go-live gate: each body field absent or null, and test_passed when it
 * is not true, in the body's order. Caller owns the array; empty when none. */
cJSON *golive_missing(const struct golive_given *g);

/* Whether amount more fits on a contract of amount_cents with paid_cents
 * paid; *remaining gets what is left. */
bool payment_fits(long long amount_cents, long long paid_cents, long long amount,
                  long long *remaining);

#endif
