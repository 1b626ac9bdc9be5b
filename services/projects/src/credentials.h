/*
 * itgov never stores credentials of the governed systems it registers
 * (articles 18-19): a body member whose name looks like one is refused.
 * Pure, for the unit test (tests/test_credentials.c).
 */
#ifndef PROJECTS_CREDENTIALS_H
#define PROJECTS_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

/* Whether a member name looks like a credential: it contains password,
 * passwd, secret, credential, token or key, in any case. */
bool credential_name(const char *name);

/* Calls each(arg, path) for every member of v, at any depth (objects in
 * objects and arrays), whose name is a credential's; path names it as the
 * field errors do ("password", "extra.api_key", "list[2].token"). Returns
 * how many (each may be NULL: only counts). The values are never looked at. */
int credential_members(const cJSON *v, void (*each)(void *arg, const char *path), void *arg);

#endif
