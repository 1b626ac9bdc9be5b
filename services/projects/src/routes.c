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

    /* issue 11 F: spot checks, backups, media (spot_checks.c, backups.c, media.c) */
    {"POST", "/api/v1/projects/:id/spot-checks", spot_checks_create, ROLE_IT_OFFICE},
    {"GET", "/api/v1/projects/:id/spot-checks", spot_checks_of_project, ROLE_ANY},
    {"GET", "/api/v1/spot-checks", spot_checks_list, ROLE_IT_OFFICE | ROLE_AUDITOR | ROLE_ADMIN},
    {"POST", "/api/v1/projects/:id/backups", backups_create, ROLE_APPLICANT | ROLE_IT_OFFICE},
    {"GET", "/api/v1/projects/:id/backups", backups_of_project, ROLE_ANY},
    {"GET", "/api/v1/backups/stale", backups_stale, ROLE_IT_OFFICE | ROLE_AUDITOR | ROLE_ADMIN},
    {"POST", "/api/v1/media", media_create, ROLE_IT_OFFICE},
    {"GET", "/api/v1/media", media_list, ROLE_IT_OFFICE | ROLE_AUDITOR | ROLE_ADMIN},
    {"GET", "/api/v1/media/:id", media_get, ROLE_IT_OFFICE | ROLE_AUDITOR | ROLE_ADMIN},
    {"POST", "/api/v1/media/:id/transfers", media_transfer, ROLE_IT_OFFICE},

    /* issue 11 G: changes (changes.c) */

    /* issue 11 H: fees (fees.c) */

};
const size_t projects_nroutes = sizeof projects_routes / sizeof projects_routes[0];
