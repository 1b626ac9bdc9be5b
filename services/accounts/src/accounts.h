/*
 * The accounts service: departments, users and roles, passwords, sessions.
 * One file per resource; the route table is in routes.c.
 */
#ifndef ACCOUNTS_H
#define ACCOUNTS_H

#include <libpq-fe.h>
#include "itgov/crypto.h"
#include "itgov/http.h"
#include "session_store.h"

struct accounts_config {
    const char *admin_password;
    long session_ttl_s;
    long max_failures;
    long lock_s;
};
extern struct accounts_config accounts_cfg;

extern const struct route accounts_routes[];
extern const size_t accounts_nroutes;

/* departments.c */
void departments_create(struct req *r);
void departments_list(struct req *r);
void departments_get(struct req *r);

/* users.c */
void users_create(struct req *r);
void users_list(struct req *r);
void users_get(struct req *r);
void users_update(struct req *r);
void users_disable(struct req *r);
void users_enable(struct req *r);
void me_get(struct req *r);
void me_password(struct req *r);

/* sessions.c */
void sessions_login(struct req *r);
void sessions_logout(struct req *r);
void sessions_list(struct req *r);
void sessions_end(struct req *r);
/* Ends a user's sessions (all but keep_sid), refreshes the cached user and
 * records session.ended events, then replies with status and body (body
 * may be NULL for an empty reply; it is copied). */
void sessions_end_user_then_reply(struct req *r, long long uid, const char *keep_sid,
                                  const char *reason, const char *user_json, int status,
                                  const char *body);

/* sessions.c: attempts per username (a login, a password change's current
 * password), counted in Redis before the password is checked. err: 429
 * login_locked with Retry-After, or 503; the caller owns it. */
struct service;
extern const char accounts_redis_library[];
typedef void (*attempt_cb)(void *arg, struct error *err);
void attempt_begin(struct service *svc, const char *username, attempt_cb cb, void *arg);
/* The admitted attempt's password was wrong; locked: this failure locked
 * the username (exactly one failure does). */
typedef void (*attempt_failed_cb)(void *arg, bool locked, struct error *err);
void attempt_failed(struct service *svc, const char *username, attempt_failed_cb cb, void *arg);
/* The admitted attempt's password was right: the count starts again. */
void attempt_ok(struct service *svc, const char *username);

/* bootstrap.c; the dummy hash makes unknown-user logins as slow as others */
extern char accounts_dummy_hash[PASSWORD_HASH_MAX];
int accounts_bootstrap(PGconn *conn);

#endif
