/*
 * What the approvals service takes from others, and the deadline watch.
 *   projects: project.submitted, plan.submitted, contract.submitted,
 *     project.acceptance_requested and change.submitted open a case of the
 *     kind case_kinds.c names for that event, at its first step, due
 *     ITGOV_REVIEW_DAYS later (at most one open case per subject), of the
 *     variant the event's data names when the kind has variants (a
 *     change's level); issue 12 B: rectification.overdue and
 *     project.resume_requested open an escalation about the project
 *     (case_kinds.c: its subject from data.project_id for the former, the
 *     variant fixed by the event, the data the case keeps), which may be
 *     open beside another case of the project: one open escalation per
 *     project, variant and rectification (0017_escalation.sql);
 *   accounts: account.user.* keep the users table (roles, department,
 *     disabled) that says who may be invited as an expert.
 * Both are read from the sources' outboxes (itgov/follow.h; the bus only
 * wakes the reads). Each effect and its inbox row are one statement.
 * Every ITGOV_SCAN_INTERVAL_S the scan marks open cases past due_at and
 * emits approval.case.overdue once per case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "approvals.h"
#include "case_kinds.h"
#include "itgov/db.h"
#include "itgov/follow.h"
#include "itgov/log.h"
#include "itgov/outbox.h"
#include "itgov/scan.h"
#include "itgov/service.h"

static struct follow *s_follow;
static struct scan *s_scan;

static const char *s_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool s_num(const cJSON *o, const char *name, char out[24])
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v)) return false;
    snprintf(out, 24, "%lld", (long long)v->valuedouble);
    return true;
}

/* an opening event (case_kinds.c) → a case opens */
static void s_on_submitted(void *arg, const cJSON *ev, struct follow_job *job)
{
    struct service *svc = arg;
    const char *type = s_str(ev, "type"), *id = s_str(ev, "id");
    const struct case_kind *k = case_kind_opened_by(type);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(ev, "data");
    char subject[128];
    if (!k || !case_open_subject(k, s_str(ev, "subject"), data, subject, sizeof subject))
        return follow_done(job, true);
    char dept[24], sub[24], actor[24], days[24];
    bool has_dept = s_num(data, "department_id", dept);
    if (!s_num(data, "submission", sub)) snprintf(sub, sizeof sub, "0");
    bool has_actor = s_num(ev, "actor", actor);
    snprintf(days, sizeof days, "%ld", approvals_cfg.review_days);
    cJSON *keep = case_open_data(k, data);
    char *keep_json = keep ? cJSON_PrintUnformatted(keep) : NULL;
    cJSON_Delete(keep);
    const char *params[] = {id,
                            type,
                            k->kind,
                            subject,
                            has_dept ? dept : NULL,
                            sub,
                            k->first_step,
                            days,
                            has_actor ? actor : NULL,
                            case_open_variant(k, data),
                            keep_json};
    /* one open case per subject for most kinds; escalations one per subject, variant and
     * rectification (0017_escalation.sql): any unique index refuses a second one */
    follow_apply(job, svc->db,
                 "WITH i AS (INSERT INTO inbox (event_id, type) VALUES ($1, $2) "
                 "ON CONFLICT DO NOTHING RETURNING 1), "
                 "c AS (INSERT INTO cases (kind, subject, subject_department_id, submission, step, "
                 "due_at, variant, data) SELECT $3, $4, $5::bigint, $6::int, $7, "
                 "now() + make_interval(days => $8::int), $10, $11::jsonb FROM i "
                 "ON CONFLICT DO NOTHING RETURNING *) "
                 "SELECT emit('itgov.approval.case.opened', 'approvals/' || c.id, $9::bigint, "
                 "jsonb_build_object('case', case_doc(c), 'submission', c.submission)) FROM c",
                 11, params);
    free(keep_json);
}

/* account.user.* → the users table */
static void s_on_user(void *arg, const cJSON *ev, struct follow_job *job)
{
    struct service *svc = arg;
    const char *type = s_str(ev, "type"), *id = s_str(ev, "id");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(ev, "data");
    const cJSON *roles = cJSON_GetObjectItemCaseSensitive(data, "roles");
    char uid[24], dept[24];
    if (!s_num(data, "id", uid) || !cJSON_IsArray(roles)) return follow_done(job, true);
    bool has_dept = s_num(data, "department_id", dept);
    char *roles_json = cJSON_PrintUnformatted(roles);
    const char *updated = s_str(data, "updated_at");
    const cJSON *disabled = cJSON_GetObjectItemCaseSensitive(data, "disabled");
    const char *params[] = {id,
                            type,
                            uid,
                            roles_json,
                            has_dept ? dept : NULL,
                            cJSON_IsTrue(disabled) ? "true" : "false",
                            updated ? updated : ""};
    follow_apply(
        job, svc->db,
        "WITH i AS (INSERT INTO inbox (event_id, type) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING RETURNING 1) "
        "INSERT INTO users (id, roles, department_id, disabled, updated_at) "
        "SELECT $3, ARRAY(SELECT jsonb_array_elements_text($4::jsonb)), $5::bigint, $6, $7 "
        "FROM i ON CONFLICT (id) DO UPDATE SET roles = excluded.roles, "
        "department_id = excluded.department_id, disabled = excluded.disabled, "
        "updated_at = excluded.updated_at WHERE users.updated_at <= excluded.updated_at",
        7, params);
    free(roles_json);
}

/* ---- start and stop ------------------------------------------------------------------ */

enum { FROM_PROJECTS, FROM_ACCOUNTS };

static void s_handle(void *arg, int source, long long sourceseq, const cJSON *ev,
                     struct follow_job *job)
{
    if (source == FROM_PROJECTS)
        s_on_submitted(arg, ev, job);
    else
        s_on_user(arg, ev, job);
}

int consumer_start(struct service *svc)
{
    char endpoint[300];
    snprintf(endpoint, sizeof endpoint, "tcp://%s:%ld", approvals_cfg.broker_host,
             approvals_cfg.broker_xpub_port);
    static const char *const submitted[] = {
        "project.submitted", "plan.submitted", "contract.submitted", "project.acceptance_requested",
        "change.submitted",
        /* issue 12 B: escalations */
        "rectification.overdue", "project.resume_requested", NULL};
    static const char *const users[] = {"account.user.", NULL};
    const struct follow_source sources[] = {
        [FROM_PROJECTS] = {.name = "projects",
                           .host = approvals_cfg.projects_host,
                           .port = (int)approvals_cfg.projects_port,
                           .types = submitted},
        [FROM_ACCOUNTS] = {.name = "accounts",
                           .host = approvals_cfg.accounts_host,
                           .port = (int)approvals_cfg.accounts_port,
                           .types = users},
    };
    const struct follow_config fc = {
        .sources = sources,
        .nsources = 2,
        .bus_endpoint = endpoint,
        .poll_ms = (int)approvals_cfg.feed_poll_ms,
        .handler = s_handle,
        .arg = svc,
    };
    s_follow = follow_new(svc, &fc);
    /* open cases past due_at are marked, case.overdue emitted once per case */
    s_scan = scan_new(svc, approvals_cfg.scan_interval_s, "case(s) became overdue",
                      "WITH c AS (UPDATE cases SET overdue_at = now() WHERE step <> 'closed' "
                      "AND due_at < now() AND overdue_at IS NULL RETURNING *) "
                      "SELECT emit('itgov.approval.case.overdue', 'approvals/' || c.id, NULL, "
                      "jsonb_build_object('case', case_doc(c), 'submission', c.submission)) "
                      "FROM c");
    return s_follow && s_scan ? 0 : -1;
}

void consumer_stop(struct service *svc)
{
    follow_destroy(&s_follow);
    scan_destroy(&s_scan);
}
