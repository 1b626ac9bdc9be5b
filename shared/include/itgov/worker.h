/*
 * A small thread pool for CPU-heavy work (argon2id password hashing) so the
 * event loop keeps serving while it runs. work() runs on a pool thread;
 * done() then runs on the loop thread. The queue has a bound: a full queue
 * refuses the job (the caller answers 503 with Retry-After), so nobody can
 * pile up work without limit by sending login attempts.
 */
#ifndef ITGOV_WORKER_H
#define ITGOV_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <event2/event.h>

#define WORKER_DEFAULT_QUEUE 64

struct worker;
typedef void (*worker_fn)(void *arg);
/* ran: work() ran; false when the job was cancelled (its cancel flag was
 * set before a thread took it, e.g. the client went away) or dropped at
 * shutdown; done() must still answer and free what arg holds. */
typedef void (*worker_done_fn)(void *arg, bool ran);

/* queue_max: jobs waiting for a thread (running ones not counted). */
struct worker *worker_new(struct event_base *base, int threads, int queue_max);
/* Waits only for the jobs running now; the waiting ones are dropped (their
 * done() runs with ran false). */
void worker_destroy(struct worker **self_p);
/* Queues a job; false (nothing queued, done() never runs) when the queue is
 * full. cancel: NULL, or a flag set from the loop thread when the job's
 * result is no longer wanted (req_cancel_flag() in http.h). */
bool worker_run(struct worker *w, worker_fn work, worker_done_fn done, void *arg,
                const atomic_bool *cancel);

#endif
