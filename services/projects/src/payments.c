/*
 * Payments on a project's contracts (article 12): an applicant of the
 * owning department records each one against an approved contract of the
 * project, once the project is accepted and its asset registered. Refusals,
 * in order: 400 (a bad field; a contract that is not this project's), 409
 * payment_blocked naming what is missing (acceptance, asset,
 * approved_contract), 409 conflict (the voucher number is used), 422
 * over_contract (the contract's payments would exceed its amount).
 *
 * The limit holds under any number of parallel payments: the write is one
 * statement whose core is a conditional UPDATE of the contract's running
 * total, paid_cents + amount <= amount_cents. Under READ COMMITTED the
 * UPDATE waits for the row lock and re-evaluates its WHERE on the newest
 * row version (a SUM over payments in a subquery would read the statement's
 * snapshot, stale by then); the payment row and its event come from the
 * UPDATE's result in the same statement. When it updates nothing, a fresh
 * read says why (paid_cents only grows, a gate once met stays met).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/service.h"
#include "money_rules.h"
#include "projects.h"

#define MAX_AMOUNT 1000000000000000LL
#define ATTEMPTS   3

struct payment_in {
    const char *paid_at, *voucher_no;
    long long contract_id, amount;
};

/* Reads the body (the request keeps it parsed) into in; false when it
 * replied 400 (a bad field). */
static bool s_read(struct req *r, struct payment_in *in)
{
    const cJSON *body = req_body(r);
    if (!body) return false;
    struct fields f;
    fields_init(&f, body);
    in->contract_id = 0;
    in->amount = 0;
    fields_int(&f, "contract_id", F_REQUIRED, 1, INT64_MAX, &in->contract_id);
    fields_int(&f, "amount_cents", F_REQUIRED, 1, MAX_AMOUNT, &in->amount);
    in->paid_at = fields_instant(&f, "paid_at", F_REQUIRED);
    in->voucher_no = fields_str(&f, "voucher_no", F_REQUIRED, 1, 64);
    static const char *const known[] = {"contract_id", "amount_cents", "paid_at", "voucher_no",
                                        NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (!e) return true;
    reply_error(r, e);
    return false;
}

static void s_check(struct req *r);

/* Attempts so far, kept in r->ctx (a count, nothing to free). */
static int s_attempts(const struct req *r)
{
    return (int)(intptr_t)r->ctx;
}

static void s_on_written(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err); /* 23505: the voucher number, used meanwhile */
    if (PQntuples(res) == 0) {
        if (s_attempts(r) >= ATTEMPTS)
            return reply_error(
                r, error_new(ERR_CONFLICT, "the contract changed meanwhile; try again"));
        return s_check(r); /* why: a fresh read */
    }
    reply_raw(r, 201, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

static void s_write(struct req *r, const struct payment_in *in)
{
    char cid[24], amount[24], actor[24];
    id_text(cid, in->contract_id);
    id_text(amount, in->amount);
    id_text(actor, r->user->id);
    const char *params[] = {req_param(r, "id"), cid, amount, in->paid_at, in->voucher_no, actor};
    db_query(req_service(r)->db,
             "WITH c AS (UPDATE contracts c SET paid_cents = c.paid_cents + $3::bigint, "
             "version = c.version + 1, updated_at = now() "
             "WHERE c.id = $2::bigint AND c.project_id = $1::bigint AND c.state = 'approved' "
             "AND c.paid_cents + $3::bigint <= c.amount_cents "
             "AND EXISTS (SELECT 1 FROM projects p WHERE p.id = $1::bigint "
             "AND p.state IN ('accepted', 'in_operation')) "
             "AND EXISTS (SELECT 1 FROM assets a WHERE a.project_id = $1::bigint) "
             "RETURNING c.*), "
             "y AS (INSERT INTO payments (project_id, contract_id, amount_cents, paid_at, "
             "voucher_no, created_by) SELECT c.project_id, c.id, $3::bigint, $4::timestamptz, "
             "$5, $6::bigint FROM c RETURNING *) "
             "SELECT payment_doc(y)::text, emit('itgov.project.payment.recorded', "
             "'projects/' || y.project_id, $6::bigint, payment_doc(y) || "
             "jsonb_build_object('contract_amount_cents', c.amount_cents, "
             "'contract_paid_cents', c.paid_cents)) FROM y, c",
             6, params, s_on_written, r);
}

enum { C_STATE, C_ASSET, C_FOUND, C_CSTATE, C_AMOUNT, C_PAID, C_VOUCHER };

static void s_on_checked(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such project"));
    struct payment_in in;
    if (!s_read(r, &in)) return;
    if (strcmp(PQgetvalue(res, 0, C_FOUND), "t") != 0) {
        struct error *e = error_new(ERR_VALIDATION, "some fields are missing or invalid");
        error_add_field(e, "contract_id", "is not a contract of this project");
        return reply_error(r, e);
    }
    if (project_halted_reply(r, PQgetvalue(res, 0, C_STATE))) return;
    cJSON *missing =
        payment_missing(PQgetvalue(res, 0, C_STATE), strcmp(PQgetvalue(res, 0, C_ASSET), "t") == 0,
                        PQgetvalue(res, 0, C_CSTATE));
    if (cJSON_GetArraySize(missing) > 0)
        return reply_gate(r, "payment_blocked", missing,
                          "no payment before the project is accepted, its asset registered and "
                          "the contract approved");
    cJSON_Delete(missing);
    if (strcmp(PQgetvalue(res, 0, C_VOUCHER), "t") == 0)
        return reply_error(r, error_new(ERR_CONFLICT, "voucher_no is used by another payment"));
    long long amount = atoll(PQgetvalue(res, 0, C_AMOUNT));
    long long paid = atoll(PQgetvalue(res, 0, C_PAID)), left = 0;
    if (!payment_fits(amount, paid, in.amount, &left)) {
        struct error *e = error_new(ERR_UNPROCESSABLE,
                                    "the payments on the contract would exceed its amount: "
                                    "%lld cents remain",
                                    left);
        e->code_override = "over_contract";
        error_set(e, "contract_amount_cents", cJSON_CreateNumber((double)amount));
        error_set(e, "paid_cents", cJSON_CreateNumber((double)paid));
        error_set(e, "remaining_cents", cJSON_CreateNumber((double)left));
        return reply_error(r, e);
    }
    s_write(r, &in);
}

/* Reads what the refusals depend on, afresh (a new snapshot each time). */
static void s_check(struct req *r)
{
    struct payment_in in;
    if (!s_read(r, &in)) return;
    r->ctx = (void *)(intptr_t)(s_attempts(r) + 1);
    char cid[24];
    id_text(cid, in.contract_id);
    const char *params[] = {req_param(r, "id"), cid, in.voucher_no};
    db_query(req_service(r)->db,
             "SELECT p.state, EXISTS (SELECT 1 FROM assets a WHERE a.project_id = p.id), "
             "c.id IS NOT NULL, c.state, c.amount_cents, c.paid_cents, "
             "EXISTS (SELECT 1 FROM payments y WHERE y.voucher_no = $3) "
             "FROM projects p LEFT JOIN contracts c ON c.id = $2::bigint AND c.project_id = p.id "
             "WHERE p.id = $1::bigint",
             3, params, s_on_checked, r);
}

static void s_on_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (project_action_body(r, res, err)) s_check(r); /* s_read: the body, checked */
}

void payments_create(struct req *r)
{
    project_load(r, s_on_loaded);
}

void payments_list(struct req *r)
{
    project_page(r, PROJECT_RECORDS_SQL("payments", "payment_doc"), NULL, 0);
}

void payments_get(struct req *r)
{
    long long id, pid;
    if (!req_param_id(r, "id", &id) || !req_param_id(r, "pid", &pid)) return;
    const char *extra[] = {req_param(r, "pid")};
    project_query(r, "id",
                  "SELECT payment_doc(y)::text FROM projects p JOIN payments y "
                  "ON y.project_id = p.id WHERE p.id = $1 AND y.id = $7::bigint "
                  "AND " VISIBLE("2", "3", "4", "5", "6"),
                  extra, 1, reply_row_tagged);
}
