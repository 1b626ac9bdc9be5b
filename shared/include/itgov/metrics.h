/*
 * Request metrics in the Prometheus text format: a counter and a latency
 * histogram per (route, status).
 */
#ifndef ITGOV_METRICS_H
#define ITGOV_METRICS_H

#include <stddef.h>
#include <event2/buffer.h>

struct metrics;

/* labels: the route label of each index (e.g. "GET /api/v1/users/:id"). */
struct metrics *metrics_new(const char *service, const char *const *labels, size_t n);
void metrics_destroy(struct metrics **self_p);
void metrics_observe(struct metrics *m, size_t route, int status, double seconds);
void metrics_render(const struct metrics *m, struct evbuffer *out);

#endif
