/*
 * Metrics keys (issue 12 D): a system in operation reports its daily usage
 * with a key of its own (syskey.h) instead of a person's session. The IT
 * office issues it; the key is in that one answer and nowhere else — audit
 * keeps only its SHA-256 (system_keys.key_sha256), and neither the key nor
 * its hash is in any event or log line. Issuing another key for the project
 * revokes the live one in the same statement (revoked_at, replaced_by): the
 * system switches to the new key, both records stay.
 *
 * The verifier (metrics_key_auth) is the service's system_auth: on a
 * ROLE_SYSTEM route a key is looked up by its hash through the async pool
 * and, if live, becomes a principal with its id, project and scopes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "audit.h"
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/service.h"
#include "itgov/session.h"
#include "itgov/syskey.h"
#include "metrics.h"
#include "systems.h"

/* a lost race with a parallel issue (the one-live-key index): try again */
#define ISSUE_TRIES 5

struct error *metrics_state_error(long long project_id, const char *state, const char *action)
{
    struct error *e = error_project_halted(state);
    if (e) return e;
    e = error_new(ERR_INVALID_STATE, "project %lld is %s: it cannot %s", project_id, state, action);
    error_set(e, "state", cJSON_CreateString(state));
    return e;
}

/* ---- POST /api/v1/projects/{id}/metrics-key ------------------------------- */

struct issue {
    struct req *r;
    long long project_id;
    char key[SYSKEY_LEN + 1];
    char hash[65];
    char actor[24];
    int tries;
};

static void s_issue_free(struct issue *c)
{
    sodium_memzero(c->key, sizeof c->key);
    sodium_memzero(c->hash, sizeof c->hash);
    free(c);
}

static void s_issue_run(struct issue *c);

/* (key record JSON or NULL, the project's state or NULL when audit knows no
 * such project, events emitted) */
static void s_on_issued(void *arg, PGresult *res, struct error *err)
{
    struct issue *c = arg;
    struct req *r = c->r;
    if (err && err->code == ERR_CONFLICT && ++c->tries < ISSUE_TRIES) {
        error_destroy(&err);
        return s_issue_run(c); /* a key issued at the same moment: revoke it too */
    }
    if (err) {
        s_issue_free(c);
        return reply_error(r, err);
    }
    if (PQgetisnull(res, 0, 1)) {
        long long id = c->project_id;
        s_issue_free(c);
        return reply_error(r, error_new(ERR_NOT_FOUND, "no such project: %lld", id));
    }
    if (PQgetisnull(res, 0, 0)) {
        struct error *e =
            metrics_state_error(c->project_id, PQgetvalue(res, 0, 1), "get a metrics key");
        s_issue_free(c);
        return reply_error(r, e);
    }
    char location[96];
    snprintf(location, sizeof location, "/api/v1/projects/%lld/metrics-key", c->project_id);
    key_issued_reply(r, PQgetvalue(res, 0, 0), c->key, location);
    s_issue_free(c);
}

static void s_issue_run(struct issue *c)
{
    char pid[24];
    snprintf(pid, sizeof pid, "%lld", c->project_id);
    const char *params[] = {pid, c->hash, c->actor};
    /* a key for a project audit knows, neither suspended nor terminated; the
     * live key (if any) revoked, pointing at the new one, in the same
     * statement; the event names neither the key nor its hash */
    db_query(req_service(c->r)->db,
             "WITH f AS (SELECT * FROM project_fact($1::bigint)), "
             "n AS (SELECT nextval(pg_get_serial_sequence('system_keys', 'id')) AS id FROM f "
             "WHERE f.state NOT IN ('suspended', 'terminated')), "
             "old AS (UPDATE system_keys k SET revoked_at = now(), revoked_by = $3::bigint, "
             "replaced_by = n.id FROM n WHERE k.project_id = $1::bigint AND k.kind = 'metrics' "
             "AND k.revoked_at IS NULL RETURNING k.id), "
             "ins AS (INSERT INTO system_keys (id, project_id, kind, scopes, key_sha256, "
             "issued_by) SELECT n.id, $1::bigint, 'metrics', '{metrics}', $2, $3::bigint "
             "FROM n, (SELECT count(*) FROM old) o RETURNING *), "
             "d AS (SELECT i.id, jsonb_build_object('key_id', i.id, 'project_id', i.project_id, "
             "'scopes', to_jsonb(i.scopes), 'issued_at', rfc3339(i.issued_at), "
             "'issued_by', i.issued_by, 'replaces', (SELECT min(o.id) FROM old o)) AS doc "
             "FROM ins i), "
             "e AS (SELECT emit('itgov.metrics.key.issued', 'projects/' || $1::bigint, "
             "$3::bigint, d.doc) AS n FROM d) "
             "SELECT (SELECT doc::text FROM d), (SELECT state FROM f), (SELECT count(*) FROM e)",
             3, params, s_on_issued, c);
}

void metrics_key_issue(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    struct issue *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->r = r;
    c->project_id = id;
    syskey_new(c->key);
    syskey_hash(c->key, c->hash);
    snprintf(c->actor, sizeof c->actor, "%lld", r->user->id);
    s_issue_run(c);
}

/* ---- GET /api/v1/projects/{id}/metrics-key -------------------------------- */

void metrics_key_get(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    const char *params[] = {req_param(r, "id")};
    db_query(req_service(r)->db,
             "SELECT jsonb_build_object('key_id', k.id, 'project_id', k.project_id, "
             "'scopes', to_jsonb(k.scopes), 'issued_at', rfc3339(k.issued_at), "
             "'issued_by', k.issued_by)::text FROM system_keys k "
             "WHERE k.project_id = $1::bigint AND k.kind = 'metrics' AND k.revoked_at IS NULL",
             1, params, reply_row, r);
}

/* ---- the verifier ----------------------------------------------------------- */

struct check {
    session_auth_cb cb;
    void *arg;
};

static void s_on_key(void *arg, PGresult *res, struct error *err)
{
    struct check c = *(struct check *)arg;
    free(arg);
    if (err) return c.cb(c.arg, NULL, err);
    if (PQntuples(res) == 0) return c.cb(c.arg, NULL, NULL);
    struct principal *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->roles = ROLE_SYSTEM;
    p->key_id = atoll(PQgetvalue(res, 0, 0));
    p->project_id = atoll(PQgetvalue(res, 0, 1));
    p->scopes = syskey_scopes_parse(PQgetvalue(res, 0, 2));
    c.cb(c.arg, p, NULL);
}

void metrics_key_auth(void *app, const char *key, session_auth_cb cb, void *cb_arg)
{
    struct service *svc = app;
    struct check *c = malloc(sizeof *c);
    if (!c) abort();
    c->cb = cb;
    c->arg = cb_arg;
    char hash[65];
    syskey_hash(key, hash);
    const char *params[] = {hash};
    db_query(svc->db,
             "SELECT id, project_id, array_to_string(scopes, ',') FROM system_keys "
             "WHERE key_sha256 = $1 AND revoked_at IS NULL",
             1, params, s_on_key, c);
    sodium_memzero(hash, sizeof hash);
}
