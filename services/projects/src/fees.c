/*
 * Maintenance fees (article 20). A system in operation that serves units
 * outside its own department may charge them a maintenance fee: the IT
 * office records the fee agreement (a rate and the paying units, every
 * revision kept; If-Match honoured), each fee received under it (a payer
 * outside the current agreement is refused, 422 payer_not_in_agreement),
 * and what the fees were used for. The yearly summary sets what was
 * received (by the year of the fee's period) against what was used (by the
 * year of the use's date). Reads of a project's agreement and fees follow
 * the project's visibility; fee uses and the summary are for the IT office,
 * auditors and admins.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/outbox.h"
#include "itgov/service.h"
#include "fee_rules.h"
#include "projects.h"

static const char *const s_categories[] = {"operations", "iteration", "upgrade", "new_project",
                                           NULL};

/* 409 not_external_service: fees are only for systems serving outside units. */
static void s_reply_not_external(struct req *r)
{
    cJSON *missing = cJSON_CreateArray();
    cJSON_AddItemToArray(missing, cJSON_CreateString("serves_external_units"));
    reply_gate(r, "not_external_service", missing,
               "the project does not serve units outside its department "
               "(serves_external_units is false), so it takes no maintenance fees");
}

/* ---- the fee agreement ----------------------------------------------------- */

/* What a PUT decides on: the project's state, whether it serves outside
 * units, and the current revision of its agreement (0: none yet). */
enum { AG_STATE, AG_EXTERNAL, AG_REVISION };

static void s_on_agreement_written(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0)
        return reply_error(r, error_new(ERR_PRECONDITION_FAILED,
                                        "the fee agreement changed meanwhile; read it and try "
                                        "again"));
    char loc[96];
    snprintf(loc, sizeof loc, "/api/v1/projects/%s/fee-agreement", req_param(r, "id"));
    bool first = atoll(PQgetvalue(res, 0, 1)) == 1;
    if (first) req_add_header(r, "Location", loc);
    reply_doc_etag(r, first ? 201 : 200, res);
}

/* 412 naming the current revision (0: there is no agreement yet). */
static void s_reply_stale(struct req *r, long long current)
{
    struct error *e =
        current ? error_new(ERR_PRECONDITION_FAILED,
                            "the fee agreement is at revision %lld; read it and try again", current)
                : error_new(ERR_PRECONDITION_FAILED, "the project has no fee agreement yet");
    error_set(e, "revision", cJSON_CreateNumber((double)current));
    reply_error(r, e);
}

/* What a valid PUT meets, in the documented order: the state, the gate,
 * then If-Match / If-None-Match against the current revision. On VERDICT_WRITE,
 * *conditional says whether the write must still find the revision in
 * expected ("0": none yet) — else it writes whatever the current one is. */
enum ag_verdict { VERDICT_WRITE, VERDICT_STATE, VERDICT_GATE, VERDICT_BAD_TAG, VERDICT_STALE };

static enum ag_verdict s_agreement_verdict(struct req *r, PGresult *res, long long current,
                                           char expected[24], bool *conditional)
{
    if (strcmp(PQgetvalue(res, 0, AG_STATE), "in_operation") != 0) return VERDICT_STATE;
    if (strcmp(PQgetvalue(res, 0, AG_EXTERNAL), "t") != 0) return VERDICT_GATE;
    const char *im = req_header(r, "If-Match"), *inm = req_header(r, "If-None-Match");
    int m = if_match_version(r, current);
    char tag[32];
    snprintf(tag, sizeof tag, "\"%lld\"", current);
    enum etag_result nm = inm ? etag_match(inm, tag, true) : ETAG_NO_MATCH;
    if (m == -2 || nm == ETAG_MALFORMED) return VERDICT_BAD_TAG;
    if (m != -1 && (current == 0 || m == 0)) return VERDICT_STALE; /* If-Match: no such revision */
    if (inm && current > 0 && nm == ETAG_MATCH) return VERDICT_STALE; /* If-None-Match: it exists */
    if (m == 1 && strchr(im, '"')) { /* a tag, not "*": that revision and no other */
        id_text(expected, current);
        *conditional = true;
    } else if (inm && current == 0 && strchr(inm, '*')) { /* create only */
        id_text(expected, 0);
        *conditional = true;
    }
    return VERDICT_WRITE;
}

static void s_on_agreement_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such project"));

    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    long long rate = 0;
    fields_int(&f, "rate_basis_points", F_REQUIRED, 0, FEE_MAX_RATE_BASIS_PTS, &rate);
    char *units = fee_payer_units(&f, fields_array(&f, "payer_units", F_REQUIRED));
    const char *from = fields_date(&f, "effective_from", F_REQUIRED);
    static const char *const known[] = {"rate_basis_points", "payer_units", "effective_from", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) {
        free(units);
        return reply_error(r, e);
    }

    long long current = atoll(PQgetvalue(res, 0, AG_REVISION));
    char expected[24];
    bool conditional = false;
    enum ag_verdict v = s_agreement_verdict(r, res, current, expected, &conditional);
    if (v != VERDICT_WRITE) {
        free(units);
        switch (v) {
        case VERDICT_STATE:
            return reply_invalid_state(r, "project", PQgetvalue(res, 0, AG_STATE),
                                       "given a fee agreement");
        case VERDICT_GATE:
            return s_reply_not_external(r);
        case VERDICT_BAD_TAG:
            return reply_bad_if_match(r);
        default:
            return s_reply_stale(r, current);
        }
    }

    char ids[24], rates[24], actor[24];
    id_text(ids, atoll(req_param(r, "id")));
    id_text(rates, rate);
    id_text(actor, r->user->id);
    const char *params[] = {ids, conditional ? expected : NULL, rates, units, from, actor};
    db_query(req_service(r)->db,
             "WITH p AS (SELECT p.id FROM projects p WHERE p.id = $1 "
             "AND p.state = 'in_operation' AND p.serves_external_units), "
             "h AS (INSERT INTO fee_agreement_heads AS h (project_id, revision) "
             "SELECT p.id, 1 FROM p ON CONFLICT (project_id) DO UPDATE "
             "SET revision = h.revision + 1 WHERE $2::int IS NULL OR h.revision = $2::int "
             "RETURNING h.project_id, h.revision), "
             "a AS (INSERT INTO fee_agreements (project_id, revision, rate_basis_points, "
             "payer_units, effective_from, author_id) "
             "SELECT h.project_id, h.revision, $3::int, "
             "ARRAY(SELECT t.u FROM jsonb_array_elements_text($4::jsonb) WITH ORDINALITY "
             "AS t(u, n) ORDER BY t.n), $5::date, $6::bigint FROM h RETURNING *) "
             "SELECT fee_agreement_doc(a)::text, a.revision, "
             "emit('itgov.fee.agreement_set', 'projects/' || a.project_id, $6::bigint, "
             "fee_agreement_doc(a)) FROM a",
             6, params, s_on_agreement_written, r);
    free(units);
}

void fees_agreement_put(struct req *r)
{
    id_query(r,
             "SELECT p.state, p.serves_external_units, coalesce(h.revision, 0) "
             "FROM projects p LEFT JOIN fee_agreement_heads h ON h.project_id = p.id "
             "WHERE p.id = $1",
             s_on_agreement_loaded);
}

static void s_on_agreement_read(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such project"));
    if (PQgetisnull(res, 0, 0))
        return reply_error(r, error_new(ERR_NOT_FOUND, "the project has no fee agreement"));
    reply_doc_etag(r, 200, res);
}

void fees_agreement_get(struct req *r)
{
    project_read(r,
                 "SELECT CASE WHEN a.revision IS NOT NULL THEN fee_agreement_doc(a)::text END, "
                 "a.revision FROM projects p "
                 "LEFT JOIN fee_agreement_heads h ON h.project_id = p.id "
                 "LEFT JOIN fee_agreements a ON a.project_id = h.project_id "
                 "AND a.revision = h.revision "
                 "WHERE p.id = $1 AND " VISIBLE("2", "3", "4", "5", "6"),
                 s_on_agreement_read);
}

/* Every revision, oldest first; the cursor is the last revision shown. */
void fees_agreement_revisions(struct req *r)
{
    project_page(r,
                 PROJECT_PAGE_SQL("SELECT a.revision AS k, fee_agreement_doc(a) AS doc "
                                  "FROM fee_agreements a WHERE a.project_id = p.id "
                                  "AND a.revision > $8::bigint ORDER BY a.revision LIMIT $7::int"),
                 NULL, 0);
}

/* ---- fees received ---------------------------------------------------------- */

/* The write's one row: the fee (NULL when refused), then why it may have
 * been refused, as the same snapshot saw the project and its agreement. */
enum { FEE_DOC, FEE_STATE, FEE_EXTERNAL, FEE_UNITS, FEE_REVISION, FEE_ID };

static void s_on_fee_written(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such project"));
    if (!PQgetisnull(res, 0, FEE_DOC)) {
        return reply_created_at(r, res, FEE_DOC, "/api/v1/fees/%s", PQgetvalue(res, 0, FEE_ID));
    }
    const char *state = PQgetvalue(res, 0, FEE_STATE);
    if (strcmp(state, "in_operation") != 0)
        return reply_invalid_state(r, "project", state, "paid a maintenance fee");
    if (strcmp(PQgetvalue(res, 0, FEE_EXTERNAL), "t") != 0) return s_reply_not_external(r);

    /* the payer is not in the current agreement, or there is none */
    const cJSON *body = req_body(r); /* parsed already: the request owns it */
    const cJSON *payer = cJSON_GetObjectItemCaseSensitive(body, "payer_unit");
    struct error *e;
    cJSON *allowed = NULL;
    if (PQgetisnull(res, 0, FEE_UNITS)) {
        e = error_new(ERR_UNPROCESSABLE, "the project has no fee agreement: no unit may pay a "
                                         "fee before the IT office sets one");
        allowed = cJSON_CreateArray();
    } else {
        e = error_new(ERR_UNPROCESSABLE,
                      "the payer unit is not in the project's fee agreement (revision %s); "
                      "allowed_payer_units lists the units that are",
                      PQgetvalue(res, 0, FEE_REVISION));
        allowed = cJSON_Parse(PQgetvalue(res, 0, FEE_UNITS));
        if (!allowed) allowed = cJSON_CreateArray();
    }
    e->code_override = "payer_not_in_agreement";
    error_set(e, "payer_unit", cJSON_CreateString(cJSON_GetStringValue(payer)));
    error_set(e, "allowed_payer_units", allowed);
    reply_error(r, e);
}

static void s_on_fee_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such project"));

    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *payer = fields_str(&f, "payer_unit", F_REQUIRED, 1, FEE_MAX_PAYER_UNIT_LEN);
    const char *period = fields_str(&f, "period", F_REQUIRED, 0, 100);
    if (period && !fee_period_parse(period, NULL, NULL))
        fields_fail(&f, "period", "must be a month YYYY-MM from 1900-01 to 2200-12");
    long long amount = 0;
    fields_int(&f, "amount_cents", F_REQUIRED, 1, FEE_MAX_AMOUNT_CENTS, &amount);
    const char *received = fields_instant(&f, "received_at", F_REQUIRED);
    static const char *const known[] = {"payer_unit", "period", "amount_cents", "received_at",
                                        NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);

    char ids[24], amounts[24], actor[24];
    id_text(ids, atoll(req_param(r, "id")));
    id_text(amounts, amount);
    id_text(actor, r->user->id);
    const char *params[] = {ids, payer, period, amounts, received, actor};
    db_query(req_service(r)->db,
             "WITH p AS (SELECT p.id, p.state, p.serves_external_units FROM projects p "
             "WHERE p.id = $1), "
             "a AS (SELECT a.project_id, a.revision, a.payer_units FROM fee_agreement_heads h "
             "JOIN fee_agreements a ON a.project_id = h.project_id AND a.revision = h.revision "
             "WHERE h.project_id = $1), "
             "f AS (INSERT INTO fees (project_id, agreement_revision, payer_unit, period, "
             "amount_cents, received_at, created_by) "
             "SELECT p.id, a.revision, $2, ($3::text || '-01')::date, $4::bigint, $5::timestamptz, "
             "$6::bigint FROM p JOIN a ON a.project_id = p.id "
             "WHERE p.state = 'in_operation' AND p.serves_external_units "
             "AND $2 = ANY (a.payer_units) RETURNING *) "
             "SELECT (SELECT fee_doc(f)::text FROM f), p.state, p.serves_external_units, "
             "(SELECT to_json(a.payer_units)::text FROM a), (SELECT a.revision FROM a), "
             "(SELECT f.id FROM f), "
             "(SELECT count(emit('itgov.fee.received', 'projects/' || f.project_id, $6::bigint, "
             "fee_doc(f))) FROM f) FROM p",
             6, params, s_on_fee_written, r);
}

void fees_create(struct req *r)
{
    id_query(r, "SELECT 1 FROM projects WHERE id = $1", s_on_fee_loaded);
}

/* The project's fees, oldest first (by id); 404 when the project is not
 * the caller's to see. */
void fees_list(struct req *r)
{
    project_page(r, PROJECT_RECORDS_SQL("fees", "fee_doc"), NULL, 0);
}

/* :id is the fee's */
void fees_get(struct req *r)
{
    project_read(r,
                 "SELECT fee_doc(f)::text FROM fees f JOIN projects p ON p.id = f.project_id "
                 "WHERE f.id = $1 AND " VISIBLE("2", "3", "4", "5", "6"),
                 reply_row_tagged);
}

/* ---- what the fees were used for --------------------------------------------- */

static void s_on_use_written(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) {
        struct error *e = error_new(ERR_VALIDATION, "the use names a project that does not exist");
        error_add_field(e, "project_id", "is not a project");
        return reply_error(r, e);
    }
    reply_raw(r, 201, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

void fee_uses_create(struct req *r)
{
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *category = fields_enum(&f, "category", F_REQUIRED, s_categories);
    long long amount = 0, project = 0;
    fields_int(&f, "amount_cents", F_REQUIRED, 1, FEE_MAX_AMOUNT_CENTS, &amount);
    bool has_project = fields_int(&f, "project_id", F_OPTIONAL, 1, LLONG_MAX, &project);
    const char *note = fields_str(&f, "note", F_REQUIRED, 1, 2000);
    const char *used_on = fields_date(&f, "used_on", F_OPTIONAL);
    static const char *const known[] = {"category", "amount_cents", "project_id",
                                        "note",     "used_on",      NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);

    char amounts[24], projects[24], actor[24];
    id_text(amounts, amount);
    id_text(projects, project);
    id_text(actor, r->user->id);
    const char *params[] = {category, amounts, has_project ? projects : NULL, note, used_on, actor};
    db_query(req_service(r)->db,
             "WITH u AS (INSERT INTO fee_uses (category, amount_cents, project_id, note, used_on, "
             "created_by) SELECT $1, $2::bigint, $3::bigint, $4, "
             "coalesce($5::date, (now() AT TIME ZONE 'UTC')::date), $6::bigint "
             "WHERE $3::bigint IS NULL OR EXISTS (SELECT 1 FROM projects WHERE id = $3::bigint) "
             "RETURNING *) "
             "SELECT fee_use_doc(u)::text, emit('itgov.fee.used', 'fee-uses/' || u.id, "
             "$6::bigint, fee_use_doc(u)) FROM u",
             6, params, s_on_use_written, r);
}

void fee_uses_get(struct req *r)
{
    id_query(r, "SELECT fee_use_doc(u)::text FROM fee_uses u WHERE u.id = $1", reply_row_tagged);
}

void fee_uses_list(struct req *r)
{
    int limit;
    long long cursor, year = 0;
    if (!req_page(r, &limit, &cursor)) return;
    struct error *e = NULL;
    req_query_int(r, "year", 1900, 2200, "must be a year from 1900 to 2200", &year, &e);
    const char *category = req_query(r, "category");
    bool known = !category;
    for (const char *const *c = s_categories; category && *c; c++)
        if (strcmp(*c, category) == 0) known = true;
    if (!known)
        query_fail(&e, "category", "must be one of: operations, iteration, upgrade, new_project");
    if (e) return reply_error(r, e);
    char c[24], l[16];
    id_text(c, cursor);
    snprintf(l, sizeof l, "%d", limit);
    const char *params[] = {c, l, req_query(r, "year"), category};
    db_query(req_service(r)->db,
             DB_PAGE_SQL("SELECT id, fee_use_doc(u) AS doc FROM fee_uses u WHERE id > $1 "
                         "AND ($3::int IS NULL OR (u.used_on >= make_date($3::int, 1, 1) "
                         "AND u.used_on < make_date($3::int + 1, 1, 1))) "
                         "AND ($4::text IS NULL OR u.category = $4) ORDER BY id LIMIT $2"),
             4, params, reply_row, r);
}

/* ---- the yearly summary --------------------------------------------------------- */

/* Received in a year: the fees whose period lies in it, by project and
 * payer; used: the uses dated in it, by category (all four, zero when
 * none); balance = received - used. year defaults to the current one (UTC). */
void fees_summary(struct req *r)
{
    struct error *e = NULL;
    long long year = 0;
    req_query_int(r, "year", 1900, 2200, "must be a year from 1900 to 2200", &year, &e);
    if (e) return reply_error(r, e);
    const char *params[] = {req_query(r, "year")};
    db_query(req_service(r)->db,
             "WITH y AS (SELECT coalesce($1::int, "
             "extract(year FROM now() AT TIME ZONE 'UTC')::int) AS year), "
             "b AS (SELECT make_date(y.year, 1, 1) AS lo, make_date(y.year + 1, 1, 1) AS hi, "
             "y.year FROM y), "
             "rc AS (SELECT f.project_id, f.payer_unit, sum(f.amount_cents) AS cents "
             "FROM fees f, b WHERE f.period >= b.lo AND f.period < b.hi "
             "GROUP BY f.project_id, f.payer_unit), "
             "us AS (SELECT c.category, c.n, (SELECT coalesce(sum(x.amount_cents), 0) "
             "FROM fee_uses x, b WHERE x.category = c.category AND x.used_on >= b.lo "
             "AND x.used_on < b.hi) AS cents FROM unnest(ARRAY['operations', 'iteration', "
             "'upgrade', 'new_project']) WITH ORDINALITY AS c(category, n)), "
             "t AS (SELECT (SELECT coalesce(sum(cents), 0) FROM rc) AS received, "
             "(SELECT coalesce(sum(cents), 0) FROM us) AS used) "
             "SELECT json_build_object('year', b.year, "
             "'received', coalesce((SELECT json_agg(json_build_object('project_id', rc.project_id, "
             "'payer_unit', rc.payer_unit, 'amount_cents', rc.cents) "
             "ORDER BY rc.project_id, rc.payer_unit) FROM rc), '[]'::json), "
             "'used', (SELECT json_agg(json_build_object('category', us.category, "
             "'amount_cents', us.cents) ORDER BY us.n) FROM us), "
             "'received_cents', t.received, 'used_cents', t.used, "
             "'balance_cents', t.received - t.used)::text FROM b, t",
             1, params, reply_row, r);
}
