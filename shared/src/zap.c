/*
 * The ZAP handler (frames documented in zap.h). It is a REP socket on
 * inproc://zeromq.zap.01 that libzmq asks about every client completing a
 * CURVE handshake on a server socket of the same context; the answer
 * comes from the policy, a short allowlist of public keys per domain.
 * Clients without CURVE, or with a wrong server key, fail the handshake
 * before any ZAP request, so each secured socket also gets a monitor and
 * those failures are logged and counted here too.
 *
 * The handler never blocks: zap_serve() drains whatever is pending, and a
 * loop (libevent or zmq_poll) calls it when one of its sockets is readable.
 * Refusals are logged at most once a second (with the number left out in
 * between): a refused client reconnects every few hundred milliseconds and
 * must not flood the log; the counters see every one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "itgov/log.h"
#include "itgov/zap.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define MAX_DOMAINS  8
#define MAX_WATCH    4
#define MAX_FRAMES   8
#define KEY_SHOWN    8 /* characters of a public key shown in logs */

static const char s_z85[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            ".-:+=^!/*?&<>()[]{}@%$#";

/* ---- keys ---------------------------------------------------------------- */

bool zap_key_decode(const char *text, size_t len, unsigned char out[32])
{
    if (!text || len != ZAP_KEY_Z85_LEN) return false;
    for (size_t i = 0; i < len; i += 5) {
        uint64_t v = 0;
        for (size_t j = 0; j < 5; j++) {
            const char *c = text[i + j] ? strchr(s_z85, text[i + j]) : NULL;
            if (!c) return false;
            v = v * 85 + (uint64_t)(c - s_z85);
        }
        if (v > UINT32_MAX) return false; /* "#####" would not fit 4 bytes */
        size_t o = i / 5 * 4;
        out[o] = (unsigned char)(v >> 24);
        out[o + 1] = (unsigned char)(v >> 16);
        out[o + 2] = (unsigned char)(v >> 8);
        out[o + 3] = (unsigned char)v;
    }
    return true;
}

void zap_key_encode(const unsigned char key[32], char out[ZAP_KEY_Z85_LEN + 1])
{
    for (size_t i = 0; i < 32; i += 4) {
        uint32_t v = (uint32_t)key[i] << 24 | (uint32_t)key[i + 1] << 16 |
                     (uint32_t)key[i + 2] << 8 | key[i + 3];
        for (int j = 4; j >= 0; j--) {
            out[i / 4 * 5 + (size_t)j] = s_z85[v % 85];
            v /= 85;
        }
    }
    out[ZAP_KEY_Z85_LEN] = '\0';
}

bool zap_key_valid(const char *text)
{
    unsigned char k[32];
    return text && zap_key_decode(text, strlen(text), k);
}

static bool s_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool zap_keys_parse(struct zap_keys *ks, const char *list, bool named, char *err, size_t errlen)
{
    const char *p = list ? list : "";
    while (s_is_space(*p))
        p++;
    if (!*p) return true; /* a blank list: no keys */
    bool last = false;
    for (int pos = 1; !last; pos++) {
        const char *end = strchr(p, ',');
        if (!end) {
            end = p + strlen(p);
            last = true;
        }
        const char *a = p, *b = end;
        while (a < b && s_is_space(*a))
            a++;
        while (b > a && s_is_space(b[-1]))
            b--;
        p = end + !last;
        if (a == b) {
            snprintf(err, errlen, "entry %d is empty", pos);
            return false;
        }
        struct zap_key k;
        memset(&k, 0, sizeof k);
        snprintf(k.name, sizeof k.name, "client");
        if (named) {
            const char *eq = memchr(a, '=', (size_t)(b - a));
            if (!eq || eq == a || (size_t)(eq - a) >= sizeof k.name) {
                snprintf(err, errlen, "entry %d is not name=key", pos);
                return false;
            }
            memcpy(k.name, a, (size_t)(eq - a));
            k.name[eq - a] = '\0';
            a = eq + 1;
        }
        if (!zap_key_decode(a, (size_t)(b - a), k.key)) {
            snprintf(err, errlen, "entry %d is not a CURVE public key (40 Z85 characters)", pos);
            return false;
        }
        struct zap_key *v = realloc(ks->v, (ks->n + 1) * sizeof *v);
        if (!v) abort();
        ks->v = v;
        ks->v[ks->n++] = k;
    }
    return true;
}

const struct zap_key *zap_keys_find(const struct zap_keys *ks, const unsigned char key[32])
{
    for (size_t i = 0; i < ks->n; i++)
        if (memcmp(ks->v[i].key, key, 32) == 0) return &ks->v[i];
    return NULL;
}

void zap_keys_clear(struct zap_keys *ks)
{
    free(ks->v);
    ks->v = NULL;
    ks->n = 0;
}

/* ---- the policy ---------------------------------------------------------- */

struct zap_policy {
    struct {
        char name[32];
        struct zap_keys keys;
    } d[MAX_DOMAINS];
    size_t n;
};

struct zap_policy *zap_policy_new(void)
{
    struct zap_policy *p = calloc(1, sizeof *p);
    if (!p) abort();
    return p;
}

void zap_policy_destroy(struct zap_policy **self_p)
{
    struct zap_policy *p = *self_p;
    if (!p) return;
    for (size_t i = 0; i < p->n; i++)
        zap_keys_clear(&p->d[i].keys);
    free(p);
    *self_p = NULL;
}

static int s_domain(const struct zap_policy *p, const char *domain)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->d[i].name, domain) == 0) return (int)i;
    return -1;
}

void zap_policy_allow(struct zap_policy *p, const char *domain, const struct zap_keys *ks)
{
    int i = s_domain(p, domain);
    if (i < 0) {
        if (p->n == MAX_DOMAINS) abort(); /* a programming error, not configuration */
        i = (int)p->n++;
        snprintf(p->d[i].name, sizeof p->d[i].name, "%s", domain);
    }
    struct zap_keys *to = &p->d[i].keys;
    struct zap_key *v = realloc(to->v, (to->n + ks->n + 1) * sizeof *v);
    if (!v) abort();
    to->v = v;
    if (ks->n) memcpy(to->v + to->n, ks->v, ks->n * sizeof *v);
    to->n += ks->n;
}

const struct zap_key *zap_policy_admit(const struct zap_policy *p, const char *domain,
                                       const char *mechanism, const void *cred, size_t len)
{
    int i = domain ? s_domain(p, domain) : -1;
    if (i < 0 || !mechanism || strcmp(mechanism, "CURVE") != 0 || len != 32) return NULL;
    return zap_keys_find(&p->d[i].keys, cred);
}

/* ---- configuration -------------------------------------------------------- */

bool zap_check_key(const char *var, const char *value)
{
    if (zap_key_valid(value)) return true;
    log_error("%s must be a CURVE key: 40 Z85 characters (deploy/keygen.py makes them)", var);
    return false;
}

bool zap_load_keys(struct zap_keys *ks, const char *var, const char *list, bool named,
                   bool required)
{
    char err[128];
    if (!zap_keys_parse(ks, list, named, err, sizeof err)) {
        log_error("%s: %s", var, err);
        return false;
    }
    if (required && ks->n == 0) {
        log_error("%s is required: %s", var,
                  named ? "name=<Z85 public key>, comma-separated" : "Z85 public keys");
        return false;
    }
    return true;
}

/* ---- the handler ---------------------------------------------------------- */

struct zap_watch {
    void *mon; /* PAIR connected to the secured socket's monitor */
    char domain[32];
    struct event *ev;
};

struct zap_count {
    char domain[32];
    long long admitted, denied, failed;
    double last_log[2]; /* [0] refused keys, [1] failed handshakes */
    long long quiet[2]; /* refusals not logged since the last line */
};

struct zap {
    void *zctx;
    void *rep;
    struct zap_policy *policy;
    struct event_base *base;
    struct event *rep_ev;
    struct zap_watch w[MAX_WATCH];
    size_t nw;
    struct zap_count c[MAX_DOMAINS];
    size_t nc;
};

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct zap_count *s_count(struct zap *z, const char *domain)
{
    for (size_t i = 0; i < z->nc; i++)
        if (strcmp(z->c[i].domain, domain) == 0) return &z->c[i];
    if (z->nc == MAX_DOMAINS) return &z->c[MAX_DOMAINS - 1]; /* unknown domains share one */
    struct zap_count *c = &z->c[z->nc++];
    snprintf(c->domain, sizeof c->domain, "%s", domain);
    return c;
}

/* One log line per refusal, at most one a second per domain and kind. */
static void s_report(struct zap_count *c, bool handshake, enum log_level level, const char *msg,
                     const char *key, const char *address)
{
    double now = s_now();
    if (c->last_log[handshake] > 0 && now - c->last_log[handshake] < 1.0) {
        c->quiet[handshake]++;
        return;
    }
    c->last_log[handshake] = now;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "msg", msg);
    cJSON_AddStringToObject(f, "domain", c->domain);
    if (key) cJSON_AddStringToObject(f, "client_key", key);
    if (address && *address) cJSON_AddStringToObject(f, "address", address);
    cJSON_AddNumberToObject(f, "refused_total", (double)(c->denied + c->failed));
    if (c->quiet[handshake])
        cJSON_AddNumberToObject(f, "not_logged_since_last", (double)c->quiet[handshake]);
    c->quiet[handshake] = 0;
    log_fields(level, f);
}

struct zap *zap_new(void *zctx, struct zap_policy **policy_p)
{
    struct zap *z = calloc(1, sizeof *z);
    if (!z) abort();
    z->zctx = zctx;
    z->rep = zmq_socket(zctx, ZMQ_REP);
    int linger = 0;
    zmq_setsockopt(z->rep, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(z->rep, ZAP_ENDPOINT) != 0) {
        log_error("cannot start the ZAP handler: %s", zmq_strerror(zmq_errno()));
        zmq_close(z->rep);
        free(z);
        return NULL;
    }
    z->policy = *policy_p;
    *policy_p = NULL;
    return z;
}

void zap_destroy(struct zap **self_p)
{
    struct zap *z = *self_p;
    if (!z) return;
    for (size_t i = 0; i < z->nw; i++) {
        if (z->w[i].ev) event_free(z->w[i].ev);
        zmq_close(z->w[i].mon);
    }
    if (z->rep_ev) event_free(z->rep_ev);
    zmq_close(z->rep);
    zap_policy_destroy(&z->policy);
    free(z);
    *self_p = NULL;
}

static void s_on_ready(evutil_socket_t fd, short what, void *arg)
{
    zap_serve(arg);
}

static struct event *s_watch_fd(struct zap *z, void *sock)
{
    int fd;
    size_t sz = sizeof fd;
    if (zmq_getsockopt(sock, ZMQ_FD, &fd, &sz) != 0) return NULL;
    struct event *ev = event_new(z->base, fd, EV_READ | EV_PERSIST, s_on_ready, z);
    event_add(ev, NULL);
    return ev;
}

int zap_secure(struct zap *z, void *sock, const char *domain, const char *secret)
{
    int on = 1;
    if (z->nw == MAX_WATCH || !zap_key_valid(secret) ||
        zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &on, sizeof on) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, secret, ZAP_KEY_Z85_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) != 0)
        return -1;
    static int seq;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://itgov-zap-monitor-%d", seq++);
    /* PROTOCOL: a ZMTP peer with no CURVE or a wrong server key. NO_DETAIL:
     * the connection closed mid-handshake, which is how a client without
     * CURVE often shows (it gives up and resets the connection before we
     * read its greeting), but also a bare port probe. */
    int events = ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
    if (zmq_socket_monitor(sock, ep, events) != 0) return -1;
    struct zap_watch *w = &z->w[z->nw];
    w->mon = zmq_socket(z->zctx, ZMQ_PAIR);
    int linger = 0;
    zmq_setsockopt(w->mon, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(w->mon, ep) != 0) {
        zmq_close(w->mon);
        return -1;
    }
    snprintf(w->domain, sizeof w->domain, "%s", domain);
    s_count(z, domain);
    if (z->base) w->ev = s_watch_fd(z, w->mon);
    z->nw++;
    return 0;
}

static bool s_readable(void *sock)
{
    int events = 0;
    size_t sz = sizeof events;
    return zmq_getsockopt(sock, ZMQ_EVENTS, &events, &sz) == 0 && (events & ZMQ_POLLIN);
}

/* A frame as a C string (truncated to n-1), for the text frames. */
static void s_text(zmq_msg_t *m, char *out, size_t n)
{
    size_t l = zmq_msg_size(m) < n - 1 ? zmq_msg_size(m) : n - 1;
    memcpy(out, zmq_msg_data(m), l);
    out[l] = '\0';
}

static void s_answer(struct zap *z)
{
    zmq_msg_t f[MAX_FRAMES];
    int n = 0;
    bool more = true;
    while (more) {
        zmq_msg_t extra, *m = n < MAX_FRAMES ? &f[n] : &extra;
        zmq_msg_init(m);
        if (zmq_msg_recv(m, z->rep, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(m);
            if (n == 0) return; /* nothing taken, nothing owed */
            break;
        }
        more = zmq_msg_more(m);
        if (m == &extra)
            zmq_msg_close(m);
        else
            n++;
    }
    /* 0 version, 1 request id, 2 domain, 3 address, 4 routing id, 5 mechanism, 6 credentials */
    char version[8] = "", domain[64] = "", address[64] = "", mechanism[16] = "";
    if (n > 0) s_text(&f[0], version, sizeof version);
    if (n > 2) s_text(&f[2], domain, sizeof domain);
    if (n > 3) s_text(&f[3], address, sizeof address);
    if (n > 5) s_text(&f[5], mechanism, sizeof mechanism);
    const struct zap_key *k = NULL;
    bool wellformed = n >= 6 && strcmp(version, "1.0") == 0;
    if (wellformed)
        k = zap_policy_admit(z->policy, domain, mechanism, n > 6 ? zmq_msg_data(&f[6]) : NULL,
                             n > 6 ? zmq_msg_size(&f[6]) : 0);
    struct zap_count *c = s_count(z, domain);
    if (k) {
        c->admitted++;
        log_debug("bus: admitted %s on %s", k->name, domain);
    } else {
        c->denied++;
        char shown[ZAP_KEY_Z85_LEN + 1] = "";
        if (n > 6 && zmq_msg_size(&f[6]) == 32) {
            zap_key_encode(zmq_msg_data(&f[6]), shown);
            strcpy(shown + KEY_SHOWN, "...");
        }
        s_report(c, false, LOG_WARN, "bus: refused a client key", *shown ? shown : NULL, address);
    }
    const char *status = k ? "200" : "400", *text = k ? "OK" : "key not allowed";
    const char *user = k ? k->name : "";
    zmq_send(z->rep, "1.0", 3, ZMQ_SNDMORE);
    if (n > 1)
        zmq_send(z->rep, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
    else
        zmq_send(z->rep, "", 0, ZMQ_SNDMORE);
    zmq_send(z->rep, status, 3, ZMQ_SNDMORE);
    zmq_send(z->rep, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(z->rep, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(z->rep, "", 0, 0);
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

/* Monitor events: frame 1 = u16 event + u32 value, frame 2 = endpoint. */
static void s_handshake_event(struct zap *z, struct zap_watch *w)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, w->mon, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return;
    }
    uint16_t ev = 0;
    if (zmq_msg_size(&m) >= 2) memcpy(&ev, zmq_msg_data(&m), 2);
    bool more = zmq_msg_more(&m);
    zmq_msg_close(&m);
    while (more) {
        zmq_msg_init(&m);
        more = zmq_msg_recv(&m, w->mon, 0) >= 0 && zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
    bool protocol = ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
    if (!protocol && ev != ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) return;
    struct zap_count *c = s_count(z, w->domain);
    c->failed++;
    if (protocol)
        s_report(c, true, LOG_WARN,
                 "bus: a client failed the CURVE handshake (no CURVE, or a wrong server key)", NULL,
                 NULL);
    else /* info: local.sh's readiness probe does this at every start */
        s_report(c, true, LOG_INFO,
                 "bus: a connection closed during the CURVE handshake (a client without CURVE, "
                 "or a port probe)",
                 NULL, NULL);
}

void zap_serve(struct zap *z)
{
    for (bool busy = true; busy;) {
        busy = false;
        if (s_readable(z->rep)) {
            s_answer(z);
            busy = true;
        }
        for (size_t i = 0; i < z->nw; i++)
            if (s_readable(z->w[i].mon)) {
                s_handshake_event(z, &z->w[i]);
                busy = true;
            }
    }
}

size_t zap_pollitems(struct zap *z, zmq_pollitem_t *items, size_t max)
{
    size_t n = 0;
    if (n < max) items[n++] = (zmq_pollitem_t){.socket = z->rep, .events = ZMQ_POLLIN};
    for (size_t i = 0; i < z->nw && n < max; i++)
        items[n++] = (zmq_pollitem_t){.socket = z->w[i].mon, .events = ZMQ_POLLIN};
    return n;
}

int zap_attach(struct zap *z, struct event_base *base)
{
    z->base = base;
    z->rep_ev = s_watch_fd(z, z->rep);
    if (!z->rep_ev) return -1;
    for (size_t i = 0; i < z->nw; i++)
        if (!z->w[i].ev && !(z->w[i].ev = s_watch_fd(z, z->w[i].mon))) return -1;
    zap_serve(z); /* the fds are edge-triggered: take what came before */
    return 0;
}

long long zap_refused(const struct zap *z, const char *domain)
{
    for (size_t i = 0; i < z->nc; i++)
        if (strcmp(z->c[i].domain, domain) == 0) return z->c[i].denied + z->c[i].failed;
    return 0;
}

void zap_metrics(const struct zap *z, struct evbuffer *out)
{
    evbuffer_add_printf(out, "# HELP itgov_bus_clients_refused_total CURVE clients refused, by "
                             "domain and reason.\n"
                             "# TYPE itgov_bus_clients_refused_total counter\n");
    for (size_t i = 0; i < z->nc; i++)
        evbuffer_add_printf(out,
                            "itgov_bus_clients_refused_total{domain=\"%s\",reason=\"key\"} %lld\n"
                            "itgov_bus_clients_refused_total{domain=\"%s\",reason=\"handshake\"} "
                            "%lld\n",
                            z->c[i].domain, z->c[i].denied, z->c[i].domain, z->c[i].failed);
}
