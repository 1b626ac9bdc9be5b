/*
 * The project and plan state machines: tables, and three pure lookups.
 * Adding a state or an action is adding rows here (and to the unit test).
 */
#include <stdio.h>
#include <string.h>
#include "project_fsm.h"

static const char *const s_project_states[] = {
    "draft",    "under_review", "returned",     "awaiting_decision",
    "approved", "rejected",     "implementing", "acceptance_review",
    "accepted", "in_operation", "suspended",    "terminated",
    NULL};

static const struct fsm_transition s_project[] = {
    {"draft", "edit", "draft", "itgov.project.updated"},
    {"returned", "edit", "returned", "itgov.project.updated"},
    {"draft", "submit", "under_review", "itgov.project.submitted"},
    {"returned", "submit", "under_review", "itgov.project.submitted"},
    {"under_review", "review_pass", "awaiting_decision", "itgov.project.review.passed"},
    {"under_review", "review_return", "returned", "itgov.project.returned"},
    {"under_review", "review_reject", "rejected", "itgov.project.rejected"},
    {"awaiting_decision", "decide_approve", "approved", "itgov.project.approved"},
    {"awaiting_decision", "decide_reject", "rejected", "itgov.project.rejected"},
    /* delivery (articles 8-13): plan, build, acceptance by the IT office, go-live */
    {"approved", "plan", "implementing", "itgov.project.implementation_planned"},
    {"implementing", "plan", "implementing", "itgov.project.implementation_planned"},
    {"implementing", "request_acceptance", "acceptance_review",
     "itgov.project.acceptance_requested"},
    {"acceptance_review", "acceptance_pass", "accepted", "itgov.project.accepted"},
    {"acceptance_review", "acceptance_return", "implementing", "itgov.project.acceptance_returned"},
    {"accepted", "go_live", "in_operation", "itgov.project.went_live"},
    /* issue 12 B: an escalation's decision (article 22; consumer.c applies it). Suspended from
     * any state from approval on (the project keeps it: suspended_from), resumed back to it,
     * terminated from those or from suspended; terminated is final. */
    {"approved", "suspend", "suspended", "itgov.project.suspended"},
    {"implementing", "suspend", "suspended", "itgov.project.suspended"},
    {"acceptance_review", "suspend", "suspended", "itgov.project.suspended"},
    {"accepted", "suspend", "suspended", "itgov.project.suspended"},
    {"in_operation", "suspend", "suspended", "itgov.project.suspended"},
    {"suspended", "resume", FSM_SUSPENDED_FROM, "itgov.project.resumed"},
    {"approved", "terminate", "terminated", "itgov.project.terminated"},
    {"implementing", "terminate", "terminated", "itgov.project.terminated"},
    {"acceptance_review", "terminate", "terminated", "itgov.project.terminated"},
    {"accepted", "terminate", "terminated", "itgov.project.terminated"},
    {"in_operation", "terminate", "terminated", "itgov.project.terminated"},
    {"suspended", "terminate", "terminated", "itgov.project.terminated"},
};

const struct fsm project_fsm = {"project", s_project_states, s_project,
                                sizeof s_project / sizeof s_project[0]};

static const char *const s_plan_states[] = {"draft", "under_review", "approved", "rejected", NULL};

static const struct fsm_transition s_plan[] = {
    {"draft", "edit", "draft", "itgov.plan.updated"},
    {"draft", "submit", "under_review", "itgov.plan.submitted"},
    {"under_review", "decide_approve", "approved", "itgov.plan.approved"},
    {"under_review", "decide_reject", "rejected", "itgov.plan.rejected"},
};

const struct fsm plan_fsm = {"plan", s_plan_states, s_plan, sizeof s_plan / sizeof s_plan[0]};

static const char *const s_contract_states[] = {"pending_review", "approved", "rejected", NULL};

static const struct fsm_transition s_contract[] = {
    {"pending_review", "review_pass", "approved", "itgov.contract.approved"},
    {"pending_review", "review_reject", "rejected", "itgov.contract.rejected"},
};

const struct fsm contract_fsm = {"contract", s_contract_states, s_contract,
                                 sizeof s_contract / sizeof s_contract[0]};

/* issue 11 G: changes; the review's action depends on the change's level (consumer.c) */
static const char *const s_change_states[] = {"pending",  "awaiting_decision", "approved",
                                              "rejected", "implemented",       NULL};

static const struct fsm_transition s_change[] = {
    {"pending", "review_pass_general", "approved", "itgov.change.approved"},
    {"pending", "review_pass_major", "awaiting_decision", "itgov.change.review_passed"},
    {"pending", "reclassify", "awaiting_decision", "itgov.change.reclassified"},
    {"pending", "review_reject", "rejected", "itgov.change.rejected"},
    {"awaiting_decision", "decide_approve", "approved", "itgov.change.approved"},
    {"awaiting_decision", "decide_reject", "rejected", "itgov.change.rejected"},
    {"approved", "implement", "implemented", "itgov.change.implemented"},
};

const struct fsm change_fsm = {"change", s_change_states, s_change,
                               sizeof s_change / sizeof s_change[0]};

bool fsm_has_state(const struct fsm *m, const char *state)
{
    for (const char *const *s = m->states; state && *s; s++)
        if (strcmp(*s, state) == 0) return true;
    return false;
}

bool fsm_has_action(const struct fsm *m, const char *action)
{
    for (size_t i = 0; action && i < m->ntransitions; i++)
        if (strcmp(m->transitions[i].action, action) == 0) return true;
    return false;
}

const struct fsm_transition *fsm_next(const struct fsm *m, const char *state, const char *action)
{
    for (size_t i = 0; state && action && i < m->ntransitions; i++)
        if (strcmp(m->transitions[i].from, state) == 0 &&
            strcmp(m->transitions[i].action, action) == 0)
            return &m->transitions[i];
    return NULL;
}

bool fsm_action_sql(const struct fsm *m, const char *action, char *from, size_t nfrom, char *to,
                    size_t nto, const char **event)
{
    size_t uf = 0, ut = 0;
    int n = 0;
    if (nfrom < 3 || nto < 3) return false;
    from[uf++] = '{';
    to[ut++] = '{';
    for (size_t i = 0; i < m->ntransitions; i++) {
        const struct fsm_transition *t = &m->transitions[i];
        if (strcmp(t->action, action) != 0) continue;
        int a = snprintf(from + uf, nfrom - uf, "%s%s", n ? "," : "", t->from);
        int b = snprintf(to + ut, nto - ut, "%s%s", n ? "," : "", t->to);
        if (a < 0 || b < 0 || (size_t)a >= nfrom - uf - 1 || (size_t)b >= nto - ut - 1)
            return false;
        uf += (size_t)a;
        ut += (size_t)b;
        *event = t->event;
        n++;
    }
    from[uf++] = '}';
    from[uf] = '\0';
    to[ut++] = '}';
    to[ut] = '\0';
    return n > 0;
}
