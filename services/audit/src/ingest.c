/*
 * Ingest: from the sources' outboxes (itgov/follow.h) into the log, each
 * event once, each source in order, one batch in flight (design in
 * ingest.h).
 *
 * The queue holds accepted events until their batch commits; a batch is
 * rendered afresh (seq, JSON, chain hashes) every time it is sent, so a
 * retry after a lost connection, a resynchronisation after a conflict, or
 * the one-by-one probing after a data error all start from the same state:
 * what is committed (size, head, tree) and what is queued.
 */
#include <malloc.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <event2/http.h>
#include "audit.h"
#include "chain.h"
#include "envelope.h"
#include "ingest.h"
#include "itgov/bus.h"
#include "itgov/db.h"
#include "itgov/follow.h"
#include "itgov/json.h"
#include "itgov/log.h"
#include "itgov/service.h"
#include "merkle.h"
#include "pub.h"

#define QUEUE_MAX   200000
#define TRIM_EVERY  20000 /* events stored between two malloc_trim()s, at a drain */
#define PAGE        1000
#define MAX_SOURCES 16
#define LOAD_PAGE   "50000"

struct item {
    cJSON *ev;
    int src; /* source index */
    long long sseq;
};

struct source {
    char name[64];
    char ce_source[80]; /* "/itgov/<name>": the key of source_cursors */
    char host[256];
    int port;
    long long after; /* the highest sourceseq stored */
};

struct strbuf {
    char *s;
    size_t len, cap;
};

static struct {
    struct service *svc;
    struct source src[MAX_SOURCES];
    int nsrc;
    struct item *q;
    size_t qh, qt, qcap;
    struct merkle *tree;
    char head[65];
    struct pub *pub;
    struct follow *follow;
    struct event *kick, *retry;
    bool busy, kicked;
    int probe;       /* events still to store one at a time after a data error */
    size_t inflight; /* events in the batch being stored */
    char **ce;       /* rendered CloudEvents of that batch */
    char (*hash)[65];
    size_t batch_cap;
    long long stored, batches, dropped, duplicates, retries;
    long long trimmed; /* stored at the last malloc_trim() */
    double batch_started, batch_seconds, render_seconds;
    struct strbuf a_ce, a_ph, a_h, a_src, a_after;
} g;

/* ---- small helpers ------------------------------------------------------ */

static void sb_reset(struct strbuf *b)
{
    b->len = 0;
}

static void sb_add(struct strbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        if (!b->s) abort();
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

/* Appends one element to a PostgreSQL array literal being built in b. */
static void sb_elem(struct strbuf *b, const char *s)
{
    sb_add(b, b->len == 1 ? "\"" : ",\"", b->len == 1 ? 1 : 2);
    const char *run = s;
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            sb_add(b, run, (size_t)(p - run));
            sb_add(b, "\\", 1);
            run = p;
        }
    }
    sb_add(b, run, strlen(run));
    sb_add(b, "\"", 1);
}

static void sb_array_open(struct strbuf *b)
{
    sb_reset(b);
    sb_add(b, "{", 1);
}

static size_t q_len(void)
{
    return g.qt - g.qh;
}

static void s_schedule_flush(void)
{
    if (!g.kicked && g.kick) {
        g.kicked = true;
        event_active(g.kick, EV_TIMEOUT, 1);
    }
}

static bool q_push(cJSON *ev, int src, long long sseq)
{
    if (q_len() >= QUEUE_MAX) return false;
    if (g.qt == g.qcap) {
        if (g.qh > 0) {
            memmove(g.q, g.q + g.qh, q_len() * sizeof *g.q);
            g.qt -= g.qh;
            g.qh = 0;
        } else {
            g.qcap = g.qcap ? g.qcap * 2 : 4096;
            g.q = realloc(g.q, g.qcap * sizeof *g.q);
            if (!g.q) abort();
        }
    }
    g.q[g.qt++] = (struct item){ev, src, sseq};
    s_schedule_flush();
    return true;
}

/* Removes the queued item at position i (counted from the head). */
static void q_remove(size_t i)
{
    struct item *it = &g.q[g.qh + i];
    cJSON_Delete(it->ev);
    memmove(it, it + 1, (q_len() - i - 1) * sizeof *it);
    g.qt--;
}

/* ---- taking events in, per source in order (follow.h) -------------------- */

static const char *s_str_member(const cJSON *ev, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Checks an event of source si (envelope.h) and makes it ready for the log
 * (no "seq" of its own; a "time" if it had none). */
static bool s_prepare(cJSON *ev, int si)
{
    const char *why = envelope_check(ev, g.src[si].ce_source);
    if (why) {
        const char *id = s_str_member(ev, "id");
        log_warn("refusing an event (%s) of %s: %s", id && strlen(id) < 64 ? id : "?",
                 g.src[si].name, why);
        return false;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(ev, "seq");
    if (!cJSON_GetObjectItemCaseSensitive(ev, "time")) {
        char now[40];
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        size_t n = strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(now + n, sizeof now - n, ".%06ldZ", ts.tv_nsec / 1000);
        cJSON_AddStringToObject(ev, "time", now);
    }
    return true;
}

/* Each event of a source, in order, as its outbox holds it: queued for the
 * next batch (the cursor is stored with it), or refused for good. A full
 * queue sends the follower back to read it again later. */
static void s_on_event(void *arg, int si, long long sseq, const cJSON *event,
                       struct follow_job *job)
{
    if (q_len() >= QUEUE_MAX) {
        if (g.dropped++ % 1000 == 0) log_warn("the ingest queue is full; reading again later");
        return follow_done(job, false);
    }
    cJSON *ev = follow_take(job);
    if (s_prepare(ev, si))
        q_push(ev, si, sseq);
    else
        cJSON_Delete(ev);
    follow_done(job, true);
}

/* ---- storing batches ---------------------------------------------------- */

static void s_flush(void);

static void s_on_kick(evutil_socket_t fd, short what, void *arg)
{
    g.kicked = false;
    s_flush();
}

static void s_retry_later(int ms)
{
    if (!g.retry) return;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(g.retry, &tv);
}

static void s_on_retry(evutil_socket_t fd, short what, void *arg)
{
    s_flush();
}

static void s_batch_reserve(size_t n)
{
    if (n <= g.batch_cap) return;
    g.ce = realloc(g.ce, n * sizeof *g.ce);
    g.hash = realloc(g.hash, n * sizeof *g.hash);
    if (!g.ce || !g.hash) abort();
    for (size_t i = g.batch_cap; i < n; i++)
        g.ce[i] = NULL;
    g.batch_cap = n;
}

static void s_on_stored(void *arg, PGresult *res, struct error *err);

static double s_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The batch goes to PostgreSQL as three texts split by string_to_table():
 * the CloudEvents one a line (cJSON's unformatted print never holds a raw
 * newline: it escapes every control character in a string and puts no
 * whitespace between tokens), the previous hashes and the hashes split by
 * commas. No array literal to escape here and to parse there (array_in was
 * the top of the ingest backend's profile), no tuplestore (the subquery is
 * kept apart by OFFSET 0 so each event is parsed once), no sort: about a
 * fifth less backend CPU per event than the unnest of three text[]. */
#define STORE_SQL                                                                                  \
    "WITH b AS ("                                                                                  \
    "  SELECT u.ord, u.ce, u.ph, u.h, u.ce::jsonb AS j"                                            \
    "    FROM ROWS FROM (string_to_table($2, E'\\n'), string_to_table($3, ','),"                   \
    "                    string_to_table($4, ',')) WITH ORDINALITY AS u(ce, ph, h, ord)"           \
    "  OFFSET 0),"                                                                                 \
    " ins AS ("                                                                                    \
    "  INSERT INTO entries (seq, event_id, type, source, subject, actor_id, time, data,"           \
    "                       cloudevent, prev_hash, hash)"                                          \
    "  SELECT $1::bigint + b.ord - 1, (j->>'id')::uuid, j->>'type', j->>'source',"                 \
    "         j->>'subject',"                                                                      \
    "         CASE WHEN jsonb_typeof(j->'actor') = 'number'"                                       \
    "              THEN (j->>'actor')::numeric::bigint END,"                                       \
    "         (j->>'time')::timestamptz, j->'data', b.ce, b.ph, b.h"                               \
    "    FROM b RETURNING 1),"                                                                     \
    " cur AS ("                                                                                    \
    "  INSERT INTO source_cursors (source, after)"                                                 \
    "  SELECT * FROM unnest($5::text[], $6::bigint[])"                                             \
    "  ON CONFLICT (source) DO UPDATE"                                                             \
    "    SET after = greatest(source_cursors.after, excluded.after) RETURNING 1)"                  \
    " SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM cur)"

static void s_flush(void)
{
    if (g.busy || q_len() == 0) return;
    double t0 = s_clock();
    size_t n = q_len();
    if (n > (size_t)audit_cfg.batch_max) n = (size_t)audit_cfg.batch_max;
    if (g.probe > 0) n = 1;
    s_batch_reserve(n);
    long long first = merkle_size(g.tree) + 1;
    long long cursor[MAX_SOURCES] = {0};
    const char *prev = g.head;
    sb_reset(&g.a_ce);
    sb_reset(&g.a_ph);
    sb_reset(&g.a_h);
    for (size_t i = 0; i < n; i++) {
        struct item *it = &g.q[g.qh + i];
        cJSON *seq = cJSON_CreateNumber((double)(first + (long long)i));
        if (cJSON_HasObjectItem(it->ev, "seq"))
            cJSON_ReplaceItemInObjectCaseSensitive(it->ev, "seq", seq);
        else
            cJSON_AddItemToObject(it->ev, "seq", seq);
        free(g.ce[i]);
        g.ce[i] = cJSON_PrintUnformatted(it->ev);
        if (!g.ce[i]) abort();
        size_t len = strlen(g.ce[i]);
        if (memchr(g.ce[i], '\n', len)) abort(); /* cannot be: see STORE_SQL */
        chain_hash(prev, g.ce[i], len, g.hash[i]);
        if (i) {
            sb_add(&g.a_ce, "\n", 1);
            sb_add(&g.a_ph, ",", 1);
            sb_add(&g.a_h, ",", 1);
        }
        sb_add(&g.a_ce, g.ce[i], len);
        sb_add(&g.a_ph, prev, 64);
        sb_add(&g.a_h, g.hash[i], 64);
        prev = g.hash[i];
        if (it->sseq > cursor[it->src]) cursor[it->src] = it->sseq;
    }
    sb_array_open(&g.a_src);
    sb_array_open(&g.a_after);
    for (int i = 0; i < g.nsrc; i++) {
        if (!cursor[i]) continue;
        char num[24];
        snprintf(num, sizeof num, "%lld", cursor[i]);
        sb_elem(&g.a_src, g.src[i].ce_source);
        sb_elem(&g.a_after, num);
    }
    sb_add(&g.a_src, "}", 1);
    sb_add(&g.a_after, "}", 1);
    char first_s[24];
    snprintf(first_s, sizeof first_s, "%lld", first);
    const char *params[] = {first_s, g.a_ce.s, g.a_ph.s, g.a_h.s, g.a_src.s, g.a_after.s};
    g.busy = true;
    g.inflight = n;
    g.batch_started = s_clock();
    g.render_seconds += g.batch_started - t0;
    db_query(g.svc->db, STORE_SQL, 6, params, s_on_stored, NULL);
}

static void s_wait_stored(const char *event_id, long long seq);

/* The queue is empty. After a burst (TRIM_EVERY events stored since the
 * last time), glibc is asked to give back the heap the burst's events,
 * pages and batches held: it keeps freed memory in its arenas otherwise. */
static void s_queue_drained(void)
{
    g.qh = g.qt = 0;
    if (g.stored - g.trimmed < TRIM_EVERY) return;
    g.trimmed = g.stored;
    malloc_trim(0);
}

static void s_commit(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char raw[32];
        merkle_hash leaf;
        chain_unhex32(g.hash[i], raw);
        merkle_leaf_hash(raw, sizeof raw, leaf);
        merkle_append(g.tree, leaf);
        struct item *it = &g.q[g.qh + i];
        const char *type = s_str_member(it->ev, "type");
        if (it->sseq > g.src[it->src].after) g.src[it->src].after = it->sseq;
        s_wait_stored(s_str_member(it->ev, "id"), merkle_size(g.tree)); /* issue 14 B */
        if (g.pub) pub_send(g.pub, bus_topic(type), g.ce[i], strlen(g.ce[i]));
        cJSON_Delete(it->ev);
        free(g.ce[i]);
        g.ce[i] = NULL;
    }
    memcpy(g.head, g.hash[n - 1], 65);
    g.qh += n;
    g.stored += (long long)n;
    if (g.qh == g.qt) s_queue_drained();
    g.batches++;
#ifdef AUDIT_HAVE_WEBHOOKS
    webhooks_notify(merkle_size(g.tree));
#endif
}

/* Drops the event at the head of the queue: PostgreSQL refuses it for good. */
static void s_drop_head(const char *why)
{
    struct item *it = &g.q[g.qh];
    const char *id = s_str_member(it->ev, "id");
    log_error("event %s cannot be stored and is dropped: %s", id ? id : "?", why);
    g.dropped++;
    q_remove(0);
}

static void s_resync(void);

static void s_on_stored(void *arg, PGresult *res, struct error *err)
{
    g.busy = false;
    size_t n = g.inflight;
    g.inflight = 0;
    if (!g.svc) { /* stopping */
        error_destroy(&err);
        return;
    }
    g.batch_seconds += s_clock() - g.batch_started;
    if (!err) {
        s_commit(n);
        if (g.probe > 0) g.probe--;
        s_schedule_flush();
        return;
    }
    switch (err->code) {
    case ERR_CONFLICT:
        s_resync();
        break;
    case ERR_VALIDATION:
        if (n > 1) {
            log_warn("a batch of %zu events was refused (%s); storing them one at a time", n,
                     err->fields ? "bad data" : err->detail);
            g.probe = (int)n;
        } else {
            s_drop_head(err->detail);
            if (g.probe > 0) g.probe--;
        }
        s_schedule_flush();
        break;
    default:
        if (g.retries++ % 20 == 0) log_warn("cannot store events yet: %s", err->detail);
        s_retry_later(err->code == ERR_UNAVAILABLE ? 500 : 2000);
        break;
    }
    error_destroy(&err);
}

/* A conflict: another writer stored entries, or an event is already in the
 * log. Take in what was stored, drop the queued duplicates, go on. */
static void s_on_resync_ids(void *arg, PGresult *res, struct error *err);

static size_t s_resync_appended;

static void s_on_resync_head(void *arg, PGresult *res, struct error *err)
{
    if (!g.svc || err) {
        g.busy = false;
        error_destroy(&err);
        s_retry_later(1000);
        return;
    }
    s_resync_appended = 0;
    for (int r = 0; r < PQntuples(res); r++) {
        long long seq = atoll(PQgetvalue(res, r, 0));
        unsigned char raw[32];
        merkle_hash leaf;
        if (seq != merkle_size(g.tree) + 1 || !chain_unhex32(PQgetvalue(res, r, 1), raw)) break;
        merkle_leaf_hash(raw, sizeof raw, leaf);
        merkle_append(g.tree, leaf);
        snprintf(g.head, sizeof g.head, "%s", PQgetvalue(res, r, 1));
        s_resync_appended++;
    }
    if (s_resync_appended)
        log_warn("%zu entries were stored by another writer; taken in", s_resync_appended);
    size_t n = q_len() < (size_t)audit_cfg.batch_max ? q_len() : (size_t)audit_cfg.batch_max;
    struct strbuf ids = {0};
    sb_array_open(&ids);
    for (size_t i = 0; i < n; i++)
        sb_elem(&ids, s_str_member(g.q[g.qh + i].ev, "id"));
    sb_add(&ids, "}", 1);
    const char *params[] = {ids.s};
    db_query(g.svc->db, "SELECT event_id::text FROM entries WHERE event_id = ANY($1::uuid[])", 1,
             params, s_on_resync_ids, (void *)(uintptr_t)n);
    free(ids.s);
}

static void s_on_resync_ids(void *arg, PGresult *res, struct error *err)
{
    g.busy = false;
    if (!g.svc) {
        error_destroy(&err);
        return;
    }
    if (err) {
        error_destroy(&err);
        s_retry_later(1000);
        return;
    }
    size_t n = (size_t)(uintptr_t)arg, removed = 0;
    if (n > q_len()) n = q_len();
    for (size_t i = 0; i < n;) {
        const char *id = s_str_member(g.q[g.qh + i].ev, "id");
        bool dup = false;
        for (int r = 0; r < PQntuples(res) && !dup; r++)
            dup = strcasecmp(PQgetvalue(res, r, 0), id) == 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcasecmp(s_str_member(g.q[g.qh + j].ev, "id"), id) == 0;
        if (dup) {
            q_remove(i);
            n--;
            removed++;
            g.duplicates++;
        } else {
            i++;
        }
    }
    if (!removed && !s_resync_appended) {
        /* nothing explains the conflict: find the event by storing one at a time */
        if (g.probe == 0 && q_len() > 1)
            g.probe = (int)n;
        else if (q_len())
            s_drop_head("conflicts with the log");
    }
    s_schedule_flush();
}

static void s_resync(void)
{
    g.busy = true;
    char after[24];
    snprintf(after, sizeof after, "%lld", merkle_size(g.tree));
    const char *params[] = {after};
    db_query(g.svc->db,
             "SELECT seq, hash FROM entries WHERE seq > $1::bigint ORDER BY seq LIMIT 100000", 1,
             params, s_on_resync_head, NULL);
}

/* ---- configuration, load, start, stop ----------------------------------- */

static int s_source_index(const char *ce_source)
{
    for (int i = 0; i < g.nsrc; i++)
        if (strcmp(g.src[i].ce_source, ce_source) == 0) return i;
    return -1;
}

static bool s_parse_sources(const char *spec)
{
    char *copy = strdup(spec), *save = NULL;
    if (!copy) abort();
    bool ok = true;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (!*tok) continue;
        char *eq = strchr(tok, '=');
        struct evhttp_uri *uri = eq ? evhttp_uri_parse(eq + 1) : NULL;
        const char *host = uri ? evhttp_uri_get_host(uri) : NULL;
        int port = uri ? evhttp_uri_get_port(uri) : -1;
        if (!eq || eq == tok || (size_t)(eq - tok) >= sizeof g.src[0].name || !host ||
            strlen(host) >= sizeof g.src[0].host || g.nsrc == MAX_SOURCES) {
            log_error("ITGOV_AUDIT_SOURCES: bad entry '%s' (want name=http://host:port)", tok);
            ok = false;
        } else {
            struct source *s = &g.src[g.nsrc++];
            memset(s, 0, sizeof *s);
            snprintf(s->name, sizeof s->name, "%.*s", (int)(eq - tok), tok);
            snprintf(s->ce_source, sizeof s->ce_source, "/itgov/%.*s", (int)(eq - tok), tok);
            snprintf(s->host, sizeof s->host, "%s", host);
            s->port = port > 0 ? port : 80;
        }
        if (uri) evhttp_uri_free(uri);
    }
    free(copy);
    return ok;
}

int ingest_load(PGconn *conn)
{
    g.nsrc = 0;
    if (!s_parse_sources(audit_cfg.sources)) return 1;
    g.tree = merkle_new();
    memcpy(g.head, CHAIN_GENESIS, 65);
    long long gaps = 0;
    for (;;) {
        char after[24];
        snprintf(after, sizeof after, "%lld", merkle_size(g.tree));
        const char *params[] = {after};
        PGresult *res = PQexecParams(conn,
                                     "SELECT seq, hash FROM entries WHERE seq > $1::bigint "
                                     "ORDER BY seq LIMIT " LOAD_PAGE,
                                     1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            log_error("cannot read the log: %s", PQerrorMessage(conn));
            PQclear(res);
            return 1;
        }
        int rows = PQntuples(res);
        for (int r = 0; r < rows; r++) {
            long long seq = atoll(PQgetvalue(res, r, 0));
            merkle_hash leaf, zero = {0};
            while (merkle_size(g.tree) + 1 < seq) { /* a hole: verify will name it */
                merkle_append(g.tree, zero);
                gaps++;
            }
            unsigned char raw[32] = {0};
            chain_unhex32(PQgetvalue(res, r, 1), raw);
            merkle_leaf_hash(raw, sizeof raw, leaf);
            merkle_append(g.tree, leaf);
            snprintf(g.head, sizeof g.head, "%s", PQgetvalue(res, r, 1));
        }
        PQclear(res);
        if (rows == 0) break;
    }
    if (gaps)
        log_error("the log has %lld missing entries; GET /api/v1/audit/verify names them", gaps);
    PGresult *res = PQexec(conn, "SELECT source, after FROM source_cursors");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        log_error("cannot read the source cursors: %s", PQerrorMessage(conn));
        PQclear(res);
        return 1;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        int si = s_source_index(PQgetvalue(res, r, 0));
        if (si >= 0) g.src[si].after = atoll(PQgetvalue(res, r, 1));
    }
    PQclear(res);
    log_info("log loaded: %lld entries, %d sources", merkle_size(g.tree), g.nsrc);
    return 0;
}

int ingest_start(struct service *svc)
{
    g.svc = svc;
    const char *bind = getenv("ITGOV_BIND");
    g.pub = pub_new(svc->zctx, bind && *bind ? bind : "127.0.0.1", (int)audit_cfg.pub_port);
    if (!g.pub) return 1;
    g.kick = event_new(svc->base, -1, 0, s_on_kick, NULL);
    g.retry = event_new(svc->base, -1, 0, s_on_retry, NULL);
    const char *host = getenv("ITGOV_BROKER_HOST"), *port = getenv("ITGOV_BROKER_XPUB_PORT");
    char endpoint[300];
    snprintf(endpoint, sizeof endpoint, "tcp://%s:%s", host && *host ? host : "127.0.0.1",
             port && *port ? port : "5551");
    static const char *const every_type[] = {"", NULL};
    struct follow_source sources[MAX_SOURCES];
    for (int i = 0; i < g.nsrc; i++)
        sources[i] = (struct follow_source){.name = g.src[i].name,
                                            .host = g.src[i].host,
                                            .port = g.src[i].port,
                                            .types = every_type,
                                            .after = g.src[i].after};
    const struct follow_config fc = {
        .sources = sources,
        .nsources = g.nsrc,
        .bus_endpoint = endpoint,
        .poll_ms = (int)audit_cfg.catchup_ms,
        .page = PAGE,
        .own_cursor = true, /* source_cursors, stored with the entries */
        .handler = s_on_event,
    };
    g.follow = follow_new(svc, &fc);
    return g.follow ? 0 : 1;
}

static void s_wait_stop(void);

void ingest_stop(void)
{
    s_wait_stop();
    g.svc = NULL;
    follow_destroy(&g.follow);
    pub_destroy(&g.pub);
    if (g.kick) event_free(g.kick);
    if (g.retry) event_free(g.retry);
    g.kick = g.retry = NULL;
    for (size_t i = g.qh; i < g.qt; i++)
        cJSON_Delete(g.q[i].ev);
    free(g.q);
    g.q = NULL;
    g.qh = g.qt = g.qcap = 0;
    for (size_t i = 0; i < g.batch_cap; i++)
        free(g.ce[i]);
    free(g.ce);
    free(g.hash);
    g.ce = NULL;
    g.hash = NULL;
    g.batch_cap = 0;
    free(g.a_ce.s);
    free(g.a_ph.s);
    free(g.a_h.s);
    free(g.a_src.s);
    free(g.a_after.s);
    g.a_ce = g.a_ph = g.a_h = g.a_src = g.a_after = (struct strbuf){0};
    merkle_destroy(&g.tree);
}

long long ingest_size(void)
{
    return g.tree ? merkle_size(g.tree) : 0;
}

const char *ingest_head_hash(void)
{
    return g.head;
}

const struct merkle *ingest_tree(void)
{
    return g.tree;
}

void ingest_metrics(void *app, struct evbuffer *out)
{
    evbuffer_add_printf(
        out,
        "# HELP itgov_audit_entries Entries in the audit log.\n"
        "# TYPE itgov_audit_entries gauge\nitgov_audit_entries %lld\n"
        "# HELP itgov_audit_queue Events received and not yet written.\n"
        "# TYPE itgov_audit_queue gauge\nitgov_audit_queue %zu\n"
        "# HELP itgov_audit_batches_total Batches written to the log.\n"
        "# TYPE itgov_audit_batches_total counter\n"
        "itgov_audit_batches_total %lld\n"
        "# HELP itgov_audit_duplicates_total Events received again and not written twice.\n"
        "# TYPE itgov_audit_duplicates_total counter\n"
        "itgov_audit_duplicates_total %lld\n"
        "# HELP itgov_audit_dropped_total Events dropped (queue full or refused).\n"
        "# TYPE itgov_audit_dropped_total counter\nitgov_audit_dropped_total %lld\n"
        "# HELP itgov_audit_batch_seconds_total Time spent writing batches.\n"
        "# TYPE itgov_audit_batch_seconds_total counter\nitgov_audit_batch_seconds_total %.6f\n"
        "# HELP itgov_audit_render_seconds_total Time spent rendering entries.\n"
        "# TYPE itgov_audit_render_seconds_total counter\nitgov_audit_render_seconds_total %.6f\n"
        "# HELP itgov_audit_merkle_bytes Memory of the in-memory Merkle tree's hashes.\n"
        "# TYPE itgov_audit_merkle_bytes gauge\nitgov_audit_merkle_bytes %lld\n",
        ingest_size(), q_len(), g.batches, g.duplicates, g.dropped, g.batch_seconds,
        g.render_seconds, g.tree ? merkle_bytes(g.tree) : 0LL);
    evbuffer_add_printf(out, "# HELP itgov_audit_source_after Last outbox position read per "
                             "source.\n# TYPE itgov_audit_source_after gauge\n");
    for (int i = 0; i < g.nsrc; i++)
        evbuffer_add_printf(out, "itgov_audit_source_after{source=\"%s\"} %lld\n", g.src[i].name,
                            g.src[i].after);
}

/* ---- issue 14 B: waiting for an event to be stored (ingest_wait) --------- */

#define WAIT_RECENT 1024 /* the ids of the events committed last */

struct waiter {
    char id[40];
    ingest_wait_cb cb;
    void *arg;
    struct event *timer;
    struct waiter *next;
};

static struct {
    struct waiter *list;
    struct {
        char id[40];
        long long seq;
    } recent[WAIT_RECENT];
    size_t next;
} w;

static void s_wait_stored(const char *event_id, long long seq)
{
    if (!event_id) return;
    snprintf(w.recent[w.next].id, sizeof w.recent[0].id, "%s", event_id);
    w.recent[w.next].seq = seq;
    w.next = (w.next + 1) % WAIT_RECENT;
    for (struct waiter **p = &w.list; *p;) {
        struct waiter *x = *p;
        if (strcasecmp(x->id, event_id) != 0) {
            p = &x->next;
            continue;
        }
        *p = x->next;
        event_free(x->timer);
        x->cb(x->arg, seq);
        free(x);
    }
}

static void s_wait_end(struct waiter *x, long long seq)
{
    for (struct waiter **p = &w.list; *p; p = &(*p)->next)
        if (*p == x) {
            *p = x->next;
            break;
        }
    event_free(x->timer);
    x->cb(x->arg, seq);
    free(x);
}

static void s_on_wait_timeout(evutil_socket_t fd, short what, void *arg)
{
    s_wait_end(arg, 0);
}

void ingest_wait(const char *event_id, ingest_wait_cb cb, void *arg)
{
    for (size_t i = 0; i < WAIT_RECENT; i++)
        if (w.recent[i].seq > 0 && strcasecmp(w.recent[i].id, event_id) == 0)
            return cb(arg, w.recent[i].seq);
    if (!g.svc) return cb(arg, -1);
    struct waiter *x = calloc(1, sizeof *x);
    if (!x) abort();
    snprintf(x->id, sizeof x->id, "%s", event_id);
    x->cb = cb;
    x->arg = arg;
    x->timer = evtimer_new(g.svc->base, s_on_wait_timeout, x);
    struct timeval tv = {INGEST_WAIT_MS / 1000, (INGEST_WAIT_MS % 1000) * 1000};
    evtimer_add(x->timer, &tv);
    x->next = w.list;
    w.list = x;
}

static void s_wait_stop(void)
{
    while (w.list)
        s_wait_end(w.list, -1);
}
