/*
 * The broker: a ZeroMQ XSUB/XPUB forwarder. Services publish to XSUB
 * (ITGOV_BROKER_XSUB_PORT, default 5550); services and other university
 * systems subscribe at XPUB (ITGOV_BROKER_XPUB_PORT, default 5551). It owns
 * nothing and stores nothing. The XSUB side subscribes to everything itself,
 * so publishers always hand their events over even before any subscriber
 * has connected.
 *
 * Both sockets are CURVE servers (ITGOV_BROKER_CURVE_SECRET) and every
 * client is checked by the ZAP handler (shared/src/zap.c): XSUB (domain
 * "xsub") admits only the services' publisher keys (ITGOV_PUBLISHER_KEYS),
 * XPUB (domain "xpub") those and the university systems' keys
 * (ITGOV_EVENT_CLIENT_KEYS). Without that, anyone reaching the port could
 * publish an event the services take as true.
 *
 * One thread polls both sockets and the ZAP handler's (the forwarding is
 * what zmq_proxy does; polling it ourselves lets the same loop answer ZAP
 * and stop cleanly on SIGTERM or SIGINT).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "itgov/config.h"
#include "itgov/log.h"
#include "itgov/zap.h"

#define BURST 1000 /* messages moved per socket per wake-up, for fairness */

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    s_stop = 1;
}

/* Moves whole messages from one socket to the other without blocking. */
static void s_forward(void *from, void *to)
{
    for (int i = 0; i < BURST; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, from, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        for (;;) { /* the rest of a message is there once its first frame is */
            bool more = zmq_msg_more(&m);
            if (zmq_msg_send(&m, to, more ? ZMQ_SNDMORE : 0) < 0) zmq_msg_close(&m);
            if (!more) break;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, from, 0) < 0) {
                zmq_msg_close(&m);
                return;
            }
        }
    }
}

/* The allowlists; false (logged, naming the variable) if a key is bad. */
static struct zap_policy *s_policy(const char *publishers, const char *clients)
{
    struct zap_keys pub = {0}, cli = {0};
    struct zap_policy *p = NULL;
    if (zap_load_keys(&pub, "ITGOV_PUBLISHER_KEYS", publishers, true, true) &&
        zap_load_keys(&cli, "ITGOV_EVENT_CLIENT_KEYS", clients, false, false)) {
        p = zap_policy_new();
        zap_policy_allow(p, "xsub", &pub);
        zap_policy_allow(p, "xpub", &pub);
        zap_policy_allow(p, "xpub", &cli);
        log_info("admitting %zu publishers and %zu event clients", pub.n, cli.n);
    }
    zap_keys_clear(&pub);
    zap_keys_clear(&cli);
    return p;
}

int main(void)
{
    const char *bind, *secret, *publishers, *clients;
    long xsub_port, xpub_port;
    const struct config_row rows[] = {
        {"ITGOV_BIND", CFG_STR, &bind, "127.0.0.1", 0, 0},
        {"ITGOV_BROKER_XSUB_PORT", CFG_INT, &xsub_port, "5550", 1, 65535},
        {"ITGOV_BROKER_XPUB_PORT", CFG_INT, &xpub_port, "5551", 1, 65535},
        {"ITGOV_BROKER_CURVE_SECRET", CFG_STR, &secret, NULL, 0, 0},
        {"ITGOV_PUBLISHER_KEYS", CFG_STR, &publishers, NULL, 0, 0},
        {"ITGOV_EVENT_CLIENT_KEYS", CFG_STR, &clients, "", 0, 0},
    };
    log_init("broker", getenv("ITGOV_LOG_LEVEL"));
    if (!config_load(rows, sizeof rows / sizeof rows[0])) return 2;
    if (!zap_check_key("ITGOV_BROKER_CURVE_SECRET", secret)) return 2;
    struct zap_policy *policy = s_policy(publishers, clients);
    if (!policy) return 2;

    struct sigaction sa = {.sa_handler = s_on_signal}; /* no SA_RESTART: zmq_poll returns */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int rc = 1;
    void *ctx = zmq_ctx_new();
    /* the handler first: a CURVE server without one admits every client */
    struct zap *zap = zap_new(ctx, &policy);
    void *xsub = zmq_socket(ctx, ZMQ_XSUB);
    void *xpub = zmq_socket(ctx, ZMQ_XPUB);
    int hwm = 100000, linger = 0;
    zmq_setsockopt(xsub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(xpub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(xsub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(xpub, ZMQ_LINGER, &linger, sizeof linger);
    if (!zap || zap_secure(zap, xsub, "xsub", secret) != 0 ||
        zap_secure(zap, xpub, "xpub", secret) != 0) {
        log_error("cannot set up CURVE on the broker's sockets");
        goto done;
    }
    char ep[300];
    snprintf(ep, sizeof ep, "tcp://%s:%ld", bind, xsub_port);
    int brc = zmq_bind(xsub, ep);
    snprintf(ep, sizeof ep, "tcp://%s:%ld", bind, xpub_port);
    if (brc == 0) brc = zmq_bind(xpub, ep);
    if (brc != 0) {
        log_error("cannot listen: %s", zmq_strerror(zmq_errno()));
        goto done;
    }
    const char all[] = {1}; /* subscription message "subscribe to everything" */
    zmq_send(xsub, all, sizeof all, 0);
    log_info("forwarding XSUB %ld -> XPUB %ld (CURVE)", xsub_port, xpub_port);
    log_flush();

    zmq_pollitem_t items[8] = {{.socket = xsub, .events = ZMQ_POLLIN},
                               {.socket = xpub, .events = ZMQ_POLLIN}};
    int n = 2 + (int)zap_pollitems(zap, items + 2, 6);
    while (!s_stop) {
        if (zmq_poll(items, n, 1000) < 0) {
            if (zmq_errno() == EINTR) continue;
            log_error("poll failed: %s", zmq_strerror(zmq_errno()));
            goto done;
        }
        zap_serve(zap);
        if (items[0].revents & ZMQ_POLLIN) s_forward(xsub, xpub); /* events */
        if (items[1].revents & ZMQ_POLLIN) s_forward(xpub, xsub); /* subscriptions */
        log_flush();
    }
    log_info("signal: stopping (refused so far: %lld on xsub, %lld on xpub)",
             zap_refused(zap, "xsub"), zap_refused(zap, "xpub"));
    rc = 0;
done:
    zmq_close(xsub);
    zmq_close(xpub);
    zap_destroy(&zap);
    zap_policy_destroy(&policy);
    zmq_ctx_term(ctx);
    log_flush();
    return rc;
}
