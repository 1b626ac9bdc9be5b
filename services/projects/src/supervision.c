/* The rules of supervision: see supervision.h. */
#include <string.h>
#include "supervision.h"

static const char *const s_supervised[] = {
    "approved", "implementing", "acceptance_review", "accepted", "in_operation", "suspended", NULL};
const char supervised_states_sql[] =
    "{approved,implementing,acceptance_review,accepted,in_operation,suspended}";

bool supervised_state(const char *state)
{
    for (const char *const *s = s_supervised; state && *s; s++)
        if (strcmp(*s, state) == 0) return true;
    return false;
}

bool rectification_can_respond(const char *status, bool awaiting_verification)
{
    return !awaiting_verification && status &&
           (strcmp(status, "open") == 0 || strcmp(status, "overdue") == 0);
}

bool rectification_can_verify(const char *status, bool awaiting_verification)
{
    return awaiting_verification && status &&
           (strcmp(status, "responded") == 0 || strcmp(status, "overdue") == 0);
}
