/*
 * Configuration fingerprints (issue 14 C, article 16): a governed system
 * posts, with a system key holding the scope `config`, the SHA-256 of one
 * component of its configuration as it observed it. The record, its event
 * (itgov.system.config.observed) and the finding the rule raises
 * (unauthorized_config_change, config_differs_from_change) are written by
 * record_config_fingerprint() (migrations/0023_config.sql, where the rule is
 * described) in one statement.
 *
 * POST /api/v1/systems/{project_id}/config-fingerprints (ROLE_SYSTEM only),
 * in the order of the REST rules: 401 (http.c: no key, an unknown or revoked
 * one) → 404 a path id that is not an id → 403 a key of another project or
 * without the scope config (system_key_check) → 400 every bad field
 * ({component: 1..200 characters, no control character; sha256: 64 lower-case
 * hex digits; observed_at: RFC 3339}, nothing else) → 201 the record with
 * `finding` (null, or the finding raised). A suspended or terminated
 * project's fingerprints are still taken: they are evidence, not acts.
 */
#include <stdio.h>
#include <string.h>
#include "audit.h"
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/service.h"
#include "itgov/session.h"
#include "itgov/syskey.h"
#include "systems.h"

#define COMPONENT_MAX 200 /* characters of a component's name */

/* A component's name holds no control character (C0, DEL, C1). */
static bool s_printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7F || (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)) return false;
    return true;
}

void config_fingerprints_record(struct req *r)
{
    long long pid;
    if (!req_param_id(r, "id", &pid)) return;
    struct error *denied = system_key_check(r->user, pid, SYSKEY_SCOPE_CONFIG);
    if (denied) return reply_error(r, denied);
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *component = fields_str(&f, "component", F_REQUIRED, 1, COMPONENT_MAX);
    if (component && !s_printable(component))
        fields_fail(&f, "component", "must not hold control characters");
    const char *sha = fields_sha256(&f, "sha256", F_REQUIRED);
    const char *observed = fields_instant(&f, "observed_at", F_REQUIRED);
    static const char *const known[] = {"component", "sha256", "observed_at", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);

    char pids[24], key[24];
    id_text(pids, pid);
    id_text(key, r->user->key_id);
    const char *params[] = {pids, component, sha, observed, key};
    db_query(req_service(r)->db,
             "SELECT record_config_fingerprint($1::bigint, $2, $3, $4::timestamptz, "
             "$5::bigint)::text",
             5, params, reply_row_created, r);
}
