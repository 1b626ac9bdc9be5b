/* The approvals API: one row per route (method, path, handler, who may call).
 * Who may act on a case of a given kind and step is case_kinds.c's table. */
#include "approvals.h"

const struct route approvals_routes[] = {
    {"GET", "/api/v1/approvals", cases_list, ROLE_ANY},
    {"GET", "/api/v1/approvals/:id", cases_get, ROLE_ANY},
    {"POST", "/api/v1/approvals/:id/experts", cases_invite, ROLE_IT_OFFICE},
    {"POST", "/api/v1/approvals/:id/opinions", cases_opinion, ROLE_EXPERT | ROLE_IT_OFFICE},
    {"POST", "/api/v1/approvals/:id/review", cases_review, ROLE_IT_OFFICE},
    {"POST", "/api/v1/approvals/:id/decision", cases_decision, ROLE_SECRETARY},
};
const size_t approvals_nroutes = sizeof approvals_routes / sizeof approvals_routes[0];
