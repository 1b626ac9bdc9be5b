/*
 * Approval cases as data. A case kind is a row (which subject it decides,
 * which event opens it, its first step); what may happen in a case is a
 * table of rules: kind → step → action → who may act → the outcome given →
 * the next step, the case's outcome and the event recorded. Later kinds
 * (contract, acceptance, change, escalation) are more rows, not more code.
 * Everything here is pure (no I/O) and unit-tested state × action.
 */
#ifndef CASE_KINDS_H
#define CASE_KINDS_H

#include <stdbool.h>
#include <stddef.h>

#define CASE_CLOSED "closed"

struct case_kind {
    const char *kind;           /* "initiation" */
    const char *opened_by;      /* event type that opens one: "itgov.project.submitted" */
    const char *subject_prefix; /* "projects/" */
    const char *first_step;     /* "review" */
};

struct case_rule {
    const char *kind;
    const char *step;
    const char *action;    /* invite_expert, opinion, review, decision */
    unsigned roles;        /* ROLE_* bits that may act */
    const char *input;     /* the outcome the actor gives, NULL for actions without one */
    const char *next_step; /* NULL: the case stays where it is */
    const char *outcome;   /* the case's outcome when it closes, else NULL */
    const char *meetings;  /* decisions: the meetings that may decide, comma-separated */
    const char *event;     /* recorded as this event type */
};

extern const struct case_kind case_kinds[];
extern const size_t case_nkinds;
extern const struct case_rule case_rules[];
extern const size_t case_nrules;

const struct case_kind *case_kind_find(const char *kind);
const struct case_kind *case_kind_opened_by(const char *event_type);
bool case_step_known(const char *kind, const char *step);

enum case_verdict {
    CASE_OK,
    CASE_FORBIDDEN,     /* the caller's roles may never do this in this kind: 403 */
    CASE_BAD_INPUT,     /* the outcome given is not one of this kind's: 400 */
    CASE_BAD_MEETING,   /* this meeting may not decide this kind: 400 */
    CASE_INVALID_STATE, /* the action does not exist in the case's step: 409 */
};

/* Checks, in the order refusals are reported (403, 400, 409), whether a
 * caller with roles may do action with input (NULL for none) and meeting
 * (NULL for none) on a case of kind in step; on CASE_OK *rule is the
 * matching row. */
enum case_verdict case_decide(const char *kind, const char *step, const char *action,
                              const char *input, const char *meeting, unsigned roles,
                              const struct case_rule **rule);

/* The inputs an action accepts in a kind (across steps), NULL-terminated,
 * into out (at most n-1 entries); for fields_enum(). */
size_t case_inputs(const char *kind, const char *action, const char **out, size_t n);

#endif
