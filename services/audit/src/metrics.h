/*
 * Usage metrics (issue 12 D, article 23): the metrics key of a system in
 * operation (metrics_keys.c) and the daily usage samples it or the IT
 * office reports (metrics.c). Tables and project_fact(): migrations/
 * 0017_metrics.sql.
 */
#ifndef AUDIT_METRICS_H
#define AUDIT_METRICS_H

#include "itgov/http.h"

/* POST /api/v1/projects/{id}/metrics-key (it_office) */
void metrics_key_issue(struct req *r);
/* GET /api/v1/projects/{id}/metrics-key (it_office, auditor, admin): the
 * live key's record, never the key */
void metrics_key_get(struct req *r);
/* The audit service's system-key verifier (system_auth_fn, http.h). */
void metrics_key_auth(void *app, const char *key, session_auth_cb cb, void *cb_arg);

/* POST /api/v1/metrics/usage (it_office, or the project's metrics key) */
void metrics_usage_record(struct req *r);
/* GET /api/v1/metrics/usage?project_id=&from=&to=&include_replaced= */
void metrics_usage_list(struct req *r);
/* GET /api/v1/metrics/usage/{id} */
void metrics_usage_get(struct req *r);

/* The 409 for a project whose state refuses the action: a halted one's
 * (error_project_halted: project_suspended, or invalid_state terminated),
 * else invalid_state naming the state. */
struct error *metrics_state_error(long long project_id, const char *state, const char *action);

#endif
