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
    return 0;
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
    };
    return service_main(&def, argc, argv);
}
