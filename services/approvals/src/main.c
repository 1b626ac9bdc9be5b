/* approvals: review cases, expert opinions, meeting decisions (port 8083). */
#include "approvals.h"
#include "itgov/config.h"
#include "itgov/service.h"

struct approvals_config approvals_cfg;

static int s_start(struct service *svc)
{
    return consumer_start(svc);
}

static void s_stop(struct service *svc)
{
    consumer_stop(svc);
}

/* the files of migrations/, embedded by the build (cmake/embed.cmake) */
extern const struct migration approvals_migrations[];

int main(int argc, char **argv)
{
    const struct config_row config[] = {
        {"ITGOV_REVIEW_DAYS", CFG_INT, &approvals_cfg.review_days, "10", 1, 3650},
        {"ITGOV_SCAN_INTERVAL_S", CFG_INT, &approvals_cfg.scan_interval_s, "30", 1, 86400},
        {"ITGOV_BROKER_HOST", CFG_STR, &approvals_cfg.broker_host, "127.0.0.1", 0, 0},
        {"ITGOV_BROKER_XPUB_PORT", CFG_INT, &approvals_cfg.broker_xpub_port, "5551", 1, 65535},
        {"ITGOV_PROJECTS_HOST", CFG_STR, &approvals_cfg.projects_host, "127.0.0.1", 0, 0},
        {"ITGOV_PROJECTS_PORT", CFG_INT, &approvals_cfg.projects_port, "8082", 1, 65535},
        {"ITGOV_ACCOUNTS_HOST", CFG_STR, &approvals_cfg.accounts_host, "127.0.0.1", 0, 0},
        {"ITGOV_ACCOUNTS_PORT", CFG_INT, &approvals_cfg.accounts_port, "8081", 1, 65535},
        {"ITGOV_FEED_POLL_MS", CFG_INT, &approvals_cfg.feed_poll_ms, "1000", 50, 600000},
    };
    const struct service_def def = {
        .name = "approvals",
        .default_port = ITGOV_DEFAULT_PORT, /* deploy/services */
        .routes = approvals_routes,
        .nroutes = approvals_nroutes,
        .config = config,
        .nconfig = sizeof config / sizeof config[0],
        .migrations = approvals_migrations,
        .start = s_start,
        .stop = s_stop,
    };
    return service_main(&def, argc, argv);
}
