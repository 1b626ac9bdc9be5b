/* Deadline watches: one statement per interval, never two at once (scan.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <event2/event.h>
#include "itgov/db.h"
#include "itgov/log.h"
#include "itgov/scan.h"
#include "itgov/service.h"

struct scan {
    struct service *svc;
    struct event *timer;
    const char *what, *sql;
    bool running;
};

static void s_on_done(void *arg, PGresult *res, struct error *err)
{
    struct scan *s = arg;
    s->running = false;
    if (err) {
        log_warn("deadline scan (%s) failed: %s", s->what, err->detail);
        error_destroy(&err);
        return;
    }
    if (PQntuples(res) > 0) log_info("%d %s", PQntuples(res), s->what);
}

static void s_on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct scan *s = arg;
    if (s->running || !db_ready(s->svc->db)) return;
    s->running = true;
    db_query(s->svc->db, s->sql, 0, NULL, s_on_done, s);
}

struct scan *scan_new(struct service *svc, long interval_s, const char *what, const char *sql)
{
    struct scan *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    *s = (struct scan){.svc = svc, .what = what, .sql = sql};
    s->timer = event_new(svc->base, -1, EV_PERSIST, s_on_tick, s);
    struct timeval iv = {interval_s, 0};
    if (!s->timer || event_add(s->timer, &iv) != 0) {
        scan_destroy(&s);
        return NULL;
    }
    return s;
}

void scan_destroy(struct scan **self_p)
{
    struct scan *s = *self_p;
    if (!s) return;
    if (s->timer) event_free(s->timer);
    free(s);
    *self_p = NULL;
}
