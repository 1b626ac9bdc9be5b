/*
 * The projects service: yearly IT plans (articles 4-6) and project
 * applications (articles 1-3, 7) with their state machines (project_fsm.c).
 * Approval cases live in the approvals service: a submission emits an event
 * that opens a case there, and the case's review and decision events move
 * the project or plan here (consumer.c). One file per resource; the route
 * table is in routes.c.
 */
#ifndef PROJECTS_H
#define PROJECTS_H

#include <stdbool.h>
#include <libpq-fe.h>
#include "itgov/db.h"
#include "itgov/http.h"

struct projects_config {
    const char *approvals_host;
    long approvals_port;
    long broker_xpub_port;
    const char *broker_host;
    long feed_poll_ms;
    long scan_interval_s; /* the milestone deadline scan (scan.c) */
};
extern struct projects_config projects_cfg;

extern const struct route projects_routes[];
extern const size_t projects_nroutes;

/* projects.c */
void projects_create(struct req *r);
void projects_list(struct req *r);
void projects_get(struct req *r);
void projects_update(struct req *r);
void projects_submit(struct req *r);
void projects_history(struct req *r);

/* plans.c */
void plans_create(struct req *r);
void plans_list(struct req *r);
void plans_get(struct req *r);
void plans_update(struct req *r);
void plans_submit(struct req *r);

/* implementation.c, milestones.c */
void implementation_put(struct req *r);
void implementation_get(struct req *r);
void implementation_revisions(struct req *r);
void milestones_list(struct req *r);
void milestones_complete(struct req *r);
void milestones_overdue(struct req *r);
/* scan.c: the milestone deadline scan, every ITGOV_SCAN_INTERVAL_S */
struct service;
int scan_start(struct service *svc);
void scan_stop(struct service *svc);

/* contracts.c, deliverables.c, acceptance.c */
void contracts_create(struct req *r);
void contracts_list(struct req *r);
void contracts_get(struct req *r);
/* the six kinds of article 11, in its order (NULL-terminated) */
extern const char *const deliverable_kinds[];
void deliverables_add(struct req *r);
void deliverables_list(struct req *r);
void acceptance_request(struct req *r);

/* asset.c, payments.c, golive.c */
void asset_register(struct req *r);
void asset_get(struct req *r);
void payments_create(struct req *r);
void payments_list(struct req *r);
void payments_get(struct req *r);
void golive_create(struct req *r);
void golive_get(struct req *r);

/* dossier.c */
void dossier_get(struct req *r);

/* issue 11 E: system_accounts.c */
void system_accounts_create(struct req *r);
void system_accounts_list(struct req *r);
void system_accounts_get(struct req *r);
void system_accounts_revoke(struct req *r);

/* issue 11 F: spot_checks.c, backups.c, media.c */
void spot_checks_create(struct req *r);
void spot_checks_of_project(struct req *r);
void spot_checks_list(struct req *r);
void backups_create(struct req *r);
void backups_of_project(struct req *r);
void backups_stale(struct req *r);
void media_create(struct req *r);
void media_list(struct req *r);
void media_get(struct req *r);
void media_transfer(struct req *r);

/* issue 11 G: changes.c */
void changes_create(struct req *r);
void changes_list(struct req *r);
void changes_get(struct req *r);
void changes_implemented(struct req *r);

/* issue 11 H: fees.c */
void fees_agreement_put(struct req *r);
void fees_agreement_get(struct req *r);
void fees_agreement_revisions(struct req *r);
void fees_create(struct req *r);
void fees_list(struct req *r);
void fees_get(struct req *r);
void fees_summary(struct req *r);
void fee_uses_create(struct req *r);
void fee_uses_list(struct req *r);
void fee_uses_get(struct req *r);

/* issue 12 A: info_requests.c, rectifications.c, shared_results.c */
/* the rules: supervision.h */
void rectifications_create(struct req *r);
void rectifications_list(struct req *r);
void rectifications_get(struct req *r);
void rectifications_respond(struct req *r);
void rectifications_verify(struct req *r);
void info_requests_create(struct req *r);
void info_requests_list(struct req *r);
void info_requests_get(struct req *r);
void info_requests_answer(struct req *r);
void shared_results_create(struct req *r);
void shared_results_list(struct req *r);
void shared_results_get(struct req *r);

/* issue 12 B: suspension.c */
void suspension_resume(struct req *r);
void suspension_requests(struct req *r);

/* ---- common.c ---- */

/* Who sees every project; the others see their department's (applicants)
 * and those of the cases they are invited to (experts). */
#define SEE_ALL (ROLE_IT_OFFICE | ROLE_SECRETARY | ROLE_AUDITOR | ROLE_ADMIN)

/* The visibility parameters of the caller: $uid, $dept, $all, $applicant, $expert. */
struct who {
    char uid[24], dept[24];
    const char *all, *applicant, *expert;
};
void who_of(const struct req *r, struct who *w);

/* The visibility test on a project row p, with the who-parameters at $N.. */
#define VISIBLE(a, b, c, d, e)                                                                     \
    "($" c "::boolean OR (p.department_id = $" b "::bigint AND $" d "::boolean) OR ($" e           \
    "::boolean AND EXISTS (SELECT 1 FROM project_experts x WHERE x.project_id = p.id "             \
    "AND x.user_id = $" a "::bigint)))"

/* ?name=true or false (absent: false) as "true" or "false" in *out; false
 * when it replied 400 (something else). */
bool query_flag(struct req *r, const char *name, const char **out);
/* Runs sql with $1 the path parameter :id (not an id: 404), then cb. */
void id_query(struct req *r, const char *sql, db_cb cb);
/* Runs sql with $1 the path parameter name (not an id: 404), $2..$6 the
 * caller's who-parameters (VISIBLE("2", "3", "4", "5", "6")) and the nextra
 * (at most PROJECT_MAX_EXTRA) parameters of extra from $7, then cb. */
#define PROJECT_MAX_EXTRA 4
void project_query(struct req *r, const char *name, const char *sql, const char *const *extra,
                   int nextra, db_cb cb);
/* project_query on project :id without extra parameters: a read of
 * something of one project the caller may see, e.g. with reply_one_etag;
 * sql only reads (it goes through db_read, sharing busy connections). */
void project_read(struct req *r, const char *sql, db_cb cb);

/* A page of one project's records: inner selects (k, doc) of the project
 * p, "... AND x.k > $8::bigint ORDER BY x.k LIMIT $7::int"; the page is
 * {items, next_cursor}, no row when the caller may not see p (404). */
#define PROJECT_PAGE_SQL(inner)                                                                    \
    "SELECT json_build_object('items', coalesce(json_agg(pg.doc ORDER BY pg.k) "                   \
    "FILTER (WHERE pg.k IS NOT NULL), '[]'::json), "                                               \
    "'next_cursor', CASE WHEN count(pg.k) = $7::int THEN max(pg.k)::text END)::text "              \
    "FROM projects p LEFT JOIN LATERAL (" inner ") pg ON true "                                    \
    "WHERE p.id = $1 AND " VISIBLE("2", "3", "4", "5", "6") " GROUP BY p.id"
/* The page of a project's records of table (alias x, keyed by its id)
 * as docfn(x) documents, oldest first: the common PROJECT_PAGE_SQL. */
#define PROJECT_RECORDS_SQL(table, docfn)                                                          \
    PROJECT_PAGE_SQL(                                                                              \
        "SELECT x.id AS k, " docfn "(x) AS doc FROM " table " x "                                  \
        "WHERE x.project_id = p.id AND x.id > $8::bigint ORDER BY x.id LIMIT $7::int")
/* One record :id ($1) of table (alias x) as (docfn(x), its version), if
 * the caller may see its project (project_query's $2-$6). */
#define PROJECT_RECORD_SQL(table, docfn)                                                           \
    "SELECT " docfn "(x)::text, x.version FROM " table " x "                                       \
    "JOIN projects p ON p.id = x.project_id WHERE x.id = $1 AND " VISIBLE("2", "3", "4", "5", "6")
/* Checks :id (404) and the page (400), then replies a PROJECT_PAGE_SQL
 * query with $7 the limit, $8 the cursor and extra (at most
 * PROJECT_MAX_EXTRA - 2) from $9. */
void project_page(struct req *r, const char *sql, const char *const *extra, int nextra);

/* Loads project :id (a bad id: 404) for an action on it or its records,
 * then next(r, res) with the columns PROJECT_COLS names; a project that
 * does not exist gives no row. Check it with project_owner_checks first. */
enum { PROJECT_DEPT, PROJECT_STATE, PROJECT_VERSION, PROJECT_VISIBLE, PROJECT_SUBMISSION };
void project_load(struct req *r, db_cb next);
/* project_load's query with more columns (", <expr>, ..."; "" for none)
 * after PROJECT_SUBMISSION, for project_read or project_query. */
#define PROJECT_LOAD_SQL(more)                                                                     \
    "SELECT p.department_id, p.state, p.version, " VISIBLE(                                        \
        "2", "3", "4", "5", "6") ", p.submission" more " FROM projects p WHERE p.id = $1"
/* 404 when the caller may not see the loaded project; false if it replied. */
bool project_visible_check(struct req *r, PGresult *res);
/* 404 when the caller may not see the loaded project, 403 when it is not
 * their department's; false if it replied. Run it before reading the body,
 * so refusals come in the documented order. */
bool project_owner_checks(struct req *r, PGresult *res);
/* The start of an action of whoever may see the project (the route's role
 * decides; the IT office's), in a project_load callback: the load's error,
 * project_visible_check (404), then the body (400 invalid_json); the body,
 * or NULL when it replied. */
const cJSON *project_visible_body(struct req *r, PGresult *res, struct error *err);
/* The start of an owner's action, in a project_load callback: the load's
 * error, project_owner_checks, then the body (400 invalid_json); the body,
 * or NULL when it replied. */
const cJSON *project_action_body(struct req *r, PGresult *res, struct error *err);
/* 409 with a gate's own code (acceptance_blocked, payment_blocked, ...)
 * and missing: [...] naming each unmet precondition (takes missing). */
void reply_gate(struct req *r, const char *code, cJSON *missing, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Replies status with the JSON in column 0 and ETag "<column 1>". */
void reply_doc_etag(struct req *r, int status, PGresult *res);
/* A database callback for reads of one document: 404 when no row. */
void reply_one_etag(void *req, PGresult *res, struct error *err);
/* A database callback for a create: 201 with the document and its ETag. */
void reply_created_etag(void *req, PGresult *res, struct error *err);
/* 201 with the document in column col and a Location of fmt. */
void reply_created_at(struct req *r, PGresult *res, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* issue 12 A: the reply to a statement creating a record of a project only
 * in the states it may have one in (columns: 0 the record's document, NULL
 * when the project had left them meanwhile, 1 its version, 2 its id, 3 the
 * project's state; no row: no such project): 201 with the Location
 * /api/v1/<collection>/<id> and the ETag, else the project's state refused
 * (reply_invalid_state, "cannot be <action>"). */
void reply_created_in_state(struct req *r, PGresult *res, struct error *err, const char *collection,
                            const char *action);
/* The reply to an action on record :id conditional on its status (doc,
 * version): 200 with the ETag; no row (another request moved it first):
 * its status read again (status_sql, $1 the id), then reloaded — which
 * answers with reply_reloaded_state(). */
void reply_acted(struct req *r, PGresult *res, struct error *err, const char *status_sql,
                 db_cb reloaded);
/* 409 invalid_state naming the status read again (column 0): a <what> in
 * that state cannot be <action>. */
void reply_reloaded_state(struct req *r, PGresult *res, struct error *err, const char *what,
                          const char *action);
/* The reply to a write conditional on the version (doc, version): 200 with
 * the ETag, 412 "the <what> changed meanwhile" when it wrote no row. */
void reply_written_etag(struct req *r, PGresult *res, struct error *err, const char *what);
/* The If-Match header against the current version (etag_match, strong):
 * 1 = it matches (or "*"), 0 = it does not (412), -1 = missing,
 * -2 = malformed, e.g. an unquoted 5 (400). */
int if_match_version(struct req *r, long long current);
/* 400 for a malformed If-Match. */
void reply_bad_if_match(struct req *r);
/* Replies 409 invalid_state naming the state; for a project (what
 * "project") that is suspended or terminated, project_halted_reply(). */
void reply_invalid_state(struct req *r, const char *what, const char *state, const char *action);
/* issue 12 C: a project in state `state` that is halted refuses every
 * action on it or its records: suspended → 409 project_suspended,
 * terminated → 409 invalid_state naming it. True when it replied. Call it
 * after 404/403 and the body (400), before gates; a handler that checks the
 * project's state with reply_invalid_state() gets it there. Whatever a
 * handler forgets, the write meets the same rule in the database
 * (0019_halt.sql), mapped by db_error_from(). */
bool project_halted_reply(struct req *r, const char *state);

/* consumer.c */
struct service;
int consumer_start(struct service *svc);
void consumer_stop(struct service *svc);

#endif
