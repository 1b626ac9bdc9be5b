/*
 * System keys (issue 14 A): the keys a governed system acts with, each for
 * one project and a set of scopes (syskey.h).
 */
#include "itgov/session.h"
#include "itgov/syskey.h"
#include "systems.h"

struct error *system_key_check(const struct principal *u, long long project_id, unsigned scope)
{
    if (u->key_id == 0) return NULL;
    if (u->project_id != project_id)
        return error_new(ERR_FORBIDDEN, "this key acts for project %lld only", u->project_id);
    if (!(u->scopes & scope)) return error_new(ERR_FORBIDDEN, "this key lacks the scope needed");
    return NULL;
}
