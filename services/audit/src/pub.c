/*
 * The audit's ZeroMQ PUB socket (frames documented in pub.h), a CURVE
 * server whose clients the ZAP handler checks against
 * ITGOV_EVENT_CLIENT_KEYS (domain "audit-feed"); and GET
 * /api/v1/events/keys, the server keys such a client needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "audit.h"
#include "itgov/log.h"
#include "itgov/zap.h"
#include "pub.h"

#define DOMAIN "audit-feed"

static struct zap *s_zap;
static char s_feed_public[ZAP_KEY_Z85_LEN + 1];

int pub_auth_start(struct service *svc)
{
    struct zap_keys ks = {0};
    if (!zap_check_key("ITGOV_AUDIT_FEED_CURVE_SECRET", audit_cfg.feed_secret) ||
        !zap_load_keys(&ks, "ITGOV_EVENT_CLIENT_KEYS", audit_cfg.client_keys, false, false))
        return 1;
    zmq_curve_public(s_feed_public, audit_cfg.feed_secret);
    struct zap_policy *p = zap_policy_new();
    zap_policy_allow(p, DOMAIN, &ks);
    log_info("public feed: admitting %zu event clients", ks.n);
    zap_keys_clear(&ks);
    s_zap = zap_new(svc->zctx, &p);
    zap_policy_destroy(&p);
    if (!s_zap || zap_attach(s_zap, svc->base) != 0) return 1;
    return 0;
}

void pub_auth_stop(void)
{
    zap_destroy(&s_zap);
}

void pub_metrics(struct evbuffer *out)
{
    if (s_zap) zap_metrics(s_zap, out);
}

/* GET /api/v1/events/keys (no token): what a university system needs to
 * subscribe, besides its own key pair listed by the operator. */
void events_keys(struct req *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "broker", audit_cfg.broker_public);
    cJSON_AddStringToObject(o, "audit_feed", s_feed_public);
    reply_json(r, 200, o);
}

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
    if (!s_zap || zap_secure(s_zap, p->sock, DOMAIN, audit_cfg.feed_secret) != 0) {
        log_error("cannot set up CURVE on the public feed");
        zmq_close(p->sock);
        free(p);
        return NULL;
    }
    char endpoint[300];
    snprintf(endpoint, sizeof endpoint, "tcp://%s:%d", bind, port);
    if (zmq_bind(p->sock, endpoint) != 0) {
        log_error("cannot bind the public feed on %s: %s", endpoint, zmq_strerror(zmq_errno()));
        zmq_close(p->sock);
        free(p);
        return NULL;
    }
    log_info("public feed on %s (CURVE)", endpoint);
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
