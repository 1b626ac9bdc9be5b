/* accounts: departments, users, roles, passwords and sessions (port 8081). */
#include "accounts.h"
#include "itgov/config.h"
#include "itgov/redis.h"
#include "itgov/service.h"

struct accounts_config accounts_cfg;

/* accounts writes sessions (session_store.h): it loads the session store's
 * functions, with the login counters', and records last_seen_at. */
static int s_start(struct service *svc)
{
    redis_add_library(svc->redis, session_redis_library);
    redis_add_library(svc->redis, accounts_redis_library);
    session_on_seen(session_touch);
    return consumer_start(svc);
}

static void s_stop(struct service *svc)
{
    consumer_stop(svc);
}

/* the files of migrations/, embedded by the build (cmake/embed.cmake) */
extern const struct migration accounts_migrations[];

int main(int argc, char **argv)
{
    const struct config_row config[] = {
        {"ITGOV_ADMIN_PASSWORD", CFG_STR, &accounts_cfg.admin_password, "", 0, 0},
        {"ITGOV_SESSION_TTL_S", CFG_INT, &accounts_cfg.session_ttl_s, "28800", 60, 31 * 86400},
        {"ITGOV_LOGIN_MAX_FAILURES", CFG_INT, &accounts_cfg.max_failures, "5", 1, 100},
        {"ITGOV_LOGIN_LOCK_S", CFG_INT, &accounts_cfg.lock_s, "900", 1, 86400},
        {"ITGOV_DORMANT_DAYS", CFG_INT, &accounts_cfg.dormant_days, "90", 1, 3650},
        {"ITGOV_DORMANT_S", CFG_INT, &accounts_cfg.dormant_s, "0", 0, 3650L * 86400},
        {"ITGOV_DORMANT_AUTO_DISABLE", CFG_STR, &accounts_cfg.dormant_auto, "false", 0, 0},
        {"ITGOV_SCAN_INTERVAL_S", CFG_INT, &accounts_cfg.scan_interval_s, "30", 1, 86400},
        {"ITGOV_BROKER_HOST", CFG_STR, &accounts_cfg.broker_host, "127.0.0.1", 0, 0},
        {"ITGOV_BROKER_XPUB_PORT", CFG_INT, &accounts_cfg.broker_xpub_port, "5551", 1, 65535},
        {"ITGOV_PROJECTS_HOST", CFG_STR, &accounts_cfg.projects_host, "127.0.0.1", 0, 0},
        {"ITGOV_PROJECTS_PORT", CFG_INT, &accounts_cfg.projects_port, "8082", 1, 65535},
        {"ITGOV_FEED_POLL_MS", CFG_INT, &accounts_cfg.feed_poll_ms, "1000", 50, 600000},
    };
    const struct service_def def = {
        .name = "accounts",
        .default_port = ITGOV_DEFAULT_PORT, /* deploy/services */
        .routes = accounts_routes,
        .nroutes = accounts_nroutes,
        .config = config,
        .nconfig = sizeof config / sizeof config[0],
        .migrations = accounts_migrations,
        .bootstrap = accounts_bootstrap,
        .start = s_start,
        .stop = s_stop,
    };
    return service_main(&def, argc, argv);
}
