/*
 * What the accounts service takes from others, and the dormancy scan.
 *   projects: project.system_account.assigned / .revoked keep the
 *     system_accounts table (which itgov user holds which live account of
 *     a governed system), read by the access review's
 *     system_account_holder_disabled finding.
 * Read from the projects service's outbox (itgov/follow.h; the bus only
 * wakes the reads); each effect and its inbox row are one statement.
 * When ITGOV_DORMANT_AUTO_DISABLE=true, every ITGOV_SCAN_INTERVAL_S the scan
 * disables the enabled accounts without a login for the dormancy threshold
 * (access_rules.h) — never the last enabled admins: if every enabled admin
 * is dormant, the admins stay enabled (and stay findings) — with
 * account.user.disabled and account.access_review.auto_disabled per user,
 * then ends their sessions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "access_rules.h"
#include "accounts.h"
#include "itgov/db.h"
#include "itgov/follow.h"
#include "itgov/log.h"
#include "itgov/outbox.h"
#include "itgov/service.h"

static struct follow *s_follow;
static struct event *s_scan;
static bool s_scanning;

static const char *s_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool s_num(const cJSON *o, const char *name, char out[24])
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v)) return false;
    snprintf(out, 24, "%lld", (long long)v->valuedouble);
    return true;
}

/* project.system_account.* → the system_accounts table */
static void s_handle(void *arg, int source, long long sourceseq, const cJSON *ev,
                     struct follow_job *job)
{
    struct service *svc = arg;
    const char *type = s_str(ev, "type"), *id = s_str(ev, "id");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(ev, "data");
    char aid[24], pid[24], holder[24];
    const char *name = s_str(data, "account_name"), *kind = s_str(data, "kind");
    if (!type || !id || !s_num(data, "id", aid) || !s_num(data, "project_id", pid) ||
        !s_num(data, "holder_user_id", holder) || !name || !kind)
        return follow_done(job, true);
    const char *assigned = s_str(data, "assigned_at"), *revoked = s_str(data, "revoked_at");
    const char *params[] = {id, type, aid, pid, name, holder, kind, assigned, revoked};
    follow_apply(job, svc->db,
                 "WITH i AS (INSERT INTO inbox (event_id, type) VALUES ($1, $2) "
                 "ON CONFLICT DO NOTHING RETURNING 1) "
                 "INSERT INTO system_accounts (id, project_id, account_name, holder_user_id, "
                 "kind, assigned_at, revoked_at) "
                 "SELECT $3, $4, $5, $6, $7, $8::timestamptz, $9::timestamptz FROM i "
                 "ON CONFLICT (id) DO UPDATE SET revoked_at = "
                 "coalesce(system_accounts.revoked_at, excluded.revoked_at), updated_at = now()",
                 9, params);
}

/* ---- the dormancy scan ------------------------------------------------------------ */

static void s_on_scan_applied(void *arg)
{
    s_scanning = false;
}

static void s_on_scanned(void *arg, PGresult *res, struct error *err)
{
    struct service *svc = arg;
    if (err) {
        s_scanning = false;
        log_warn("dormancy scan failed: %s", err->detail);
        error_destroy(&err);
        return;
    }
    int n = PQntuples(res);
    if (n == 0) {
        s_scanning = false;
        return;
    }
    log_info("%d dormant account(s) disabled", n);
    cJSON *users = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", atof(PQgetvalue(res, i, 0)));
        cJSON_AddStringToObject(o, "doc", PQgetvalue(res, i, 1));
        cJSON_AddTrueToObject(o, "disabled");
        cJSON_AddItemToArray(users, o);
    }
    users_changed_apply(svc, users, 0, s_on_scan_applied, NULL);
}

static void s_on_scan(evutil_socket_t fd, short what, void *arg)
{
    struct service *svc = arg;
    if (s_scanning || !db_ready(svc->db)) return;
    s_scanning = true;
    char threshold[24];
    snprintf(threshold, sizeof threshold, "%lld",
             dormant_threshold_s(accounts_cfg.dormant_days, accounts_cfg.dormant_s));
    const char *params[] = {threshold};
    db_query(svc->db,
             "WITH " ADMINS_LOCKED ", "
             "c AS (SELECT id FROM users WHERE NOT disabled AND coalesce(last_login_at, "
             "created_at) < now() - make_interval(secs => $1::double precision)), "
             "keep AS (SELECT count(*) > 0 AND count(*) FILTER (WHERE id NOT IN "
             "(SELECT id FROM c)) = 0 AS admins FROM admins), "
             "u AS (UPDATE users SET disabled = true, updated_at = now() "
             "WHERE id IN (SELECT id FROM c) AND NOT disabled "
             "AND NOT ((SELECT admins FROM keep) AND id IN (SELECT id FROM admins)) "
             "RETURNING *), "
             "e AS (SELECT emit('itgov.account.user.disabled', 'users/' || u.id, NULL, "
             "user_doc(u)) FROM u UNION ALL "
             "SELECT emit('itgov.account.access_review.auto_disabled', 'users/' || u.id, NULL, "
             "jsonb_build_object('user_id', u.id, 'username', u.username, "
             "'last_login_at', rfc3339(u.last_login_at), 'created_at', rfc3339(u.created_at), "
             "'dormant_s', $1::bigint)) FROM u) "
             "SELECT u.id, user_doc(u)::text, (SELECT count(*) FROM e) FROM u ORDER BY u.id",
             1, params, s_on_scanned, svc);
}

/* ---- start and stop ------------------------------------------------------------------ */

int consumer_start(struct service *svc)
{
    if (!setting_bool(accounts_cfg.dormant_auto, &accounts_cfg.dormant_auto_disable)) {
        log_error("ITGOV_DORMANT_AUTO_DISABLE must be true or false");
        return -1;
    }
    char endpoint[300];
    snprintf(endpoint, sizeof endpoint, "tcp://%s:%ld", accounts_cfg.broker_host,
             accounts_cfg.broker_xpub_port);
    static const char *const types[] = {"project.system_account.", NULL};
    const struct follow_source sources[] = {
        {.name = "projects",
         .host = accounts_cfg.projects_host,
         .port = (int)accounts_cfg.projects_port,
         .types = types},
    };
    const struct follow_config fc = {
        .sources = sources,
        .nsources = 1,
        .bus_endpoint = endpoint,
        .poll_ms = (int)accounts_cfg.feed_poll_ms,
        .handler = s_handle,
        .arg = svc,
    };
    s_follow = follow_new(svc, &fc);
    if (accounts_cfg.dormant_auto_disable) {
        s_scan = event_new(svc->base, -1, EV_PERSIST, s_on_scan, svc);
        struct timeval iv = {accounts_cfg.scan_interval_s, 0};
        event_add(s_scan, &iv);
    }
    return s_follow ? 0 : -1;
}

void consumer_stop(struct service *svc)
{
    follow_destroy(&s_follow);
    if (s_scan) event_free(s_scan);
    s_scan = NULL;
}
