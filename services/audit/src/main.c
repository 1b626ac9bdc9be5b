/* audit: the append-only log, its signed Merkle tree, the public feed
 * (HTTP 8084, ZeroMQ PUB 5560). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "audit.h"
#include "checkpoint.h"
#include "ingest.h"
#include "metrics.h"
#include "itgov/config.h"
#include "itgov/http.h"
#include "itgov/service.h"
#include "pub.h"
#include "systems.h"
#ifdef AUDIT_HAVE_WEBHOOKS
#include "webhooks.h"
#endif

struct audit_config audit_cfg;
struct service *audit_svc;

static int s_bootstrap(PGconn *conn)
{
    return ingest_load(conn);
}

static void s_metrics(void *app, struct evbuffer *out)
{
    ingest_metrics(app, out);
    pub_metrics(out);
    tasks_metrics(out);
}

static int s_start(struct service *svc)
{
    audit_svc = svc;
    if (!evaluations_start(audit_cfg.eval_weights)) return 1;
    if (!checkpoint_key_load(audit_cfg.key_file)) return 1;
    if (pub_auth_start(svc) != 0) return 1;
    if (ingest_start(svc) != 0) return 1;
    checkpoints_start(svc->base, svc->db);
    if (tasks_start(svc) != 0) return 1;
    if (silence_start(svc) != 0) return 1; /* issue 14 A */
    server_add_metrics_hook(svc->http, s_metrics, NULL);
#ifdef AUDIT_HAVE_WEBHOOKS
    if (webhooks_start(svc) != 0) return 1;
#endif
    return 0;
}

static void s_stop(struct service *svc)
{
#ifdef AUDIT_HAVE_WEBHOOKS
    webhooks_stop();
#endif
    checkpoints_stop();
    silence_stop();
    tasks_stop();
    ingest_stop();
    pub_auth_stop();
    audit_svc = NULL;
}

/* The default ITGOV_AUDIT_SOURCES: every service of deploy/services
 * (service_peers) as name=http://host:port; this service's own outbox at
 * 127.0.0.1. */
static void s_default_sources(char *out, size_t n)
{
    struct service_peer peers[16];
    int np = service_peers(peers, 16);
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < np && used < n; i++) {
        bool self = strcmp(peers[i].name, "audit") == 0;
        used += (size_t)snprintf(out + used, n - used, "%s%s=http://%s:%ld", i ? "," : "",
                                 peers[i].name, self ? "127.0.0.1" : peers[i].host, peers[i].port);
    }
}

/* the files of migrations/, embedded by the build (cmake/embed.cmake) */
extern const struct migration audit_migrations[];

int main(int argc, char **argv)
{
    static char sources[512], key_file[512];
    s_default_sources(sources, sizeof sources);
    const char *state = getenv("ITGOV_STATE_DIR");
    snprintf(key_file, sizeof key_file, "%s%saudit-signing.key", state && *state ? state : "",
             state && *state ? "/" : "");
    const struct config_row config[] = {
        {"ITGOV_AUDIT_SOURCES", CFG_STR, &audit_cfg.sources, sources, 0, 0},
        {"ITGOV_AUDIT_KEY_FILE", CFG_STR, &audit_cfg.key_file, key_file, 0, 0},
        {"ITGOV_AUDIT_PUB_PORT", CFG_INT, &audit_cfg.pub_port, "5560", 1, 65535},
        {"ITGOV_AUDIT_CATCHUP_MS", CFG_INT, &audit_cfg.catchup_ms, "2000", 50, 600000},
        {"ITGOV_AUDIT_BATCH", CFG_INT, &audit_cfg.batch_max, "2000", 1, 20000},
        {"ITGOV_AUDIT_FEED_CURVE_SECRET", CFG_STR, &audit_cfg.feed_secret, NULL, 0, 0},
        {"ITGOV_EVENT_CLIENT_KEYS", CFG_STR, &audit_cfg.client_keys, "", 0, 0},
        {"ITGOV_BROKER_CURVE_PUBLIC", CFG_STR, &audit_cfg.broker_public, NULL, 0, 0},
        /* issue 12 E: the evaluation weights (evaluations.c); "" = defaults */
        {"ITGOV_EVAL_WEIGHTS", CFG_STR, &audit_cfg.eval_weights, "", 0, 0},
        /* issue 14 A: the silence rule (log_silent, findings.c) */
        {"ITGOV_ANCHOR_SILENCE_H", CFG_STR, &audit_cfg.silence_h, "26", 0, 0},
        {"ITGOV_SCAN_INTERVAL_S", CFG_INT, &audit_cfg.scan_interval_s, "30", 1, 86400},
    };
    /* issue 14 A: a bad silence threshold stops audit before anything starts */
    const char *silence = getenv("ITGOV_ANCHOR_SILENCE_H");
    double seconds;
    if (silence && !silence_hours_parse(silence, &seconds)) {
        fprintf(stderr,
                "ITGOV_ANCHOR_SILENCE_H: must be a number of hours (fractions allowed, e.g. "
                "0.5), from 1 second to %.0f hours\n",
                SILENCE_MAX_HOURS);
        return 1;
    }
    const struct service_def def = {
        .name = "audit",
        .default_port = ITGOV_DEFAULT_PORT, /* deploy/services */
        .routes = audit_routes,
        .nroutes = audit_nroutes,
        .config = config,
        .nconfig = sizeof config / sizeof config[0],
        .migrations = audit_migrations,
        .bootstrap = s_bootstrap,
        .start = s_start,
        .stop = s_stop,
        .system_auth = metrics_key_auth, /* metrics keys (issue 12 D) */
    };
    return service_main(&def, argc, argv);
}
