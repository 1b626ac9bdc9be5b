/* Every kind × step × action × role × outcome of the case rules, written out. */
#include <string.h>
#include "../../../shared/tests/check.h"
#include "../src/case_kinds.h"
#include "itgov/session.h"

struct allowed {
    const char *kind, *step, *action;
    unsigned roles;
    const char *input, *meeting, *next_step, *outcome;
};

#define IT  ROLE_IT_OFFICE
#define SEC ROLE_SECRETARY
#define EXP ROLE_EXPERT

static const struct allowed s_allowed[] = {
    {"initiation", "review", "invite_expert", IT, NULL, NULL, NULL, NULL},
    {"initiation", "review", "opinion", IT | EXP, NULL, NULL, NULL, NULL},
    {"initiation", "review", "review", IT, "pass", NULL, "decision", NULL},
    {"initiation", "review", "review", IT, "return", NULL, "closed", "returned"},
    {"initiation", "review", "review", IT, "reject", NULL, "closed", "rejected"},
    {"initiation", "decision", "decision", SEC, "approve", "minister_office", "closed", "approved"},
    {"initiation", "decision", "decision", SEC, "approve", "joint_meeting", "closed", "approved"},
    {"initiation", "decision", "decision", SEC, "reject", "minister_office", "closed", "rejected"},
    {"initiation", "decision", "decision", SEC, "reject", "joint_meeting", "closed", "rejected"},
    {"plan", "decision", "decision", SEC, "approve", "joint_meeting", "closed", "approved"},
    {"plan", "decision", "decision", SEC, "reject", "joint_meeting", "closed", "rejected"},
    {"contract", "review", "review", IT, "pass", NULL, "closed", "approved"},
    {"contract", "review", "review", IT, "reject", NULL, "closed", "rejected"},
    {"acceptance", "review", "invite_expert", IT, NULL, NULL, NULL, NULL},
    {"acceptance", "review", "opinion", IT | EXP, NULL, NULL, NULL, NULL},
    {"acceptance", "review", "review", IT, "pass", NULL, "closed", "approved"},
    {"acceptance", "review", "review", IT, "return", NULL, "closed", "returned"},
};

static const char *const s_kinds[] = {"initiation", "plan", "contract", "acceptance", NULL};
static const char *const s_steps[] = {"review", "decision", "closed", NULL};
static const char *const s_actions[] = {"invite_expert", "opinion", "review", "decision", NULL};
static const unsigned s_roles[] = {ROLE_ADMIN,  ROLE_IT_OFFICE, ROLE_APPLICANT,
                                   ROLE_EXPERT, ROLE_SECRETARY, ROLE_AUDITOR};
static const char *const s_inputs[] = {"", "pass", "return", "reject", "approve", "bogus", NULL};
static const char *const s_meetings[] = {"", "minister_office", "joint_meeting", NULL};

static const char *s_null(const char *s)
{
    return s && *s ? s : NULL;
}

static bool s_same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static const struct allowed *s_find(const char *kind, const char *step, const char *action,
                                    unsigned role, const char *input, const char *meeting)
{
    for (size_t i = 0; i < sizeof s_allowed / sizeof s_allowed[0]; i++) {
        const struct allowed *a = &s_allowed[i];
        if (s_same(a->kind, kind) && s_same(a->step, step) && s_same(a->action, action) &&
            (a->roles & role) && s_same(a->input, input) &&
            (!a->meeting || s_same(a->meeting, meeting)))
            return a;
    }
    return NULL;
}

int main(void)
{
    int allowed_seen = 0;
    for (const char *const *k = s_kinds; *k; k++)
        for (const char *const *s = s_steps; *s; s++)
            for (const char *const *a = s_actions; *a; a++)
                for (size_t r = 0; r < sizeof s_roles / sizeof s_roles[0]; r++)
                    for (const char *const *in = s_inputs; *in; in++)
                        for (const char *const *m = s_meetings; *m; m++) {
                            const char *input = s_null(*in), *meeting = s_null(*m);
                            const struct allowed *want =
                                s_find(*k, *s, *a, s_roles[r], input, meeting);
                            const struct case_rule *rule = NULL;
                            enum case_verdict v =
                                case_decide(*k, *s, *a, input, meeting, s_roles[r], &rule);
                            if (want) {
                                allowed_seen++;
                                CHECK(v == CASE_OK);
                                if (v != CASE_OK) {
                                    fprintf(stderr, "  refused: %s %s %s %s %s\n", *k, *s, *a, *in,
                                            *m);
                                    continue;
                                }
                                CHECK(s_same(rule->next_step, want->next_step));
                                CHECK(s_same(rule->outcome, want->outcome));
                                CHECK(rule->event &&
                                      strncmp(rule->event, "itgov.approval.", 15) == 0);
                            } else {
                                CHECK(v != CASE_OK);
                                if (v == CASE_OK)
                                    fprintf(stderr, "  allowed: %s %s %s %u %s %s\n", *k, *s, *a,
                                            s_roles[r], *in, *m);
                            }
                        }
    /* opinion allows two roles, unmeetinged actions ignore the meeting (3 values) */
    CHECK(allowed_seen == (1 * 3) + (2 * 3) + (3 * 3) + 4 + 2        /* initiation, plan */
                              + (2 * 3)                              /* contract */
                              + (1 * 3) + (2 * 3) + (2 * 3));        /* acceptance */

    /* the refusal order: 403 before 400 before 409 */
    const struct case_rule *rule;
    CHECK(case_decide("initiation", "closed", "review", "bogus", NULL, ROLE_APPLICANT, &rule) ==
          CASE_FORBIDDEN);
    CHECK(case_decide("initiation", "closed", "review", "bogus", NULL, ROLE_IT_OFFICE, &rule) ==
          CASE_BAD_INPUT);
    CHECK(case_decide("initiation", "closed", "review", "pass", NULL, ROLE_IT_OFFICE, &rule) ==
          CASE_INVALID_STATE);
    CHECK(case_decide("initiation", "decision", "review", "pass", NULL, ROLE_IT_OFFICE, &rule) ==
          CASE_INVALID_STATE);
    CHECK(case_decide("plan", "decision", "decision", "approve", "minister_office", ROLE_SECRETARY,
                      &rule) == CASE_BAD_MEETING);
    CHECK(case_decide("plan", "closed", "decision", "approve", "joint_meeting", ROLE_SECRETARY,
                      &rule) == CASE_INVALID_STATE);
    CHECK(case_decide("plan", "decision", "review", "pass", NULL, ROLE_IT_OFFICE, &rule) ==
          CASE_INVALID_STATE); /* plans have no review step: the action does not exist here */
    CHECK(case_decide("plan", "decision", "review", "pass", NULL, ROLE_APPLICANT, &rule) ==
          CASE_FORBIDDEN);
    CHECK(case_decide("nosuch", "review", "review", "pass", NULL, ROLE_IT_OFFICE, &rule) ==
          CASE_FORBIDDEN);

    /* kinds */
    CHECK(case_kind_find("initiation") &&
          strcmp(case_kind_find("initiation")->first_step, "review") == 0);
    CHECK(case_kind_find("plan") && strcmp(case_kind_find("plan")->first_step, "decision") == 0);
    CHECK(case_kind_find("nosuch") == NULL);
    CHECK(case_kind_opened_by("itgov.project.submitted") == case_kind_find("initiation"));
    CHECK(case_kind_opened_by("itgov.plan.submitted") == case_kind_find("plan"));
    CHECK(case_kind_opened_by("itgov.project.created") == NULL);
    CHECK(case_kind_opened_by("itgov.contract.submitted") == case_kind_find("contract"));
    CHECK(case_kind_opened_by("itgov.project.acceptance_requested") ==
          case_kind_find("acceptance"));
    CHECK(case_decide("contract", "review", "decision", "approve", "joint_meeting", ROLE_SECRETARY,
                      &rule) == CASE_INVALID_STATE); /* contracts have no meeting */
    CHECK(case_decide("acceptance", "review", "review", "reject", NULL, ROLE_IT_OFFICE, &rule) ==
          CASE_BAD_INPUT); /* acceptance passes or returns */
    for (size_t i = 0; i < case_nkinds; i++)
        CHECK(case_step_known(case_kinds[i].kind, case_kinds[i].first_step));
    CHECK(case_step_known("initiation", "closed"));
    CHECK(!case_step_known("plan", "review"));

    const char *in[8];
    CHECK(case_inputs("initiation", "review", in, 8) == 3);
    CHECK_STR(in[0], "pass");
    CHECK(in[3] == NULL);
    CHECK(case_inputs("plan", "decision", in, 8) == 2);
    CHECK(case_inputs("initiation", "opinion", in, 8) == 0 && in[0] == NULL);
    return check_done();
}
