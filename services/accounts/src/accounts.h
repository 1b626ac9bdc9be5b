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
    /* access reviews (access_reviews.c, consumer.c) */
    long dormant_days;         /* ITGOV_DORMANT_DAYS */
    long dormant_s;            /* ITGOV_DORMANT_S: overrides the days when > 0 (tests) */
    const char *dormant_auto;  /* ITGOV_DORMANT_AUTO_DISABLE: "true" | "false" */
    bool dormant_auto_disable; /* parsed from dormant_auto at start */
    long scan_interval_s;
    const char *broker_host;
    long broker_xpub_port;
    const char *projects_host;
    long projects_port;
    long feed_poll_ms;
};
extern struct accounts_config accounts_cfg;

extern const struct route accounts_routes[];
extern const size_t accounts_nroutes;

/* The enabled admins, their rows locked (users.c, access_reviews.c); a
 * statement that may take one away adds "last AS (SELECT <removes> AND
 * $1::bigint IN (SELECT id FROM admins) AND (SELECT count(*) FROM admins)
 * = 1 AS refused)". */
#define ADMINS_LOCKED                                                                              \
    "admins AS (SELECT id FROM users WHERE 'admin' = ANY(roles) AND NOT disabled "                 \
    "ORDER BY id FOR UPDATE)"

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

/* access_reviews.c */
void access_reviews_findings(struct req *r);
void access_reviews_create(struct req *r);
void access_reviews_list(struct req *r);
void access_reviews_get(struct req *r);
/* After a change to users: refreshes each one's cached copy and, for those
 * disabled, ends their sessions (session.ended events, reason
 * user_disabled, actor may be 0 for none), one user after another; then
 * done(arg). users: [{id, doc (user JSON text), disabled}] (taken). */
struct service;
void users_changed_apply(struct service *svc, cJSON *users, long long actor,
                         void (*done)(void *arg), void *arg);

/* consumer.c: projects' system-account events, the dormancy scan */
int consumer_start(struct service *svc);
void consumer_stop(struct service *svc);

/* bootstrap.c; the dummy hash makes unknown-user logins as slow as others */
extern char accounts_dummy_hash[PASSWORD_HASH_MAX];
int accounts_bootstrap(PGconn *conn);

#endif
