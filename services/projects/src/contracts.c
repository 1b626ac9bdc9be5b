/*
 * Contracts (articles 8-9): an applicant of the owning department records
 * each contract of an approved or implementing project; it starts
 * pending_review and its itgov.contract.submitted event opens a contract
 * case in the approvals service, whose review by the IT office makes it
 * approved or rejected (consumer.c, contract_fsm). contract_no is unique
 * across all projects (409 conflict, also under parallel requests: the
 * unique index decides). Whoever may see the project reads its contracts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/service.h"
#include "projects.h"

#define MAX_AMOUNT 1000000000000000LL

/* the project states in which contracts may be recorded */
static const char *const s_open_states[] = {"approved", "implementing", NULL};
#define OPEN_STATES "{approved,implementing}"

static const char *const s_methods[] = {"public_tender", "competitive_negotiation", "single_source",
                                        "inquiry",       "framework_agreement",     NULL};

static bool s_in(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0) return true;
    return false;
}

/* ---- create ------------------------------------------------------------------ */

/* columns: doc, version, id, the project's state now */
static void s_on_created(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) /* the project moved meanwhile */
        return reply_invalid_state(r, "project", PQgetvalue(res, 0, 3),
                                   "given a contract (it must be approved or implementing)");
    char loc[64];
    snprintf(loc, sizeof loc, "/api/v1/contracts/%s", PQgetvalue(res, 0, 2));
    req_add_header(r, "Location", loc);
    reply_doc_etag(r, 201, res);
}

static void s_on_create_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    const cJSON *body = project_action_body(r, res, err);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *no = fields_str(&f, "contract_no", F_REQUIRED, 1, 64);
    const char *vendor = fields_str(&f, "vendor", F_REQUIRED, 1, 200);
    long long amount = 0;
    fields_int(&f, "amount_cents", F_REQUIRED, 1, MAX_AMOUNT, &amount);
    const char *signed_at = fields_instant(&f, "signed_at", F_REQUIRED);
    const char *method = fields_enum(&f, "procurement_method", F_REQUIRED, s_methods);
    static const char *const known[] = {"contract_no",        "vendor", "amount_cents", "signed_at",
                                        "procurement_method", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);

    const char *state = PQgetvalue(res, 0, PROJECT_STATE);
    if (!s_in(s_open_states, state))
        return reply_invalid_state(r, "project", state,
                                   "given a contract (it must be approved or implementing)");

    char ids[24], amounts[24], actor[24];
    id_text(ids, atoll(req_param(r, "id")));
    id_text(amounts, amount);
    id_text(actor, r->user->id);
    const char *params[] = {ids, OPEN_STATES, no, vendor, amounts, signed_at, method, actor};
    /* the project's row is shared-locked so it cannot leave the states
     * checked while the contract goes in */
    db_query(req_service(r)->db,
             "WITH p AS (SELECT id FROM projects WHERE id = $1 AND state = ANY($2::text[]) "
             "FOR SHARE), "
             "c AS (INSERT INTO contracts (project_id, contract_no, vendor, amount_cents, "
             "signed_at, procurement_method, created_by) "
             "SELECT p.id, $3, $4, $5::bigint, $6::timestamptz, $7, $8::bigint FROM p "
             "RETURNING *), "
             "e AS (SELECT emit('itgov.contract.submitted', 'contracts/' || c.id, $8::bigint, "
             "contract_event(c)) AS n FROM c) "
             "SELECT (SELECT contract_doc(c)::text FROM c), (SELECT version FROM c), "
             "(SELECT id FROM c), (SELECT state FROM projects WHERE id = $1), "
             "(SELECT count(*) FROM e)",
             8, params, s_on_created, r);
}

void contracts_create(struct req *r)
{
    project_load(r, s_on_create_loaded);
}

/* ---- read --------------------------------------------------------------------- */

/* A project's contracts, oldest first, paged by id; 404 when the project
 * is not one the caller may see. */
void contracts_list(struct req *r)
{
    project_page(r, PROJECT_RECORDS_SQL("contracts", "contract_doc"), NULL, 0);
}

void contracts_get(struct req *r)
{
    project_query(r, "cid", PROJECT_RECORD_SQL("contracts", "contract_doc"), NULL, 0,
                  reply_one_etag);
}
