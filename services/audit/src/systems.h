/*
 * The systems itgov governs, under watch (issue 14, articles 15-17): the
 * keys a governed system acts with (system_keys.c), the digests of its logs
 * anchored in the audit log (log_digests.c), the fingerprints of its
 * configuration (config_fingerprints.c) and the findings the rules raise
 * about them (findings.c). Tables: migrations/0020_systems.sql (findings,
 * raise_finding()) and the parts' own migrations after it.
 */
#ifndef AUDIT_SYSTEMS_H
#define AUDIT_SYSTEMS_H

#include <stdbool.h>
#include "itgov/http.h"

/* For a route a system key may call (ROLE_SYSTEM): NULL when the caller is
 * a person (the route's roles decided already) or a key of project_id
 * holding the scope (SYSKEY_SCOPE_*); else the 403 to answer. */
struct error *system_key_check(const struct principal *u, long long project_id, unsigned scope);

/* issue 14 A: system keys and findings */
struct cJSON;
struct service;
/* The scopes of a key request's body {scopes: [...]} as SYSKEY_SCOPE_* bits:
 * a non-empty array of known names, none twice, no other member; else 0
 * and *e the 400 naming every bad field. */
unsigned system_key_scopes_read(const struct cJSON *body, struct error **e);
/* The 201 of a key just issued (system or metrics key): the key record
 * (JSON text) with "key" added once, Location set; the reply's text is
 * wiped after it is sent. */
void key_issued_reply(struct req *r, const char *record, const char *key, const char *location);
/* POST /api/v1/projects/{id}/system-keys (it_office) {scopes} -> 201 with the key */
void system_keys_issue(struct req *r);
/* GET /api/v1/projects/{id}/system-keys: every key's record, never a key */
void system_keys_list(struct req *r);
/* POST /api/v1/system-keys/{key_id}/revoke (it_office) */
void system_keys_revoke(struct req *r);
/* GET /api/v1/systems/findings?project_id=&kind=&status= */
void findings_list(struct req *r);
/* POST /api/v1/systems/findings/{id}/resolve (it_office) {resolution, rectification_id?} */
void findings_resolve(struct req *r);
/* ITGOV_ANCHOR_SILENCE_H: hours, a decimal number (fractions allowed: "0.002"),
 * at least one second and at most SILENCE_MAX_HOURS; false for anything else
 * (audit then does not start). The threshold in seconds in *seconds. */
#define SILENCE_MAX_HOURS 8760.0
bool silence_hours_parse(const char *text, double *seconds);
/* The silence rule (log_silent), run every ITGOV_SCAN_INTERVAL_S: 0 = ok. */
int silence_start(struct service *svc);
void silence_stop(void);
/* issue 14 B: log digests */
void log_digests_create(struct req *r);
void log_digests_verify(struct req *r);
void log_digests_get(struct req *r);
/* pure, for tests: a log or segment name holds no control character (C0,
 * DEL, C1) and is not empty; an instant text_is_instant accepts, in
 * nanoseconds since the epoch (offsets applied) */
bool log_digest_name_ok(const char *s);
long long log_digest_instant_ns(const char *s);
/* issue 14 C: configuration fingerprints */
/* POST /api/v1/systems/:id/config-fingerprints (a system key with scope config) */
void config_fingerprints_record(struct req *r);

#endif
