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
    {"PUT", "/api/v1/projects/:id/implementation-plan", implementation_put, ROLE_APPLICANT},
    {"GET", "/api/v1/projects/:id/implementation-plan", implementation_get, ROLE_ANY},
    {"GET", "/api/v1/projects/:id/implementation-plan/revisions", implementation_revisions,
     ROLE_ANY},
    {"GET", "/api/v1/projects/:id/milestones", milestones_list, ROLE_ANY},
    {"POST", "/api/v1/projects/:id/milestones/:mid/complete", milestones_complete, ROLE_APPLICANT},
    {"GET", "/api/v1/milestones/overdue", milestones_overdue, ROLE_IT_OFFICE | ROLE_AUDITOR},

    /* contracts, deliverables, acceptance (contracts.c, deliverables.c, acceptance.c) */
    {"POST", "/api/v1/projects/:id/contracts", contracts_create, ROLE_APPLICANT},
    {"GET", "/api/v1/projects/:id/contracts", contracts_list, ROLE_ANY},
    {"GET", "/api/v1/contracts/:cid", contracts_get, ROLE_ANY},
    {"POST", "/api/v1/projects/:id/deliverables", deliverables_add, ROLE_APPLICANT},
    {"GET", "/api/v1/projects/:id/deliverables", deliverables_list, ROLE_ANY},
    {"POST", "/api/v1/projects/:id/acceptance-request", acceptance_request, ROLE_APPLICANT},

    /* asset, payments, go-live (asset.c, payments.c, golive.c) */
    {"POST", "/api/v1/projects/:id/asset", asset_register, ROLE_APPLICANT},
    {"GET", "/api/v1/projects/:id/asset", asset_get, ROLE_ANY},
    {"POST", "/api/v1/projects/:id/payments", payments_create, ROLE_APPLICANT},
    {"GET", "/api/v1/projects/:id/payments", payments_list, ROLE_ANY},
    {"GET", "/api/v1/projects/:id/payments/:pid", payments_get, ROLE_ANY},
    {"POST", "/api/v1/projects/:id/go-live", golive_create, ROLE_APPLICANT},
    {"GET", "/api/v1/projects/:id/go-live", golive_get, ROLE_ANY},

    /* the dossier (dossier.c) */
    {"GET", "/api/v1/projects/:id/dossier", dossier_get, ROLE_ANY},

    /* issue 11 E: system accounts (system_accounts.c) */
    {"POST", "/api/v1/projects/:id/system-accounts", system_accounts_create,
     ROLE_IT_OFFICE | ROLE_APPLICANT},
    {"GET", "/api/v1/projects/:id/system-accounts", system_accounts_list, ROLE_ANY},
    {"GET", "/api/v1/system-accounts/:aid", system_accounts_get, ROLE_ANY},
    {"POST", "/api/v1/system-accounts/:aid/revoke", system_accounts_revoke,
     ROLE_IT_OFFICE | ROLE_APPLICANT},

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
    {"POST", "/api/v1/projects/:id/changes", changes_create, ROLE_APPLICANT},
    {"GET", "/api/v1/projects/:id/changes", changes_list, ROLE_ANY},
    {"GET", "/api/v1/changes/:id", changes_get, ROLE_ANY},
    {"POST", "/api/v1/changes/:id/implemented", changes_implemented, ROLE_APPLICANT},

    /* issue 11 H: fees (fees.c) */
    {"PUT", "/api/v1/projects/:id/fee-agreement", fees_agreement_put, ROLE_IT_OFFICE},
    {"GET", "/api/v1/projects/:id/fee-agreement", fees_agreement_get, ROLE_ANY},
    {"GET", "/api/v1/projects/:id/fee-agreement/revisions", fees_agreement_revisions, ROLE_ANY},
    {"POST", "/api/v1/projects/:id/fees", fees_create, ROLE_IT_OFFICE},
    {"GET", "/api/v1/projects/:id/fees", fees_list, ROLE_ANY},
    {"GET", "/api/v1/fees/summary", fees_summary, ROLE_IT_OFFICE | ROLE_AUDITOR | ROLE_ADMIN},
    {"GET", "/api/v1/fees/:id", fees_get, ROLE_ANY},
    {"POST", "/api/v1/fee-uses", fee_uses_create, ROLE_IT_OFFICE},
    {"GET", "/api/v1/fee-uses", fee_uses_list, ROLE_IT_OFFICE | ROLE_AUDITOR | ROLE_ADMIN},
    {"GET", "/api/v1/fee-uses/:id", fee_uses_get, ROLE_IT_OFFICE | ROLE_AUDITOR | ROLE_ADMIN},

    /* issue 12 A: information requests, rectifications, shared results */
    {"POST", "/api/v1/projects/:id/rectifications", rectifications_create, ROLE_IT_OFFICE},
    {"GET", "/api/v1/projects/:id/rectifications", rectifications_list, ROLE_ANY},
    {"GET", "/api/v1/rectifications/:id", rectifications_get, ROLE_ANY},
    {"POST", "/api/v1/rectifications/:id/response", rectifications_respond, ROLE_APPLICANT},
    {"POST", "/api/v1/rectifications/:id/verify", rectifications_verify, ROLE_IT_OFFICE},
    {"POST", "/api/v1/projects/:id/info-requests", info_requests_create, ROLE_IT_OFFICE},
    {"GET", "/api/v1/projects/:id/info-requests", info_requests_list, ROLE_ANY},
    {"GET", "/api/v1/info-requests/:id", info_requests_get, ROLE_ANY},
    {"POST", "/api/v1/info-requests/:id/answer", info_requests_answer, ROLE_APPLICANT},
    {"POST", "/api/v1/projects/:id/shared-results", shared_results_create, ROLE_IT_OFFICE},
    {"GET", "/api/v1/shared-results", shared_results_list, ROLE_ANY},
    {"GET", "/api/v1/shared-results/:id", shared_results_get, ROLE_ANY},

    /* issue 12 B: escalation, suspension, termination, resume */
    {"POST", "/api/v1/projects/:id/resume", suspension_resume, ROLE_IT_OFFICE},
    {"GET", "/api/v1/projects/:id/resume-requests", suspension_requests, ROLE_ANY},

};
const size_t projects_nroutes = sizeof projects_routes / sizeof projects_routes[0];
