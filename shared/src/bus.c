/*
 * ZeroMQ on the libevent loop. Publisher: a PUB socket connected to the
 * broker's XSUB, with a socket monitor telling whether the connection is up.
 * Subscriber: a SUB socket whose ZMQ_FD is watched by the loop; the fd only
 * says "something changed", so on each wake-up we drain while ZMQ_EVENTS
 * reports ZMQ_POLLIN (and also once after every receive, since the fd is
 * edge-triggered).
 *
 * Wire format (see bus.h): [topic][CloudEvent JSON].
 *
 * Both are CURVE clients of the broker when the process has set its keys
 * (bus_set_curve, once at start): the keys are the process's, not a
 * socket's, so every publisher and subscriber made later uses them without
 * its maker passing them along. The publisher counts as connected only once
 * the CURVE handshake succeeded, since a broker refusing our key still
 * accepts the TCP connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>
#include "itgov/bus.h"
#include "itgov/log.h"
#include "itgov/zap.h"

#define SETTLE_S 1.0 /* connected this long before we trust subscriptions arrived */

struct bus_pub {
    void *sock;
    void *monitor;
    bool connected;
    bool refused; /* logged once until the next successful handshake */
    double since;
};

static struct {
    bool on;
    char secret[ZAP_KEY_Z85_LEN + 1], public[ZAP_KEY_Z85_LEN + 1], server[ZAP_KEY_Z85_LEN + 1];
} s_curve;

bool bus_set_curve(const char *secret, const char *server_public)
{
    if (!zap_key_valid(secret) || !zap_key_valid(server_public) ||
        zmq_curve_public(s_curve.public, secret) != 0)
        return false;
    snprintf(s_curve.secret, sizeof s_curve.secret, "%s", secret);
    snprintf(s_curve.server, sizeof s_curve.server, "%s", server_public);
    s_curve.on = true;
    return true;
}

const char *bus_curve_public(void)
{
    return s_curve.on ? s_curve.public : NULL;
}

static void s_secure(void *sock)
{
    if (!s_curve.on) return;
    zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, s_curve.server, ZAP_KEY_Z85_LEN);
    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, s_curve.public, ZAP_KEY_Z85_LEN);
    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, s_curve.secret, ZAP_KEY_Z85_LEN);
}

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *bus_topic(const char *type)
{
    return strncmp(type, "itgov.", 6) == 0 ? type + 6 : type;
}

struct bus_pub *bus_pub_new(void *zctx, const char *endpoint)
{
    static int seq;
    struct bus_pub *p = calloc(1, sizeof *p);
    if (!p) abort();
    char inproc[64];
    snprintf(inproc, sizeof inproc, "inproc://itgov-pub-monitor-%d", seq++);
    p->sock = zmq_socket(zctx, ZMQ_PUB);
    int hwm = 100000, linger = 1000, ivl = 200;
    zmq_setsockopt(p->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(p->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(p->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    s_secure(p->sock);
    zmq_socket_monitor(p->sock, inproc,
                       ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                           ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
    p->monitor = zmq_socket(zctx, ZMQ_PAIR);
    zmq_setsockopt(p->monitor, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(p->monitor, inproc);
    if (zmq_connect(p->sock, endpoint) != 0) {
        log_error("bus: cannot connect to %s: %s", endpoint, zmq_strerror(zmq_errno()));
        bus_pub_destroy(&p);
    }
    return p;
}

void bus_pub_destroy(struct bus_pub **self_p)
{
    struct bus_pub *p = *self_p;
    if (!p) return;
    zmq_socket_monitor(p->sock, NULL, 0);
    zmq_close(p->monitor);
    zmq_close(p->sock);
    free(p);
    *self_p = NULL;
}

bool bus_pub_ready(struct bus_pub *p)
{
    /* Drain monitor events: frame 1 = u16 event + u32 value, frame 2 = address. */
    for (;;) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, p->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            break;
        }
        unsigned short ev = 0;
        if (zmq_msg_size(&msg) >= 2) memcpy(&ev, zmq_msg_data(&msg), 2);
        bool more = zmq_msg_more(&msg);
        zmq_msg_close(&msg);
        if (more) {
            zmq_msg_init(&msg);
            zmq_msg_recv(&msg, p->monitor, 0);
            zmq_msg_close(&msg);
        }
        if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            p->connected = true;
            p->refused = false;
            p->since = s_now();
            log_info("bus: connected to the broker");
        } else if (ev & (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                         ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)) {
            if (!p->refused)
                log_error("bus: the broker refused our CURVE handshake (is our public key in "
                          "ITGOV_PUBLISHER_KEYS, and ITGOV_BROKER_CURVE_PUBLIC the broker's?)");
            p->refused = true;
            p->connected = false;
        } else if (ev == ZMQ_EVENT_DISCONNECTED) {
            if (p->connected) log_warn("bus: lost the broker");
            p->connected = false;
        }
    }
    return p->connected && s_now() - p->since >= SETTLE_S;
}

bool bus_pub_send(struct bus_pub *p, const char *topic, const char *json, size_t len)
{
    if (zmq_send(p->sock, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) return false;
    return zmq_send(p->sock, json, len, ZMQ_DONTWAIT) >= 0;
}

/* ---- subscriber ---------------------------------------------------------- */

struct bus_sub {
    void *sock;
    struct event *ev;
    bus_cb cb;
    void *arg;
};

static void s_drain(struct bus_sub *s)
{
    for (;;) {
        int events = 0;
        size_t sz = sizeof events;
        if (zmq_getsockopt(s->sock, ZMQ_EVENTS, &events, &sz) != 0 || !(events & ZMQ_POLLIN))
            return;
        zmq_msg_t topic, body;
        zmq_msg_init(&topic);
        zmq_msg_init(&body);
        bool more = false;
        if (zmq_msg_recv(&topic, s->sock, ZMQ_DONTWAIT) >= 0 && zmq_msg_more(&topic) &&
            zmq_msg_recv(&body, s->sock, ZMQ_DONTWAIT) >= 0) {
            more = zmq_msg_more(&body);
            char t[256];
            size_t tl = zmq_msg_size(&topic) < sizeof t - 1 ? zmq_msg_size(&topic) : sizeof t - 1;
            memcpy(t, zmq_msg_data(&topic), tl);
            t[tl] = '\0';
            size_t bl = zmq_msg_size(&body); /* copied: the callback gets a C string */
            char *b = malloc(bl + 1);
            if (!b) abort();
            memcpy(b, zmq_msg_data(&body), bl);
            b[bl] = '\0';
            s->cb(s->arg, t, b, bl);
            free(b);
        }
        zmq_msg_close(&topic);
        zmq_msg_close(&body);
        while (more) { /* drop extra frames of a malformed message */
            zmq_msg_t extra;
            zmq_msg_init(&extra);
            more = zmq_msg_recv(&extra, s->sock, ZMQ_DONTWAIT) >= 0 && zmq_msg_more(&extra);
            zmq_msg_close(&extra);
        }
    }
}

static void s_on_readable(evutil_socket_t fd, short what, void *arg)
{
    s_drain(arg);
}

struct bus_sub *bus_sub_new(struct event_base *base, void *zctx, const char *endpoint,
                            const char *const *prefixes, bus_cb cb, void *arg)
{
    struct bus_sub *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->cb = cb;
    s->arg = arg;
    s->sock = zmq_socket(zctx, ZMQ_SUB);
    int hwm = 100000, linger = 0, ivl = 200;
    zmq_setsockopt(s->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    s_secure(s->sock);
    for (const char *const *p = prefixes; *p; p++)
        zmq_setsockopt(s->sock, ZMQ_SUBSCRIBE, *p, strlen(*p));
    if (zmq_connect(s->sock, endpoint) != 0) {
        log_error("bus: cannot subscribe to %s: %s", endpoint, zmq_strerror(zmq_errno()));
        zmq_close(s->sock);
        free(s);
        return NULL;
    }
    int fd;
    size_t sz = sizeof fd;
    zmq_getsockopt(s->sock, ZMQ_FD, &fd, &sz);
    s->ev = event_new(base, fd, EV_READ | EV_PERSIST, s_on_readable, s);
    event_add(s->ev, NULL);
    return s;
}

void bus_sub_destroy(struct bus_sub **self_p)
{
    struct bus_sub *s = *self_p;
    if (!s) return;
    event_free(s->ev);
    zmq_close(s->sock);
    free(s);
    *self_p = NULL;
}
