/* The audit API: one row per route (method, path, handler, who may call). */
#include "audit.h"
#include "log_api.h"
#include "pub.h"
#ifdef AUDIT_HAVE_WEBHOOKS
#include "webhooks.h"
#endif

#define READERS (ROLE_AUDITOR | ROLE_ADMIN | ROLE_IT_OFFICE)
/* issue 12 E: applicants read their own department's (evaluations.c) */
#define EVAL_READERS (READERS | ROLE_SECRETARY | ROLE_APPLICANT)

const struct route audit_routes[] = {
    {"GET", "/api/v1/audit", audit_list, READERS},
    {"GET", "/api/v1/audit/verify", audit_verify, ROLE_AUDITOR | ROLE_ADMIN},
    {"GET", "/api/v1/audit/checkpoint", audit_checkpoint, ROLE_PUBLIC},
    {"GET", "/api/v1/audit/public-key", audit_public_key, ROLE_PUBLIC},
    {"GET", "/api/v1/audit/proof/inclusion", audit_inclusion, ROLE_PUBLIC},
    {"GET", "/api/v1/audit/proof/consistency", audit_consistency, ROLE_PUBLIC},
    /* the CURVE server keys of the broker and the public feed (issue 7) */
    {"GET", "/api/v1/events/keys", events_keys, ROLE_PUBLIC},
#ifdef AUDIT_HAVE_WEBHOOKS
    /* public: the handler takes a session (auditor, admin) or a subscription secret */
    {"GET", "/api/v1/events", events_list, ROLE_PUBLIC},
    {"POST", "/api/v1/subscriptions", subscriptions_create, ROLE_ADMIN},
    {"GET", "/api/v1/subscriptions", subscriptions_list, ROLE_ADMIN},
    {"GET", "/api/v1/subscriptions/:id", subscriptions_get, ROLE_ADMIN},
    {"POST", "/api/v1/subscriptions/:id/replay", subscriptions_replay, ROLE_ADMIN},
    {"POST", "/api/v1/subscriptions/:id/disable", subscriptions_disable, ROLE_ADMIN},
#endif
    /* issue 12 D: usage metrics and metrics keys */

    /* issue 12 E: evaluations */
    {"GET", "/api/v1/evaluations/projects/:id", evaluations_project, EVAL_READERS},
    {"GET", "/api/v1/evaluations/departments/:id", evaluations_department, EVAL_READERS},
    {"POST", "/api/v1/evaluations/departments/:id/publish", evaluations_publish, ROLE_IT_OFFICE},
    {"GET", "/api/v1/evaluations/departments/:id/published", evaluations_published, EVAL_READERS},
};
const size_t audit_nroutes = sizeof audit_routes / sizeof audit_routes[0];
