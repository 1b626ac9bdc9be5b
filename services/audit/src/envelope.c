/*
 * The CloudEvent envelope the audit log accepts (see envelope.h): the checks
 * the ingest runs on every event before it queues it.
 */
#include <math.h>
#include <string.h>
#include "chain.h"
#include "envelope.h"

static const char *s_str_member(const cJSON *ev, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* True if an object anywhere in j has a member name twice. */
static bool s_has_duplicate_keys(const cJSON *j)
{
    for (const cJSON *c = j ? j->child : NULL; c; c = c->next) {
        if (cJSON_IsObject(j))
            for (const cJSON *d = c->next; d; d = d->next)
                if (c->string && d->string && strcmp(c->string, d->string) == 0) return true;
        if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && s_has_duplicate_keys(c)) return true;
    }
    return false;
}

/* The log stores an event as cJSON prints it, and cJSON prints a number
 * with 15 significant digits when that reads back within a rounding error:
 * 8999999999999999 would be stored as 9e+15. Integers below 1e15 print
 * exactly. */
#define ACTOR_MAX 1e15

const char *envelope_check(const cJSON *ev, const char *ce_source)
{
    if (!cJSON_IsObject(ev)) return "not a JSON object";
    const char *source = s_str_member(ev, "source");
    const char *id = s_str_member(ev, "id"), *type = s_str_member(ev, "type");
    if (!chain_is_uuid(id)) return "id is not a UUID";
    if (!type || !*type) return "no type";
    if (!source || strcmp(source, ce_source) != 0)
        return "its source is not the service it was read from";
    if (s_has_duplicate_keys(ev)) return "a member name appears twice in an object";
    const cJSON *subject = cJSON_GetObjectItemCaseSensitive(ev, "subject");
    if (subject && !cJSON_IsNull(subject) && !cJSON_IsString(subject))
        return "subject is not a string";
    const cJSON *actor = cJSON_GetObjectItemCaseSensitive(ev, "actor");
    if (actor && !cJSON_IsNull(actor) &&
        !(cJSON_IsNumber(actor) && floor(actor->valuedouble) == actor->valuedouble &&
          fabs(actor->valuedouble) < ACTOR_MAX))
        return "actor is not an integer";
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(ev, "time");
    if (t && !(cJSON_IsString(t) && chain_is_rfc3339(t->valuestring)))
        return "time is not an RFC 3339 instant";
    return NULL;
}
