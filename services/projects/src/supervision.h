/*
 * The rules of supervision (issue 12 A, articles 21-22), pure so they have
 * their own unit test: in which project states the IT office issues
 * information requests, rectification orders and shared results, and what a
 * rectification order's status lets happen next.
 */
#ifndef SUPERVISION_H
#define SUPERVISION_H

#include <stdbool.h>

/* From approved on, except terminated: approved, implementing,
 * acceptance_review, accepted, in_operation, and suspended (whose own rule
 * refuses writes with project_suspended). */
bool supervised_state(const char *state);
/* The same states as a PostgreSQL text[] literal, for the write's guard. */
extern const char supervised_states_sql[];

/* The department may respond: open or overdue, with no response awaiting
 * verification. */
bool rectification_can_respond(const char *status, bool awaiting_verification);
/* The IT office may verify: a response awaits verification (responded, or
 * overdue after a response). */
bool rectification_can_verify(const char *status, bool awaiting_verification);

#endif
