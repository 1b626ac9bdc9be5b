/*
 * The life of a project application and of a yearly IT plan, as data: each
 * machine is a table of transitions (from, action, to, event). The functions
 * here are pure (no I/O): the handlers ask them whether an action exists in
 * a state, and pass the transitions of an action to SQL so the statement
 * that changes a row applies exactly the table's rule.
 */
#ifndef PROJECT_FSM_H
#define PROJECT_FSM_H

#include <stdbool.h>
#include <stddef.h>

/* A transition's to that is no fixed state: the state the project was
 * suspended from (its column suspended_from). */
#define FSM_SUSPENDED_FROM "(suspended_from)"

struct fsm_transition {
    const char *from;
    const char *action;
    const char *to;
    const char *event; /* CloudEvent type emitted when it happens */
};

struct fsm {
    const char *name;
    const char *const *states; /* NULL-terminated */
    const struct fsm_transition *transitions;
    size_t ntransitions;
};

/* project: draft → under_review → (returned → under_review …) →
 * awaiting_decision → approved | rejected; rejection also at review; then
 * approved → implementing (an implementation plan) → acceptance_review →
 * (returned to implementing …) → accepted → in_operation (go-live).
 * Issue 12 B: from approved on (approved, implementing, acceptance_review,
 * accepted, in_operation) → suspended (an escalation's decision) → back to
 * the state it was suspended from (resume: its to is FSM_SUSPENDED_FROM,
 * which the statement reads from the project's suspended_from); from those
 * and from suspended → terminated (final). */
extern const struct fsm project_fsm;
/* plan: draft → under_review → approved | rejected. */
extern const struct fsm plan_fsm;
/* contract: pending_review → approved | rejected (the IT office's review). */
extern const struct fsm contract_fsm;
/* change (article 15, issue 11 G): pending → approved (a general change,
 * the IT office's review) | awaiting_decision (a major change whose review
 * passed, or a general one the review reclassified major) → approved |
 * rejected (the meeting); pending → rejected (the review); approved →
 * implemented (the owning department reports it). */
extern const struct fsm change_fsm;

bool fsm_has_state(const struct fsm *m, const char *state);
bool fsm_has_action(const struct fsm *m, const char *action);
/* The transition of action in state, or NULL (the action does not exist
 * in that state: 409 invalid_state). */
const struct fsm_transition *fsm_next(const struct fsm *m, const char *state, const char *action);
/* The transitions of one action as two PostgreSQL array literals of equal
 * length ("{draft,returned}", "{under_review,under_review}") and its event;
 * false if the action is unknown or the buffers are too small. */
bool fsm_action_sql(const struct fsm *m, const char *action, char *from, size_t nfrom, char *to,
                    size_t nto, const char **event);

#endif
