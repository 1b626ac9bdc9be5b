/*
 * The kinds of approval case and their rules. To add a kind, add its row to
 * case_kinds[] and its steps to case_rules[] (and to the unit test).
 */
#include <stdio.h>
#include <string.h>
#include "case_kinds.h"
#include "itgov/session.h"

#define EV_INVITED    "itgov.approval.expert.invited"
#define EV_OPINION    "itgov.approval.opinion.recorded"
#define EV_REVIEW     "itgov.approval.review.recorded"
#define EV_DECISION   "itgov.approval.decision.recorded"
#define BOTH_MEETINGS "minister_office,joint_meeting"

/* issue 12 B: what an escalation keeps of the event that opened it */
static const struct case_field s_keep_rectification[] = {{"rectification_id", "id"}, {NULL, NULL}};
static const struct case_field s_keep_resume[] = {
    {"resume_request_id", "resume_request_id"}, {"reason", "reason"}, {NULL, NULL}};

/* kind, opened by, subject prefix, first step, variant field, variant, subject field, keep */
const struct case_kind case_kinds[] = {
    {"initiation", "itgov.project.submitted", "projects/", "review", NULL, NULL, NULL, NULL},
    {"plan", "itgov.plan.submitted", "plans/", "decision", NULL, NULL, NULL, NULL},
    {"contract", "itgov.contract.submitted", "contracts/", "review", NULL, NULL, NULL, NULL},
    {"acceptance", "itgov.project.acceptance_requested", "projects/", "review", NULL, NULL, NULL,
     NULL},
    /* issue 11 G: change */
    {"change", "itgov.change.submitted", "changes/", "review", "level", NULL, NULL, NULL},
    /* issue 12 B: escalation (article 22), about the project: an overdue rectification's
     * (subject rectifications/{rid}; the case names it) or the IT office's resume request */
    {"escalation", "itgov.rectification.overdue", "projects/", "decision", NULL, "rectification",
     "project_id", s_keep_rectification},
    {"escalation", "itgov.project.resume_requested", "projects/", "decision", NULL, "resume", NULL,
     s_keep_resume},
};
const size_t case_nkinds = sizeof case_kinds / sizeof case_kinds[0];

/* kind, step, action, roles, input, next step, outcome, meetings, event, variant, set variant */
const struct case_rule case_rules[] = {
    /* project initiation (articles 7): IT office review with experts, then a meeting */
    {"initiation", "review", "invite_expert", ROLE_IT_OFFICE, NULL, NULL, NULL, NULL, EV_INVITED,
     NULL, NULL},
    {"initiation", "review", "opinion", ROLE_EXPERT | ROLE_IT_OFFICE, NULL, NULL, NULL, NULL,
     EV_OPINION, NULL, NULL},
    {"initiation", "review", "review", ROLE_IT_OFFICE, "pass", "decision", NULL, NULL, EV_REVIEW,
     NULL, NULL},
    {"initiation", "review", "review", ROLE_IT_OFFICE, "return", CASE_CLOSED, "returned", NULL,
     EV_REVIEW, NULL, NULL},
    {"initiation", "review", "review", ROLE_IT_OFFICE, "reject", CASE_CLOSED, "rejected", NULL,
     EV_REVIEW, NULL, NULL},
    {"initiation", "decision", "decision", ROLE_SECRETARY, "approve", CASE_CLOSED, "approved",
     BOTH_MEETINGS, EV_DECISION, NULL, NULL},
    {"initiation", "decision", "decision", ROLE_SECRETARY, "reject", CASE_CLOSED, "rejected",
     BOTH_MEETINGS, EV_DECISION, NULL, NULL},
    /* the yearly IT plan (articles 4-6): the joint meeting decides */
    {"plan", "decision", "decision", ROLE_SECRETARY, "approve", CASE_CLOSED, "approved",
     "joint_meeting", EV_DECISION, NULL, NULL},
    {"plan", "decision", "decision", ROLE_SECRETARY, "reject", CASE_CLOSED, "rejected",
     "joint_meeting", EV_DECISION, NULL, NULL},
    /* a contract (articles 8-9): the IT office reviews it */
    {"contract", "review", "review", ROLE_IT_OFFICE, "pass", CASE_CLOSED, "approved", NULL,
     EV_REVIEW, NULL, NULL},
    {"contract", "review", "review", ROLE_IT_OFFICE, "reject", CASE_CLOSED, "rejected", NULL,
     EV_REVIEW, NULL, NULL},
    /* acceptance (article 12): the IT office, with experts it invites, accepts or returns */
    {"acceptance", "review", "invite_expert", ROLE_IT_OFFICE, NULL, NULL, NULL, NULL, EV_INVITED,
     NULL, NULL},
    {"acceptance", "review", "opinion", ROLE_EXPERT | ROLE_IT_OFFICE, NULL, NULL, NULL, NULL,
     EV_OPINION, NULL, NULL},
    {"acceptance", "review", "review", ROLE_IT_OFFICE, "pass", CASE_CLOSED, "approved", NULL,
     EV_REVIEW, NULL, NULL},
    {"acceptance", "review", "review", ROLE_IT_OFFICE, "return", CASE_CLOSED, "returned", NULL,
     EV_REVIEW, NULL, NULL},
    /* issue 11 G: a change to a system in operation (article 15), by its level. General: the
     * IT office's review approves it. Major: the review passes it on, and a meeting (the
     * minister's office or the joint meeting, as for a project) approves it. The IT office
     * may judge a general change major in its review: it becomes major and goes to a meeting. */
    {"change", "review", "review", ROLE_IT_OFFICE, "pass", CASE_CLOSED, "approved", NULL, EV_REVIEW,
     "general", NULL},
    {"change", "review", "review", ROLE_IT_OFFICE, "pass", "decision", NULL, NULL, EV_REVIEW,
     "major", NULL},
    {"change", "review", "review", ROLE_IT_OFFICE, "reclassify_major", "decision", NULL, NULL,
     EV_REVIEW, "general", "major"},
    {"change", "review", "review", ROLE_IT_OFFICE, "reject", CASE_CLOSED, "rejected", NULL,
     EV_REVIEW, NULL, NULL},
    {"change", "decision", "decision", ROLE_SECRETARY, "approve", CASE_CLOSED, "approved",
     BOTH_MEETINGS, EV_DECISION, "major", NULL},
    {"change", "decision", "decision", ROLE_SECRETARY, "reject", CASE_CLOSED, "rejected",
     BOTH_MEETINGS, EV_DECISION, "major", NULL},
    /* issue 12 B: an escalation (article 22), decided by a meeting (as a project). An overdue
     * rectification's: continue, suspend or terminate the project; a resume request's: resume
     * it (back to the state it was suspended from), reject (it stays suspended) or terminate.
     * The projects service applies suspend, terminate and resume. */
    {"escalation", "decision", "decision", ROLE_SECRETARY, "continue", CASE_CLOSED, "continued",
     BOTH_MEETINGS, EV_DECISION, "rectification", NULL},
    {"escalation", "decision", "decision", ROLE_SECRETARY, "suspend", CASE_CLOSED, "suspended",
     BOTH_MEETINGS, EV_DECISION, "rectification", NULL},
    {"escalation", "decision", "decision", ROLE_SECRETARY, "terminate", CASE_CLOSED, "terminated",
     BOTH_MEETINGS, EV_DECISION, "rectification", NULL},
    {"escalation", "decision", "decision", ROLE_SECRETARY, "resume", CASE_CLOSED, "resumed",
     BOTH_MEETINGS, EV_DECISION, "resume", NULL},
    {"escalation", "decision", "decision", ROLE_SECRETARY, "reject", CASE_CLOSED, "rejected",
     BOTH_MEETINGS, EV_DECISION, "resume", NULL},
    {"escalation", "decision", "decision", ROLE_SECRETARY, "terminate", CASE_CLOSED, "terminated",
     BOTH_MEETINGS, EV_DECISION, "resume", NULL},
};
const size_t case_nrules = sizeof case_rules / sizeof case_rules[0];

static bool s_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

const struct case_kind *case_kind_find(const char *kind)
{
    for (size_t i = 0; kind && i < case_nkinds; i++)
        if (strcmp(case_kinds[i].kind, kind) == 0) return &case_kinds[i];
    return NULL;
}

const struct case_kind *case_kind_opened_by(const char *event_type)
{
    for (size_t i = 0; event_type && i < case_nkinds; i++)
        if (strcmp(case_kinds[i].opened_by, event_type) == 0) return &case_kinds[i];
    return NULL;
}

bool case_step_known(const char *kind, const char *step)
{
    if (s_eq(step, CASE_CLOSED)) return case_kind_find(kind) != NULL;
    for (size_t i = 0; i < case_nrules; i++)
        if (s_eq(case_rules[i].kind, kind) && s_eq(case_rules[i].step, step)) return true;
    return false;
}

/* Whether name is one item of a comma-separated list. */
static bool s_in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0) return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

bool case_variant_known(const char *kind, const char *variant)
{
    if (!variant) return case_kind_find(kind) != NULL;
    for (size_t i = 0; i < case_nrules; i++)
        if (s_eq(case_rules[i].kind, kind) &&
            (s_eq(case_rules[i].variant, variant) || s_eq(case_rules[i].set_variant, variant)))
            return true;
    return false;
}

bool case_open_subject(const struct case_kind *k, const char *event_subject, const cJSON *data,
                       char *out, size_t n)
{
    if (!k->subject_field) {
        size_t len = event_subject ? strlen(event_subject) : 0;
        if (!len || len >= n ||
            strncmp(event_subject, k->subject_prefix, strlen(k->subject_prefix)) != 0)
            return false;
        memcpy(out, event_subject, len + 1);
        return true;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, k->subject_field);
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 9007199254740992.0 ||
        v->valuedouble != (double)(long long)v->valuedouble)
        return false;
    int w = snprintf(out, n, "%s%lld", k->subject_prefix, (long long)v->valuedouble);
    return w > 0 && (size_t)w < n;
}

const char *case_open_variant(const struct case_kind *k, const cJSON *data)
{
    if (k->variant) return k->variant;
    if (!k->variant_field) return NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, k->variant_field);
    /* a variant the kind's rules do not name is none: only the rules for every variant apply */
    if (!cJSON_IsString(v) || !case_variant_known(k->kind, v->valuestring)) return NULL;
    return v->valuestring;
}

cJSON *case_open_data(const struct case_kind *k, const cJSON *data)
{
    if (!k->keep) return NULL;
    cJSON *out = cJSON_CreateObject();
    if (!out) return NULL;
    for (const struct case_field *f = k->keep; f->name; f++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, f->from);
        if (v) cJSON_AddItemToObject(out, f->name, cJSON_Duplicate(v, true));
    }
    return out;
}

enum case_verdict case_decide(const char *kind, const char *step, const char *variant,
                              const char *action, const char *input, const char *meeting,
                              unsigned roles, const struct case_rule **rule)
{
    if (!case_kind_find(kind)) return CASE_FORBIDDEN;
    bool role_ok = false, kind_has_action = false, input_ok = false, meeting_ok = false;
    const struct case_rule *match = NULL;
    for (size_t i = 0; i < case_nrules; i++) {
        const struct case_rule *r = &case_rules[i];
        if (!s_eq(r->action, action)) continue;
        if (r->roles & roles) role_ok = true; /* who may ever do it, in any kind */
        if (!s_eq(r->kind, kind)) continue;
        kind_has_action = true;
        if (s_eq(r->input, input)) {
            input_ok = true;
            bool meeting_fits = !r->meetings || (meeting && s_in_list(r->meetings, meeting));
            if (meeting_fits) meeting_ok = true;
            /* the step and the variant are the case's state: a mismatch is 409 */
            if (s_eq(r->step, step) && (!r->variant || s_eq(r->variant, variant)) && meeting_fits &&
                !match)
                match = r;
        }
    }
    if (!role_ok) return CASE_FORBIDDEN;
    if (!kind_has_action) return CASE_INVALID_STATE; /* e.g. a review of a plan case */
    if (!input_ok) return CASE_BAD_INPUT;
    if (!meeting_ok) return CASE_BAD_MEETING;
    if (!match) return CASE_INVALID_STATE;
    *rule = match;
    return CASE_OK;
}

size_t case_inputs(const char *kind, const char *action, const char **out, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < case_nrules && k + 1 < n; i++) {
        const struct case_rule *r = &case_rules[i];
        if (!s_eq(r->kind, kind) || !s_eq(r->action, action) || !r->input) continue;
        bool seen = false;
        for (size_t j = 0; j < k; j++)
            seen = seen || strcmp(out[j], r->input) == 0;
        if (!seen) out[k++] = r->input;
    }
    out[k] = NULL;
    return k;
}
