/*
 * A fixed pool of threads taking jobs from a bounded queue; each finished
 * job is handed back to the loop through a pipe (a pointer write is atomic),
 * where its done() callback runs. A job whose cancel flag is set when a
 * thread takes it is not run. Shutdown waits for the running jobs only.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include "itgov/worker.h"

#define WORKER_MAX_THREADS 8

struct job {
    worker_fn work;
    worker_done_fn done;
    void *arg;
    const atomic_bool *cancel;
    bool ran;
    struct job *next;
};

struct worker {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job *head, *tail;
    int queued, queue_max;
    bool stopping;
    int nthreads;
    pthread_t threads[WORKER_MAX_THREADS];
    int pipefd[2];
    struct event *ev;
};

static void *s_thread(void *arg)
{
    struct worker *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->cond, &w->lock);
        struct job *j = w->stopping ? NULL : w->head;
        if (j) {
            w->head = j->next;
            if (!w->head) w->tail = NULL;
            w->queued--;
        }
        pthread_mutex_unlock(&w->lock);
        if (!j) return NULL;
        j->ran = !(j->cancel && atomic_load(j->cancel));
        if (j->ran) j->work(j->arg);
        while (write(w->pipefd[1], &j, sizeof j) < 0) {
        }
    }
}

static void s_on_done(evutil_socket_t fd, short what, void *arg)
{
    struct job *j;
    while (read(fd, &j, sizeof j) == (ssize_t)sizeof j) {
        j->done(j->arg, j->ran);
        free(j);
    }
}

struct worker *worker_new(struct event_base *base, int threads, int queue_max)
{
    struct worker *w = calloc(1, sizeof *w);
    if (!w || pipe(w->pipefd) != 0) abort();
    fcntl(w->pipefd[0], F_SETFL, O_NONBLOCK);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->queue_max = queue_max < 1 ? WORKER_DEFAULT_QUEUE : queue_max;
    w->ev = event_new(base, w->pipefd[0], EV_READ | EV_PERSIST, s_on_done, w);
    event_add(w->ev, NULL);
    w->nthreads = threads < 1 ? 1 : threads > WORKER_MAX_THREADS ? WORKER_MAX_THREADS : threads;
    for (int i = 0; i < w->nthreads; i++)
        pthread_create(&w->threads[i], NULL, s_thread, w);
    return w;
}

void worker_destroy(struct worker **self_p)
{
    struct worker *w = *self_p;
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->nthreads; i++)
        pthread_join(w->threads[i], NULL);
    s_on_done(w->pipefd[0], EV_READ, w);                /* finish what completed */
    for (struct job *j = w->head, *next; j; j = next) { /* drop what waited */
        next = j->next;
        j->done(j->arg, false);
        free(j);
    }
    event_free(w->ev);
    close(w->pipefd[0]);
    close(w->pipefd[1]);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    free(w);
    *self_p = NULL;
}

bool worker_run(struct worker *w, worker_fn work, worker_done_fn done, void *arg,
                const atomic_bool *cancel)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j) abort();
    *j = (struct job){work, done, arg, cancel, false, NULL};
    pthread_mutex_lock(&w->lock);
    bool full = w->queued >= w->queue_max || w->stopping;
    if (!full) {
        if (w->tail)
            w->tail->next = j;
        else
            w->head = j;
        w->tail = j;
        w->queued++;
        pthread_cond_signal(&w->cond);
    }
    pthread_mutex_unlock(&w->lock);
    if (full) free(j);
    return !full;
}
