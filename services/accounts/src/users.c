/*
 * Users: one account per person (unique username and employee id), created
 * only by admins; roles, department, disabling; a user's own view (/me) and
 * password change. Password hashing runs on the worker threads. After every
 * change the cached copy in Redis is refreshed, so the next request of that
 * user already sees the new roles.
 *
 * The last admin: disabling or demoting the last enabled admin (oneself
 * included) is refused with 409 last_admin. The statement that would do it
 * first locks every enabled admin's row (FOR UPDATE, in id order), so two
 * such changes at once are serialized and the second sees the first's
 * result (READ COMMITTED re-checks a locked row's newest version): two
 * admins demoting each other at once leave one admin.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "accounts.h"
#include "itgov/crypto.h"
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/log.h"
#include "itgov/outbox.h"
#include "itgov/redis.h"
#include "itgov/service.h"
#include "itgov/worker.h"

#define MIN_PASSWORD 10

/* ---- validation ---------------------------------------------------------- */

static void s_check_username(struct fields *f, const char *u)
{
    for (const char *c = u; c && *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("._-", *c)) {
            fields_fail(f, "username", "may hold only letters, digits, '.', '_' and '-'");
            return;
        }
}

static void s_check_password(struct fields *f, const char *field, const char *pw,
                             const char *username)
{
    if (!pw) return;
    if (strlen(pw) < MIN_PASSWORD)
        fields_fail(f, field, "must be at least 10 characters long");
    else if (username && strcasecmp(pw, username) == 0)
        fields_fail(f, field, "must not be the username");
}

/* Reads roles into a PostgreSQL array literal "{a,b}" (names are checked,
 * so they need no quoting); returns false when absent or bad. */
static bool s_roles(struct fields *f, int flags, char *out, size_t n)
{
    const cJSON *arr = fields_array(f, "roles", flags);
    if (!arr) return false;
    size_t used = (size_t)snprintf(out, n, "{");
    unsigned seen = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        unsigned bit = cJSON_IsString(it) ? role_bit(it->valuestring) : 0;
        if (!bit) {
            fields_fail(f, "roles",
                        "holds an unknown role (admin, it_office, applicant, expert, "
                        "secretary, auditor)");
            return false;
        }
        if (seen & bit) continue;
        seen |= bit;
        used +=
            (size_t)snprintf(out + used, n - used, "%s%s", used > 1 ? "," : "", it->valuestring);
    }
    if (!seen) {
        fields_fail(f, "roles", "must hold at least one role");
        return false;
    }
    snprintf(out + used, n - used, "}");
    return true;
}

/* A request already refused for other fields still names a department_id
 * that does not exist, so the caller sees every bad field at once. */
static void s_on_department(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    struct error *refusal = r->ctx;
    if (err) {
        error_destroy(&refusal);
        return reply_error(r, err);
    }
    if (PQntuples(res) == 0)
        error_add_field(refusal, "department_id", "refers to a record that does not exist");
    reply_error(r, refusal);
}

static void s_refuse(struct req *r, struct error *refusal, bool has_dept, long long dept)
{
    if (!has_dept) return reply_error(r, refusal);
    char ids[24];
    id_text(ids, dept);
    const char *params[] = {ids};
    r->ctx = refusal;
    db_query(req_service(r)->db, "SELECT 1 FROM departments WHERE id = $1", 1, params,
             s_on_department, r);
}

/* ---- the last admin ---------------------------------------------------------- */

/* ADMINS_LOCKED (accounts.h) comes first in every statement that may take
 * an admin away. */

/* The statement's 4th column says the change was refused: 409 last_admin. */
static bool s_refused_last_admin(struct req *r, const PGresult *res)
{
    if (PQntuples(res) == 0 || PQnfields(res) < 4 || PQgetvalue(res, 0, 3)[0] != 't') return false;
    struct error *e = error_new(ERR_CONFLICT, "this is the last enabled admin; make another "
                                              "admin first");
    e->code_override = "last_admin";
    reply_error(r, e);
    return true;
}

/* ---- after a change: refresh the cached user, then answer ----------------- */

static void s_on_cached(void *arg, struct error *err)
{
    struct req *r = arg;
    char *doc = r->ctx;
    if (err) {
        log_warn("user saved but its cached copy was not refreshed: %s", err->detail);
        error_destroy(&err);
    }
    char tag[19];
    etag_of(doc, strlen(doc), tag);
    req_add_header(r, "ETag", tag);
    reply_raw(r, 200, doc, strlen(doc));
    free(doc);
}

static void s_on_changed(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (s_refused_last_admin(r, res)) return;
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such user"));
    long long id = atoll(PQgetvalue(res, 0, 1));
    r->ctx = strdup(PQgetvalue(res, 0, 0));
    session_cache_user(req_service(r)->redis, id, r->ctx, s_on_cached, r);
}

/* ---- create ---------------------------------------------------------------- */

struct user_new {
    struct req *r;
    char *password;
    char roles[128], dept[24];
    char hash[PASSWORD_HASH_MAX];
    bool hashed;
};

static void s_hash_work(void *arg)
{
    struct user_new *u = arg;
    u->hashed = password_hash(u->password, u->hash);
}

static void s_hash_done(void *arg, bool ran)
{
    struct user_new *u = arg;
    struct req *r = u->r;
    const cJSON *b = r->body;
    sodium_memzero(u->password, strlen(u->password));
    free(u->password);
    if (!ran) {
        free(u);
        return reply_error(r, error_new(ERR_UNAVAILABLE, "stopping, or the client has gone"));
    }
    if (!u->hashed) {
        free(u);
        return reply_error(r, error_new(ERR_INTERNAL, "cannot hash the password"));
    }
    char actor[24];
    id_text(actor, r->user->id);
    const char *params[] = {cJSON_GetObjectItem(b, "username")->valuestring,
                            cJSON_GetObjectItem(b, "display_name")->valuestring,
                            cJSON_GetObjectItem(b, "employee_id")->valuestring,
                            u->dept,
                            u->roles,
                            u->hash,
                            actor};
    db_query(req_service(r)->db,
             "WITH u AS (INSERT INTO users (username, display_name, employee_id, department_id, "
             "roles, password_hash) VALUES ($1, $2, $3, $4, $5::text[], $6) RETURNING *) "
             "SELECT user_doc(u)::text, emit('itgov.account.user.created', 'users/' || u.id, $7, "
             "user_doc(u)) FROM u",
             7, params, reply_row_created_tagged, r);
    sodium_memzero(u->hash, sizeof u->hash);
    free(u);
}

void users_create(struct req *r)
{
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *username = fields_str(&f, "username", F_REQUIRED, 1, 64);
    s_check_username(&f, username);
    fields_str(&f, "display_name", F_REQUIRED, 1, 100);
    fields_str(&f, "employee_id", F_REQUIRED, 1, 64);
    long long dept = 0;
    bool has_dept = fields_int(&f, "department_id", F_REQUIRED, 1, 1LL << 53, &dept);
    char roles[128];
    s_roles(&f, F_REQUIRED, roles, sizeof roles);
    const char *pw = fields_str(&f, "password", F_REQUIRED, 1, 1024);
    s_check_password(&f, "password", pw, username);
    static const char *const known[] = {"username", "display_name", "employee_id", "department_id",
                                        "roles",    "password",     NULL};
    fields_only(&f, known);
    struct error *err = fields_done(&f);
    if (err) return s_refuse(r, err, has_dept, dept);

    struct user_new *u = calloc(1, sizeof *u);
    if (!u) abort();
    u->r = r;
    u->password = strdup(pw);
    memcpy(u->roles, roles, sizeof roles);
    id_text(u->dept, dept);
    if (worker_run(req_service(r)->worker, s_hash_work, s_hash_done, u, req_cancel_flag(r))) return;
    sodium_memzero(u->password, strlen(u->password));
    free(u->password);
    free(u);
    reply_error(r, error_new(ERR_UNAVAILABLE, "too many passwords are being checked; retry"));
}

/* ---- read -------------------------------------------------------------------- */

void users_list(struct req *r)
{
    reply_page(r, DB_PAGE_SQL("SELECT id, user_doc(u) AS doc FROM users u "
                              "WHERE id > $1 ORDER BY id LIMIT $2"));
}

void users_get(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    if (!(r->user->roles & (ROLE_ADMIN | ROLE_AUDITOR)) && id != r->user->id)
        return reply_error(r, error_new(ERR_FORBIDDEN, "you may only read your own account"));
    const char *params[] = {req_param(r, "id")};
    db_query(req_service(r)->db, "SELECT user_doc(u)::text FROM users u WHERE id = $1", 1, params,
             reply_row_tagged, r);
}

void me_get(struct req *r)
{
    reply_raw(r, 200, r->user->user_json, strlen(r->user->user_json));
}

/* ---- update, disable, enable ------------------------------------------------- */

/* A PATCH, its fields checked; If-Match (optional) is compared with the
 * ETag of the user as stored (etag_of its document) before the update. */
struct user_patch {
    char ids[24], depts[24], actor[24], roles[128];
    const char *name; /* in the request's body */
    bool has_dept, has_roles;
};

static void s_patch_run(struct req *r)
{
    struct user_patch *p = r->ctx;
    r->ctx = NULL;
    const char *params[] = {p->ids, p->name, p->has_roles ? p->roles : NULL,
                            p->has_dept ? p->depts : NULL, p->actor};
    db_query(req_service(r)->db,
             "WITH " ADMINS_LOCKED ", last AS (SELECT $3::text[] IS NOT NULL "
             "AND NOT 'admin' = ANY($3::text[]) AND $1::bigint IN (SELECT id FROM admins) "
             "AND (SELECT count(*) FROM admins) = 1 AS refused), "
             "u AS (UPDATE users SET display_name = coalesce($2, display_name), "
             "roles = coalesce($3::text[], roles), "
             "department_id = coalesce($4::bigint, department_id), updated_at = now() "
             "WHERE id = $1 AND NOT (SELECT refused FROM last) RETURNING *) "
             "SELECT user_doc(u)::text, u.id, emit('itgov.account.user.updated', "
             "'users/' || u.id, $5, user_doc(u)), false FROM u "
             "UNION ALL SELECT NULL, NULL, NULL, true FROM last WHERE refused",
             5, params, s_on_changed, r);
    free(p);
}

static void s_on_patch_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (!err && PQntuples(res) == 0) err = error_new(ERR_NOT_FOUND, "no such user");
    char tag[19] = "";
    if (!err) {
        etag_of(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), tag);
        enum etag_result m = etag_match(req_header(r, "If-Match"), tag, false);
        if (m == ETAG_MALFORMED)
            err = error_new(ERR_BAD_REQUEST, "If-Match must be \"*\" or a list of quoted "
                                             "entity-tags such as the ETag you read");
        else if (m == ETAG_NO_MATCH)
            err = error_new(ERR_PRECONDITION_FAILED,
                            "the user changed since you read it (its ETag is now %s)", tag);
    }
    if (!err) return s_patch_run(r);
    free(r->ctx);
    r->ctx = NULL;
    reply_error(r, err);
}

void users_update(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *name = fields_str(&f, "display_name", F_OPTIONAL, 1, 100);
    long long dept = 0;
    bool has_dept = fields_int(&f, "department_id", F_OPTIONAL, 1, 1LL << 53, &dept);
    char roles[128];
    bool has_roles = s_roles(&f, F_OPTIONAL, roles, sizeof roles);
    static const char *const known[] = {"display_name", "roles", "department_id", NULL};
    fields_only(&f, known);
    if (!f.err && !name && !has_dept && !has_roles)
        fields_fail(&f, "", "give at least one of display_name, roles, department_id");
    struct error *err = fields_done(&f);
    if (err) return s_refuse(r, err, has_dept, dept);

    struct user_patch *p = calloc(1, sizeof *p);
    if (!p) abort();
    id_text(p->ids, id);
    id_text(p->depts, dept);
    id_text(p->actor, r->user->id);
    p->name = name;
    p->has_dept = has_dept;
    if (has_roles) memcpy(p->roles, roles, sizeof roles);
    p->has_roles = has_roles;
    r->ctx = p;
    if (!req_header(r, "If-Match")) return s_patch_run(r);
    const char *params[] = {p->ids};
    db_query(req_service(r)->db, "SELECT user_doc(u)::text FROM users u WHERE id = $1", 1, params,
             s_on_patch_loaded, r);
}

static void s_on_disabled(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (s_refused_last_admin(r, res)) return;
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such user"));
    const char *doc = PQgetvalue(res, 0, 0);
    sessions_end_user_then_reply(r, atoll(PQgetvalue(res, 0, 1)), NULL, "user_disabled", doc, 200,
                                 doc);
}

/* Sets disabled; a no-op (no event) when it already has that value. */
static void s_set_disabled(struct req *r, bool disabled)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    char ids[24], actor[24];
    id_text(ids, id);
    id_text(actor, r->user->id);
    const char *params[] = {ids, disabled ? "true" : "false", actor};
    db_query(req_service(r)->db,
             "WITH " ADMINS_LOCKED ", last AS (SELECT $2::boolean "
             "AND $1::bigint IN (SELECT id FROM admins) "
             "AND (SELECT count(*) FROM admins) = 1 AS refused), "
             "u AS (UPDATE users SET disabled = $2, updated_at = now() "
             "WHERE id = $1 AND disabled <> $2 AND NOT (SELECT refused FROM last) RETURNING *), "
             "e AS (SELECT emit(CASE WHEN $2 THEN 'itgov.account.user.disabled' "
             "ELSE 'itgov.account.user.enabled' END, 'users/' || u.id, $3, user_doc(u)) FROM u) "
             "SELECT coalesce((SELECT user_doc(u) FROM u), user_doc(c))::text, c.id, "
             "(SELECT count(*) FROM e), (SELECT refused FROM last) FROM users c WHERE c.id = $1",
             3, params, disabled ? s_on_disabled : s_on_changed, r);
}

void users_disable(struct req *r)
{
    s_set_disabled(r, true);
}

void users_enable(struct req *r)
{
    s_set_disabled(r, false);
}

/* ---- password change --------------------------------------------------------- */

struct pw_change {
    struct req *r;
    char *current, *next;
    char *stored, *username;
    char hash[PASSWORD_HASH_MAX];
    bool verified, hashed;
};

static void s_pw_free(struct pw_change *c)
{
    sodium_memzero(c->current, strlen(c->current));
    sodium_memzero(c->next, strlen(c->next));
    sodium_memzero(c->hash, sizeof c->hash);
    free(c->current);
    free(c->next);
    free(c->stored);
    free(c->username);
    free(c);
}

static void s_pw_work(void *arg)
{
    struct pw_change *c = arg;
    c->verified = password_verify(c->stored, c->current);
    if (c->verified) c->hashed = password_hash(c->next, c->hash);
}

static void s_pw_saved(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such user"));
    sessions_end_user_then_reply(r, r->user->id, r->user->sid, "password_changed",
                                 PQgetvalue(res, 0, 0), 204, NULL);
}

static void s_pw_refuse(struct req *r)
{
    struct error *e = error_new(ERR_VALIDATION, "the current password is wrong");
    error_add_field(e, "current_password", "is not your current password");
    reply_error(r, e);
}

static void s_pw_lock_recorded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    s_pw_refuse(r);
}

/* A wrong current password counts like a failed login; the one that locks
 * the username records login.locked, as a login would. */
static void s_pw_failed(void *arg, bool locked, struct error *err)
{
    struct req *r = arg;
    if (err) {
        log_warn("a wrong current password was not counted: %s", err->detail);
        error_destroy(&err);
    }
    if (!locked) return s_pw_refuse(r);
    char uid[24];
    id_text(uid, r->user->id);
    const char *params[] = {uid};
    db_query(req_service(r)->db,
             "SELECT emit('itgov.account.login.locked', 'users/' || id, NULL, "
             "jsonb_build_object('username', lower(username), 'user_id', id)) "
             "FROM users WHERE id = $1",
             1, params, s_pw_lock_recorded, r);
}

static void s_pw_checked(void *arg, bool ran)
{
    struct pw_change *c = arg;
    struct req *r = c->r;
    if (!ran) {
        s_pw_free(c);
        return reply_error(r, error_new(ERR_UNAVAILABLE, "stopping, or the client has gone"));
    }
    if (!c->verified) {
        attempt_failed(req_service(r), c->username, s_pw_failed, r);
        return s_pw_free(c);
    }
    attempt_ok(req_service(r), c->username);
    if (!c->hashed) {
        s_pw_free(c);
        return reply_error(r, error_new(ERR_INTERNAL, "cannot hash the password"));
    }
    char ids[24];
    id_text(ids, r->user->id);
    const char *params[] = {ids, c->hash};
    db_query(req_service(r)->db,
             "WITH u AS (UPDATE users SET password_hash = $2, updated_at = now() "
             "WHERE id = $1 RETURNING *) "
             "SELECT user_doc(u)::text, emit('itgov.account.password.changed', "
             "'users/' || u.id, u.id, jsonb_build_object('user_id', u.id)) FROM u",
             2, params, s_pw_saved, r);
    s_pw_free(c);
}

/* Counted like a login attempt before the current password is checked. */
static void s_pw_admitted(void *arg, struct error *err)
{
    struct pw_change *c = arg;
    if (err) {
        struct req *r = c->r;
        s_pw_free(c);
        return reply_error(r, err);
    }
    struct req *r = c->r;
    if (worker_run(req_service(r)->worker, s_pw_work, s_pw_checked, c, req_cancel_flag(r))) return;
    s_pw_free(c);
    reply_error(r, error_new(ERR_UNAVAILABLE, "too many passwords are being checked; retry"));
}

static void s_pw_loaded(void *arg, PGresult *res, struct error *err)
{
    struct pw_change *c = arg;
    struct req *r = c->r;
    if (err || PQntuples(res) == 0) {
        s_pw_free(c);
        return reply_error(r, err ? err : error_new(ERR_NOT_FOUND, "no such user"));
    }
    const char *username = PQgetvalue(res, 0, 1);
    if (strcasecmp(c->next, username) == 0) {
        s_pw_free(c);
        struct error *e = error_new(ERR_VALIDATION, "some fields are missing or invalid");
        error_add_field(e, "new_password", "must not be the username");
        return reply_error(r, e);
    }
    c->stored = strdup(PQgetvalue(res, 0, 0));
    c->username = strdup(username);
    attempt_begin(req_service(r), c->username, s_pw_admitted, c);
}

void me_password(struct req *r)
{
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *current = fields_str(&f, "current_password", F_REQUIRED, 1, 1024);
    const char *next = fields_str(&f, "new_password", F_REQUIRED, 1, 1024);
    s_check_password(&f, "new_password", next, NULL);
    struct error *err = fields_done(&f);
    if (err) return reply_error(r, err);

    struct pw_change *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->r = r;
    c->current = strdup(current);
    c->next = strdup(next);
    char ids[24];
    id_text(ids, r->user->id);
    const char *params[] = {ids};
    db_query(req_service(r)->db, "SELECT password_hash, username FROM users WHERE id = $1", 1,
             params, s_pw_loaded, c);
}
