/*
 * Backups of systems in operation (article 17): the owning department's
 * applicants or the IT office record each backup taken, by disaster
 * recovery or on a storage medium (then media_id names a registered medium,
 * media.c), where it is kept, and when its restore was last tested. The
 * stale list shows the systems in operation whose backups need attention:
 * none at all, the newest older than N days, or never a restore test.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/outbox.h"
#include "itgov/service.h"
#include "projects.h"

#define STALE_DAYS_DEFAULT "7"

static const char *const s_methods[] = {"disaster_recovery", "storage_media", NULL};

static void s_on_recorded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such project"));
    if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        struct error *e = error_new(ERR_VALIDATION, "the backup names no registered medium");
        error_add_field(e, "media_id", "is not a registered medium");
        return reply_error(r, e);
    }
    if (PQgetisnull(res, 0, 2)) /* the project left operation meanwhile */
        return reply_invalid_state(r, "project", PQgetvalue(res, 0, 1), "backed up");
    reply_created_at(r, res, 2, "/api/v1/projects/%s/backups", req_param(r, "id"));
}

static void s_on_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (!project_visible_check(r, res)) return;
    if (!(r->user->roles & ROLE_IT_OFFICE) &&
        atoll(PQgetvalue(res, 0, PROJECT_DEPT)) != r->user->department_id)
        return reply_error(r, error_new(ERR_FORBIDDEN, "only the IT office or applicants of the "
                                                       "owning department record backups"));
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *taken_at = fields_instant(&f, "taken_at", F_REQUIRED);
    const char *method = fields_enum(&f, "method", F_REQUIRED, s_methods);
    long long media = 0;
    bool has_media = fields_int(&f, "media_id", F_OPTIONAL, 1, LLONG_MAX, &media);
    if (method && strcmp(method, "storage_media") == 0 && !fields_has(&f, "media_id"))
        fields_fail(&f, "media_id", "is required when method is storage_media");
    const char *location = fields_str(&f, "location", F_REQUIRED, 1, 500);
    const char *tested = fields_instant(&f, "restore_tested_at", F_OPTIONAL);
    static const char *const known[] = {"taken_at",          "method", "media_id", "location",
                                        "restore_tested_at", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);

    const char *state = PQgetvalue(res, 0, PROJECT_STATE);
    if (strcmp(state, "in_operation") != 0)
        return reply_invalid_state(r, "project", state, "backed up");

    char medias[24], actor[24];
    id_text(medias, media);
    id_text(actor, r->user->id);
    const char *params[] = {req_param(r, "id"), taken_at, method, has_media ? medias : NULL,
                            location,           tested,   actor};
    db_query(
        req_service(r)->db,
        "WITH p AS (SELECT id, state, ($4::bigint IS NULL OR EXISTS "
        "(SELECT 1 FROM media WHERE id = $4::bigint)) AS media_ok FROM projects WHERE id = $1), "
        "b AS (INSERT INTO backups (project_id, taken_at, method, media_id, location, "
        "restore_tested_at, recorded_by) SELECT p.id, $2::timestamptz, $3, $4::bigint, $5, "
        "$6::timestamptz, $7 FROM p WHERE p.media_ok AND p.state = 'in_operation' "
        "RETURNING *), "
        "e AS (SELECT backup_doc(b) AS doc, emit('itgov.backup.recorded', "
        "'projects/' || b.project_id, $7, backup_doc(b)) AS n FROM b) "
        "SELECT p.media_ok, p.state, (SELECT doc::text FROM e) FROM p",
        7, params, s_on_recorded, r);
}

void backups_create(struct req *r)
{
    project_load(r, s_on_loaded);
}

/* The backups of one project, oldest first: whoever sees the project. */
void backups_of_project(struct req *r)
{
    project_page(r, PROJECT_RECORDS_SQL("backups", "backup_doc"), NULL, 0);
}

/* Systems in operation whose backups need attention, by project id: one
 * item per project, `reasons` every rule that applies in the order
 * no_backup, too_old (the newest backup was taken more than `days` days
 * ago), no_restore_test (no backup of it has a restore test), and `reason`
 * the first of them. */
void backups_stale(struct req *r)
{
    int limit;
    long long cursor;
    if (!req_page(r, &limit, &cursor)) return;
    struct error *e = NULL;
    long long days = 0;
    req_query_int(r, "days", 1, 3650, "must be a whole number of days from 1 to 3650", &days, &e);
    if (e) return reply_error(r, e);
    char c[24], l[16];
    id_text(c, cursor);
    snprintf(l, sizeof l, "%d", limit);
    const char *d = req_query(r, "days");
    const char *params[] = {c, l, d ? d : STALE_DAYS_DEFAULT};
    db_query(
        req_service(r)->db,
        DB_PAGE_SQL("SELECT p.id, json_build_object('project_id', p.id, 'title', p.title, "
                    "'last_backup_at', rfc3339(b.last), 'restore_tested_at', rfc3339(b.tested), "
                    "'reason', x.reasons[1], 'reasons', to_json(x.reasons)) AS doc "
                    "FROM projects p "
                    "LEFT JOIN LATERAL (SELECT max(k.taken_at) AS last, "
                    "max(k.restore_tested_at) AS tested FROM backups k "
                    "WHERE k.project_id = p.id) b ON true "
                    "CROSS JOIN LATERAL (SELECT array_remove(ARRAY["
                    "CASE WHEN b.last IS NULL THEN 'no_backup' END, "
                    "CASE WHEN b.last < now() - make_interval(days => $3::int) "
                    "THEN 'too_old' END, "
                    "CASE WHEN b.tested IS NULL THEN 'no_restore_test' END], NULL) AS reasons) x "
                    "WHERE p.state = 'in_operation' AND p.id > $1 "
                    "AND cardinality(x.reasons) > 0 ORDER BY p.id LIMIT $2"),
        3, params, reply_row, r);
}
