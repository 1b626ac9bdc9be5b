/*
 * A small thread pool for CPU-heavy work (argon2id password hashing) so the
 * event loop keeps serving while it runs. work() runs on a pool thread;
 * done() then runs on the loop thread.
 */
#ifndef ITGOV_WORKER_H
#define ITGOV_WORKER_H

#include <event2/event.h>

struct worker;
typedef void (*worker_fn)(void *arg);

struct worker *worker_new(struct event_base *base, int threads);
void worker_destroy(struct worker **self_p);
void worker_run(struct worker *w, worker_fn work, worker_fn done, void *arg);

#endif
