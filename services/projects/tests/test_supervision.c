/* The rules of supervision: the states a project is supervised in, and what
 * a rectification order's status lets happen. */
#include <string.h>
#include "../../../shared/tests/check.h"
#include "../src/supervision.h"

int main(void)
{
    static const char *const yes[] = {"approved", "implementing", "acceptance_review",
                                      "accepted", "in_operation", "suspended",
                                      NULL};
    static const char *const no[] = {
        "draft",    "under_review", "returned", "awaiting_decision", "rejected", "terminated", "",
        "Approved", "approved ",    NULL};
    char sql[256] = "{";
    for (const char *const *s = yes; *s; s++) {
        CHECK(supervised_state(*s));
        strcat(sql, *s);
        strcat(sql, s[1] ? "," : "}");
    }
    /* the SQL guard names exactly the same states, in the same order */
    CHECK(strcmp(sql, supervised_states_sql) == 0);
    for (const char *const *s = no; *s; s++)
        CHECK(!supervised_state(*s));
    CHECK(!supervised_state(NULL));

    /* status × awaiting verification → respond?, verify? */
    static const struct {
        const char *status;
        bool awaiting, respond, verify;
    } rows[] = {
        {"open", false, true, false},       {"responded", true, false, true},
        {"overdue", false, true, false},    {"overdue", true, false, true},
        {"closed", false, false, false},    {"open", true, false, false},
        {"responded", false, false, false}, {"bogus", false, false, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        CHECK(rectification_can_respond(rows[i].status, rows[i].awaiting) == rows[i].respond);
        CHECK(rectification_can_verify(rows[i].status, rows[i].awaiting) == rows[i].verify);
    }
    CHECK(!rectification_can_respond(NULL, false) && !rectification_can_verify(NULL, true));
    return check_done();
}
