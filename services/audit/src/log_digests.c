/*
 * Log digests (issue 14 B, articles 16-17): a governed system anchors the
 * SHA-256 of each rotated segment of its logs in the audit log, so that
 * anyone can later prove a segment is exactly what the system produced at
 * the time, and see a segment deleted or rewritten in between (the chain of
 * previous_sha256 per log). Table and rules: migrations/0022_log_digests.sql.
 *
 * POST /api/v1/systems/{project_id}/log-digests (a system key only, scope
 * log_digests, of that project): 401 → 403 (a person; a key of another
 * project or without the scope) → 400 (every bad field) → the one statement
 * (log_digest_add: the row, its event itgov.system.log_digest.anchored, and
 * log_chain_broken when the chain does not hold). The answer waits (on the
 * loop, ingest_wait) until ingest stored that event, so its seq is known:
 * 201 {id, seq, ...}; 503 unavailable if that takes longer than
 * INGEST_WAIT_MS (the digest is kept: posting it again answers it). The
 * same digest again answers the existing record, 200.
 *
 * POST /api/v1/log-digests/verify (the IT office, auditors, admins, or a key
 * of that project with log_digests) {project_id, log_name, sha256}: 200
 * {anchored: true, seq, anchored_at, inclusion_proof, checkpoint, entry}
 * when that digest's entry is in the log — the RFC 6962 audit path of the
 * entry in the tree of a signed checkpoint at least that large, and the
 * entry itself (its cloudevent and prev_hash, so the leaf can be computed
 * from the digest's own event: leaf = SHA-256(0x00 || hash), hash =
 * SHA-256(prev_hash bytes || cloudevent)); else 404 not_anchored.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "audit.h"
#include "checkpoint.h"
#include "ingest.h"
#include "itgov/crypto.h"
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/service.h"
#include "itgov/session.h"
#include "itgov/syskey.h"
#include "itgov/text.h"
#include "log_api.h"
#include "merkle.h"
#include "systems.h"

#define NAME_MAX_CHARS 200
#define MAX_ENTRIES    ((1LL << 53) - 1) /* exact in JSON */
#define RETRY_AFTER_S  2

/* ---- POST /api/v1/systems/{project_id}/log-digests --------------------------- */

struct anchor {
    struct req *r;
    bool created;
    char *doc; /* the record's JSON text without its seq (kept as PostgreSQL wrote it) */
    long long id;
    char event_id[40];
};

static void s_anchor_free(struct anchor *a)
{
    free(a->doc);
    free(a);
}

static void s_anchor_reply(struct anchor *a, long long seq)
{
    struct req *r = a->r;
    size_t len = strlen(a->doc); /* an object: "{...}" */
    char *text = malloc(len + 40);
    if (!text) abort();
    int n = snprintf(text, len + 40, "%.*s, \"seq\": %lld}", (int)(len - 1), a->doc, seq);
    if (a->created) {
        char location[96];
        snprintf(location, sizeof location, "/api/v1/log-digests/%lld", a->id);
        req_add_header(r, "Location", location);
    }
    int status = a->created ? 201 : 200;
    s_anchor_free(a);
    reply_raw(r, status, text, (size_t)n);
    free(text);
}

static struct error *s_slow(void)
{
    struct error *e = error_new(ERR_UNAVAILABLE, "anchoring is slow, retry: the digest is kept, "
                                                 "posting it again answers it");
    e->retry_after = RETRY_AFTER_S;
    return e;
}

/* the last look in the log after the wait timed out */
static void s_on_last_look(void *arg, PGresult *res, struct error *err)
{
    struct anchor *a = arg;
    struct req *r = a->r;
    if (!err && PQntuples(res) == 1) return s_anchor_reply(a, atoll(PQgetvalue(res, 0, 0)));
    s_anchor_free(a);
    if (err) error_destroy(&err);
    reply_error(r, s_slow());
}

static void s_on_stored(void *arg, long long seq)
{
    struct anchor *a = arg;
    if (seq > 0) return s_anchor_reply(a, seq);
    if (seq < 0) { /* stopping */
        struct req *r = a->r;
        s_anchor_free(a);
        return reply_error(r, s_slow());
    }
    const char *params[] = {a->event_id};
    db_query(req_service(a->r)->db, "SELECT seq FROM entries WHERE event_id = $1::uuid", 1, params,
             s_on_last_look, a);
}

/* (doc without seq, event id, created, seq or NULL, id) */
static void s_on_added(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    struct anchor *a = calloc(1, sizeof *a);
    if (!a) abort();
    a->r = r;
    a->doc = strdup(PQgetvalue(res, 0, 0));
    if (!a->doc) abort();
    a->id = atoll(PQgetvalue(res, 0, 4));
    snprintf(a->event_id, sizeof a->event_id, "%s", PQgetvalue(res, 0, 1));
    a->created = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    if (!PQgetisnull(res, 0, 3)) return s_anchor_reply(a, atoll(PQgetvalue(res, 0, 3)));
    ingest_wait(a->event_id, s_on_stored, a);
}

/* A log or segment name: 1..200 characters, none a control character. */
static const char *s_name(struct fields *f, const char *name)
{
    const char *v = fields_str(f, name, F_REQUIRED, 1, NAME_MAX_CHARS);
    if (v && !log_digest_name_ok(v)) {
        fields_fail(f, name, "must not hold control characters");
        return NULL;
    }
    return v;
}

struct digest {
    const char *log_name, *segment, *first, *last, *sha256, *previous;
    long long entries;
};

static struct error *s_digest_fields(const cJSON *body, struct digest *d)
{
    struct fields f;
    fields_init(&f, body);
    d->log_name = s_name(&f, "log_name");
    d->segment = s_name(&f, "segment");
    d->first = fields_instant(&f, "first_entry_at", F_REQUIRED);
    d->last = fields_instant(&f, "last_entry_at", F_REQUIRED);
    if (d->first && d->last && log_digest_instant_ns(d->first) > log_digest_instant_ns(d->last))
        fields_fail(&f, "last_entry_at", "must not be before first_entry_at");
    fields_int(&f, "entries", F_REQUIRED, 0, MAX_ENTRIES, &d->entries);
    d->sha256 = fields_sha256(&f, "sha256", F_REQUIRED);
    d->previous = NULL;
    if (cJSON_IsObject(body)) {
        const cJSON *prev = cJSON_GetObjectItemCaseSensitive(body, "previous_sha256");
        if (!prev)
            fields_fail(&f, "previous_sha256",
                        "is required: the sha256 of the segment before, null for the first");
        else if (!cJSON_IsNull(prev))
            d->previous = fields_sha256(&f, "previous_sha256", F_REQUIRED);
    }
    static const char *const known[] = {"log_name", "segment", "first_entry_at",  "last_entry_at",
                                        "entries",  "sha256",  "previous_sha256", NULL};
    fields_only(&f, known);
    return fields_done(&f);
}

void log_digests_create(struct req *r)
{
    long long pid;
    if (!req_param_id(r, "id", &pid)) return;
    struct error *e = system_key_check(r->user, pid, SYSKEY_SCOPE_LOG_DIGESTS);
    if (e) return reply_error(r, e);
    const cJSON *body = req_body(r);
    if (!body) return;
    struct digest d;
    e = s_digest_fields(body, &d);
    if (e) return reply_error(r, e);
    char key[24], entries[24];
    snprintf(key, sizeof key, "%lld", r->user->key_id);
    snprintf(entries, sizeof entries, "%lld", d.entries);
    const char *params[] = {
        req_param(r, "id"), key,       d.log_name, d.segment, d.first, d.last, entries,
        d.sha256,           d.previous};
    db_query(req_service(r)->db,
             "SELECT (a.doc - 'seq')::text, a.event_id::text, a.created, "
             "(SELECT e.seq FROM entries e WHERE e.event_id = a.event_id), a.doc->>'id' "
             "FROM log_digest_add($1::bigint, $2::bigint, $3, $4, $5::timestamptz, "
             "$6::timestamptz, $7::bigint, $8, $9) a",
             9, params, s_on_added, r);
}

/* ---- POST /api/v1/log-digests/verify ------------------------------------------ */

static struct error *s_not_anchored(void)
{
    struct error *e =
        error_new(ERR_NOT_FOUND, "no such digest is anchored: this project, log and sha256");
    e->code_override = "not_anchored";
    return e;
}

/* (seq, anchored_at, cloudevent, prev_hash, hash) of the digest's entry */
static void s_on_found(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) return reply_error(r, s_not_anchored());
    long long seq = atoll(PQgetvalue(res, 0, 0));
    const struct merkle *tree = ingest_tree();
    if (!tree || seq > ingest_size()) return reply_error(r, s_not_anchored()); /* a moment early */
    struct checkpoint fresh;
    const struct checkpoint *cp = checkpoint_current();
    if (!cp || cp->size < seq) {
        if (!checkpoint_make(tree, ingest_size(), &fresh))
            return reply_error(r, error_new(ERR_INTERNAL, "cannot sign a checkpoint"));
        cp = &fresh;
    }
    merkle_hash path[MERKLE_MAX_PROOF];
    int n = merkle_inclusion(tree, seq - 1, cp->size, path);
    if (n < 0) return reply_error(r, error_new(ERR_INTERNAL, "cannot build the proof"));
    char leaf[65];
    hex_encode(merkle_leaf(tree, seq - 1), MERKLE_HASH, leaf);
    cJSON *proof = cJSON_CreateObject();
    cJSON_AddNumberToObject(proof, "leaf_index", (double)(seq - 1));
    cJSON_AddNumberToObject(proof, "tree_size", (double)cp->size);
    cJSON_AddStringToObject(proof, "leaf_hash", leaf);
    cJSON_AddItemToObject(proof, "audit_path", proof_hashes_json(path, n));
    cJSON *entry = cJSON_CreateObject();
    cJSON_AddNumberToObject(entry, "seq", (double)seq);
    cJSON_AddStringToObject(entry, "prev_hash", PQgetvalue(res, 0, 3));
    cJSON_AddStringToObject(entry, "hash", PQgetvalue(res, 0, 4));
    cJSON_AddStringToObject(entry, "cloudevent", PQgetvalue(res, 0, 2));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "anchored", true);
    cJSON_AddNumberToObject(o, "seq", (double)seq);
    cJSON_AddStringToObject(o, "anchored_at", PQgetvalue(res, 0, 1));
    cJSON_AddItemToObject(o, "inclusion_proof", proof);
    cJSON_AddItemToObject(o, "checkpoint", checkpoint_json(cp));
    cJSON_AddItemToObject(o, "entry", entry);
    reply_json(r, 200, o);
}

void log_digests_verify(struct req *r)
{
    const struct principal *u = r->user;
    if (u->key_id && !(u->scopes & SYSKEY_SCOPE_LOG_DIGESTS))
        return reply_error(r, error_new(ERR_FORBIDDEN, "this key lacks the scope needed"));
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    long long pid = 0;
    bool have_pid = fields_int(&f, "project_id", F_REQUIRED, 1, LLONG_MAX, &pid);
    /* a key verifies for its own project only: 403 before the other fields */
    struct error *e = have_pid ? system_key_check(u, pid, SYSKEY_SCOPE_LOG_DIGESTS) : NULL;
    if (e) {
        error_destroy(&f.err);
        return reply_error(r, e);
    }
    const char *log_name = s_name(&f, "log_name");
    const char *sha256 = fields_sha256(&f, "sha256", F_REQUIRED);
    static const char *const known[] = {"project_id", "log_name", "sha256", NULL};
    fields_only(&f, known);
    if ((e = fields_done(&f))) return reply_error(r, e);
    char pids[24];
    snprintf(pids, sizeof pids, "%lld", pid);
    const char *params[] = {pids, log_name, sha256};
    db_query(req_service(r)->db,
             "SELECT e.seq, rfc3339(e.time), e.cloudevent, e.prev_hash, e.hash "
             "FROM log_digests d JOIN entries e ON e.event_id = d.event_id "
             "WHERE d.project_id = $1::bigint AND d.log_name = $2 AND d.sha256 = $3",
             3, params, s_on_found, r);
}

/* ---- GET /api/v1/log-digests/{id} ----------------------------------------------- */

/* (doc, project_id) */
static void s_on_get(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such digest"));
    struct error *e =
        system_key_check(r->user, atoll(PQgetvalue(res, 0, 1)), SYSKEY_SCOPE_LOG_DIGESTS);
    if (e) return reply_error(r, e);
    reply_raw(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

void log_digests_get(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    const struct principal *u = r->user;
    if (u->key_id && !(u->scopes & SYSKEY_SCOPE_LOG_DIGESTS))
        return reply_error(r, error_new(ERR_FORBIDDEN, "this key lacks the scope needed"));
    const char *params[] = {req_param(r, "id")};
    db_query(req_service(r)->db,
             "SELECT log_digest_doc(d)::text, d.project_id FROM log_digests d "
             "WHERE d.id = $1::bigint",
             1, params, s_on_get, r);
}
