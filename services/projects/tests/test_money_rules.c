/* The gates of asset registration, payments and go-live, case by case. */
#include <stdlib.h>
#include <string.h>
#include "../../../shared/tests/check.h"
#include "../src/money_rules.h"

/* The array as "a,b,c" (for comparing with a row of the table). */
static void s_join(const cJSON *arr, char *out, size_t n)
{
    out[0] = '\0';
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (out[0]) strncat(out, ",", n - strlen(out) - 1);
        strncat(out, it->valuestring, n - strlen(out) - 1);
    }
}

static void s_states(void)
{
    static const struct {
        const char *state;
        bool accepted;
    } rows[] = {
        {"draft", false},
        {"under_review", false},
        {"returned", false},
        {"awaiting_decision", false},
        {"approved", false},
        {"rejected", false},
        {"implementing", false},
        {"acceptance_review", false},
        {"accepted", true},
        {"in_operation", true},
        {"", false},
        {NULL, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        CHECK(money_accepted(rows[i].state) == rows[i].accepted);
}

static void s_payment(void)
{
    static const struct {
        const char *state;
        bool asset;
        const char *contract, *missing;
    } rows[] = {
        {"accepted", true, "approved", ""},
        {"in_operation", true, "approved", ""},
        {"implementing", true, "approved", "acceptance"},
        {"acceptance_review", false, "approved", "acceptance,asset"},
        {"approved", false, "pending_review", "acceptance,asset,approved_contract"},
        {"accepted", false, "approved", "asset"},
        {"accepted", true, "rejected", "approved_contract"},
        {"accepted", true, NULL, "approved_contract"},
        {"in_operation", false, "pending_review", "asset,approved_contract"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cJSON *m = payment_missing(rows[i].state, rows[i].asset, rows[i].contract);
        char got[200];
        s_join(m, got, sizeof got);
        CHECK_STR(got, rows[i].missing);
        cJSON_Delete(m);
    }
}

static void s_golive(void)
{
    static const struct {
        struct golive_given g;
        const char *missing;
    } rows[] = {
        {{true, true, true, true, true}, ""},
        {{false, true, true, true, true}, "deployment_plan_uri"},
        {{true, false, true, true, true}, "emergency_plan_uri"},
        {{true, true, false, true, true}, "test_environment_report_uri"},
        {{true, true, true, false, true}, "test_passed"},
        {{true, true, true, true, false}, "planned_at"},
        {{false, false, false, false, false},
         "deployment_plan_uri,emergency_plan_uri,test_environment_report_uri,test_passed,"
         "planned_at"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cJSON *m = golive_missing(&rows[i].g);
        char got[200];
        s_join(m, got, sizeof got);
        CHECK_STR(got, rows[i].missing);
        cJSON_Delete(m);
    }
}

static void s_fits(void)
{
    static const struct {
        long long amount_cents, paid, amount;
        bool fits;
        long long remaining;
    } rows[] = {
        {1000, 0, 1000, true, 1000},
        {1000, 0, 1001, false, 1000},
        {1000, 999, 1, true, 1},
        {1000, 999, 2, false, 1},
        {1000, 1000, 1, false, 0},
        {1000000000000000LL, 0, 1000000000000000LL, true, 1000000000000000LL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        long long rem = -1;
        CHECK(payment_fits(rows[i].amount_cents, rows[i].paid, rows[i].amount, &rem) ==
              rows[i].fits);
        CHECK(rem == rows[i].remaining);
    }
}

int main(void)
{
    s_states();
    s_payment();
    s_golive();
    s_fits();
    return check_done();
}
