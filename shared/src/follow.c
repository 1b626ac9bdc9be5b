/*
 * Following sources' outboxes (design in follow.h). Per source: a queue of
 * events read and not yet handled, one read in flight, one handler job at a
 * time, the cursor (the last sourceseq handled) and the check of bus hints.
 * A read appends to the queue from fetch_after on; a failed job empties the
 * queue and moves fetch_after back to the cursor, so nothing is skipped.
 *
 * A follower outlives follow_destroy() while a database callback or a
 * handler's job still points at it (`pending`); the last one frees it.
 * Pending HTTP requests need no such care: freeing their connection drops
 * them without calling back.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include "itgov/bus.h"
#include "itgov/db.h"
#include "itgov/follow.h"
#include "itgov/http.h"
#include "itgov/log.h"
#include "itgov/service.h"

#define PAGE_DEFAULT 200
#define QUEUE_HIGH   2000 /* no further read while this many events wait */
#define MAX_SOURCES  16

enum reason { R_MISMATCH, R_ABSENT, R_SOURCE, R_TYPE, R_MALFORMED, R_COUNT };
static const char *const s_reasons[R_COUNT] = {"mismatch", "absent", "source", "type", "malformed"};

struct item {
    cJSON *event; /* NULL: a type not followed, only moves the cursor */
    long long seq;
    struct item *next;
};

struct source {
    struct follow *f;
    int index;
    char name[64], ce_source[80], host[256];
    int port;
    char **types;
    struct evhttp_connection *conn;
    struct event *again_ev;
    struct item *head, *tail;
    int queued;
    long long cursor;      /* the last sourceseq handled */
    long long fetch_after; /* the next read starts after this */
    long long read_after;  /* where the read in flight started */
    long long saved;       /* the cursor as stored */
    unsigned gen;          /* reads started */
    bool loaded, loading, fetching, again, busy, in_pump, saving, warned, failed;
    struct follow_check check;
    long long forged[R_COUNT];
};

struct follow_job {
    struct source *s;
    struct item *it;
};

struct follow {
    struct event_base *base;
    struct db *db;
    struct server *http;
    struct follow_config cfg;
    char *auth; /* "Bearer <key>" */
    struct evdns_base *dns;
    struct bus_sub *sub;
    struct event *timer;
    struct source *src;
    int nsrc;
    long long forged_other[R_COUNT]; /* messages naming no followed source */
    double last_warn;
    long long unwarned;
    bool dead;
    int pending; /* database callbacks and handler jobs in flight */
};

static void s_fetch(struct source *s);
static void s_pump(struct source *s);

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the check (pure) ------------------------------------------------------- */

static int s_cmp_members(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string ? x->string : "", y->string ? y->string : "");
}

/* Sorts every object's members by name, in place. */
static void s_sort(cJSON *j)
{
    int n = 0;
    for (cJSON *c = j->child; c; c = c->next) {
        s_sort(c);
        n++;
    }
    if (!cJSON_IsObject(j) || n < 2) return;
    cJSON **v = malloc((size_t)n * sizeof *v);
    if (!v) abort();
    int i = 0;
    for (cJSON *c = j->child; c; c = c->next)
        v[i++] = c;
    qsort(v, (size_t)n, sizeof *v, s_cmp_members);
    for (i = 0; i < n; i++) {
        v[i]->prev = i ? v[i - 1] : v[n - 1]; /* cJSON: the head's prev is the tail */
        v[i]->next = i + 1 < n ? v[i + 1] : NULL;
    }
    j->child = v[0];
    free(v);
}

void follow_digest(const cJSON *event, unsigned char out[32])
{
    cJSON *copy = cJSON_Duplicate(event, 1);
    if (!copy) abort();
    s_sort(copy);
    char *text = cJSON_PrintUnformatted(copy);
    if (!text) abort();
    crypto_hash_sha256(out, (const unsigned char *)text, strlen(text));
    free(text);
    cJSON_Delete(copy);
}

static void s_drop_hint(struct follow_check *c, int i)
{
    c->hint[i] = c->hint[--c->nhints];
}

enum follow_verdict follow_check_hint(struct follow_check *c, long long seq,
                                      const unsigned char d[32], unsigned gen)
{
    if (seq <= c->seen) {
        const struct follow_seen *w = &c->win[seq % FOLLOW_WINDOW];
        if (w->seq != seq) return FOLLOW_UNKNOWN;
        return sodium_memcmp(w->d, d, 32) == 0 ? FOLLOW_SAME : FOLLOW_FORGED;
    }
    for (int i = 0; i < c->nhints; i++)
        if (c->hint[i].seq == seq && memcmp(c->hint[i].d, d, 32) == 0) return FOLLOW_WAIT;
    if (c->nhints == FOLLOW_HINTS) { /* full: the oldest goes unjudged */
        int oldest = 0;
        for (int i = 1; i < c->nhints; i++)
            if (c->hint[i].gen < c->hint[oldest].gen) oldest = i;
        s_drop_hint(c, oldest);
    }
    c->hint[c->nhints].seq = seq;
    c->hint[c->nhints].gen = gen;
    memcpy(c->hint[c->nhints].d, d, 32);
    c->nhints++;
    return FOLLOW_WAIT;
}

int follow_check_read(struct follow_check *c, long long seq, const unsigned char d[32])
{
    c->win[seq % FOLLOW_WINDOW].seq = seq;
    memcpy(c->win[seq % FOLLOW_WINDOW].d, d, 32);
    if (seq > c->seen) c->seen = seq;
    int forged = 0;
    for (int i = 0; i < c->nhints;) {
        if (c->hint[i].seq != seq) {
            i++;
            continue;
        }
        if (sodium_memcmp(c->hint[i].d, d, 32) != 0) forged++;
        s_drop_hint(c, i);
    }
    return forged;
}

int follow_check_end(struct follow_check *c, long long last, unsigned gen)
{
    int forged = 0;
    for (int i = 0; i < c->nhints;) {
        if (c->hint[i].gen < gen && c->hint[i].seq > last) {
            forged++;
            s_drop_hint(c, i);
        } else {
            i++;
        }
    }
    return forged;
}

/* ---- pages (pure) ------------------------------------------------------------- */

static long long s_seq_of(const cJSON *o)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "sourceseq");
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 9e15 ||
        floor(v->valuedouble) != v->valuedouble)
        return -1;
    return (long long)v->valuedouble;
}

int follow_parse_page(const char *text, size_t len,
                      void (*each)(void *arg, long long seq, cJSON *event), void *arg)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    cJSON *items = cJSON_GetObjectItemCaseSensitive(root, "items");
    if (!cJSON_IsArray(items)) {
        cJSON_Delete(root);
        return -1;
    }
    long long last = 0;
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        long long seq = s_seq_of(it);
        if (!cJSON_IsObject(it) || seq <= last) {
            cJSON_Delete(root);
            return -1;
        }
        last = seq;
        n++;
    }
    cJSON *ev;
    while ((ev = cJSON_DetachItemFromArray(items, 0)) != NULL)
        each(arg, s_seq_of(ev), ev);
    cJSON_Delete(root);
    return n;
}

/* ---- counting forgeries ----------------------------------------------------------- */

/* s NULL: the message named no followed source. Logs at most once a second
 * (a flood must not flood the log) what was dropped, never the payload. */
static void s_forged(struct follow *f, struct source *s, enum reason why, int n, const char *fmt,
                     ...) __attribute__((format(printf, 5, 6)));

static void s_forged(struct follow *f, struct source *s, enum reason why, int n, const char *fmt,
                     ...)
{
    if (n <= 0) return;
    if (s)
        s->forged[why] += n;
    else
        f->forged_other[why] += n;
    double now = s_now();
    if (now - f->last_warn < 1.0) {
        f->unwarned += n;
        return;
    }
    f->last_warn = now;
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    log_warn("bus: %s; dropped%s", what,
             f->unwarned ? " (and more since; see itgov_bus_forgeries_total)" : "");
    f->unwarned = 0;
}

/* What a message claims, fit for a log line: printable ASCII, cut short. */
static const char *s_printable(const char *in, char out[81])
{
    size_t n = 0;
    for (; in && in[n] && n < 80; n++)
        out[n] = in[n] >= 0x20 && in[n] < 0x7f ? in[n] : '?';
    out[n] = '\0';
    return n ? out : "none";
}

static void s_metrics(void *arg, struct evbuffer *out)
{
    struct follow *f = arg;
    evbuffer_add_printf(out, "# HELP itgov_bus_forgeries_total Bus messages refused as forged, by "
                             "claimed source and reason.\n"
                             "# TYPE itgov_bus_forgeries_total counter\n");
    for (int i = 0; i <= f->nsrc; i++) {
        const long long *n = i < f->nsrc ? f->src[i].forged : f->forged_other;
        const char *name = i < f->nsrc ? f->src[i].name : "other";
        for (int r = 0; r < R_COUNT; r++)
            evbuffer_add_printf(out,
                                "itgov_bus_forgeries_total{source=\"%s\",reason=\"%s\"} %lld\n",
                                name, s_reasons[r], n[r]);
    }
    evbuffer_add_printf(out, "# HELP itgov_follow_after Last outbox position read per source.\n"
                             "# TYPE itgov_follow_after gauge\n");
    for (int i = 0; i < f->nsrc; i++)
        evbuffer_add_printf(out, "itgov_follow_after{source=\"%s\"} %lld\n", f->src[i].name,
                            f->src[i].cursor);
}

/* ---- the queue ------------------------------------------------------------------- */

static void s_free(struct follow *f)
{
    for (int i = 0; i < f->nsrc; i++) {
        struct source *s = &f->src[i];
        while (s->head) {
            struct item *it = s->head;
            s->head = it->next;
            cJSON_Delete(it->event);
            free(it);
        }
        for (char **t = s->types; t && *t; t++)
            free(*t);
        free(s->types);
    }
    free(f->src);
    free(f->auth);
    free(f);
}

/* One in-flight callback came back; true if the follower is gone. */
static bool s_release(struct follow *f)
{
    f->pending--;
    if (f->dead && f->pending == 0) {
        s_free(f);
        return true;
    }
    return f->dead;
}

static bool s_follows(const struct source *s, const char *type)
{
    const char *topic = bus_topic(type);
    for (char **t = s->types; *t; t++)
        if (strncmp(topic, *t, strlen(*t)) == 0) return true;
    return false;
}

static void s_clear_queue(struct source *s)
{
    while (s->head) {
        struct item *it = s->head;
        s->head = it->next;
        cJSON_Delete(it->event);
        free(it);
    }
    s->tail = NULL;
    s->queued = 0;
}

static void s_save(struct source *s);

static void s_on_saved(void *arg, PGresult *res, struct error *err)
{
    struct source *s = arg;
    s->saving = false;
    if (err) {
        log_warn("follow %s: cannot save the cursor: %s", s->name, err->detail);
        error_destroy(&err);
        s->saved = 0; /* the next move or poll writes it again */
        s_release(s->f);
        return;
    }
    if (!s_release(s->f)) s_save(s);
}

/* The cursor as stored, one write at a time, the latest value next. */
static void s_save(struct source *s)
{
    struct follow *f = s->f;
    if (f->cfg.own_cursor || s->saving || s->saved >= s->cursor || f->dead) return;
    char text[24];
    snprintf(text, sizeof text, "%lld", s->cursor);
    s->saving = true;
    s->saved = s->cursor;
    const char *params[] = {s->name, text};
    f->pending++;
    db_query(f->db,
             "INSERT INTO feed_cursor (source, after) VALUES ($1, $2) ON CONFLICT (source) "
             "DO UPDATE SET after = greatest(feed_cursor.after, excluded.after)",
             2, params, s_on_saved, s);
}

static void s_advance(struct source *s, long long seq)
{
    if (seq <= s->cursor) return;
    s->cursor = seq;
    s_save(s);
}

void follow_done(struct follow_job *job, bool ok)
{
    struct source *s = job->s;
    struct item *it = job->it;
    struct follow *f = s->f;
    free(job);
    s->busy = false;
    long long seq = it->seq;
    cJSON_Delete(it->event);
    free(it);
    if (f->dead) {
        s_release(f);
        return;
    }
    if (ok) {
        s_advance(s, seq);
    } else {
        /* read again from the last event handled, at the next poll */
        s_clear_queue(s);
        s->fetch_after = s->cursor;
        s->failed = true;
    }
    if (s_release(f)) return;
    if (!s->in_pump) s_pump(s);
}

cJSON *follow_take(struct follow_job *job)
{
    cJSON *ev = job->it->event;
    job->it->event = NULL;
    return ev;
}

static void s_pump(struct source *s)
{
    struct follow *f = s->f;
    s->in_pump = true;
    while (!s->busy && !f->dead && s->head) {
        struct item *it = s->head;
        s->head = it->next;
        if (!s->head) s->tail = NULL;
        s->queued--;
        if (!it->event) { /* a type not followed */
            s_advance(s, it->seq);
            free(it);
            continue;
        }
        struct follow_job *job = calloc(1, sizeof *job);
        if (!job) abort();
        job->s = s;
        job->it = it;
        s->busy = true;
        f->pending++;
        f->cfg.handler(f->cfg.arg, s->index, it->seq, it->event, job);
    }
    s->in_pump = false;
    if (!f->dead && s->again && s->queued < QUEUE_HIGH / 2) s_fetch(s);
}

/* ---- reading the source ------------------------------------------------------------ */

struct page_ctx {
    struct source *s;
    long long last;
    int forged;
};

static void s_each(void *arg, long long seq, cJSON *event)
{
    struct page_ctx *c = arg;
    struct source *s = c->s;
    if (seq <= s->fetch_after) { /* already queued or handled */
        cJSON_Delete(event);
        return;
    }
    unsigned char d[32];
    follow_digest(event, d);
    c->forged += follow_check_read(&s->check, seq, d);
    c->last = seq;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(event, "type");
    if (!cJSON_IsString(type) || !s_follows(s, type->valuestring)) {
        cJSON_Delete(event);
        event = NULL;
    }
    struct item *it = calloc(1, sizeof *it);
    if (!it) abort();
    it->event = event;
    it->seq = seq;
    if (s->tail)
        s->tail->next = it;
    else
        s->head = it;
    s->tail = it;
    s->queued++;
    s->fetch_after = seq;
}

static void s_on_page(struct evhttp_request *req, void *arg)
{
    struct source *s = arg;
    struct follow *f = s->f;
    s->fetching = false;
    unsigned gen = s->gen;
    long long from = s->read_after;
    int code = req ? evhttp_request_get_response_code(req) : 0;
    if (code != 200) {
        if (!s->warned)
            log_warn("follow %s: reading %s:%d failed (%s %d); retrying", s->name, s->host, s->port,
                     code ? "HTTP" : "no answer", code);
        s->warned = true;
        return; /* the poll reads again */
    }
    if (s->warned) log_info("follow %s: reading works again", s->name);
    s->warned = false;
    if (from != s->fetch_after) { /* a failed job moved back meanwhile: read from there */
        s->again = true;
        event_active(s->again_ev, EV_TIMEOUT, 1);
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    struct page_ctx c = {s, from, 0};
    int n = follow_parse_page((const char *)evbuffer_pullup(in, -1), len, s_each, &c);
    if (n < 0) {
        log_warn("follow %s: the source answered something that is not a page", s->name);
        return;
    }
    s_forged(f, s, R_MISMATCH, c.forged,
             "%d message(s) as %s events differ from what the source holds (read up to #%lld); "
             "the source's are kept",
             c.forged, s->name, c.last);
    bool full = n >= f->cfg.page;
    if (!full) {
        int absent = follow_check_end(&s->check, c.last, gen);
        s_forged(f, s, R_ABSENT, absent,
                 "%d message(s) as %s events name events the source does not have (it ends at "
                 "#%lld)",
                 absent, s->name, c.last);
    }
    if (full) s->again = true;
    s_pump(s);
    if (s->again && !s->fetching) event_active(s->again_ev, EV_TIMEOUT, 1);
}

static void s_fetch(struct source *s)
{
    struct follow *f = s->f;
    if (!s->loaded || f->dead) return;
    if (s->fetching || s->queued >= QUEUE_HIGH || s->failed) {
        s->again = true;
        return;
    }
    if (!s->conn) {
        s->conn = evhttp_connection_base_new(f->base, f->dns, s->host, (ev_uint16_t)s->port);
        if (!s->conn) return;
        evhttp_connection_set_timeout(s->conn, 10);
        evhttp_connection_set_max_body_size(s->conn, 256L * 1024 * 1024);
    }
    struct evhttp_request *req = evhttp_request_new(s_on_page, s);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    char path[96], host[300];
    snprintf(path, sizeof path, "/internal/v1/outbox?after=%lld&limit=%d", s->fetch_after,
             f->cfg.page);
    snprintf(host, sizeof host, "%s:%d", s->host, s->port);
    evhttp_add_header(h, "Host", host);
    evhttp_add_header(h, "Authorization", f->auth);
    s->again = false;
    s->fetching = true;
    s->read_after = s->fetch_after;
    s->gen++;
    if (evhttp_make_request(s->conn, req, EVHTTP_REQ_GET, path) != 0) s->fetching = false;
}

static void s_on_again(evutil_socket_t fd, short what, void *arg)
{
    s_fetch(arg);
}

/* ---- the bus: hints ------------------------------------------------------------------- */

static struct source *s_source_named(struct follow *f, const char *ce_source)
{
    for (int i = 0; ce_source && i < f->nsrc; i++)
        if (strcmp(f->src[i].ce_source, ce_source) == 0) return &f->src[i];
    return NULL;
}

static void s_on_bus(void *arg, const char *topic, const char *json, size_t len)
{
    struct follow *f = arg;
    cJSON *ev = cJSON_ParseWithLength(json, len);
    const cJSON *source = cJSON_GetObjectItemCaseSensitive(ev, "source");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
    struct source *s = s_source_named(f, cJSON_IsString(source) ? source->valuestring : NULL);
    const char *t = cJSON_IsString(type) ? type->valuestring : NULL;
    long long seq = cJSON_IsObject(ev) ? s_seq_of(ev) : -1;
    char claim[81];
    if (!s) {
        s_forged(f, NULL, cJSON_IsObject(ev) ? R_SOURCE : R_MALFORMED, 1,
                 "a message from no followed source (type %s)", s_printable(t, claim));
    } else if (!t || !s_follows(s, t)) {
        s_forged(f, s, t ? R_TYPE : R_MALFORMED, 1, "a message as %s with a type not followed (%s)",
                 s->name, s_printable(t, claim));
    } else if (seq < 1) {
        s_forged(f, s, R_MALFORMED, 1, "a message as %s (%s) without a sourceseq", s->name,
                 s_printable(t, claim));
    } else {
        unsigned char d[32];
        follow_digest(ev, d);
        switch (follow_check_hint(&s->check, seq, d, s->gen)) {
        case FOLLOW_FORGED:
            s_forged(f, s, R_MISMATCH, 1,
                     "a message as %s #%lld (%s) differs from what the source holds", s->name, seq,
                     s_printable(t, claim));
            break;
        case FOLLOW_WAIT:
            s_fetch(s);
            break;
        default:
            break;
        }
    }
    cJSON_Delete(ev);
}

/* ---- cursors, the poll ------------------------------------------------------------------- */

static void s_on_cursor(void *arg, PGresult *res, struct error *err)
{
    struct source *s = arg;
    s->loading = false;
    if (s_release(s->f)) {
        error_destroy(&err);
        return;
    }
    if (err) {
        log_warn("follow %s: cannot read the cursor: %s", s->name, err->detail);
        error_destroy(&err);
        return; /* the next poll asks again */
    }
    long long after = PQntuples(res) ? atoll(PQgetvalue(res, 0, 0)) : 0;
    s->cursor = s->saved = s->fetch_after = s->check.seen = after;
    s->loaded = true;
    s_fetch(s);
}

static void s_load(struct source *s)
{
    const char *params[] = {s->name};
    s->loading = true;
    s->f->pending++;
    db_query(s->f->db, "SELECT after FROM feed_cursor WHERE source = $1", 1, params, s_on_cursor,
             s);
}

static void s_on_poll(evutil_socket_t fd, short what, void *arg)
{
    struct follow *f = arg;
    for (int i = 0; i < f->nsrc; i++) {
        struct source *s = &f->src[i];
        if (!s->loaded) {
            if (!s->loading) s_load(s);
            continue;
        }
        s->failed = false;
        s_save(s);
        s_fetch(s);
        s_pump(s);
    }
}

/* ---- life ------------------------------------------------------------------------------------ */

static char **s_copy_types(const char *const *types)
{
    size_t n = 0;
    while (types && types[n])
        n++;
    char **out = calloc(n + 1, sizeof *out);
    if (!out) abort();
    for (size_t i = 0; i < n; i++)
        if (!(out[i] = strdup(types[i]))) abort();
    return out;
}

struct follow *follow_new(struct service *svc, const struct follow_config *cfg)
{
    if (cfg->nsources < 1 || cfg->nsources > MAX_SOURCES) return NULL;
    struct follow *f = calloc(1, sizeof *f);
    if (!f) abort();
    f->base = svc->base;
    f->db = svc->db;
    f->http = svc->http;
    f->cfg = *cfg;
    if (f->cfg.page <= 0) f->cfg.page = PAGE_DEFAULT;
    if (asprintf(&f->auth, "Bearer %s", svc->internal_key ? svc->internal_key : "") < 0) abort();
    f->nsrc = cfg->nsources;
    f->src = calloc((size_t)f->nsrc, sizeof *f->src);
    if (!f->src) abort();
    /* every topic any source is followed for, once */
    const char *topics[MAX_SOURCES * 8 + 1];
    int ntopics = 0;
    for (int i = 0; i < f->nsrc; i++) {
        const struct follow_source *fs = &cfg->sources[i];
        struct source *s = &f->src[i];
        s->f = f;
        s->index = i;
        snprintf(s->name, sizeof s->name, "%s", fs->name);
        snprintf(s->ce_source, sizeof s->ce_source, "/itgov/%s", fs->name);
        snprintf(s->host, sizeof s->host, "%s", fs->host);
        s->port = fs->port;
        s->types = s_copy_types(fs->types);
        for (const char *const *t = fs->types; t && *t && ntopics < MAX_SOURCES * 8; t++) {
            bool dup = false;
            for (int k = 0; k < ntopics && !dup; k++)
                dup = strcmp(topics[k], *t) == 0;
            if (!dup) topics[ntopics++] = *t;
        }
        if (cfg->own_cursor) {
            s->cursor = s->saved = s->fetch_after = s->check.seen = fs->after;
            s->loaded = true;
        }
    }
    topics[ntopics] = NULL;
    f->dns = evdns_base_new(f->base,
                            EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (!f->dns) { /* no resolv.conf: names from /etc/hosts, addresses as they are */
        f->dns = evdns_base_new(f->base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
        if (f->dns) evdns_base_load_hosts(f->dns, NULL);
    }
    f->sub = bus_sub_new(f->base, svc->zctx, cfg->bus_endpoint, topics, s_on_bus, f);
    if (!f->sub) {
        if (f->dns) evdns_base_free(f->dns, 0);
        s_free(f);
        return NULL;
    }
    for (int i = 0; i < f->nsrc; i++)
        f->src[i].again_ev = event_new(f->base, -1, 0, s_on_again, &f->src[i]);
    f->timer = event_new(f->base, -1, EV_PERSIST, s_on_poll, f);
    int ms = cfg->poll_ms > 0 ? cfg->poll_ms : 1000;
    struct timeval iv = {ms / 1000, (ms % 1000) * 1000};
    event_add(f->timer, &iv);
    if (f->http) server_add_metrics_hook(f->http, s_metrics, f);
    /* subscribed first, then read: nothing falls between the two */
    for (int i = 0; i < f->nsrc; i++) {
        if (f->src[i].loaded)
            s_fetch(&f->src[i]);
        else
            s_load(&f->src[i]);
    }
    return f;
}

void follow_destroy(struct follow **self_p)
{
    struct follow *f = *self_p;
    if (!f) return;
    *self_p = NULL;
    if (f->http) server_remove_metrics_hook(f->http, s_metrics, f);
    bus_sub_destroy(&f->sub);
    if (f->timer) event_free(f->timer);
    for (int i = 0; i < f->nsrc; i++) {
        struct source *s = &f->src[i];
        if (s->conn) evhttp_connection_free(s->conn);
        s->conn = NULL;
        if (s->again_ev) event_free(s->again_ev);
        s->again_ev = NULL;
    }
    if (f->dns) evdns_base_free(f->dns, 0);
    f->dns = NULL;
    f->dead = true;
    if (f->pending == 0) s_free(f);
}

/* ---- applying -------------------------------------------------------------------------- */

static void s_on_applied(void *arg, PGresult *res, struct error *err)
{
    bool ok = err == NULL; /* before error_destroy(), which sets err to NULL */
    if (err) {
        log_warn("cannot apply an event: %s", err->detail);
        error_destroy(&err);
    }
    follow_done(arg, ok);
}

void follow_apply(struct follow_job *job, struct db *db, const char *sql, int nparams,
                  const char *const *params)
{
    db_query(db, sql, nparams, params, s_on_applied, job);
}
