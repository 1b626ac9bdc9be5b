/* projects: yearly IT plans and project applications (port 8082). */
#include "itgov/config.h"
#include "itgov/service.h"
#include "projects.h"

struct projects_config projects_cfg;

static int s_start(struct service *svc)
{
    if (consumer_start(svc) != 0) return -1;
    return scan_start(svc);
}

static void s_stop(struct service *svc)
{
    scan_stop(svc);
    consumer_stop(svc);
}

/* the files of migrations/, embedded by the build (cmake/embed.cmake) */
extern const struct migration projects_migrations[];

int main(int argc, char **argv)
{
    const struct config_row config[] = {
        {"ITGOV_BROKER_HOST", CFG_STR, &projects_cfg.broker_host, "127.0.0.1", 0, 0},
        {"ITGOV_BROKER_XPUB_PORT", CFG_INT, &projects_cfg.broker_xpub_port, "5551", 1, 65535},
        {"ITGOV_APPROVALS_HOST", CFG_STR, &projects_cfg.approvals_host, "127.0.0.1", 0, 0},
        {"ITGOV_APPROVALS_PORT", CFG_INT, &projects_cfg.approvals_port, "8083", 1, 65535},
        {"ITGOV_FEED_POLL_MS", CFG_INT, &projects_cfg.feed_poll_ms, "1000", 50, 600000},
        {"ITGOV_SCAN_INTERVAL_S", CFG_INT, &projects_cfg.scan_interval_s, "30", 1, 86400},
    };
    const struct service_def def = {
        .name = "projects",
        .default_port = ITGOV_DEFAULT_PORT, /* deploy/services */
        .routes = projects_routes,
        .nroutes = projects_nroutes,
        .config = config,
        .nconfig = sizeof config / sizeof config[0],
        .migrations = projects_migrations,
        .start = s_start,
        .stop = s_stop,
    };
    return service_main(&def, argc, argv);
}
