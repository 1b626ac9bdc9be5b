/* The audit's ZeroMQ PUB socket (frames documented in pub.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "itgov/log.h"
#include "pub.h"

struct pub {
    void *sock;
    long long dropped;
};

struct pub *pub_new(void *zctx, const char *bind, int port)
{
    struct pub *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->sock = zmq_socket(zctx, ZMQ_PUB);
    int hwm = 200000, linger = 0;
    zmq_setsockopt(p->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(p->sock, ZMQ_LINGER, &linger, sizeof linger);
    char endpoint[300];
    snprintf(endpoint, sizeof endpoint, "tcp://%s:%d", bind, port);
    if (zmq_bind(p->sock, endpoint) != 0) {
        log_error("cannot bind the public feed on %s: %s", endpoint, zmq_strerror(zmq_errno()));
        zmq_close(p->sock);
        free(p);
        return NULL;
    }
    log_info("public feed on %s", endpoint);
    return p;
}

void pub_destroy(struct pub **self_p)
{
    struct pub *p = *self_p;
    if (!p) return;
    zmq_close(p->sock);
    free(p);
    *self_p = NULL;
}

bool pub_send(struct pub *p, const char *topic, const char *json, size_t len)
{
    if (zmq_send(p->sock, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(p->sock, json, len, ZMQ_DONTWAIT) < 0) {
        if (p->dropped++ % 10000 == 0)
            log_warn("public feed: a message was dropped (%s)", zmq_strerror(zmq_errno()));
        return false;
    }
    return true;
}
