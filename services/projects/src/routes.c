/* The projects API: one row per route (method, path, handler, who may call). */
#include "projects.h"

const struct route projects_routes[] = {
    {"POST", "/api/v1/plans", plans_create, ROLE_IT_OFFICE},
    {"GET", "/api/v1/plans", plans_list, ROLE_ANY},
    {"GET", "/api/v1/plans/:id", plans_get, ROLE_ANY},
    {"PATCH", "/api/v1/plans/:id", plans_update, ROLE_IT_OFFICE},
    {"POST", "/api/v1/plans/:id/submit", plans_submit, ROLE_IT_OFFICE},
    {"POST", "/api/v1/projects", projects_create, ROLE_APPLICANT},
    {"GET", "/api/v1/projects", projects_list, ROLE_ANY},
    {"GET", "/api/v1/projects/:id", projects_get, ROLE_ANY},
    {"PATCH", "/api/v1/projects/:id", projects_update, ROLE_APPLICANT},
    {"POST", "/api/v1/projects/:id/submit", projects_submit, ROLE_APPLICANT},
    {"GET", "/api/v1/projects/:id/history", projects_history, ROLE_ANY},

    /* implementation plan and milestones (implementation.c, milestones.c) */

    /* contracts, deliverables, acceptance (contracts.c, deliverables.c, acceptance.c) */

    /* asset, payments, go-live (asset.c, payments.c, golive.c) */

    /* the dossier (dossier.c) */

    /* issue 11 E: system accounts (system_accounts.c) */
    {"POST", "/api/v1/projects/:id/system-accounts", system_accounts_create,
     ROLE_IT_OFFICE | ROLE_APPLICANT},
    {"GET", "/api/v1/projects/:id/system-accounts", system_accounts_list, ROLE_ANY},
    {"GET", "/api/v1/system-accounts/:aid", system_accounts_get, ROLE_ANY},
    {"POST", "/api/v1/system-accounts/:aid/revoke", system_accounts_revoke,
     ROLE_IT_OFFICE | ROLE_APPLICANT},

    /* issue 11 F: spot checks, backups, media (spot_checks.c, backups.c, media.c) */

    /* issue 11 G: changes (changes.c) */

    /* issue 11 H: fees (fees.c) */

};
const size_t projects_nroutes = sizeof projects_routes / sizeof projects_routes[0];
