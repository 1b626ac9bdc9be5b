/* Every kind × step × variant × action × role × outcome of the case rules, written out. */
#include <string.h>
#include "../../../shared/tests/check.h"
#include "../src/case_kinds.h"
#include "itgov/session.h"

struct allowed {
    const char *kind, *step, *action;
    unsigned roles;
    const char *input, *meeting, *next_step, *outcome;
    const char *variant;     /* NULL: every variant (and none) */
    const char *set_variant; /* what the case's variant becomes, NULL: unchanged */
};

#define IT  ROLE_IT_OFFICE
#define SEC ROLE_SECRETARY
#define EXP ROLE_EXPERT

static const struct allowed s_allowed[] = {
    {"initiation", "review", "invite_expert", IT, NULL, NULL, NULL, NULL, NULL, NULL},
    {"initiation", "review", "opinion", IT | EXP, NULL, NULL, NULL, NULL, NULL, NULL},
    {"initiation", "review", "review", IT, "pass", NULL, "decision", NULL, NULL, NULL},
    {"initiation", "review", "review", IT, "return", NULL, "closed", "returned", NULL, NULL},
    {"initiation", "review", "review", IT, "reject", NULL, "closed", "rejected", NULL, NULL},
    {"initiation", "decision", "decision", SEC, "approve", "minister_office", "closed", "approved",
     NULL, NULL},
    {"initiation", "decision", "decision", SEC, "approve", "joint_meeting", "closed", "approved",
     NULL, NULL},
    {"initiation", "decision", "decision", SEC, "reject", "minister_office", "closed", "rejected",
     NULL, NULL},
    {"initiation", "decision", "decision", SEC, "reject", "joint_meeting", "closed", "rejected",
     NULL, NULL},
    {"plan", "decision", "decision", SEC, "approve", "joint_meeting", "closed", "approved", NULL,
     NULL},
    {"plan", "decision", "decision", SEC, "reject", "joint_meeting", "closed", "rejected", NULL,
     NULL},
    {"contract", "review", "review", IT, "pass", NULL, "closed", "approved", NULL, NULL},
    {"contract", "review", "review", IT, "reject", NULL, "closed", "rejected", NULL, NULL},
    {"acceptance", "review", "invite_expert", IT, NULL, NULL, NULL, NULL, NULL, NULL},
    {"acceptance", "review", "opinion", IT | EXP, NULL, NULL, NULL, NULL, NULL, NULL},
    {"acceptance", "review", "review", IT, "pass", NULL, "closed", "approved", NULL, NULL},
    {"acceptance", "review", "review", IT, "return", NULL, "closed", "returned", NULL, NULL},
    /* issue 11 G: change, by its level */
    {"change", "review", "review", IT, "pass", NULL, "closed", "approved", "general", NULL},
    {"change", "review", "review", IT, "pass", NULL, "decision", NULL, "major", NULL},
    {"change", "review", "review", IT, "reclassify_major", NULL, "decision", NULL, "general",
     "major"},
    {"change", "review", "review", IT, "reject", NULL, "closed", "rejected", NULL, NULL},
    {"change", "decision", "decision", SEC, "approve", "minister_office", "closed", "approved",
     "major", NULL},
    {"change", "decision", "decision", SEC, "approve", "joint_meeting", "closed", "approved",
     "major", NULL},
    {"change", "decision", "decision", SEC, "reject", "minister_office", "closed", "rejected",
     "major", NULL},
    {"change", "decision", "decision", SEC, "reject", "joint_meeting", "closed", "rejected",
     "major", NULL},
    /* issue 12 B: escalation, by its variant, decided by either meeting */
    {"escalation", "decision", "decision", SEC, "continue", "minister_office", "closed",
     "continued", "rectification", NULL},
    {"escalation", "decision", "decision", SEC, "continue", "joint_meeting", "closed", "continued",
     "rectification", NULL},
    {"escalation", "decision", "decision", SEC, "suspend", "minister_office", "closed", "suspended",
     "rectification", NULL},
    {"escalation", "decision", "decision", SEC, "suspend", "joint_meeting", "closed", "suspended",
     "rectification", NULL},
    {"escalation", "decision", "decision", SEC, "terminate", "minister_office", "closed",
     "terminated", "rectification", NULL},
    {"escalation", "decision", "decision", SEC, "terminate", "joint_meeting", "closed",
     "terminated", "rectification", NULL},
    {"escalation", "decision", "decision", SEC, "resume", "minister_office", "closed", "resumed",
     "resume", NULL},
    {"escalation", "decision", "decision", SEC, "resume", "joint_meeting", "closed", "resumed",
     "resume", NULL},
    {"escalation", "decision", "decision", SEC, "reject", "minister_office", "closed", "rejected",
     "resume", NULL},
    {"escalation", "decision", "decision", SEC, "reject", "joint_meeting", "closed", "rejected",
     "resume", NULL},
    {"escalation", "decision", "decision", SEC, "terminate", "minister_office", "closed",
     "terminated", "resume", NULL},
    {"escalation", "decision", "decision", SEC, "terminate", "joint_meeting", "closed",
     "terminated", "resume", NULL},
};

static const char *const s_kinds[] = {"initiation", "plan",       "contract", "acceptance",
                                      "change",     "escalation", NULL};
static const char *const s_steps[] = {"review", "decision", "closed", NULL};
static const char *const s_actions[] = {"invite_expert", "opinion", "review", "decision", NULL};
static const unsigned s_roles[] = {ROLE_ADMIN,  ROLE_IT_OFFICE, ROLE_APPLICANT,
                                   ROLE_EXPERT, ROLE_SECRETARY, ROLE_AUDITOR};
static const char *const s_inputs[] = {
    "",         "pass",    "return", "reject",    "approve", "reclassify_major",
    "continue", "suspend", "resume", "terminate", "bogus",   NULL};
static const char *const s_variants[] = {"", "general", "major", "rectification", "resume", NULL};
static const char *const s_meetings[] = {"", "minister_office", "joint_meeting", NULL};

static const char *s_null(const char *s)
{
    return s && *s ? s : NULL;
}

static bool s_same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static const struct allowed *s_find(const char *kind, const char *step, const char *variant,
                                    const char *action, unsigned role, const char *input,
                                    const char *meeting)
{
    for (size_t i = 0; i < sizeof s_allowed / sizeof s_allowed[0]; i++) {
        const struct allowed *a = &s_allowed[i];
        if (s_same(a->kind, kind) && s_same(a->step, step) && s_same(a->action, action) &&
            (a->roles & role) && s_same(a->input, input) &&
            (!a->meeting || s_same(a->meeting, meeting)) &&
            (!a->variant || s_same(a->variant, variant)))
            return a;
    }
    return NULL;
}

int main(void)
{
    int allowed_seen = 0;
    for (const char *const *k = s_kinds; *k; k++)
        for (const char *const *s = s_steps; *s; s++)
            for (const char *const *va = s_variants; *va; va++)
                for (const char *const *a = s_actions; *a; a++)
                    for (size_t r = 0; r < sizeof s_roles / sizeof s_roles[0]; r++)
                        for (const char *const *in = s_inputs; *in; in++)
                            for (const char *const *m = s_meetings; *m; m++) {
                                const char *input = s_null(*in), *meeting = s_null(*m);
                                const char *variant = s_null(*va);
                                const struct allowed *want =
                                    s_find(*k, *s, variant, *a, s_roles[r], input, meeting);
                                const struct case_rule *rule = NULL;
                                enum case_verdict v = case_decide(*k, *s, variant, *a, input,
                                                                  meeting, s_roles[r], &rule);
                                if (want) {
                                    allowed_seen++;
                                    CHECK(v == CASE_OK);
                                    if (v != CASE_OK) {
                                        fprintf(stderr, "  refused: %s %s %s %s %s %s\n", *k, *s,
                                                *va, *a, *in, *m);
                                        continue;
                                    }
                                    CHECK(s_same(rule->next_step, want->next_step));
                                    CHECK(s_same(rule->outcome, want->outcome));
                                    CHECK(s_same(rule->set_variant, want->set_variant));
                                    CHECK(rule->event &&
                                          strncmp(rule->event, "itgov.approval.", 15) == 0);
                                } else {
                                    CHECK(v != CASE_OK);
                                    if (v == CASE_OK)
                                        fprintf(stderr, "  allowed: %s %s %s %s %u %s %s\n", *k, *s,
                                                *va, *a, s_roles[r], *in, *m);
                                }
                            }
    /* opinion allows two roles, unmeetinged actions ignore the meeting (3 values); the kinds
     * without variants take any of the 5 variant values alike */
    CHECK(allowed_seen == 5 * ((1 * 3) + (2 * 3) + (3 * 3) + 4 + 2 /* initiation, plan */
                               + (2 * 3)                           /* contract */
                               + (1 * 3) + (2 * 3) + (2 * 3))      /* acceptance */
                              + (3 * 3)   /* change: pass, pass, reclassify, one variant each */
                              + (3 * 5)   /* change: reject, in every variant */
                              + (2 * 2)   /* change: decision on a major one, 2 meetings */
                              + (6 * 2)); /* escalation: 3 outcomes per variant, 2 meetings */

    /* the refusal order: 403 before 400 before 409 */
    const struct case_rule *rule;
    CHECK(case_decide("initiation", "closed", NULL, "review", "bogus", NULL, ROLE_APPLICANT,
                      &rule) == CASE_FORBIDDEN);
    CHECK(case_decide("initiation", "closed", NULL, "review", "bogus", NULL, ROLE_IT_OFFICE,
                      &rule) == CASE_BAD_INPUT);
    CHECK(case_decide("initiation", "closed", NULL, "review", "pass", NULL, ROLE_IT_OFFICE,
                      &rule) == CASE_INVALID_STATE);
    CHECK(case_decide("initiation", "decision", NULL, "review", "pass", NULL, ROLE_IT_OFFICE,
                      &rule) == CASE_INVALID_STATE);
    CHECK(case_decide("plan", "decision", NULL, "decision", "approve", "minister_office",
                      ROLE_SECRETARY, &rule) == CASE_BAD_MEETING);
    CHECK(case_decide("plan", "closed", NULL, "decision", "approve", "joint_meeting",
                      ROLE_SECRETARY, &rule) == CASE_INVALID_STATE);
    CHECK(case_decide("plan", "decision", NULL, "review", "pass", NULL, ROLE_IT_OFFICE, &rule) ==
          CASE_INVALID_STATE); /* plans have no review step: the action does not exist here */
    CHECK(case_decide("plan", "decision", NULL, "review", "pass", NULL, ROLE_APPLICANT, &rule) ==
          CASE_FORBIDDEN);
    CHECK(case_decide("nosuch", "review", NULL, "review", "pass", NULL, ROLE_IT_OFFICE, &rule) ==
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
    CHECK(case_decide("contract", "review", NULL, "decision", "approve", "joint_meeting",
                      ROLE_SECRETARY, &rule) == CASE_INVALID_STATE); /* contracts have no meeting */
    CHECK(case_decide("acceptance", "review", NULL, "review", "reject", NULL, ROLE_IT_OFFICE,
                      &rule) == CASE_BAD_INPUT); /* acceptance passes or returns */
    for (size_t i = 0; i < case_nkinds; i++)
        CHECK(case_step_known(case_kinds[i].kind, case_kinds[i].first_step));
    CHECK(case_step_known("initiation", "closed"));
    CHECK(case_step_known("change", "decision"));
    CHECK(!case_step_known("plan", "review"));

    const char *in[8];
    CHECK(case_inputs("initiation", "review", in, 8) == 3);
    CHECK_STR(in[0], "pass");
    CHECK(in[3] == NULL);
    CHECK(case_inputs("plan", "decision", in, 8) == 2);
    CHECK(case_inputs("initiation", "opinion", in, 8) == 0 && in[0] == NULL);

    /* issue 11 G: a change's level decides what its review does */
    CHECK(case_kind_opened_by("itgov.change.submitted") == case_kind_find("change"));
    CHECK_STR(case_kind_find("change")->variant_field, "level");
    CHECK(case_kind_find("initiation")->variant_field == NULL);
    CHECK(case_inputs("change", "review", in, 8) == 3); /* pass, reclassify_major, reject */
    CHECK(case_decide("change", "review", "general", "review", "pass", NULL, ROLE_IT_OFFICE,
                      &rule) == CASE_OK &&
          s_same(rule->next_step, "closed") && s_same(rule->outcome, "approved"));
    CHECK(case_decide("change", "review", "major", "review", "pass", NULL, ROLE_IT_OFFICE, &rule) ==
              CASE_OK &&
          s_same(rule->next_step, "decision") && rule->outcome == NULL);
    CHECK(case_decide("change", "review", "general", "review", "reclassify_major", NULL,
                      ROLE_IT_OFFICE, &rule) == CASE_OK &&
          s_same(rule->set_variant, "major") && s_same(rule->next_step, "decision"));
    /* a major change cannot be reclassified, nor decided at review, nor a general one met on */
    CHECK(case_decide("change", "review", "major", "review", "reclassify_major", NULL,
                      ROLE_IT_OFFICE, &rule) == CASE_INVALID_STATE);
    CHECK(case_decide("change", "decision", "general", "decision", "approve", "joint_meeting",
                      ROLE_SECRETARY, &rule) == CASE_INVALID_STATE);
    CHECK(case_decide("change", "review", "major", "decision", "approve", "joint_meeting",
                      ROLE_SECRETARY, &rule) == CASE_INVALID_STATE);
    /* the refusal order holds with variants: 403, then 400, then 409 */
    CHECK(case_decide("change", "closed", "major", "review", "reclassify_major", NULL,
                      ROLE_APPLICANT, &rule) == CASE_FORBIDDEN);
    CHECK(case_decide("change", "closed", "major", "review", "return", NULL, ROLE_IT_OFFICE,
                      &rule) == CASE_BAD_INPUT);
    CHECK(case_decide("change", "closed", "major", "review", "reclassify_major", NULL,
                      ROLE_IT_OFFICE, &rule) == CASE_INVALID_STATE);
    CHECK(case_decide("change", "decision", "major", "decision", "approve", "bogus", ROLE_SECRETARY,
                      &rule) == CASE_BAD_MEETING);
    CHECK(case_decide("contract", "review", "major", "review", "reclassify_major", NULL,
                      ROLE_IT_OFFICE, &rule) == CASE_BAD_INPUT); /* only changes reclassify */
    CHECK(case_variant_known("change", "general") && case_variant_known("change", "major"));
    CHECK(!case_variant_known("change", "minor"));
    CHECK(case_variant_known("change", NULL) && !case_variant_known("nosuch", NULL));
    CHECK(!case_variant_known("initiation", "major"));

    /* issue 12 B: escalation, opened by two events, each of its own variant, at decision */
    const struct case_kind *esc_r = case_kind_opened_by("itgov.rectification.overdue");
    const struct case_kind *esc_p = case_kind_opened_by("itgov.project.resume_requested");
    CHECK(esc_r && esc_p && esc_r != esc_p);
    CHECK(case_kind_find("escalation") == esc_r);
    CHECK_STR(esc_r->kind, "escalation");
    CHECK_STR(esc_p->kind, "escalation");
    CHECK_STR(esc_r->first_step, "decision");
    CHECK_STR(esc_p->first_step, "decision");
    CHECK(case_variant_known("escalation", "rectification") &&
          case_variant_known("escalation", "resume"));
    CHECK(!case_variant_known("escalation", "major"));
    /* every kind opened by several events starts at the same step */
    for (size_t i = 0; i < case_nkinds; i++)
        CHECK_STR(case_kinds[i].first_step, case_kind_find(case_kinds[i].kind)->first_step);
    CHECK(case_inputs("escalation", "decision", in, 8) == 5);
    /* an outcome of the other variant: known to the kind (not 400) but not here (409) */
    CHECK(case_decide("escalation", "decision", "rectification", "decision", "resume",
                      "joint_meeting", ROLE_SECRETARY, &rule) == CASE_INVALID_STATE);
    CHECK(case_decide("escalation", "decision", "resume", "decision", "suspend", "joint_meeting",
                      ROLE_SECRETARY, &rule) == CASE_INVALID_STATE);
    CHECK(case_decide("escalation", "decision", "resume", "decision", "continue", "minister_office",
                      ROLE_SECRETARY, &rule) == CASE_INVALID_STATE);
    CHECK(case_decide("escalation", "decision", "rectification", "decision", "approve",
                      "joint_meeting", ROLE_SECRETARY, &rule) == CASE_BAD_INPUT);
    CHECK(case_decide("escalation", "decision", "rectification", "decision", "suspend",
                      "joint_meeting", ROLE_IT_OFFICE, &rule) == CASE_FORBIDDEN);
    CHECK(case_decide("escalation", "decision", "rectification", "decision", "suspend", "bogus",
                      ROLE_SECRETARY, &rule) == CASE_BAD_MEETING);
    CHECK(case_decide("escalation", "closed", "rectification", "decision", "suspend",
                      "joint_meeting", ROLE_SECRETARY, &rule) == CASE_INVALID_STATE);
    CHECK(case_decide("escalation", "decision", "rectification", "review", "pass", NULL,
                      ROLE_IT_OFFICE, &rule) == CASE_INVALID_STATE); /* no review step */
    CHECK(case_decide("escalation", "decision", "rectification", "invite_expert", NULL, NULL,
                      ROLE_IT_OFFICE, &rule) == CASE_INVALID_STATE);

    /* the subject: the event's own, or projects/{data.project_id} for an overdue rectification */
    cJSON *d = cJSON_Parse("{\"id\": 7, \"project_id\": 42, \"department_id\": 3, "
                           "\"status\": \"overdue\", \"level\": \"major\"}");
    char subj[64];
    CHECK(case_open_subject(esc_r, "rectifications/7", d, subj, sizeof subj));
    CHECK_STR(subj, "projects/42");
    CHECK(case_open_subject(esc_p, "projects/42", d, subj, sizeof subj));
    CHECK_STR(subj, "projects/42");
    CHECK(!case_open_subject(esc_p, "rectifications/7", d, subj, sizeof subj));
    CHECK(!case_open_subject(case_kind_find("change"), "projects/42", d, subj, sizeof subj));
    CHECK(!case_open_subject(case_kind_find("change"), NULL, d, subj, sizeof subj));
    CHECK(!case_open_subject(esc_r, "rectifications/7", d, subj, 8)); /* too long */
    cJSON *bad = cJSON_Parse("{\"project_id\": \"42\"}");
    CHECK(!case_open_subject(esc_r, "rectifications/7", bad, subj, sizeof subj));
    cJSON_Delete(bad);
    bad = cJSON_Parse("{\"project_id\": 4.5}");
    CHECK(!case_open_subject(esc_r, "rectifications/7", bad, subj, sizeof subj));
    cJSON_Delete(bad);
    bad = cJSON_Parse("{\"project_id\": 0}");
    CHECK(!case_open_subject(esc_r, "rectifications/7", bad, subj, sizeof subj));
    cJSON_Delete(bad);
    CHECK(!case_open_subject(esc_r, "rectifications/7", NULL, subj, sizeof subj));

    /* the variant: fixed by the event, or from the data field naming it (if the kind knows it) */
    CHECK_STR(case_open_variant(esc_r, d), "rectification");
    CHECK_STR(case_open_variant(esc_p, d), "resume");
    CHECK_STR(case_open_variant(case_kind_find("change"), d), "major");
    CHECK(case_open_variant(case_kind_find("initiation"), d) == NULL);
    cJSON *minor = cJSON_Parse("{\"level\": \"minor\"}");
    CHECK(case_open_variant(case_kind_find("change"), minor) == NULL);
    cJSON_Delete(minor);

    /* what the case keeps: the rectification's id; a resume request's id and reason */
    CHECK(case_open_data(case_kind_find("initiation"), d) == NULL);
    cJSON *kept = case_open_data(esc_r, d);
    char *text = cJSON_PrintUnformatted(kept);
    CHECK_STR(text, "{\"rectification_id\":7}");
    cJSON_free(text);
    cJSON_Delete(kept);
    cJSON *rq = cJSON_Parse("{\"project_id\": 42, \"resume_request_id\": 3, "
                            "\"reason\": \"fixed\", \"submission\": 2}");
    kept = case_open_data(esc_p, rq);
    text = cJSON_PrintUnformatted(kept);
    CHECK_STR(text, "{\"resume_request_id\":3,\"reason\":\"fixed\"}");
    cJSON_free(text);
    cJSON_Delete(kept);
    kept = case_open_data(esc_p, d); /* the event lacks both: an empty object */
    text = cJSON_PrintUnformatted(kept);
    CHECK_STR(text, "{}");
    cJSON_free(text);
    cJSON_Delete(kept);
    cJSON_Delete(rq);
    cJSON_Delete(d);
    return check_done();
}
