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

#include "itgov/http.h"

/* For a route a system key may call (ROLE_SYSTEM): NULL when the caller is
 * a person (the route's roles decided already) or a key of project_id
 * holding the scope (SYSKEY_SCOPE_*); else the 403 to answer. */
struct error *system_key_check(const struct principal *u, long long project_id, unsigned scope);

/* issue 14 A: system keys and findings */
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
