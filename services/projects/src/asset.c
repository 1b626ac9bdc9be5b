/*
 * The asset registration of a project (article 12): once the project is
 * accepted (or in operation), an applicant of the owning department records
 * it once, with its asset number, value, date and custodian (the person or
 * office answerable for it). Both "once" rules are unique indexes
 * (0002_delivery.sql: one asset per project, an asset number once), so they
 * hold under parallel requests: the insert skips a conflicting row and the
 * handler then says which rule it met. Whoever sees the project reads it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/service.h"
#include "money_rules.h"
#include "projects.h"

#define MAX_VALUE 1000000000000000LL

/* the states in which an asset may be registered (money_accepted) */
#define STATES_SQL "{accepted,in_operation}"

struct asset_in {
    const char *asset_no, *registered_at, *custodian;
    long long value;
};

/* Reads the body into in; false when it replied 400. */
static bool s_read(struct req *r, const cJSON *body, struct asset_in *in)
{
    struct fields f;
    fields_init(&f, body);
    in->asset_no = fields_str(&f, "asset_no", F_REQUIRED, 1, 64);
    in->value = 0;
    fields_int(&f, "value_cents", F_REQUIRED, 0, MAX_VALUE, &in->value);
    in->registered_at = fields_instant(&f, "registered_at", F_REQUIRED);
    in->custodian = fields_str(&f, "custodian", F_REQUIRED, 1, 200);
    static const char *const known[] = {"asset_no", "value_cents", "registered_at", "custodian",
                                        NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) {
        reply_error(r, e);
        return false;
    }
    return true;
}

/* After an insert that found a unique value taken (or the state gone): why. */
static void s_on_why(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such project"));
    const char *state = PQgetvalue(res, 0, 0);
    if (!money_accepted(state))
        return reply_invalid_state(r, "project", state, "given an asset registration");
    if (strcmp(PQgetvalue(res, 0, 1), "t") == 0)
        return reply_error(r, error_new(ERR_CONFLICT,
                                        "this project's asset is registered already; it is "
                                        "registered once"));
    if (strcmp(PQgetvalue(res, 0, 2), "t") == 0)
        return reply_error(r, error_new(ERR_CONFLICT, "asset_no is taken by another asset"));
    reply_error(r, error_new(ERR_CONFLICT, "the registration changed meanwhile; try again"));
}

static void s_on_written(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) {
        const cJSON *body = req_body(r); /* parsed and checked already */
        const cJSON *no = cJSON_GetObjectItemCaseSensitive(body, "asset_no");
        const char *params[] = {req_param(r, "id"), no ? no->valuestring : ""};
        db_query(req_service(r)->db,
                 "SELECT p.state, EXISTS (SELECT 1 FROM assets a WHERE a.project_id = p.id), "
                 "EXISTS (SELECT 1 FROM assets a WHERE a.asset_no = $2) "
                 "FROM projects p WHERE p.id = $1",
                 2, params, s_on_why, r);
        return;
    }
    reply_created_at(r, res, 0, "/api/v1/projects/%s/asset", req_param(r, "id"));
}

static void s_on_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    const cJSON *body = project_action_body(r, res, err);
    struct asset_in in;
    if (!body || !s_read(r, body, &in)) return;
    const char *state = PQgetvalue(res, 0, PROJECT_STATE);
    if (!money_accepted(state))
        return reply_invalid_state(r, "project", state, "given an asset registration");

    char value[24], actor[24];
    id_text(value, in.value);
    id_text(actor, r->user->id);
    const char *params[] = {req_param(r, "id"), in.asset_no,  value,
                            in.registered_at,   in.custodian, actor};
    db_query(req_service(r)->db,
             "WITH a AS (INSERT INTO assets (project_id, asset_no, value_cents, registered_at, "
             "custodian, created_by) SELECT p.id, $2, $3, $4, $5, $6 FROM projects p "
             "WHERE p.id = $1 AND p.state = ANY('" STATES_SQL "'::text[]) "
             "ON CONFLICT DO NOTHING RETURNING *) "
             "SELECT asset_doc(a)::text, emit('itgov.project.asset.registered', "
             "'projects/' || a.project_id, $6::bigint, asset_doc(a)) FROM a",
             6, params, s_on_written, r);
}

void asset_register(struct req *r)
{
    project_load(r, s_on_loaded);
}

void asset_get(struct req *r)
{
    project_read(r,
                 "SELECT asset_doc(a)::text FROM projects p JOIN assets a ON a.project_id = p.id "
                 "WHERE p.id = $1 AND " VISIBLE("2", "3", "4", "5", "6"),
                 reply_row_tagged);
}
