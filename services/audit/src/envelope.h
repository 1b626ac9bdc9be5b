/*
 * The CloudEvent envelope the audit log accepts, pure: what an event read
 * from a source's outbox must be before it may enter the log.
 *
 *   - a JSON object whose "id" is a UUID (8-4-4-4-12 hex), whose "type" is
 *     a non-empty string and whose "source" is exactly the CloudEvents
 *     source of the service it was read from ("/itgov/<name>");
 *   - no object anywhere in it with a member name twice (PostgreSQL's jsonb
 *     keeps the last, cJSON the first: the columns would not match);
 *   - "subject", if there and not null, a string; "actor", if there and not
 *     null, an integer below 1e15 in magnitude (one that is stored exactly
 *     as it came); "time", if there, an RFC
 *     3339 instant PostgreSQL reads as timestamptz.
 * Its own "seq" (if any) and a missing "time" are the ingest's business.
 */
#ifndef AUDIT_ENVELOPE_H
#define AUDIT_ENVELOPE_H

#include <cjson/cJSON.h>

/* NULL if ev may enter the log as an event read from ce_source, else why
 * not (a static message). */
const char *envelope_check(const cJSON *ev, const char *ce_source);

#endif
