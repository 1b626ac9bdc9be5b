/*
 * The broker: a ZeroMQ XSUB/XPUB forwarder (zmq_proxy). Services publish to
 * XSUB (ITGOV_BROKER_XSUB_PORT, default 5550); services and other university
 * systems subscribe at XPUB (ITGOV_BROKER_XPUB_PORT, default 5551). It owns
 * nothing and stores nothing. The XSUB side subscribes to everything itself,
 * so publishers always hand their events over even before any subscriber
 * has connected.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "itgov/config.h"
#include "itgov/log.h"

int main(void)
{
    const char *bind;
    long xsub_port, xpub_port;
    const struct config_row rows[] = {
        {"ITGOV_BIND", CFG_STR, &bind, "127.0.0.1", 0, 0},
        {"ITGOV_BROKER_XSUB_PORT", CFG_INT, &xsub_port, "5550", 1, 65535},
        {"ITGOV_BROKER_XPUB_PORT", CFG_INT, &xpub_port, "5551", 1, 65535},
    };
    log_init("broker", getenv("ITGOV_LOG_LEVEL"));
    if (!config_load(rows, sizeof rows / sizeof rows[0])) return 2;

    void *ctx = zmq_ctx_new();
    void *xsub = zmq_socket(ctx, ZMQ_XSUB);
    void *xpub = zmq_socket(ctx, ZMQ_XPUB);
    int hwm = 100000, linger = 0;
    zmq_setsockopt(xsub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(xpub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(xsub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(xpub, ZMQ_LINGER, &linger, sizeof linger);
    char ep[300];
    snprintf(ep, sizeof ep, "tcp://%s:%ld", bind, xsub_port);
    int rc = zmq_bind(xsub, ep);
    snprintf(ep, sizeof ep, "tcp://%s:%ld", bind, xpub_port);
    if (rc == 0) rc = zmq_bind(xpub, ep);
    if (rc != 0) {
        log_error("cannot listen: %s", zmq_strerror(zmq_errno()));
        return 1;
    }
    const char all[] = {1}; /* subscription message "subscribe to everything" */
    zmq_send(xsub, all, sizeof all, 0);
    log_info("forwarding XSUB %ld -> XPUB %ld", xsub_port, xpub_port);
    log_flush();
    zmq_proxy(xsub, xpub, NULL); /* returns when the context is terminated */
    zmq_close(xsub);
    zmq_close(xpub);
    zmq_ctx_term(ctx);
    return 0;
}
