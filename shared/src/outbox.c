/*
 * The outbox relay. One cycle, one statement (outbox_next): mark the rows
 * the previous cycle published, give new committed rows their sequence
 * numbers, read up to a batch of unpublished rows in sequence order; then
 * publish each to the broker, and remember exactly those to mark. It
 * runs when PostgreSQL notifies that a transaction that called emit()
 * committed, and every 250 ms besides (the safety poll: a notification may
 * be lost while the listening connection is down); it does nothing while
 * the broker is not connected, so rows wait in PostgreSQL, never in memory.
 *
 * The notifications come on a dedicated non-blocking libpq connection on
 * the loop, LISTENing on outbox_<schema> (the channel emit() notifies); it
 * reconnects by itself, and every (re)connection runs one cycle at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "itgov/bus.h"
#include "itgov/db.h"
#include "itgov/log.h"
#include "itgov/outbox.h"

#define OUTBOX_BATCH    500
#define LISTEN_RETRY_MS 1000
#define LISTEN_STATEMENT                                                                           \
    "DO $$ BEGIN EXECUTE format('LISTEN %I', 'outbox_' || current_schema()); END $$"

/* The statement of emit() that writes the event: the CloudEvent envelope
 * around the caller's data, in every version of emit() below (the text of
 * an applied migration never changes: its checksum is kept). */
#define OUTBOX_INSERT                                                                              \
    "  INSERT INTO outbox (event) VALUES (jsonb_build_object(\n"                                   \
    "    'specversion', '1.0', 'id', gen_random_uuid(),\n"                                         \
    "    'source', '/itgov/' || current_schema(), 'type', p_type,\n"                               \
    "    'time', to_char(clock_timestamp() AT TIME ZONE 'UTC', "                                   \
    "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),\n"                                                      \
    "    'subject', p_subject, 'actor', p_actor,\n"                                                \
    "    'datacontenttype', 'application/json', 'data', p_data))\n"                                \
    "  RETURNING id"

const char outbox_sql[] =
    "CREATE TABLE IF NOT EXISTS outbox (\n"
    "  id bigserial PRIMARY KEY,\n"
    "  seq bigint CONSTRAINT outbox_seq_key UNIQUE,\n"
    "  event jsonb NOT NULL,\n"
    "  created_at timestamptz NOT NULL DEFAULT now(),\n"
    "  published_at timestamptz\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS outbox_unsequenced ON outbox (id) WHERE seq IS NULL;\n"
    /* nothing is ever deleted: business tables attach this trigger */
    "CREATE OR REPLACE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  RAISE EXCEPTION 'records are never deleted; change their state instead'\n"
    "    USING ERRCODE = 'restrict_violation';\n"
    "END $$;\n"
    "CREATE OR REPLACE TRIGGER outbox_no_delete BEFORE DELETE ON outbox\n"
    "  FOR EACH ROW EXECUTE FUNCTION refuse_delete();\n"
    /* events consumed, by id: an effect and its inbox row commit together */
    "CREATE TABLE IF NOT EXISTS inbox (\n"
    "  event_id text PRIMARY KEY,\n"
    "  type text NOT NULL,\n"
    "  handled_at timestamptz NOT NULL DEFAULT now()\n"
    ");\n"
    "CREATE OR REPLACE TRIGGER inbox_no_delete BEFORE DELETE ON inbox\n"
    "  FOR EACH ROW EXECUTE FUNCTION refuse_delete();\n"
    /* how far each followed source has been read (follow.h) */
    "CREATE TABLE IF NOT EXISTS feed_cursor (\n"
    "  source text PRIMARY KEY,\n"
    "  after bigint NOT NULL\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;\n"
    "CREATE OR REPLACE FUNCTION rfc3339(t timestamptz) RETURNS text\n"
    "  LANGUAGE sql IMMUTABLE AS\n"
    "$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') $$;\n"
    "CREATE OR REPLACE FUNCTION emit(p_type text, p_subject text, p_actor bigint, p_data jsonb)\n"
    "  RETURNS bigint LANGUAGE sql AS $$\n" OUTBOX_INSERT "\n"
    "$$;\n"
    /* Gives committed, unsequenced rows the next per-source sequence numbers,
     * in id order. The transaction lock makes sequencers take turns, so seq
     * order is commit order and a reader following seq never skips a row. */
    "CREATE OR REPLACE FUNCTION outbox_next(p_limit int)\n"
    "  RETURNS TABLE (seq bigint, type text, event text) LANGUAGE plpgsql AS $$\n"
    "DECLARE base bigint;\n"
    "BEGIN\n"
    "  PERFORM pg_advisory_xact_lock(hashtext(current_schema() || '.outbox'));\n"
    "  SELECT coalesce(max(o.seq), 0) INTO base FROM outbox o;\n"
    "  UPDATE outbox o SET seq = base + n.rn\n"
    "    FROM (SELECT u.id, row_number() OVER (ORDER BY u.id) AS rn\n"
    "            FROM outbox u WHERE u.seq IS NULL ORDER BY u.id LIMIT 1000) n\n"
    "   WHERE o.id = n.id;\n"
    "  RETURN QUERY SELECT o.seq, o.event->>'type',\n"
    "      (o.event || jsonb_build_object('sourceseq', o.seq))::text\n"
    "    FROM outbox o WHERE o.published_at IS NULL AND o.seq IS NOT NULL\n"
    "   ORDER BY o.seq LIMIT p_limit;\n"
    "END $$;\n";

/* emit() also notifies outbox_<schema>, delivered when its transaction
 * commits (one notification per transaction, however many events); and
 * outbox_next() marks the rows the relay published in its previous cycle,
 * in the same transaction as it sequences and reads the next ones, so a
 * cycle is one statement (a crash before the mark resends those rows, and
 * consumers are idempotent). */
const char outbox_relay_sql[] =
    "CREATE OR REPLACE FUNCTION emit(p_type text, p_subject text, p_actor bigint, p_data jsonb)\n"
    "  RETURNS bigint LANGUAGE sql AS $$\n"
    "  SELECT pg_notify('outbox_' || current_schema(), '');\n" OUTBOX_INSERT "\n"
    "$$;\n"
    "CREATE OR REPLACE FUNCTION outbox_next(p_limit int, p_published bigint[])\n"
    "  RETURNS TABLE (seq bigint, type text, event text) LANGUAGE plpgsql AS $$\n"
    "DECLARE base bigint;\n"
    "BEGIN\n"
    "  UPDATE outbox o SET published_at = now()\n"
    "   WHERE o.seq = ANY(p_published) AND o.published_at IS NULL;\n"
    "  PERFORM pg_advisory_xact_lock(hashtext(current_schema() || '.outbox'));\n"
    "  SELECT coalesce(max(o.seq), 0) INTO base FROM outbox o;\n"
    "  UPDATE outbox o SET seq = base + n.rn\n"
    "    FROM (SELECT u.id, row_number() OVER (ORDER BY u.id) AS rn\n"
    "            FROM outbox u WHERE u.seq IS NULL ORDER BY u.id LIMIT 1000) n\n"
    "   WHERE o.id = n.id;\n"
    "  RETURN QUERY SELECT o.seq, o.event->>'type',\n"
    "      (o.event || jsonb_build_object('sourceseq', o.seq))::text\n"
    "    FROM outbox o WHERE o.published_at IS NULL AND o.seq IS NOT NULL\n"
    "   ORDER BY o.seq LIMIT p_limit;\n"
    "END $$;\n";

/* PostgreSQL serializes the commits of every transaction that sent a
 * NOTIFY (a lock held through commit): one per emit() cut concurrent
 * one-row writes about fourfold (pgbench, 50 clients: 14k -> 3-4k tx/s). So
 * emit() notifies only when nothing is waiting for the relay. While rows
 * wait, the relay is at work: it cycles again after every cycle that
 * published, and after the first one that finds nothing it looks again a
 * few times within the next ~0.2 s (FOLLOW_UP_MS), for rows whose
 * transaction decided not to notify and committed just after that look.
 * A row later still waits for the poll (250 ms): a bounded delay, never a
 * loss. */
const char outbox_notify_sql[] =
    "CREATE OR REPLACE FUNCTION emit(p_type text, p_subject text, p_actor bigint, p_data jsonb)\n"
    "  RETURNS bigint LANGUAGE sql AS $$\n"
    "  SELECT pg_notify('outbox_' || current_schema(), '')\n"
    "   WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL);\n" OUTBOX_INSERT "\n"
    "$$;\n";

/* Issue 15: emit() and rfc3339() as PostgreSQL keeps their plans, and the
 * relay's look for unsequenced rows without an index-only scan (below). A SQL
 * function that is not inlined has its body parsed, analysed and planned in
 * every transaction that calls it (PostgreSQL 15 keeps it for one
 * transaction only): emit() is two statements, so never inlined, and
 * rfc3339() was declared IMMUTABLE around to_char(), which is only STABLE,
 * so PostgreSQL refused to inline it into the documents that call it. Under
 * wrk that was a third of the backends' CPU on POST /projects and GET
 * /projects/{id} (fmgr_sql: base_yyparse, parse analysis, planning). emit()
 * in plpgsql keeps its plans for the connection's life; rfc3339() declared
 * STABLE, as its body is, is inlined. Same answers, byte for byte. */
const char outbox_cached_sql[] =
    "CREATE OR REPLACE FUNCTION rfc3339(t timestamptz) RETURNS text\n"
    "  LANGUAGE sql STABLE AS\n"
    "$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') $$;\n"
    "CREATE OR REPLACE FUNCTION emit(p_type text, p_subject text, p_actor bigint, p_data jsonb)\n"
    "  RETURNS bigint LANGUAGE plpgsql AS $$\n"
    "DECLARE r bigint;\n"
    "BEGIN\n"
    "  PERFORM pg_notify('outbox_' || current_schema(), '')\n"
    "   WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL);\n" OUTBOX_INSERT
    " INTO r;\n"
    "  RETURN r;\n"
    "END $$;\n"
    /* outbox_next() finds the unsequenced rows by the partial index
     * outbox_unsequenced. An index-only scan never marks the entries of rows
     * it finds dead, so after a burst every cycle read every row sequenced
     * since the last vacuum: 18.6 ms to find nothing after 50,000 events
     * (0.2-0.9 ms with a plain index scan, which marks them). */
    "ALTER FUNCTION outbox_next(int, bigint[]) SET enable_indexonlyscan = off;\n";

/* The looks after a burst, each this long after the one before. */
static const int FOLLOW_UP_MS[] = {2, 5, 10, 20, 40, 80};
#define FOLLOW_UPS ((int)(sizeof FOLLOW_UP_MS / sizeof FOLLOW_UP_MS[0]))

enum listen_state { L_DOWN, L_CONNECTING, L_LISTENING };

struct outbox {
    struct event_base *base;
    struct db *db;
    struct bus_pub *pub;
    struct event *timer;
    struct event *follow_up; /* the looks after a burst */
    int follow_ups;          /* taken since the last cycle that published */
    bool busy, again;
    long long published;
    char *done; /* seqs published in the last cycle, to mark: "{1,2,3}", or NULL */
    char *conninfo;
    PGconn *listen;
    enum listen_state lstate;
    struct event *lev;   /* the listening connection's socket */
    struct event *retry; /* reconnects it */
    bool lwarned;
};

static void s_cycle(struct outbox *o);

static void s_on_batch(void *arg, PGresult *res, struct error *err)
{
    struct outbox *o = arg;
    o->busy = false;
    if (err) { /* nothing was marked: the same rows are marked next time */
        error_destroy(&err);
        return;
    }
    free(o->done);
    o->done = NULL;
    int n = PQntuples(res), sent = 0;
    size_t cap = (size_t)n * 21 + 3, used = 0;
    char *ids = malloc(cap);
    if (!ids) abort();
    ids[used++] = '{';
    for (; sent < n; sent++) {
        const char *type = PQgetvalue(res, sent, 1);
        if (!bus_pub_send(o->pub, bus_topic(type), PQgetvalue(res, sent, 2),
                          (size_t)PQgetlength(res, sent, 2)))
            break;
        used += (size_t)snprintf(ids + used, cap - used, "%s%s", sent ? "," : "",
                                 PQgetvalue(res, sent, 0));
    }
    ids[used++] = '}';
    ids[used] = '\0';
    o->published += sent;
    if (sent > 0)
        o->done = ids;
    else
        free(ids);
    /* Again while cycles publish: the next one marks these rows and takes
     * what committed meanwhile without a notification (emit() sends none
     * while rows wait); again for a notification during this one; and after
     * a burst, a few looks shortly after (see outbox_notify_sql). */
    if (sent > 0) o->follow_ups = 0;
    if (o->again || sent > 0) {
        s_cycle(o);
    } else if (o->follow_ups < FOLLOW_UPS) {
        int ms = FOLLOW_UP_MS[o->follow_ups++];
        struct timeval tv = {0, ms * 1000};
        event_add(o->follow_up, &tv);
    }
}

static void s_cycle(struct outbox *o)
{
    if (o->busy) {
        o->again = true;
        return;
    }
    if (!bus_pub_ready(o->pub) || !db_ready(o->db)) return;
    o->busy = true;
    o->again = false;
    char limit[16];
    snprintf(limit, sizeof limit, "%d", OUTBOX_BATCH);
    const char *params[] = {limit, o->done ? o->done : "{}"};
    db_query(o->db, "SELECT seq, type, event FROM outbox_next($1, $2::bigint[])", 2, params,
             s_on_batch, o);
}

static void s_on_timer(evutil_socket_t fd, short what, void *arg)
{
    s_cycle(arg);
}

/* ---- the listening connection ---------------------------------------------- */

static void s_listen_start(struct outbox *o);
static void s_on_listen_io(evutil_socket_t fd, short what, void *arg);

static void s_listen_watch(struct outbox *o, short what)
{
    if (o->lev) event_free(o->lev);
    o->lev = event_new(o->base, PQsocket(o->listen), what, s_on_listen_io, o);
    event_add(o->lev, NULL);
}

/* Lost or refused: close it and try again later (the poll goes on). */
static void s_listen_down(struct outbox *o)
{
    if (!o->lwarned)
        log_warn("outbox: the notification connection is down (%s); relying on the poll",
                 o->listen ? PQerrorMessage(o->listen) : "cannot connect");
    o->lwarned = true;
    if (o->lev) event_free(o->lev);
    o->lev = NULL;
    if (o->listen) PQfinish(o->listen);
    o->listen = NULL;
    o->lstate = L_DOWN;
    struct timeval tv = {LISTEN_RETRY_MS / 1000, (LISTEN_RETRY_MS % 1000) * 1000};
    event_add(o->retry, &tv);
}

static void s_listen_connect_step(struct outbox *o)
{
    switch (PQconnectPoll(o->listen)) {
    case PGRES_POLLING_READING:
        return s_listen_watch(o, EV_READ);
    case PGRES_POLLING_WRITING:
        return s_listen_watch(o, EV_WRITE);
    case PGRES_POLLING_OK:
        if (PQsetnonblocking(o->listen, 1) != 0 || !PQsendQuery(o->listen, LISTEN_STATEMENT))
            return s_listen_down(o);
        o->lstate = L_LISTENING;
        PQflush(o->listen);
        s_listen_watch(o, EV_READ | EV_PERSIST);
        if (o->lwarned) log_info("outbox: the notification connection is back");
        o->lwarned = false;
        s_cycle(o); /* whatever committed while nobody listened */
        return;
    default:
        return s_listen_down(o);
    }
}

static void s_on_listen_io(evutil_socket_t fd, short what, void *arg)
{
    struct outbox *o = arg;
    if (o->lstate == L_CONNECTING) return s_listen_connect_step(o);
    if (!PQconsumeInput(o->listen)) return s_listen_down(o);
    while (!PQisBusy(o->listen)) { /* the LISTEN's own result */
        PGresult *res = PQgetResult(o->listen);
        if (!res) break;
        bool failed = PQresultStatus(res) != PGRES_COMMAND_OK;
        PQclear(res);
        if (failed) return s_listen_down(o);
    }
    bool woken = false;
    PGnotify *n;
    while ((n = PQnotifies(o->listen)) != NULL) {
        woken = true;
        PQfreemem(n);
    }
    if (woken) s_cycle(o);
}

static void s_listen_start(struct outbox *o)
{
    o->listen = db_connect_start(o->db); /* NULL until the host's address is known */
    if (!o->listen || PQstatus(o->listen) == CONNECTION_BAD) return s_listen_down(o);
    o->lstate = L_CONNECTING;
    s_listen_watch(o, EV_WRITE);
}

static void s_on_listen_retry(evutil_socket_t fd, short what, void *arg)
{
    s_listen_start(arg);
}

struct outbox *outbox_new(struct event_base *base, struct db *db, struct bus_pub *pub,
                          const char *conninfo)
{
    struct outbox *o = calloc(1, sizeof *o);
    if (!o) abort();
    o->base = base;
    o->db = db;
    o->pub = pub;
    o->conninfo = strdup(conninfo);
    if (!o->conninfo) abort();
    o->timer = event_new(base, -1, EV_PERSIST, s_on_timer, o);
    o->follow_up = event_new(base, -1, 0, s_on_timer, o);
    o->follow_ups = FOLLOW_UPS; /* no burst yet */
    struct timeval iv = {0, 250000};
    event_add(o->timer, &iv);
    o->retry = event_new(base, -1, 0, s_on_listen_retry, o);
    s_listen_start(o);
    return o;
}

void outbox_destroy(struct outbox **self_p)
{
    struct outbox *o = *self_p;
    if (!o) return;
    event_free(o->timer);
    event_free(o->follow_up);
    event_free(o->retry);
    if (o->lev) event_free(o->lev);
    if (o->listen) PQfinish(o->listen);
    free(o->done);
    free(o->conninfo);
    free(o);
    *self_p = NULL;
}
