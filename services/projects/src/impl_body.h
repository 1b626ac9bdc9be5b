/* The body of PUT /projects/{id}/implementation-plan, checked without the
 * database: goals, the team and the milestones, every bad field named as
 * team[2].role or milestones[0].due_date. */
#ifndef IMPL_BODY_H
#define IMPL_BODY_H

#include <stdbool.h>
#include <cjson/cJSON.h>
#include "itgov/json.h"

#define IMPL_MAX_GOALS      10000
#define IMPL_MAX_TEAM       100
#define IMPL_MAX_MILESTONES 200

struct impl_body {
    const char *goals; /* points into the body */
    char *team;        /* [{name, role, duty}] as JSON text, malloc'd */
    char *milestones;  /* [{name, due_date}] as JSON text, malloc'd */
};

/* Reads body into out; completed maps the names of the project's completed
 * milestones to their due dates (NULL: none), whose due date a revision
 * may not move. Returns NULL, or the validation_failed error naming every
 * bad field (caller owns it; out is then empty). */
struct error *impl_body_read(const cJSON *body, const cJSON *completed, struct impl_body *out);
void impl_body_free(struct impl_body *b);

#endif
