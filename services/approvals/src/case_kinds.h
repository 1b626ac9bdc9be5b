/*
 * Approval cases as data. A case kind is a row (which subject it decides,
 * which event opens it, its first step); what may happen in a case is a
 * table of rules: kind → step → action → who may act → the outcome given →
 * the next step, the case's outcome and the event recorded. Later kinds
 * (contract, acceptance, change, escalation) are more rows, not more code.
 * A kind may have variants: data of each case, taken from a field of its
 * opening event (a change's level: general or major). A rule naming a
 * variant applies only to cases of that variant, and a rule may set the
 * case's variant (a general change reclassified as major). Everything here
 * is pure (no I/O) and unit-tested state × action × variant.
 *
 * Issue 12 B: a kind may be opened by several events (one row each, the
 * same kind and first step), each opening cases of a fixed variant (an
 * escalation: variant rectification, opened by rectification.overdue, or
 * resume, opened by project.resume_requested). Its subject may come from
 * the event's data rather than the event's subject (an overdue
 * rectification's escalation is about projects/{data.project_id}), and a
 * case may keep named fields of its opening event's data (data.
 * rectification_id), shown in the case document.
 */
#ifndef CASE_KINDS_H
#define CASE_KINDS_H

#include <stdbool.h>
#include <stddef.h>
#include "itgov/json.h"

#define CASE_CLOSED "closed"

/* one field a case keeps of its opening event's data: data.name = event data.from */
struct case_field {
    const char *name, *from;
};

struct case_kind {
    const char *kind;           /* "initiation" */
    const char *opened_by;      /* event type that opens one: "itgov.project.submitted" */
    const char *subject_prefix; /* "projects/" */
    const char *first_step;     /* "review" */
    const char *variant_field;  /* the opening event's data field naming the variant, or NULL */
    const char *variant;        /* the variant of every case this event opens, or NULL */
    /* the data field holding the subject's id (the subject is subject_prefix and that id), or
     * NULL: the event's own subject, which must start with subject_prefix */
    const char *subject_field;
    const struct case_field *keep; /* the fields the case keeps, {NULL, NULL}-ended, or NULL */
};

struct case_rule {
    const char *kind;
    const char *step;
    const char *action;      /* invite_expert, opinion, review, decision */
    unsigned roles;          /* ROLE_* bits that may act */
    const char *input;       /* the outcome the actor gives, NULL for actions without one */
    const char *next_step;   /* NULL: the case stays where it is */
    const char *outcome;     /* the case's outcome when it closes, else NULL */
    const char *meetings;    /* decisions: the meetings that may decide, comma-separated */
    const char *event;       /* recorded as this event type */
    const char *variant;     /* the rule applies only to cases of this variant; NULL: to all */
    const char *set_variant; /* the case's variant becomes this, NULL: it stays */
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
 * (NULL for none) on a case of kind in step, of variant (NULL: none); on
 * CASE_OK *rule is the matching row. An input the kind knows but not for
 * this variant (reclassify_major on a major change) is 409, like an action
 * its step does not have. */
enum case_verdict case_decide(const char *kind, const char *step, const char *variant,
                              const char *action, const char *input, const char *meeting,
                              unsigned roles, const struct case_rule **rule);

/* The subject of the case an opening event (its subject and data) opens,
 * into out (n bytes): false when the event names none. */
bool case_open_subject(const struct case_kind *k, const char *event_subject, const cJSON *data,
                       char *out, size_t n);

/* The variant of the case an opening event's data opens (NULL: none). */
const char *case_open_variant(const struct case_kind *k, const cJSON *data);

/* The data the case keeps of its opening event's data, as a JSON object
 * (a field the event lacks is left out), or NULL when the kind keeps none;
 * the caller frees it. */
cJSON *case_open_data(const struct case_kind *k, const cJSON *data);

/* Whether variant is one a kind's rules name (NULL is every kind's). */
bool case_variant_known(const char *kind, const char *variant);

/* The inputs an action accepts in a kind (across steps), NULL-terminated,
 * into out (at most n-1 entries); for fields_enum(). */
size_t case_inputs(const char *kind, const char *action, const char **out, size_t n);

#endif
