/* follow: the page format and its refusals, the canonical digest, the
 * check of bus hints against what the source holds, and a follower against
 * a source on the loop (an event whose effect cannot be written comes again). */
#include <stdlib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <zmq.h>
#include "check.h"
#include "itgov/db.h"
#include "itgov/follow.h"
#include "itgov/service.h"

struct seen {
    long long seq[8];
    char type[8][64];
    int n;
};

static void s_each(void *arg, long long seq, cJSON *event)
{
    struct seen *s = arg;
    const cJSON *t = cJSON_GetObjectItem(event, "type");
    s->seq[s->n] = seq;
    snprintf(s->type[s->n], sizeof s->type[0], "%s", cJSON_IsString(t) ? t->valuestring : "");
    s->n++;
    cJSON_Delete(event);
}

static int s_parse(const char *text, struct seen *s)
{
    s->n = 0;
    return follow_parse_page(text, strlen(text), s_each, s);
}

static void s_digest(const char *json, unsigned char d[32])
{
    cJSON *j = cJSON_Parse(json);
    follow_digest(j, d);
    cJSON_Delete(j);
}

static void s_pages(void)
{
    struct seen s;
    CHECK(s_parse("{\"items\":[],\"next_after\":4}", &s) == 0 && s.n == 0);
    CHECK(s_parse("{\"items\":[{\"id\":\"a\",\"type\":\"itgov.x.y\",\"sourceseq\":3},"
                  "{\"id\":\"b\",\"type\":\"itgov.x.z\",\"sourceseq\":5}],\"next_after\":5}",
                  &s) == 2);
    CHECK(s.n == 2 && s.seq[0] == 3 && s.seq[1] == 5);
    CHECK_STR(s.type[1], "itgov.x.z");
    /* refusals, and no event handed out of a refused page */
    CHECK(s_parse("nope", &s) == -1 && s.n == 0);
    CHECK(s_parse("[{\"sourceseq\":1}]", &s) == -1 && s.n == 0);
    CHECK(s_parse("{\"items\":3}", &s) == -1);
    CHECK(s_parse("{\"items\":[{\"id\":\"a\"}]}", &s) == -1 && s.n == 0);
    CHECK(s_parse("{\"items\":[{\"sourceseq\":\"4\"}]}", &s) == -1);
    CHECK(s_parse("{\"items\":[{\"sourceseq\":0}]}", &s) == -1);
    CHECK(s_parse("{\"items\":[{\"sourceseq\":1.5}]}", &s) == -1);
    CHECK(s_parse("{\"items\":[{\"sourceseq\":1},7]}", &s) == -1 && s.n == 0);
    CHECK(s_parse("{\"items\":[{\"sourceseq\":4},{\"sourceseq\":4}]}", &s) == -1 && s.n == 0);
    CHECK(s_parse("{\"items\":[{\"sourceseq\":5},{\"sourceseq\":4}]}", &s) == -1 && s.n == 0);
}

static void s_digests(void)
{
    unsigned char a[32], b[32], c[32];
    /* member order does not count, at any depth; values and names do */
    s_digest("{\"a\":1,\"b\":{\"x\":[1,{\"q\":2,\"p\":3}],\"y\":\"z\"}}", a);
    s_digest("{\"b\":{\"y\":\"z\",\"x\":[1,{\"p\":3,\"q\":2}]},\"a\":1}", b);
    CHECK(memcmp(a, b, 32) == 0);
    s_digest("{\"b\":{\"y\":\"z\",\"x\":[{\"p\":3,\"q\":2},1]},\"a\":1}", c);
    CHECK(memcmp(a, c, 32) != 0); /* array order counts */
    s_digest("{\"data\":{\"outcome\":\"approve\"},\"sourceseq\":7}", a);
    s_digest("{\"data\":{\"outcome\":\"reject\"},\"sourceseq\":7}", b);
    CHECK(memcmp(a, b, 32) != 0);
    s_digest("{\"data\":{\"outcome\":\"approve\"} , \"sourceseq\": 7}", c);
    CHECK(memcmp(a, c, 32) == 0); /* whitespace does not count */
}

static void s_checks(void)
{
    static struct follow_check c; /* large: not on the stack */
    unsigned char real[32], fake[32], other[32];
    memset(real, 1, 32);
    memset(fake, 2, 32);
    memset(other, 3, 32);
    c.seen = 10; /* the cursor after a restart: older events are not remembered */
    CHECK(follow_check_hint(&c, 9, real, 0) == FOLLOW_UNKNOWN);

    /* a genuine hint, then the read that brings its event */
    CHECK(follow_check_hint(&c, 11, real, 0) == FOLLOW_WAIT && c.nhints == 1);
    CHECK(follow_check_hint(&c, 11, real, 0) == FOLLOW_WAIT && c.nhints == 1); /* kept once */
    CHECK(follow_check_read(&c, 11, real) == 0 && c.nhints == 0 && c.seen == 11);
    /* once read, a later hint is judged at once */
    CHECK(follow_check_hint(&c, 11, real, 1) == FOLLOW_SAME);
    CHECK(follow_check_hint(&c, 11, fake, 1) == FOLLOW_FORGED);

    /* a forgery ahead of the source, then the source's own event at that seq */
    CHECK(follow_check_hint(&c, 12, fake, 1) == FOLLOW_WAIT);
    CHECK(follow_check_hint(&c, 12, real, 1) == FOLLOW_WAIT && c.nhints == 2);
    CHECK(follow_check_read(&c, 12, real) == 1 && c.nhints == 0);

    /* a forgery naming a seq the source never reached: proved by a read
     * that started after it and reached the end before that seq */
    CHECK(follow_check_hint(&c, 13, fake, 2) == FOLLOW_WAIT);
    CHECK(follow_check_end(&c, 12, 2) == 0 && c.nhints == 1); /* that read began before it */
    CHECK(follow_check_end(&c, 13, 3) == 0 && c.nhints == 1); /* the end is at 13: read judges */
    CHECK(follow_check_end(&c, 12, 3) == 1 && c.nhints == 0);

    /* the window forgets old reads */
    CHECK(follow_check_read(&c, 13 + FOLLOW_WINDOW, other) == 0);
    CHECK(follow_check_hint(&c, 13, other, 4) == FOLLOW_UNKNOWN);
    CHECK(follow_check_hint(&c, 13 + FOLLOW_WINDOW, other, 4) == FOLLOW_SAME);

    /* a flood of hints keeps at most FOLLOW_HINTS, dropping the oldest */
    for (int i = 0; i < FOLLOW_HINTS + 10; i++)
        follow_check_hint(&c, c.seen + 1 + i, fake, 5 + (unsigned)i);
    CHECK(c.nhints == FOLLOW_HINTS);
    CHECK(follow_check_end(&c, c.seen, 1000) == FOLLOW_HINTS && c.nhints == 0);
}

/* ---- a follower against a source whose one event cannot be applied ---------- */

struct run {
    struct event_base *base;
    struct db *db;
    int calls;
    long long seqs[4];
    int reads_from_start; /* requests for ?after=0 */
};

/* The source: one followed event at sourceseq 1, nothing after it. */
static void s_source(struct evhttp_request *req, void *arg)
{
    struct run *r = arg;
    struct evkeyvalq q;
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    const char *after = NULL;
    if (evhttp_parse_query_str(query ? query : "", &q) == 0)
        after = evhttp_find_header(&q, "after");
    bool start = after && atoll(after) < 1;
    struct evbuffer *out = evbuffer_new();
    if (start) {
        r->reads_from_start++;
        evbuffer_add_printf(out, "{\"items\":[{\"specversion\":\"1.0\",\"id\":\"e1\","
                                 "\"source\":\"/itgov/src\",\"type\":\"itgov.thing.done\","
                                 "\"subject\":\"things/1\",\"sourceseq\":1}],\"next_after\":1}");
    } else {
        evbuffer_add_printf(out, "{\"items\":[],\"next_after\":%s}", after ? after : "0");
    }
    evhttp_clear_headers(&q);
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

/* The first time, the effect is written to a database that is down (as
 * follow_apply() does in every consumer); the event must come again. */
static void s_handler(void *arg, int source, long long sourceseq, const cJSON *event,
                      struct follow_job *job)
{
    struct run *r = arg;
    if (r->calls < 4) r->seqs[r->calls] = sourceseq;
    if (r->calls++ == 0) {
        follow_apply(job, r->db, "SELECT 1", 0, NULL);
        return;
    }
    follow_done(job, true);
    event_base_loopbreak(r->base);
}

static void s_failed_apply_comes_again(void)
{
    struct run r = {0};
    r.base = event_base_new();
    struct db_config dc = {.size = 1};
    r.db = db_new(r.base, "host=/nonexistent-itgov-test dbname=none", &dc);
    struct evhttp *http = evhttp_new(r.base);
    evhttp_set_gencb(http, s_source, &r);
    struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
    CHECK(bound != NULL);
    if (!bound) return;
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sa, &len);

    void *zctx = zmq_ctx_new();
    struct service svc = {
        .name = "test", .base = r.base, .db = r.db, .zctx = zctx, .internal_key = "k"};
    static const char *const types[] = {"thing.", NULL};
    const struct follow_source src = {
        .name = "src", .host = "127.0.0.1", .port = ntohs(sa.sin_port), .types = types};
    const struct follow_config fc = {.sources = &src,
                                     .nsources = 1,
                                     .bus_endpoint = "tcp://127.0.0.1:9",
                                     .poll_ms = 50,
                                     .own_cursor = true,
                                     .handler = s_handler,
                                     .arg = &r};
    struct follow *f = follow_new(&svc, &fc);
    CHECK(f != NULL);
    struct timeval limit = {10, 0};
    event_base_loopexit(r.base, &limit);
    event_base_dispatch(r.base);
    /* applied once it could be: not skipped as if the failed write had worked */
    CHECK(r.calls == 2);
    CHECK(r.seqs[0] == 1 && r.seqs[1] == 1);
    CHECK(r.reads_from_start == 2);

    follow_destroy(&f);
    db_destroy(&r.db);
    evhttp_free(http);
    zmq_ctx_term(zctx);
    event_base_free(r.base);
}

int main(void)
{
    s_pages();
    s_digests();
    s_checks();
    s_failed_apply_comes_again();
    return check_done();
}
