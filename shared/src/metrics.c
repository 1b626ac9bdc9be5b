/*
 * Per (route, status) request counters and latency histograms, rendered in
 * the Prometheus text exposition format. Statuses are kept in a small open
 * table per route; the loop is single-threaded, so no locking.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/metrics.h"

#define METRICS_STATUSES 16
static const double s_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                  0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define NBOUNDS (sizeof s_bounds / sizeof s_bounds[0])

struct cell {
    int status; /* 0 = unused */
    unsigned long long count;
    unsigned long long buckets[NBOUNDS];
    double sum;
};

struct metrics {
    const char *service;
    const char *const *labels;
    size_t n;
    struct cell *cells; /* n * METRICS_STATUSES */
};

struct metrics *metrics_new(const char *service, const char *const *labels, size_t n)
{
    struct metrics *m = calloc(1, sizeof *m);
    if (!m) abort();
    m->service = service;
    m->labels = labels;
    m->n = n;
    m->cells = calloc(n * METRICS_STATUSES, sizeof *m->cells);
    if (!m->cells) abort();
    return m;
}

void metrics_destroy(struct metrics **self_p)
{
    if (!*self_p) return;
    free((*self_p)->cells);
    free(*self_p);
    *self_p = NULL;
}

void metrics_observe(struct metrics *m, size_t route, int status, double seconds)
{
    if (route >= m->n) return;
    struct cell *row = &m->cells[route * METRICS_STATUSES], *c = NULL;
    for (int i = 0; i < METRICS_STATUSES && !c; i++)
        if (row[i].status == status || row[i].status == 0) c = &row[i];
    if (!c) c = &row[METRICS_STATUSES - 1]; /* table full: lump into the last cell */
    c->status = c->status ? c->status : status;
    c->count++;
    c->sum += seconds;
    for (size_t b = 0; b < NBOUNDS; b++)
        if (seconds <= s_bounds[b]) c->buckets[b]++;
}

/* A route label "GET /api/v1/me" becomes method="GET",route="/api/v1/me";
 * a label without a method ("unmatched") gets method="other". */
static void s_labels(const struct metrics *m, size_t route, int status, char *out, size_t n)
{
    const char *label = m->labels[route], *space = strchr(label, ' ');
    int mlen = space ? (int)(space - label) : 0;
    snprintf(out, n, "service=\"%s\",method=\"%.*s\",route=\"%s\",status=\"%d\"", m->service,
             space ? mlen : 5, space ? label : "other", space ? space + 1 : label, status);
}

void metrics_render(const struct metrics *m, struct evbuffer *out)
{
    evbuffer_add_printf(out, "# HELP itgov_http_requests_total HTTP requests answered.\n"
                             "# TYPE itgov_http_requests_total counter\n");
    for (size_t r = 0; r < m->n; r++)
        for (int i = 0; i < METRICS_STATUSES; i++) {
            const struct cell *c = &m->cells[r * METRICS_STATUSES + i];
            if (!c->status) continue;
            char lbl[256];
            s_labels(m, r, c->status, lbl, sizeof lbl);
            evbuffer_add_printf(out, "itgov_http_requests_total{%s} %llu\n", lbl, c->count);
        }
    evbuffer_add_printf(out, "# HELP itgov_http_request_duration_seconds Time to answer.\n"
                             "# TYPE itgov_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r < m->n; r++)
        for (int i = 0; i < METRICS_STATUSES; i++) {
            const struct cell *c = &m->cells[r * METRICS_STATUSES + i];
            if (!c->status) continue;
            char lbl[256];
            s_labels(m, r, c->status, lbl, sizeof lbl);
            for (size_t b = 0; b < NBOUNDS; b++)
                evbuffer_add_printf(out,
                                    "itgov_http_request_duration_seconds_bucket{%s,le=\"%g\"} "
                                    "%llu\n",
                                    lbl, s_bounds[b], c->buckets[b]);
            evbuffer_add_printf(out,
                                "itgov_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n"
                                "itgov_http_request_duration_seconds_sum{%s} %.6f\n"
                                "itgov_http_request_duration_seconds_count{%s} %llu\n",
                                lbl, c->count, lbl, c->sum, lbl, c->count);
        }
}
