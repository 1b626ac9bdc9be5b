/*
 * Feeds: another service's events, from the bus as they happen and from the
 * source's outbox (over HTTP) to catch up, handed to one handler one at a
 * time. The queue holds live events and catch-up pages; a page ends in a
 * marker that moves the cursor, persisted in feed_cursor, only after every
 * event of the page was handled. A live event moves the cursor too when its
 * sourceseq is the next one; one further on reveals a gap and starts a
 * catch-up at once.
 *
 * A feed outlives feed_destroy() while a database callback or a handler's
 * job still points at it (`pending`); the last one frees it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include "itgov/bus.h"
#include "itgov/db.h"
#include "itgov/feed.h"
#include "itgov/log.h"
#include "itgov/outbox.h"

#define FEED_PAGE      200
#define FEED_MAX_QUEUE 10000

struct item {
    cJSON *event;       /* NULL for a page marker */
    long long seq;      /* catch-up: the event's sequence; marker: the page's last */
    bool full;          /* marker: the page was full, ask again at once */
    long long live_seq; /* a live event's sourceseq, 0 if none */
    struct item *next;
};

struct feed_job {
    struct feed *f;
    struct item *it;
};

struct feed {
    struct event_base *base;
    struct db *db;
    struct feed_config cfg;
    char *source, *host;
    struct bus_sub *sub;
    struct event *timer;
    struct evhttp_connection *conn;
    struct item *head, *tail;
    int queued;
    long long cursor;
    long long live_max; /* the highest sourceseq seen on the bus */
    bool loaded, polling, busy, in_pump, page_failed, dead, warned;
    int pending; /* database callbacks and handler jobs in flight */
};

static void s_pump(struct feed *f);
static void s_poll(struct feed *f);

static void s_free(struct feed *f)
{
    while (f->head) {
        struct item *it = f->head;
        f->head = it->next;
        cJSON_Delete(it->event);
        free(it);
    }
    free(f->source);
    free(f->host);
    free((char *)f->cfg.internal_key);
    free(f);
}

/* One in-flight callback came back; true if the feed is gone. */
static bool s_release(struct feed *f)
{
    f->pending--;
    if (f->dead && f->pending == 0) {
        s_free(f);
        return true;
    }
    return f->dead;
}

static void s_push(struct feed *f, cJSON *event, long long seq, bool full)
{
    struct item *it = calloc(1, sizeof *it);
    if (!it) abort();
    it->event = event;
    it->seq = seq;
    it->full = full;
    if (f->tail)
        f->tail->next = it;
    else
        f->head = it;
    f->tail = it;
    f->queued++;
}

static struct item *s_pop(struct feed *f)
{
    struct item *it = f->head;
    if (!it) return NULL;
    f->head = it->next;
    if (!f->head) f->tail = NULL;
    f->queued--;
    return it;
}

/* ---- parsing a page (pure) ------------------------------------------------ */

static long long s_seq_of(const cJSON *o)
{
    const char *names[] = {"sourceseq", "seq"};
    for (int i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, names[i]);
        if (cJSON_IsNumber(v)) return (long long)v->valuedouble;
        if (cJSON_IsString(v)) return atoll(v->valuestring);
    }
    return -1;
}

int feed_parse_page(const char *text, size_t len,
                    void (*each)(void *arg, long long seq, cJSON *event), void *arg)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) return -1;
    const cJSON *items =
        cJSON_IsArray(root) ? root : cJSON_GetObjectItemCaseSensitive(root, "items");
    if (!cJSON_IsArray(items)) items = cJSON_GetObjectItemCaseSensitive(root, "events");
    if (!cJSON_IsArray(items)) {
        cJSON_Delete(root);
        return -1;
    }
    int n = 0;
    long long last = -1;
    cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        cJSON *ev = cJSON_GetObjectItemCaseSensitive(it, "event");
        long long seq = s_seq_of(it);
        if (!cJSON_IsObject(ev)) ev = it;
        if (seq < 0) seq = s_seq_of(ev);
        if (!cJSON_IsObject(ev) || seq <= last) {
            cJSON_Delete(root);
            return -1;
        }
        last = seq;
        n++;
    }
    cJSON_ArrayForEach(it, items)
    {
        cJSON *ev = cJSON_GetObjectItemCaseSensitive(it, "event");
        long long seq = s_seq_of(it);
        if (!cJSON_IsObject(ev)) ev = it;
        if (seq < 0) seq = s_seq_of(ev);
        each(arg, seq, cJSON_Duplicate(ev, 1));
    }
    cJSON_Delete(root);
    return n;
}

/* ---- the queue -------------------------------------------------------------- */

static bool s_wanted(const struct feed *f, const cJSON *event)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(event, "type");
    if (!cJSON_IsString(type) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(event, "id")))
        return false;
    const char *topic = bus_topic(type->valuestring);
    for (const char *const *p = f->cfg.prefixes; *p; p++)
        if (strncmp(topic, *p, strlen(*p)) == 0) return true;
    return false;
}

static void s_on_cursor_saved(void *arg, PGresult *res, struct error *err)
{
    struct feed *f = arg;
    if (err) {
        log_warn("feed %s: cannot save the cursor: %s", f->source, err->detail);
        error_destroy(&err);
    }
    s_release(f);
}

static void s_advance(struct feed *f, long long seq)
{
    if (seq <= f->cursor) return;
    f->cursor = seq;
    char text[24];
    snprintf(text, sizeof text, "%lld", seq);
    const char *params[] = {f->source, text};
    f->pending++;
    db_query(f->db,
             "INSERT INTO feed_cursor (source, after) VALUES ($1, $2) ON CONFLICT (source) "
             "DO UPDATE SET after = greatest(feed_cursor.after, excluded.after)",
             2, params, s_on_cursor_saved, f);
}

static void s_page_done(struct feed *f, struct item *it)
{
    f->polling = false;
    if (f->page_failed) {
        f->page_failed = false;
        return;
    }
    s_advance(f, it->seq);
    if (it->full) s_poll(f);
}

void feed_done(struct feed_job *job, bool ok)
{
    struct feed *f = job->f;
    struct item *it = job->it;
    free(job);
    if (!ok && it->seq > 0) f->page_failed = true;
    if (ok && !f->dead && !f->polling && it->live_seq == f->cursor + 1) s_advance(f, it->live_seq);
    cJSON_Delete(it->event);
    free(it);
    f->busy = false;
    if (s_release(f)) return;
    if (!f->in_pump) s_pump(f);
}

static void s_pump(struct feed *f)
{
    f->in_pump = true;
    while (!f->busy && !f->dead && f->head) {
        struct item *it = s_pop(f);
        if (!it->event) {
            s_page_done(f, it);
            free(it);
            continue;
        }
        struct feed_job *job = calloc(1, sizeof *job);
        if (!job) abort();
        job->f = f;
        job->it = it;
        f->busy = true;
        f->pending++;
        f->cfg.handler(f->cfg.arg, it->event, job);
    }
    f->in_pump = false;
}

/* ---- sources ------------------------------------------------------------------ */

static void s_on_bus(void *arg, const char *topic, const char *json, size_t len)
{
    struct feed *f = arg;
    cJSON *ev = cJSON_ParseWithLength(json, len);
    if (!ev || !s_wanted(f, ev) || f->queued >= FEED_MAX_QUEUE) {
        cJSON_Delete(ev);
        return;
    }
    long long seq = s_seq_of(ev);
    s_push(f, ev, 0, false);
    f->tail->live_seq = seq > 0 ? seq : 0;
    long long known = f->live_max > f->cursor ? f->live_max : f->cursor;
    if (seq > known + 1 && f->loaded) s_poll(f); /* a gap: catch up now */
    if (seq > f->live_max) f->live_max = seq;
    s_pump(f);
}

struct page_ctx {
    struct feed *f;
    long long last;
};

static void s_each(void *arg, long long seq, cJSON *event)
{
    struct page_ctx *c = arg;
    c->last = seq;
    if (s_wanted(c->f, event))
        s_push(c->f, event, seq, false);
    else
        cJSON_Delete(event);
}

static void s_on_page(struct evhttp_request *req, void *arg)
{
    struct feed *f = arg;
    int code = req ? evhttp_request_get_response_code(req) : 0;
    if (code != 200) {
        f->polling = false;
        if (!f->warned)
            log_warn("feed %s: catching up from %s:%d failed (HTTP %d); retrying", f->source,
                     f->host, f->cfg.port, code);
        f->warned = true;
        return;
    }
    f->warned = false;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    struct page_ctx c = {f, f->cursor};
    int n = feed_parse_page((const char *)evbuffer_pullup(in, -1), len, s_each, &c);
    if (n < 0) {
        f->polling = false;
        log_warn("feed %s: the source answered something that is not a page", f->source);
        return;
    }
    s_push(f, NULL, c.last, n >= FEED_PAGE);
    s_pump(f);
}

static void s_poll(struct feed *f)
{
    if (f->polling || !f->loaded || f->dead) return;
    if (!f->conn) {
        f->conn = evhttp_connection_base_new(f->base, NULL, f->host, (ev_uint16_t)f->cfg.port);
        if (!f->conn) return;
        evhttp_connection_set_timeout(f->conn, 5);
    }
    struct evhttp_request *req = evhttp_request_new(s_on_page, f);
    char path[96], host[300];
    snprintf(path, sizeof path, "/internal/v1/outbox?after=%lld&limit=%d", f->cursor, FEED_PAGE);
    snprintf(host, sizeof host, "%s:%d", f->host, f->cfg.port);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host);
    char auth[300];
    snprintf(auth, sizeof auth, "Bearer %s", f->cfg.internal_key ? f->cfg.internal_key : "");
    evhttp_add_header(evhttp_request_get_output_headers(req), "Authorization", auth);
    f->polling = true;
    f->page_failed = false;
    if (evhttp_make_request(f->conn, req, EVHTTP_REQ_GET, path) != 0) f->polling = false;
}

static void s_on_timer(evutil_socket_t fd, short what, void *arg)
{
    s_poll(arg);
}

static void s_on_cursor(void *arg, PGresult *res, struct error *err)
{
    struct feed *f = arg;
    if (s_release(f)) {
        error_destroy(&err);
        return;
    }
    if (err) {
        log_warn("feed %s: cannot read the cursor: %s", f->source, err->detail);
        error_destroy(&err);
        return; /* the next tick asks again */
    }
    f->cursor = PQntuples(res) ? atoll(PQgetvalue(res, 0, 0)) : 0;
    f->loaded = true;
    s_poll(f);
}

static void s_load(struct feed *f)
{
    const char *params[] = {f->source};
    f->pending++;
    db_query(f->db, "SELECT after FROM feed_cursor WHERE source = $1", 1, params, s_on_cursor, f);
}

static void s_on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct feed *f = arg;
    if (!f->loaded) {
        if (f->pending == 0) s_load(f);
        return;
    }
    s_on_timer(fd, what, arg);
}

struct feed *feed_new(struct event_base *base, void *zctx, struct db *db,
                      const struct feed_config *cfg)
{
    struct feed *f = calloc(1, sizeof *f);
    if (!f) abort();
    f->base = base;
    f->db = db;
    f->cfg = *cfg;
    f->source = strdup(cfg->source);
    f->host = strdup(cfg->host);
    f->cfg.internal_key = cfg->internal_key ? strdup(cfg->internal_key) : NULL;
    f->sub = bus_sub_new(base, zctx, cfg->bus_endpoint, cfg->prefixes, s_on_bus, f);
    if (!f->sub) {
        s_free(f);
        return NULL;
    }
    f->timer = event_new(base, -1, EV_PERSIST, s_on_tick, f);
    int ms = cfg->poll_ms > 0 ? cfg->poll_ms : 1000;
    struct timeval iv = {ms / 1000, (ms % 1000) * 1000};
    event_add(f->timer, &iv);
    s_load(f);
    return f;
}

void feed_destroy(struct feed **self_p)
{
    struct feed *f = *self_p;
    if (!f) return;
    *self_p = NULL;
    bus_sub_destroy(&f->sub);
    if (f->timer) event_free(f->timer);
    f->timer = NULL;
    if (f->conn) evhttp_connection_free(f->conn);
    f->conn = NULL;
    f->dead = true;
    if (f->pending == 0) s_free(f);
}

struct apply {
    struct feed_job *job;
    struct outbox *wake;
};

static void s_on_applied(void *arg, PGresult *res, struct error *err)
{
    struct apply *a = arg;
    if (err) {
        log_warn("cannot apply an event: %s", err->detail);
        error_destroy(&err);
    } else if (a->wake) {
        outbox_kick(a->wake);
    }
    feed_done(a->job, err == NULL);
    free(a);
}

void feed_apply(struct feed_job *job, struct db *db, struct outbox *wake, const char *sql,
                int nparams, const char *const *params)
{
    struct apply *a = malloc(sizeof *a);
    if (!a) abort();
    a->job = job;
    a->wake = wake;
    db_query(db, sql, nparams, params, s_on_applied, a);
}
