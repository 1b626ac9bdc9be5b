/* The worker pool's bound, cancellation and shutdown: a full queue refuses
 * a job, a cancelled job is not run, shutdown waits only for the running
 * jobs and answers the waiting ones with ran == false. */
#include <pthread.h>
#include <unistd.h>
#include "check.h"
#include "itgov/worker.h"

static pthread_mutex_t s_gate = PTHREAD_MUTEX_INITIALIZER;
static atomic_int s_ran, s_done, s_dropped;

static void s_blocking(void *arg)
{
    pthread_mutex_lock(&s_gate); /* held by the test: the thread waits here */
    pthread_mutex_unlock(&s_gate);
    atomic_fetch_add(&s_ran, 1);
}

static void s_done_cb(void *arg, bool ran)
{
    atomic_fetch_add(ran ? &s_done : &s_dropped, 1);
}

static void s_run_loop(struct event_base *base, int want_done)
{
    for (int i = 0; i < 500 && atomic_load(&s_done) + atomic_load(&s_dropped) < want_done; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        usleep(2000);
    }
}

int main(void)
{
    struct event_base *base = event_base_new();

    /* one thread, a queue of 2: one job runs (blocked), two wait, the next is refused */
    pthread_mutex_lock(&s_gate);
    struct worker *w = worker_new(base, 1, 2);
    CHECK(worker_run(w, s_blocking, s_done_cb, NULL, NULL));
    usleep(50000); /* the thread takes the first job */
    CHECK(worker_run(w, s_blocking, s_done_cb, NULL, NULL));
    CHECK(worker_run(w, s_blocking, s_done_cb, NULL, NULL));
    CHECK(!worker_run(w, s_blocking, s_done_cb, NULL, NULL));
    pthread_mutex_unlock(&s_gate);
    s_run_loop(base, 3);
    CHECK(atomic_load(&s_ran) == 3 && atomic_load(&s_done) == 3);
    /* room again once the queue drained */
    CHECK(worker_run(w, s_blocking, s_done_cb, NULL, NULL));
    s_run_loop(base, 4);
    CHECK(atomic_load(&s_done) == 4);

    /* a cancelled job is answered without running */
    atomic_bool cancel;
    atomic_init(&cancel, true);
    CHECK(worker_run(w, s_blocking, s_done_cb, NULL, &cancel));
    s_run_loop(base, 5);
    CHECK(atomic_load(&s_ran) == 4 && atomic_load(&s_dropped) == 1);

    /* shutdown: the running job finishes, the waiting ones are dropped */
    pthread_mutex_lock(&s_gate);
    CHECK(worker_run(w, s_blocking, s_done_cb, NULL, NULL));
    usleep(50000);
    CHECK(worker_run(w, s_blocking, s_done_cb, NULL, NULL));
    CHECK(worker_run(w, s_blocking, s_done_cb, NULL, NULL));
    pthread_mutex_unlock(&s_gate);
    worker_destroy(&w);
    CHECK(w == NULL);
    CHECK(atomic_load(&s_done) + atomic_load(&s_dropped) == 8);
    CHECK(atomic_load(&s_ran) >= 5);

    event_base_free(base);
    return check_done();
}
