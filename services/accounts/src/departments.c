/*
 * Departments: the IT office, the using departments and external units.
 * Created by admins, readable by every signed-in user, never deleted.
 */
#include <stdio.h>
#include "accounts.h"
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/service.h"

static const char *const s_kinds[] = {"department", "it_office", "external", NULL};

void departments_create(struct req *r)
{
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *code = fields_str(&f, "code", F_REQUIRED, 1, 32);
    const char *name = fields_str(&f, "name", F_REQUIRED, 1, 200);
    const char *kind = fields_enum(&f, "kind", F_REQUIRED, s_kinds);
    static const char *const known[] = {"code", "name", "kind", NULL};
    fields_only(&f, known);
    struct error *err = fields_done(&f);
    if (err) return reply_error(r, err);

    char actor[24];
    snprintf(actor, sizeof actor, "%lld", r->user->id);
    const char *params[] = {code, name, kind, actor};
    db_query(req_service(r)->db,
             "WITH d AS (INSERT INTO departments (code, name, kind) VALUES ($1, $2, $3) "
             "RETURNING *) "
             "SELECT department_doc(d)::text, emit('itgov.account.department.created', "
             "'departments/' || d.id, $4, department_doc(d)) FROM d",
             4, params, reply_row_created_tagged, r);
}

void departments_list(struct req *r)
{
    reply_page(r, DB_PAGE_SQL("SELECT id, department_doc(d) AS doc FROM departments d "
                              "WHERE id > $1 ORDER BY id LIMIT $2"));
}

void departments_get(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    const char *params[] = {req_param(r, "id")};
    db_query(req_service(r)->db, "SELECT department_doc(d)::text FROM departments d WHERE id = $1",
             1, params, reply_row_tagged, r);
}
