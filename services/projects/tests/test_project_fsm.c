/* Every state × action of the project, plan and contract machines, written out. */
#include <string.h>
#include "../../../shared/tests/check.h"
#include "../src/project_fsm.h"

struct expect {
    const char *state, *action, *to; /* to NULL: refused (409 invalid_state) */
};

static const char *const s_project_actions[] = {"edit",
                                                "submit",
                                                "review_pass",
                                                "review_return",
                                                "review_reject",
                                                "decide_approve",
                                                "decide_reject",
                                                "plan",
                                                "request_acceptance",
                                                "acceptance_pass",
                                                "acceptance_return",
                                                "go_live",
                                                "suspend",
                                                "resume",
                                                "terminate",
                                                NULL};
static const char *const s_plan_actions[] = {"edit", "submit", "decide_approve", "decide_reject",
                                             NULL};
static const char *const s_contract_actions[] = {"review_pass", "review_reject", NULL};
static const char *const s_change_actions[] = {
    "review_pass_general", "review_pass_major", "reclassify", "review_reject",
    "decide_approve",      "decide_reject",     "implement",  NULL};

/* Only the allowed pairs are listed; every other pair must be refused. */
static const struct expect s_project_allowed[] = {
    {"draft", "edit", "draft"},
    {"draft", "submit", "under_review"},
    {"returned", "edit", "returned"},
    {"returned", "submit", "under_review"},
    {"under_review", "review_pass", "awaiting_decision"},
    {"under_review", "review_return", "returned"},
    {"under_review", "review_reject", "rejected"},
    {"awaiting_decision", "decide_approve", "approved"},
    {"awaiting_decision", "decide_reject", "rejected"},
    {"approved", "plan", "implementing"},
    {"implementing", "plan", "implementing"},
    {"implementing", "request_acceptance", "acceptance_review"},
    {"acceptance_review", "acceptance_pass", "accepted"},
    {"acceptance_review", "acceptance_return", "implementing"},
    {"accepted", "go_live", "in_operation"},
    /* issue 12 B: suspension, resume, termination */
    {"approved", "suspend", "suspended"},
    {"implementing", "suspend", "suspended"},
    {"acceptance_review", "suspend", "suspended"},
    {"accepted", "suspend", "suspended"},
    {"in_operation", "suspend", "suspended"},
    {"suspended", "resume", FSM_SUSPENDED_FROM},
    {"approved", "terminate", "terminated"},
    {"implementing", "terminate", "terminated"},
    {"acceptance_review", "terminate", "terminated"},
    {"accepted", "terminate", "terminated"},
    {"in_operation", "terminate", "terminated"},
    {"suspended", "terminate", "terminated"},
};
static const struct expect s_plan_allowed[] = {
    {"draft", "edit", "draft"},
    {"draft", "submit", "under_review"},
    {"under_review", "decide_approve", "approved"},
    {"under_review", "decide_reject", "rejected"},
};
static const struct expect s_contract_allowed[] = {
    {"pending_review", "review_pass", "approved"},
    {"pending_review", "review_reject", "rejected"},
};

static const struct expect s_change_allowed[] = {
    {"pending", "review_pass_general", "approved"},
    {"pending", "review_pass_major", "awaiting_decision"},
    {"pending", "reclassify", "awaiting_decision"},
    {"pending", "review_reject", "rejected"},
    {"awaiting_decision", "decide_approve", "approved"},
    {"awaiting_decision", "decide_reject", "rejected"},
    {"approved", "implement", "implemented"},
};

static const char *s_expected(const struct expect *allowed, size_t n, const char *state,
                              const char *action)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(allowed[i].state, state) == 0 && strcmp(allowed[i].action, action) == 0)
            return allowed[i].to;
    return NULL;
}

static void s_check_machine(const struct fsm *m, const char *const *actions,
                            const struct expect *allowed, size_t n, int nstates)
{
    int states = 0;
    for (const char *const *s = m->states; *s; s++, states++)
        for (const char *const *a = actions; *a; a++) {
            const char *want = s_expected(allowed, n, *s, *a);
            const struct fsm_transition *t = fsm_next(m, *s, *a);
            if (want) {
                CHECK(t != NULL);
                if (t) {
                    CHECK_STR(t->to, want);
                    CHECK(strncmp(t->event, "itgov.", 6) == 0);
                    CHECK(fsm_has_state(m, t->to) || strcmp(t->to, FSM_SUSPENDED_FROM) == 0);
                }
            } else {
                CHECK(t == NULL);
                if (t) fprintf(stderr, "  %s %s unexpectedly allowed\n", *s, *a);
            }
        }
    CHECK(states == nstates);
    for (const char *const *a = actions; *a; a++)
        CHECK(fsm_has_action(m, *a));
    CHECK(!fsm_has_action(m, "fly"));
    CHECK(!fsm_has_state(m, "flying"));
    CHECK(fsm_next(m, "nowhere", "submit") == NULL);
    CHECK(fsm_next(m, NULL, "submit") == NULL);
}

int main(void)
{
    s_check_machine(&project_fsm, s_project_actions, s_project_allowed,
                    sizeof s_project_allowed / sizeof s_project_allowed[0], 12);
    s_check_machine(&plan_fsm, s_plan_actions, s_plan_allowed,
                    sizeof s_plan_allowed / sizeof s_plan_allowed[0], 4);
    s_check_machine(&contract_fsm, s_contract_actions, s_contract_allowed,
                    sizeof s_contract_allowed / sizeof s_contract_allowed[0], 3);
    s_check_machine(&change_fsm, s_change_actions, s_change_allowed,
                    sizeof s_change_allowed / sizeof s_change_allowed[0], 5);

    char from[128], to[128];
    const char *ev = NULL;
    CHECK(fsm_action_sql(&project_fsm, "submit", from, sizeof from, to, sizeof to, &ev));
    CHECK_STR(from, "{draft,returned}");
    CHECK_STR(to, "{under_review,under_review}");
    CHECK_STR(ev, "itgov.project.submitted");
    CHECK(fsm_action_sql(&project_fsm, "decide_approve", from, sizeof from, to, sizeof to, &ev));
    CHECK_STR(from, "{awaiting_decision}");
    CHECK_STR(to, "{approved}");
    CHECK_STR(ev, "itgov.project.approved");
    CHECK(!fsm_action_sql(&project_fsm, "fly", from, sizeof from, to, sizeof to, &ev));
    /* a change is approved by a general review or by the meeting, never by a major review */
    CHECK(fsm_action_sql(&change_fsm, "decide_approve", from, sizeof from, to, sizeof to, &ev));
    CHECK_STR(from, "{awaiting_decision}");
    CHECK_STR(ev, "itgov.change.approved");
    CHECK_STR(fsm_next(&change_fsm, "pending", "review_pass_major")->to, "awaiting_decision");
    CHECK(fsm_next(&change_fsm, "pending", "implement") == NULL);
    CHECK(fsm_next(&change_fsm, "awaiting_decision", "implement") == NULL);
    /* issue 12 B: suspended from any state from approval on, back to it, or terminated */
    CHECK(fsm_action_sql(&project_fsm, "suspend", from, sizeof from, to, sizeof to, &ev));
    CHECK_STR(from, "{approved,implementing,acceptance_review,accepted,in_operation}");
    CHECK_STR(to, "{suspended,suspended,suspended,suspended,suspended}");
    CHECK_STR(ev, "itgov.project.suspended");
    CHECK(fsm_action_sql(&project_fsm, "resume", from, sizeof from, to, sizeof to, &ev));
    CHECK_STR(from, "{suspended}");
    CHECK_STR(to, "{" FSM_SUSPENDED_FROM "}");
    CHECK_STR(ev, "itgov.project.resumed");
    CHECK(fsm_action_sql(&project_fsm, "terminate", from, sizeof from, to, sizeof to, &ev));
    CHECK_STR(from, "{approved,implementing,acceptance_review,accepted,in_operation,suspended}");
    CHECK_STR(ev, "itgov.project.terminated");
    CHECK(!fsm_has_state(&project_fsm, FSM_SUSPENDED_FROM));
    /* suspending a suspended project, and anything on a terminated one, is refused */
    CHECK(fsm_next(&project_fsm, "suspended", "suspend") == NULL);
    const char *const *all = s_project_actions;
    for (const char *const *a = all; *a; a++)
        CHECK(fsm_next(&project_fsm, "terminated", *a) == NULL);
    for (const char *const *a = all; *a; a++)
        if (strcmp(*a, "resume") != 0 && strcmp(*a, "terminate") != 0)
            CHECK(fsm_next(&project_fsm, "suspended", *a) == NULL);
    char tiny[8];
    CHECK(!fsm_action_sql(&project_fsm, "submit", tiny, sizeof tiny, to, sizeof to, &ev));
    return check_done();
}
