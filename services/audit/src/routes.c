/* The audit API: one row per route (method, path, handler, who may call). */
#include "audit.h"
#include "log_api.h"
#include "metrics.h"
#include "pub.h"
#include "systems.h"
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
    {"POST", "/api/v1/projects/:id/metrics-key", metrics_key_issue, ROLE_IT_OFFICE},
    {"GET", "/api/v1/projects/:id/metrics-key", metrics_key_get, READERS},
    /* the IT office, or the project's metrics key (ROLE_SYSTEM: http.h) */
    {"POST", "/api/v1/metrics/usage", metrics_usage_record, ROLE_IT_OFFICE | ROLE_SYSTEM},
    {"GET", "/api/v1/metrics/usage", metrics_usage_list, READERS | ROLE_APPLICANT},
    {"GET", "/api/v1/metrics/usage/:id", metrics_usage_get, READERS | ROLE_APPLICANT},

    /* issue 12 E: evaluations */
    {"GET", "/api/v1/evaluations/projects/:id", evaluations_project, EVAL_READERS},
    {"GET", "/api/v1/evaluations/departments/:id", evaluations_department, EVAL_READERS},
    {"POST", "/api/v1/evaluations/departments/:id/publish", evaluations_publish, ROLE_IT_OFFICE},
    {"GET", "/api/v1/evaluations/departments/:id/published", evaluations_published, EVAL_READERS},

    /* issue 13: tasks (me/tasks) */
    {"GET", "/api/v1/me/tasks", tasks_list, ROLE_ANY},
    {"GET", "/api/v1/me/tasks/summary", tasks_summary, ROLE_ANY},

    /* issue 14 A: system keys and findings */
    {"POST", "/api/v1/projects/:id/system-keys", system_keys_issue, ROLE_IT_OFFICE},
    {"GET", "/api/v1/projects/:id/system-keys", system_keys_list, READERS},
    {"POST", "/api/v1/system-keys/:key_id/revoke", system_keys_revoke, ROLE_IT_OFFICE},
    {"GET", "/api/v1/systems/findings", findings_list, READERS},
    {"POST", "/api/v1/systems/findings/:id/resolve", findings_resolve, ROLE_IT_OFFICE},
    /* issue 14 B: log digests */
    {"POST", "/api/v1/systems/:id/log-digests", log_digests_create, ROLE_SYSTEM},
    {"POST", "/api/v1/log-digests/verify", log_digests_verify, READERS | ROLE_SYSTEM},
    {"GET", "/api/v1/log-digests/:id", log_digests_get, READERS | ROLE_SYSTEM},
    /* issue 14 C: configuration fingerprints */
    {"POST", "/api/v1/systems/:id/config-fingerprints", config_fingerprints_record, ROLE_SYSTEM},
};
const size_t audit_nroutes = sizeof audit_routes / sizeof audit_routes[0];
